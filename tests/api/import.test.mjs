// import.test.mjs: the history import (issue 9; docs/IMPORT.md):
// POST /api/v1/import/tickets with JSON lines and CSV, and `itsup import
// tickets FILE`. The tickets keep their real instants; their stored
// business durations are checked by hand on an office-hours calendar
// (Mon-Fri 09:00-17:00 UTC) with a weekend and a pause, through the ticket
// and through the SLA review; every problem is reported by line with
// nothing written; a file is not imported twice; only provider admins may
// import; an import notifies no one.
//
// The test clock stands at Monday 2027-06-07 12:00Z (the import's "now");
// the tickets are from March 2027, in a client of their own.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ACME, BOREALIS, DEMO, cli, sql, startServer } from './lib/server.mjs';
import { assertProblem, assertStatus, uniq } from './lib/util.mjs';

let srv, c, tmp;
const T = {};
let client, other, policy, contact;

const NOW = '2027-06-07T12:00:00Z';
const JSONL = 'application/x-ndjson';
const jsonl = (rows) => rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n';
const imp = (body, { type = JSONL, who = 'admin' } = {}) =>
  c.post('/api/v1/import/tickets', body, { token: T[who], headers: { 'Content-Type': type } });
const ticketsOf = async (id) => {
  const items = [];
  for (let cursor = ''; ;) {
    const r = assertStatus(await c.get(`/api/v1/tickets?client_id=${id}&limit=100${cursor}`, { token: T.admin }), 200);
    items.push(...r.items);
    if (!r.next_cursor)
      return items.sort((a, b) => a.number.localeCompare(b.number));
    cursor = `&cursor=${r.next_cursor}`;
  }
};
const outboxRows = async () => Number((await sql(srv.db, 'SELECT count(*) FROM outbox')).trim());

before(async () => {
  srv = await startServer({ testClock: true, env: { ITSUP_IMPORT_MAX_BYTES: String(1 << 20) } });
  c = srv.client;
  tmp = await mkdtemp(path.join(tmpdir(), 'itsup-import-'));
  for (const k of ['admin', 'dispatcher', 'tier1', 'acmeAdmin'])
    T[k] = await c.token(await c.session(DEMO[k], srv.password));
  assertStatus(await c.post('/api/v1/test/clock', { now: NOW }, { token: T.admin }), 200);
  client = assertStatus(await c.post('/api/v1/clients', { name: uniq('Imported Co'), timezone: 'UTC' }, { token: T.admin }), 201);
  other = assertStatus(await c.post('/api/v1/clients', { name: uniq('Other Co'), timezone: 'UTC' }, { token: T.admin }), 201);
  contact = assertStatus(await c.post(`/api/v1/clients/${client.id}/contacts`, { name: 'Ann', email: 'ann@imported.example' }, { token: T.admin }), 201);
  const weekdays = Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => [d, [['09:00', '17:00']]]));
  const office = assertStatus(await c.post('/api/v1/calendars', { name: uniq('office'), timezone: 'UTC', hours: weekdays }, { token: T.admin }), 201);
  policy = assertStatus(await c.post('/api/v1/sla-policies', {
    name: uniq('Imported'), calendar_id: office.id,
    targets: { P2: { response: 7200, resolution: 28800 }, P3: { response: 14400, resolution: 57600 } },
  }, { token: T.admin }), 201);
  assertStatus(await c.post('/api/v1/contracts', { client_id: client.id, sla_policy_id: policy.id, model: 'flat_fee', starts_on: '2027-01-01' }, { token: T.admin }), 201);
});
after(async () => {
  await srv?.stop();
  if (tmp)
    await rm(tmp, { recursive: true, force: true });
});

// P2 (2 h / 8 h). ZM-1: created Friday 15:00, answered 16:00, waiting on
// the customer 16:30 until Monday 10:00, resolved Monday 14:00. Response:
// Fri 15-16 = 1 h. Resolution: Fri 15:00-16:30 + Mon 10:00-14:00 = 5.5 h
// (71 h of wall time: the weekend is closed, the pause does not count);
// due 8 h: the stopped clock's 2.5 h left from Monday 14:00 = 16:30.
// ZM-2: created Monday 03-15 09:00, answered 09:30, resolved Tuesday
// 12:00: 8 h + 3 h = 11 h > 8 h, breached; paused 27 h - 11 h = 16 h of
// wall time that was not business time (the night).
const history = () => [
  { client_id: client.id, external_id: 'ZM-1', subject: 'Printer jams', type: 'incident', priority: 'P2',
    channel: 'email', category: 'printing', requester_email: 'ANN@imported.example',
    created_at: '2027-03-05T16:00:00+01:00', first_response_at: '2027-03-05T16:00:00Z',
    resolved_at: '2027-03-08T14:00:00Z',
    events: [{ at: '2027-03-05T16:30:00Z', status: 'pending_customer' }, { at: '2027-03-08T10:00:00Z', status: 'open' }] },
  { client_id: client.id, external_id: 'ZM-2', subject: 'VPN drops', type: 'incident', impact: 'medium', urgency: 'high',
    channel: 'phone', created_at: '2027-03-15T09:00:00Z', first_response_at: '2027-03-15T09:30:00Z',
    resolved_at: '2027-03-16T12:00:00Z' },
];

describe('importing history', () => {
  let first;

  test('JSON lines: the tickets with their instants, clocks and timeline; no notification', async () => {
    const before = await outboxRows();
    first = assertStatus(await imp(jsonl(history())), 201);
    assert.equal(first.imported, 2);
    assert.match(first.first_number, /^T-\d{6}$/);
    assert.equal(Number(first.last_number.slice(2)), Number(first.first_number.slice(2)) + 1);
    const [a, b] = await ticketsOf(client.id);
    assert.equal(a.id, first.first_id);
    assert.equal(a.number, first.first_number);
    assert.deepEqual([a.status, a.priority, a.channel, a.category, a.tier, a.fcr, a.reopens],
      ['resolved', 'P2', 'email', 'printing', 1, true, 0]);
    assert.deepEqual([a.created_at, a.first_response_at, a.resolved_at, a.closed_at],
      ['2027-03-05T15:00:00Z', '2027-03-05T16:00:00Z', '2027-03-08T14:00:00Z', null]);
    assert.equal(a.requester_contact_id, contact.id);
    assert.equal(a.sla.policy_id, policy.id);
    assert.equal(a.sla.business_seconds_to_response, 3600);
    assert.equal(a.sla.business_seconds_to_resolution, 5.5 * 3600);
    assert.deepEqual(a.sla.tier_business_seconds, { 1: 5.5 * 3600, 2: 0, 3: 0 });
    assert.deepEqual([a.sla.response_breached, a.sla.resolution_breached, a.sla.paused], [false, false, false]);
    assert.equal(a.sla.response_due_at, '2027-03-05T17:00:00Z');
    assert.equal(a.sla.resolution_due_at, '2027-03-08T16:30:00Z');
    // The matrix gives medium x high = P2; 11 h of business time.
    assert.equal(b.priority, 'P2');
    assert.equal(b.sla.business_seconds_to_response, 1800);
    assert.equal(b.sla.business_seconds_to_resolution, 11 * 3600);
    assert.equal(b.sla.resolution_breached, true);
    assert.equal(b.sla.response_breached, false);
    // The timeline shows the history at its instants, marked imported.
    const tl = assertStatus(await c.get(`/api/v1/tickets/${a.id}/timeline`, { token: T.admin }), 200);
    assert.deepEqual(tl.items.map((e) => [e.kind, e.at, e.data.imported]), [
      ['created', '2027-03-05T15:00:00Z', true],
      ['first_response', '2027-03-05T16:00:00Z', true],
      ['status', '2027-03-05T16:00:00Z', true],
      ['status', '2027-03-05T16:30:00Z', true],
      ['status', '2027-03-08T10:00:00Z', true],
      ['status', '2027-03-08T14:00:00Z', true],
      ['fcr', '2027-03-08T14:00:00Z', true],
      ['sla', NOW, true],
    ]);
    assert.equal(tl.items[0].data.external_id, 'ZM-1');
    assert.deepEqual(tl.items.filter((e) => e.kind === 'status').map((e) => e.data.to),
      ['open', 'pending_customer', 'open', 'resolved']);
    // The clock segments replay the stored log: the pause is there.
    assert.ok(tl.sla_segments.some((s) => s.clock === 'resolution' && s.state === 'paused' &&
      s.from === '2027-03-05T16:30:00Z' && s.to === '2027-03-08T10:00:00Z'));
    // Imported history notifies no one: no outbox row at all.
    assert.equal(await outboxRows(), before);
  });

  test('the SLA review counts the imported tickets as live ones, from their stored durations', async () => {
    const r = assertStatus(await c.get(`/api/v1/reports/sla-review?client_id=${client.id}&from=2027-03-01&to=2027-04-01`, { token: T.admin }), 200);
    const p = r.period;
    assert.deepEqual([p.volume.opened, p.volume.resolved, p.volume.closed, p.volume.backlog_end], [2, 2, 0, 0]);
    assert.deepEqual(p.volume.by_priority, { P1: 0, P2: 2, P3: 0, P4: 0 });
    assert.deepEqual(p.sla.P2.response, { met: 2, breached: 0, pending: 0, attainment: 1 });
    assert.deepEqual(p.sla.P2.resolution, { met: 1, breached: 1, pending: 0, attainment: 0.5 });
    // Response: 1800, 3600 s; resolution: 19800, 39600 s.
    assert.deepEqual(p.business_time.response, { count: 2, median_seconds: 1800, p90_seconds: 3600, mean_seconds: 2700 });
    assert.deepEqual(p.business_time.resolution, { count: 2, median_seconds: 19800, p90_seconds: 39600, mean_seconds: 29700 });
    assert.equal(p.breached_tickets.length, 1);
    assert.deepEqual([p.breached_tickets[0].response, p.breached_tickets[0].resolution,
      p.breached_tickets[0].held_by_tier, p.breached_tickets[0].paused_seconds], [false, true, 1, 16 * 3600]);
    assert.deepEqual([p.fcr.decided, p.fcr.first_contact, p.fcr.rate], [2, 2, 1]);
  });

  test('a file is not imported twice: every line already imported is named, nothing written', async () => {
    const r = assertProblem(await imp(jsonl(history())), 422, { slug: 'import-invalid', field: 'external_id' });
    assert.deepEqual(r.errors.map((e) => [e.line, e.field]), [[1, 'external_id'], [2, 'external_id']]);
    assert.match(r.errors[0].message, /ZM-1 is already imported/);
    assert.equal(r.error_count, 2);
    assert.equal((await ticketsOf(client.id)).length, 2);
  });

  test('CSV: quoted fields, the events column as JSON, CSAT columns, vendor', async () => {
    const csv = [
      'client_id,external_id,subject,description,type,priority,channel,created_at,first_response_at,resolved_at,closed_at,vendor,events,csat_rating,csat_comment,csat_at',
      `${client.id},CSV-1,"Disk, again","He said ""full""\r\nthen left",problem,P3,portal,2027-04-05T09:00:00Z,2027-04-05T09:10:00Z,2027-04-06T09:00:00Z,2027-04-09T09:00:00Z,Dell,` +
        '"[{""at"":""2027-04-05T10:00:00Z"",""tier"":2},{""at"":""2027-04-05T11:00:00Z"",""status"":""pending_vendor""},{""at"":""2027-04-05T15:00:00Z"",""status"":""open""}]",' +
        '5,"quick, thanks",2027-04-06T10:00:00Z',
      `${other.id},CSV-1,Second,,change,P4,api,2027-04-05T09:00:00Z,,,,,,,,`,
      '',
    ].join('\r\n');
    const r = assertStatus(await imp(csv, { type: 'text/csv; charset=utf-8' }), 201);
    assert.equal(r.imported, 2);
    const [t] = await ticketsOf(client.id).then((l) => l.filter((x) => x.subject === 'Disk, again'));
    assert.equal(t.description, 'He said "full"\nthen left');
    assert.deepEqual([t.status, t.tier, t.vendor, t.escalations, t.fcr], ['closed', 2, 'Dell', 2, false]);
    assert.equal(t.closed_at, '2027-04-09T09:00:00Z');
    // Tier 1 from 09:00 to 10:00, tier 2 from 10:00 but paused 11:00-15:00
    // (pending_vendor), then on to Tuesday 09:00: 1 + 2 h on the 5th, 0 on
    // the 6th before 09:00.
    assert.deepEqual(t.sla.tier_business_seconds, { 1: 3600, 2: 3 * 3600, 3: 0 });
    assert.equal(t.sla.business_seconds_to_resolution, 4 * 3600);
    const tl = assertStatus(await c.get(`/api/v1/tickets/${t.id}/timeline`, { token: T.admin }), 200);
    assert.deepEqual(tl.items.filter((e) => ['escalated', 'csat'].includes(e.kind)).map((e) => [e.kind, e.at]),
      [['escalated', '2027-04-05T10:00:00Z'], ['csat', '2027-04-06T10:00:00Z']]);
    const rev = assertStatus(await c.get(`/api/v1/reports/sla-review?client_id=${client.id}&from=2027-04-01&to=2027-05-01`, { token: T.admin }), 200);
    assert.equal(rev.period.csat.responses, 1);
    assert.equal(rev.period.escalation.vendor, 1);
    assert.equal((await ticketsOf(other.id)).length, 1);

    // One audit record a client, in that client's own trail (tenant):
    // its first ticket, its count and numbers; the chain still verifies.
    const rows = (await sql(srv.db, "SELECT tenant_id, object_id, detail FROM audit_log WHERE action = 'ticket.import'" +
      ' ORDER BY seq DESC LIMIT 2')).trim().split('\n').map((l) => l.split('|')).reverse();
    const [o] = await ticketsOf(other.id);
    assert.deepEqual(rows, [
      [String(client.id), String(t.id), `1 ticket of client ${client.id}, ${r.first_number} to ${r.first_number}, imported from CSV`],
      [String(other.id), String(o.id), `1 ticket of client ${other.id}, ${r.last_number} to ${r.last_number}, imported from CSV`],
    ]);
    const v = await cli(['audit', 'verify', '--db', srv.db]);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /^ok: /);
  });

  test('every problem by line and field, and nothing written', async () => {
    const ok = { client_id: client.id, external_id: 'E-1', subject: 'Fine', type: 'incident', priority: 'P3', channel: 'api', created_at: '2027-05-03T09:00:00Z' };
    const body = jsonl([
      ok,                                                                     // 1: fine
      '{"client_id": ',                                                       // 2
      { ...ok, external_id: 'E-3', subject: undefined },                      // 3
      { ...ok, external_id: 'E-4', client_id: 999999 },                       // 4
      { ...ok },                                                              // 5: E-1 again
      { ...ok, external_id: 'E-6', resolved_at: '2027-05-04T09:00:00Z', closed_at: '2027-05-03T12:00:00Z' }, // 6
      { ...ok, external_id: 'E-7', created_at: '2027-06-08T09:00:00Z' },      // 7: after now
      { ...ok, external_id: 'E-8', events: [{ at: '2027-05-03T10:00:00Z', status: 'closed' }] }, // 8
      { ...ok, external_id: 'E-9', requester_email: 'nobody@imported.example' }, // 9
      { ...ok, external_id: 'E-10', status: 'resolved' },                     // 10
    ]);
    const r = assertProblem(await imp(body), 422, { slug: 'import-invalid', field: 'external_id' });
    assert.deepEqual(r.errors.map((e) => [e.line, e.field]), [
      [2, ''], [3, 'subject'], [4, 'client_id'], [5, 'external_id'], [6, 'closed_at'], [7, 'created_at'],
      [8, 'events[0].status'], [9, 'requester_email'], [10, 'status'],
    ]);
    assert.equal(r.error_count, 9);
    assert.match(r.errors[3].message, /is also on line 1/);
    assert.match(r.errors[6].message, /only a resolved ticket can be closed/);
    assert.match(r.detail, /nothing was imported/);
    assert.equal((await ticketsOf(client.id)).filter((t) => t.subject === 'Fine').length, 0);
    // A CSV whose header is wrong: line 1, no row read.
    const h = assertProblem(await imp('client_id,external_id,subject,type,channel,created_at,colour\n1,x,s,incident,api,2027-01-01T00:00:00Z,red\n',
      { type: 'text/csv' }), 422, { slug: 'import-invalid' });
    assert.deepEqual(h.errors.map((e) => [e.line, e.message]), [[1, "column 7: unknown column 'colour'"]]);
    // An empty file.
    const z = assertProblem(await imp('\n\n'), 422, { slug: 'import-invalid' });
    assert.match(z.errors[0].message, /holds no ticket/);
  });

  test('the example files of docs/IMPORT.md import as they are', async () => {
    const ex = (name) => readFile(new URL(`../../docs/examples/${name}`, import.meta.url), 'utf8');
    const j = assertStatus(await imp(await ex('import-tickets.jsonl')), 201);
    assert.equal(j.imported, 4);
    const v = assertStatus(await imp(await ex('import-tickets.csv'), { type: 'text/csv' }), 201);
    assert.equal(v.imported, 2);
    const bor = (await ticketsOf(BOREALIS)).filter((t) => t.number >= j.first_number);
    const vpn = bor.find((t) => t.subject === 'VPN drops every hour');
    // Escalated to tier 2 and a vendor, raised to P1 (whose targets then
    // apply from creation), held by the vendor two days.
    assert.deepEqual([vpn.priority, vpn.tier, vpn.vendor, vpn.escalations, vpn.fcr, vpn.status],
      ['P1', 2, 'Fortinet', 2, false, 'resolved']);
    const starter = bor.find((t) => t.subject === 'New starter: laptop and accounts');
    assert.deepEqual([starter.reopens, starter.fcr, starter.fcr_reason], [1, false, 'given by the import']);
    const acme = (await ticketsOf(ACME)).find((t) => t.subject === 'Backup job failed twice');
    assert.deepEqual([acme.status, acme.tier, acme.queue, acme.channel], ['open', 2, 'infrastructure', 'monitoring']);
    assert.equal(bor.filter((t) => t.subject.startsWith('Scanner driver')).length, 1);
  });

  test('provider admins only; JSON lines or CSV only; a body ceiling', async () => {
    const body = jsonl([{ ...history()[0], external_id: 'R-1' }]);
    for (const who of ['dispatcher', 'tier1', 'acmeAdmin'])
      assertProblem(await imp(body, { who }), 403);
    assertProblem(await c.post('/api/v1/import/tickets', body, { headers: { 'Content-Type': JSONL } }), 401);
    assertProblem(await imp(body, { type: 'application/json' }), 415);
    assertProblem(await imp('x'.repeat((1 << 20) + 1)), 413);
    assert.equal((await ticketsOf(client.id)).filter((t) => t.subject === 'Printer jams').length, 1);
    // A session (cookie and CSRF) of an admin may, as a token may.
    const s = await c.session(DEMO.admin, srv.password);
    assertStatus(await c.post('/api/v1/import/tickets', body, { session: s, headers: { 'Content-Type': 'application/jsonl' } }), 201);
  });

  test('an open imported ticket meets the escalation rules from the import on, not from its old history', async () => {
    // Quiet since March; a rule that notifies after an hour of no update
    // (and one for an unassigned ticket) must not fire for it at the next
    // pass, only once it has been left alone that long in itsup.
    const rows = [
      { client_id: client.id, external_id: 'OPEN-1', subject: 'Still open', type: 'incident', priority: 'P4', channel: 'api',
        created_at: '2027-03-01T09:00:00Z', first_response_at: '2027-03-01T09:30:00Z' },
      { client_id: client.id, external_id: 'OPEN-2', subject: 'Never answered', type: 'incident', priority: 'P4', channel: 'api',
        created_at: '2027-03-02T09:00:00Z' },
    ];
    const r = assertStatus(await imp(jsonl(rows)), 201);
    const ids = [r.first_id];
    ids.push((await ticketsOf(client.id)).find((t) => t.number === r.last_number).id);
    const rules = [];
    for (const body of [{ kind: 'no_update', minutes: 60 }, { kind: 'unassigned', minutes: 90 }])
      rules.push(assertStatus(await c.post('/api/v1/escalation-rules', { name: uniq('imported'), priority: 'P4', notify: true, ...body },
        { token: T.dispatcher }), 201));
    const fired = async () => {
      const n = [];
      for (const id of ids) {
        const tl = assertStatus(await c.get(`/api/v1/tickets/${id}/timeline`, { token: T.admin }), 200).items;
        n.push(tl.filter((e) => rules.some((x) => x.id === e.data?.rule_id)).length);
      }
      return n;
    };
    const advance = async (seconds) => assertStatus(await c.post('/api/v1/test/clock', { advance_seconds: seconds }, { token: T.admin }), 200);
    try {
      await advance(60);
      assert.deepEqual(await fired(), [0, 0]);
      await advance(58 * 60);
      assert.deepEqual(await fired(), [0, 0]);
      await advance(60);                            // an hour since the import: no update
      assert.deepEqual(await fired(), [1, 1]);
      await advance(30 * 60);                       // 90 minutes: unassigned too
      assert.deepEqual(await fired(), [2, 2]);
    } finally {
      for (const x of rules)
        assertStatus(await c.api('DELETE', `/api/v1/escalation-rules/${x.id}`, { token: T.dispatcher }), 204);
    }
  });
});

describe('itsup import tickets', () => {
  test('the same import from a file, with progress on a large one, and problems by line', async () => {
    // The CLI's "now" is the real clock: history from 2026-01.
    const cl = assertStatus(await c.post('/api/v1/clients', { name: uniq('CLI Co'), timezone: 'UTC' }, { token: T.admin }), 201);
    const N = 12000;
    const rows = [];
    for (let i = 0; i < N; i++) {
      const day = String(1 + (i % 28)).padStart(2, '0');
      rows.push({ client_id: cl.id, external_id: `L-${i}`, subject: `Ticket ${i}`, type: 'incident', priority: 'P4',
        channel: 'api', created_at: `2026-01-${day}T10:00:00Z`, resolved_at: `2026-01-${day}T11:00:00Z`,
        closed_at: `2026-01-${day}T12:00:00Z` });
    }
    const file = path.join(tmp, 'big.jsonl');
    await writeFile(file, jsonl(rows));
    const r = await cli(['import', 'tickets', file, '--db', srv.db]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^imported 12000 tickets: T-\d{6} to T-\d{6}\n$/);
    assert.match(r.stderr, /^validated 10000 rows \(\d+% of the file\)$/m);
    assert.match(r.stderr, /^validated 12000 rows \(100% of the file\)$/m);
    assert.match(r.stderr, /^written 10000 \/ 12000 tickets$/m);
    assert.match(r.stderr, /^written 12000 \/ 12000 tickets$/m);
    const rev = assertStatus(await c.get(`/api/v1/reports/sla-review?client_id=${cl.id}&from=2026-01-01&to=2026-02-01`, { token: T.admin }), 200);
    assert.deepEqual([rev.period.volume.opened, rev.period.volume.closed], [N, N]);

    // Again: every line refused, the first 1,000 printed, nothing written.
    const again = await cli(['import', 'tickets', file, '--db', srv.db]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^line 1: external_id: L-0 is already imported/m);
    assert.match(again.stderr, /^\.\.\. and 11000 more$/m);
    assert.match(again.stderr, /itsup: import: 12000 problems in the input; nothing was imported/);

    // CSV by its extension; a small file says nothing on stderr.
    const csv = path.join(tmp, 'small.csv');
    await writeFile(csv, `client_id,external_id,subject,type,priority,channel,created_at\n${cl.id},S-1,Small,incident,P3,api,2026-02-02T10:00:00Z\n`);
    const s = await cli(['import', 'tickets', csv, '--db', srv.db]);
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, /^imported 1 tickets/);
    assert.equal(s.stderr, '');
    // Told the wrong format, the same file is bad JSON.
    const bad = await cli(['import', 'tickets', csv, '--db', srv.db, '--format', 'jsonl']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^line 1: is not JSON/m);
    const usage = await cli(['import', 'tickets', '--db', srv.db]);
    assert.equal(usage.code, 2);
    assert.equal((await cli(['import', 'tickets', csv, '--db', srv.db, '--format', 'xml'])).code, 2);
  });
});
