// reports.test.mjs: GET /api/v1/reports/sla-review (issue 9; docs/REPORTS.md).
// One server with --test-clock, moved to a known day, on which tickets are
// opened, answered and resolved at known instants; the figures are then
// checked against what the definitions say of them by hand. Also: who may
// see which review, validation, and the CSV behind the figures.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ACME, BOREALIS, DEMO, cli, startServer } from './lib/server.mjs';
import { assertProblem, assertStatus, uniq } from './lib/util.mjs';
import { assertWellFormedXml } from './lib/monitor.mjs';
import { createHash } from 'node:crypto';

let srv, c;
const T = {};
const U = {};
const HOUR = 3600;

before(async () => {
  srv = await startServer({ testClock: true });
  c = srv.client;
  await Promise.all(['admin', 'dispatcher', 'tier1', 'tier2', 'acmeAdmin', 'acmeUser', 'borealisIT'].map(async (k) => {
    const s = await c.session(DEMO[k], srv.password);
    U[k] = s.user.id;
    T[k] = await c.token(s);
  }));
});
after(() => srv?.stop());

const clock = async (body) => assertStatus(await c.post('/api/v1/test/clock', body, { token: T.admin }), 200);
const create = async (client, body = {}) =>
  assertStatus(await c.post('/api/v1/tickets', { client_id: client, subject: uniq('Report'), ...body }, { token: T.dispatcher }), 201);
const reply = async (id) =>
  assertStatus(await c.post(`/api/v1/tickets/${id}/messages`, { kind: 'reply', body: 'On it' }, { token: T.tier1 }), 201);
const patch = async (id, body) => assertStatus(await c.patch(`/api/v1/tickets/${id}`, body, { token: T.tier1 }), 200);
const review = (q, who = 'admin') => c.get(`/api/v1/reports/sla-review?${q}`, { token: T[who] });

// Borealis' zone, read from the API: the period's days are its days.
let days = {};

describe('the SLA review', () => {
  before(async () => {
    // A Monday in a month of its own, far from the real clock: 2027-03-01.
    await clock({ now: '2027-03-01T14:00:00.000Z' });
    const a = await create(BOREALIS, { type: 'incident', category: 'network' });
    const b = await create(BOREALIS, { type: 'service_request', category: 'accounts' });
    const x = await create(BOREALIS, { type: 'incident', category: 'network' });
    await clock({ advance_seconds: HOUR });
    await reply(a.id);                                 // a answered after one hour
    await reply(b.id);
    await clock({ advance_seconds: HOUR });
    await patch(a.id, { status: 'resolved' });         // a resolved after two hours
    for (const who of [U.tier1, U.tier2, null])        // x: assigned, reassigned, unassigned
      await patch(x.id, { assignee_id: who });
    await create(ACME);                                // another client's ticket
    days = { a, b, x };
  });

  test('one client\'s month: volume, times, FCR, and the previous month beside it', async () => {
    const r = assertStatus(await review(`client_id=${BOREALIS}&from=2027-03-01&to=2027-04-01`), 200);
    assert.equal(r.client_id, BOREALIS);
    const p = r.period;
    assert.deepEqual([p.from, p.to], ['2027-03-01', '2027-04-01']);
    // Three opened in March, one resolved, none closed; nothing open at the start.
    assert.deepEqual([p.volume.opened, p.volume.resolved, p.volume.closed, p.volume.reopened],
      [3, 1, 0, 0]);
    assert.deepEqual([p.volume.backlog_start, p.volume.backlog_end], [0, 2]);
    assert.deepEqual(p.volume.by_type, { incident: 2, service_request: 1, problem: 0, change: 0 });
    assert.deepEqual(p.volume.by_category, { network: 2, accounts: 1 });
    assert.equal(p.volume.by_channel.api, 3);
    // Two answered; one resolved (at tier 1, by the one who answered: FCR).
    assert.equal(p.business_time.response.count, 2);
    assert.equal(p.business_time.resolution.count, 1);
    assert.deepEqual([p.fcr.decided, p.fcr.first_contact, p.fcr.rate, p.fcr.target], [1, 1, 1, 0.7]);
    assert.deepEqual([p.escalation.tier2, p.escalation.tier3, p.escalation.vendor], [0, 0, 0]);
    // x was given to tier 1, then to tier 2, then to nobody: two reassignments
    // (the first assignment is not one); a and b none.
    assert.deepEqual([p.escalation.reassignments, p.escalation.reassigned, p.escalation.rate_reassigned,
      p.escalation.reassignments_mean], [2, 1, 0.3333, 0.6667]);
    // The previous month (February) had none of them.
    assert.deepEqual([r.previous.from, r.previous.to], ['2027-01-29', '2027-03-01']);
    assert.equal(r.previous.volume.opened, 0);
    assert.equal(r.previous.fcr.rate, null);
  });

  test('every client for provider staff; a later period sees the backlog carried over', async () => {
    const all = assertStatus(await review('from=2027-03-01&to=2027-04-01'), 200);
    assert.equal(all.client_id, null);
    assert.equal(all.timezone, 'UTC');
    assert.equal(all.period.volume.opened, 4);
    const april = assertStatus(await review(`client_id=${BOREALIS}&from=2027-04-01&to=2027-05-01`), 200);
    assert.deepEqual([april.period.volume.opened, april.period.volume.backlog_start,
      april.period.volume.backlog_end], [0, 2, 2]);
    // The previous period is the same number of days (30) ending on
    // April 1: March 2-31, after the tickets of March 1.
    assert.deepEqual([april.previous.from, april.previous.to], ['2027-03-02', '2027-04-01']);
    assert.deepEqual([april.previous.volume.opened, april.previous.volume.backlog_start], [0, 2]);
  });

  test('the CSV gives the ticket-level rows behind the figures', async () => {
    const res = await review(`client_id=${BOREALIS}&from=2027-03-01&to=2027-04-01&format=csv`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/csv/);
    assert.match(res.headers.get('content-disposition') || '', /attachment; filename="sla-review-2027-03-01-2027-04-01\.csv"/);
    const lines = res.text.trimEnd().split('\r\n');
    const head = lines[0].split(',');
    assert.equal(head[0], 'number');
    const rows = lines.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [head[i], v])));
    assert.equal(rows.length, 3);
    for (const row of rows) assert.equal(Object.keys(row).length, head.length);
    assert.equal(rows.filter((x) => x.opened_in_period === '1').length, 3);
    assert.equal(rows.filter((x) => x.resolved_in_period === '1').length, 1);
    const a = rows.find((x) => x.number === days.a.number);
    assert.equal(a.fcr, '1');
    assert.ok(a.resolved_at.startsWith('2027-03-01T16:00'));
  });

  test('the HTML pack: well-formed, under a strict CSP, the same figures as the JSON, four charts, names escaped', async () => {
    const q = `client_id=${BOREALIS}&from=2027-03-01&to=2027-04-01`;
    const json = assertStatus(await review(q), 200);
    const res = await review(`${q}&format=html`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/html; charset=utf-8/);
    // Nothing but its own stylesheet, by hash: no script, no remote anything.
    const csp = res.headers.get('content-security-policy');
    assert.match(csp, /^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]+=*';/);
    const style = res.text.match(/<style>([^<]*)<\/style>/)[1];
    const hash = createHash('sha256').update(style).digest('base64');
    assert.ok(csp.includes(`'sha256-${hash}'`), 'the CSP names the stylesheet that is there');
    assert.doesNotMatch(res.text, /<script|javascript:|https?:\/\/(?!www\.w3\.org)/i);
    assertWellFormedXml(res.text.replace(/^<!DOCTYPE html>\n/, ''));
    // The title names the client and the period; four charts, each with a title.
    assert.match(res.text, new RegExp(`<title>Service review: ${json.client_name}, 2027-03-01 to 2027-04-01</title>`));
    assert.match(res.text, /1 Mar 2027 to 31 Mar 2027/);
    const charts = [...res.text.matchAll(/<svg [^>]*class="chart"[^>]*><title>([^<]*)<\/title>/g)].map((m) => m[1]);
    assert.deepEqual(charts, ['Tickets per week', 'SLA attainment per priority', 'First-contact resolution per week', 'Satisfaction ratings']);
    // The KPIs are the JSON's figures: opened, resolved, and FCR as a percentage.
    const kpi = (label) => res.text.match(new RegExp(`<span>${label}</span><b>([^<]*)</b>`))[1];
    assert.equal(kpi('Tickets opened'), String(json.period.volume.opened));
    assert.equal(kpi('Tickets resolved'), String(json.period.volume.resolved));
    assert.equal(kpi('First-contact resolution \\(target 70 %\\)'),
      json.period.fcr.rate === null ? '&#8212;' : `${(json.period.fcr.rate * 100).toFixed(1)}&#160;%`);
    // One bar per week with tickets opened, titled with its count.
    const weeks = json.period.weekly;
    assert.equal(weeks.length, 5);
    assert.equal(weeks[0].opened, 3);
    assert.match(res.text, /<rect [^>]*><title>03-01: 3<\/title><\/rect>/);
    // A client's name is text, never markup.
    const evil = assertStatus(await c.post('/api/v1/clients', { name: uniq('<img src=x onerror=alert(1)> & "Co"') }, { token: T.admin }), 201);
    const e2 = await review(`client_id=${evil.id}&from=2027-03-01&to=2027-04-01&format=html`);
    assert.equal(e2.status, 200);
    assert.ok(!e2.text.includes('<img'));
    assert.ok(e2.text.includes('&lt;img src=x onerror=alert(1)&gt; &amp; &quot;Co&quot;'));
    assertWellFormedXml(e2.text.replace(/^<!DOCTYPE html>\n/, ''));
  });

  test('itsup report sla-review prints the same review (JSON and CSV)', async () => {
    const q = `client_id=${BOREALIS}&from=2027-03-01&to=2027-04-01`;
    const api = assertStatus(await review(q), 200);
    const j = await cli(['report', 'sla-review', '--db', srv.db, '--client-id', String(BOREALIS),
      '--from', '2027-03-01', '--to', '2027-04-01']);
    assert.equal(j.code, 0, j.stderr);
    assert.deepEqual(JSON.parse(j.stdout), api);
    const csv = await cli(['report', 'sla-review', '--db', srv.db, '--from', '2027-03-01', '--to',
      '2027-04-01', '--format', 'csv']);
    assert.equal(csv.code, 0, csv.stderr);
    assert.equal(csv.stdout.trimEnd().split('\r\n').length, 1 + 4);
    const bad = await cli(['report', 'sla-review', '--db', srv.db, '--from', '2027-03-01', '--to', '2027-02-01']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--to/);
  });

  test('a client admin or client IT gets its own organisation\'s review only; client users none', async () => {
    const own = assertStatus(await review('from=2027-03-01&to=2027-04-01', 'borealisIT'), 200);
    assert.equal(own.client_id, BOREALIS);
    assert.equal(own.period.volume.opened, 3);
    assertProblem(await review(`client_id=${ACME}&from=2027-03-01&to=2027-04-01`, 'borealisIT'), 404);
    const acme = assertStatus(await review('from=2027-03-01&to=2027-04-01', 'acmeAdmin'), 200);
    assert.equal(acme.client_id, ACME);
    assert.equal(acme.period.volume.opened, 1);
    assertProblem(await review('from=2027-03-01&to=2027-04-01', 'acmeUser'), 403);
  });

  test('bad parameters are 400 naming the field', async () => {
    for (const [q, field] of [
      ['from=2027-02-30&to=2027-03-01', 'from'],
      ['from=2027-03-01', 'to'],
      ['from=2027-03-01&to=2027-03-01', 'to'],
      ['from=2020-01-01&to=2027-01-01', 'to'],
      ['from=2027-03-01&to=2027-04-01&format=pdf', 'format'],
      ['client_id=abc&from=2027-03-01&to=2027-04-01', 'client_id'],
    ])
      assertProblem(await review(q), 400, { field });
    assertProblem(await review('client_id=999&from=2027-03-01&to=2027-04-01'), 404);
  });

  // Last: the data here is read by no test above. The clock is still
  // 2027-03-01T16:00Z.
  test('CSAT answers and hours, by period, client and tier', async () => {
    const { a, x } = days;
    const time = async (id, who, body) =>
      assertStatus(await c.post(`/api/v1/tickets/${id}/time-entries`, body, { token: T[who] }), 201);
    await time(x.id, 'tier1', { minutes: 30 });                                  // billable, now
    await time(x.id, 'tier2', { minutes: 45, billable: false, started_at: '2027-03-10T09:00:00.000Z' });
    await time(a.id, 'admin', { minutes: 20, started_at: '2027-02-20T10:00:00.000Z' }); // February
    await time(x.id, 'tier1', { minutes: 15, started_at: '2027-04-02T10:00:00.000Z' }); // April
    const acme = await create(ACME);
    await time(acme.id, 'tier2', { minutes: 10 });
    await patch(acme.id, { status: 'resolved' });
    const csat = async (id, who, body) => {
      const t = assertStatus(await c.get(`/api/v1/tickets/${id}`, { token: T[who] }), 200);
      const r = await c.post(t.csat_url, body);
      assert.ok(r.status < 300, `${r.status} ${r.text}`);
    };
    await csat(a.id, 'borealisIT', { rating: 4, comment: 'Quick fix' });
    await csat(acme.id, 'acmeAdmin', { rating: 5 });

    const zero = { billable_minutes: 0, non_billable_minutes: 0 };
    const r = assertStatus(await review(`client_id=${BOREALIS}&from=2027-03-01&to=2027-04-01`), 200);
    // March, Borealis: a's answer; tier 1's 30 billable and tier 2's 45 not.
    assert.deepEqual(r.period.csat, {
      responses: 1, average: 4, distribution: { 1: 0, 2: 0, 3: 0, 4: 1, 5: 0 },
      comments: [{ ticket_id: a.id, number: a.number, rating: 4, comment: 'Quick fix', at: '2027-03-01T16:00:00Z' }],
    });
    assert.deepEqual(r.period.hours, {
      billable_minutes: 30, non_billable_minutes: 45,
      by_tier: { tier1: { billable_minutes: 30, non_billable_minutes: 0 },
        tier2: { billable_minutes: 0, non_billable_minutes: 45 }, tier3: zero, other: zero },
    });
    // February: the admin's 20 minutes (no tier: other); no answers.
    assert.deepEqual(r.previous.csat, {
      responses: 0, average: null, distribution: { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 }, comments: [],
    });
    assert.deepEqual(r.previous.hours, {
      billable_minutes: 20, non_billable_minutes: 0,
      by_tier: { tier1: zero, tier2: zero, tier3: zero, other: { billable_minutes: 20, non_billable_minutes: 0 } },
    });
    // Every client: Acme's answer (5, no comment) and its 10 minutes too.
    const all = assertStatus(await review('from=2027-03-01&to=2027-04-01'), 200);
    assert.deepEqual([all.period.csat.responses, all.period.csat.average], [2, 4.5]);
    assert.deepEqual(all.period.csat.distribution, { 1: 0, 2: 0, 3: 0, 4: 1, 5: 1 });
    assert.equal(all.period.csat.comments.length, 1);
    assert.deepEqual(all.period.hours.by_tier.tier2, { billable_minutes: 10, non_billable_minutes: 45 });
    assert.deepEqual([all.period.hours.billable_minutes, all.period.hours.non_billable_minutes], [40, 45]);
    // A client sees its own. April has the 15 minutes and no answers; its
    // previous period (March 2-31) only tier 2's 45 minutes of March 10.
    const own = assertStatus(await review('from=2027-03-01&to=2027-04-01', 'acmeAdmin'), 200);
    assert.deepEqual([own.period.csat.responses, own.period.csat.average, own.period.hours.billable_minutes],
      [1, 5, 10]);
    const april = assertStatus(await review(`client_id=${BOREALIS}&from=2027-04-01&to=2027-05-01`), 200);
    assert.deepEqual([april.period.csat.responses, april.period.hours.billable_minutes], [0, 15]);
    assert.deepEqual([april.previous.csat.responses, april.previous.hours.billable_minutes,
      april.previous.hours.non_billable_minutes], [0, 0, 45]);
  });
});

describe('the dashboard', () => {
  test('staff see every client\'s open tickets and firing alerts, and this month\'s FCR; a client admin its own; client users none', async () => {
    const d = assertStatus(await c.get('/api/v1/dashboard', { token: T.dispatcher }), 200);
    assert.equal(typeof d.tickets.open, 'number');
    assert.ok(d.tickets.open >= d.tickets.unassigned);
    assert.equal(typeof d.alerts.firing, 'number');
    assert.match(d.month.from, /^\d{4}-\d{2}-01$/);
    assert.equal(d.month.fcr.target, 0.7);
    // The open tickets are the queue counts' (the console shows the same).
    const q = assertStatus(await c.get('/api/v1/queues', { token: T.dispatcher }), 200);
    assert.equal(d.tickets.open, q.items.reduce((n, x) => n + x.open, 0));
    assert.equal(d.tickets.sla_breached, q.items.reduce((n, x) => n + x.breached, 0));
    const own = assertStatus(await c.get('/api/v1/dashboard', { token: T.borealisIT }), 200);
    const acme = assertStatus(await c.get('/api/v1/dashboard', { token: T.acmeAdmin }), 200);
    assert.ok(own.tickets.open + acme.tickets.open <= d.tickets.open);
    assert.ok(own.tickets.open >= 1);
    assertProblem(await c.get('/api/v1/dashboard', { token: T.acmeUser }), 403);
  });
});
