// report-schedules.test.mjs: scheduled delivery of the SLA review pack
// (issue 9; docs/REPORTS.md "Scheduled delivery"): an admin schedules a
// client's review monthly or quarterly to a list of addresses, and on the
// first day after each period, at the hour in the client's zone, exactly
// one e-mail per address arrives with the HTML pack (and the CSV of the
// ticket rows when asked) through the outbox; the same period never goes
// twice; a switched-off schedule sends nothing; "send now"; every bad
// input is a 400 naming its field; only provider admins see schedules.
//
// smtp-sink.py is the SMTP server (each accepted message a file); itsup
// runs with --test-clock, so the scheduler and the dispatcher run inside
// POST /api/v1/test/clock, which answers after both (the sink has the
// messages by then). The clock only moves forward, so the tests below run
// in order on one timeline in 2040 (Borealis is in Europe/Berlin, Acme in
// America/New_York). Messages are told apart by their recipients, which
// are unique to each test.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { ACME, BOREALIS, Client, DEMO, PG_BASE, createDb, serve, startServer } from './lib/server.mjs';
import { assertProblem, assertStatus, uniq } from './lib/util.mjs';
import { SmtpSink, parseMessage } from './lib/mail.mjs';

const PUBLIC = 'https://desk.msp.test';
const MAIL_ENV = (sink) => ({ ITSUP_SMTP_URL: sink.url, ITSUP_MAIL_FROM: 'MSP Desk <desk@msp.test>', ITSUP_PUBLIC_URL: PUBLIC });
const CSV_HEADER = 'number,ticket_id,client_id,created_at,first_response_at,resolved_at,closed_at,priority,' +
  'type,channel,category,has_sla_policy,response_breached,resolution_breached,' +
  'response_business_seconds,resolution_business_seconds,tier1_business_seconds,' +
  'tier2_business_seconds,tier3_business_seconds,vendor,fcr,reopens,tier_changes,reassignments,' +
  'opened_in_period,resolved_in_period,closed_in_period,backlog_at_start,backlog_at_end';

let srv, c, sink;
const T = {};

before(async () => {
  sink = await SmtpSink.start();
  srv = await startServer({ testClock: true, env: MAIL_ENV(sink) });
  c = srv.client;
  await Promise.all(['admin', 'dispatcher', 'tier1', 'acmeAdmin', 'borealisIT'].map(async (k) => {
    T[k] = await c.token(await c.session(DEMO[k], srv.password));
  }));
});
after(async () => {
  await srv?.stop();
  await sink?.cleanup();
});

const clockTo = async (iso, client = c, token = T.admin) =>
  assertStatus(await client.post('/api/v1/test/clock', { now: iso }, { token }), 200);
const addrs = (tag, n) => Array.from({ length: n }, (_, i) => `${tag}-${i}-${randomUUID().slice(0, 6)}@review.example`);
const create = async (body, token = T.admin) => c.post('/api/v1/reports/schedules', body, { token });
const get = async (id) => assertStatus(await c.get(`/api/v1/reports/schedules/${id}`, { token: T.admin }), 200);

/* The messages the sink got for any of these addresses. */
async function mailTo(list, s = sink) {
  const set = new Set(list.map((a) => a.toLowerCase()));
  return (await s.messages()).filter((m) => m.to.some((t) => set.has(t.toLowerCase())));
}

/* A multipart message's parts: [{headers..., header(), body, filename, type}]
 * (bodies decoded from base64 or quoted-printable as UTF-8 text). */
function parts(m) {
  const ct = m.header('content-type') || '';
  const b = /boundary="?([^";\s]+)"?/i.exec(ct);
  assert.ok(b, `multipart: ${ct}`);
  const sep = m.data.search(/\r?\n\r?\n/);
  const body = m.data.slice(sep).replace(/^\r?\n\r?\n/, '');
  return body.split(`--${b[1]}`).slice(1, -1).map((chunk) => {
    const p = parseMessage(chunk.replace(/^\r?\n/, ''));
    const disp = p.header('content-disposition') || '';
    return {
      ...p,
      type: (p.header('content-type') || '').split(';')[0].trim().toLowerCase(),
      disposition: disp.split(';')[0].trim().toLowerCase(),
      filename: (/filename="?([^";]+)"?/i.exec(disp) || [])[1],
    };
  });
}

describe('scheduled delivery of the review pack', () => {
  const state = {};

  test('a monthly schedule with CSV: created in the client\'s zone, shown with its next send', async () => {
    await clockTo('2040-01-10T12:00:00Z');
    // Tickets of Borealis in January, so the CSV has rows.
    state.tickets = [];
    for (let i = 0; i < 3; i++)
      state.tickets.push(assertStatus(await c.post('/api/v1/tickets', { client_id: BOREALIS, subject: uniq('January'), priority: 'P3', priority_reason: 'test' }, { token: T.admin }), 201));
    state.rcpt = addrs('monthly', 2);
    const r = await create({ client_id: BOREALIS, cadence: 'monthly', recipients: [state.rcpt[0].toUpperCase(), state.rcpt[1]], formats: ['html', 'csv'] });
    const s = assertStatus(r, 201);
    assert.equal(r.headers.get('location'), `/api/v1/reports/schedules/${s.id}`);
    assert.equal(r.headers.get('etag'), `"v${s.version}"`);
    assert.deepEqual({ ...s, id: 0, created_at: 0, updated_at: 0, created_by: 0 }, {
      id: 0, client_id: BOREALIS, client_name: 'Borealis Logistics', cadence: 'monthly',
      recipients: state.rcpt.map((a) => a.toLowerCase()), formats: ['html', 'csv'], hour: 7,
      timezone: 'Europe/Berlin', enabled: true, last_period_sent: null, last_period_to: null,
      last_sent_at: null,
      next_send_at: '2040-02-01T06:00:00Z', // 07:00 CET
      next_period: { from: '2040-01-01', to: '2040-02-01', label: '2040-01' },
      counts_from: '2040-01-10T12:00:00Z',
      created_by: 0, created_at: 0, updated_at: 0, version: 1,
    });
    assert.equal(s.created_at, '2040-01-10T12:00:00Z');
    state.monthly = s;
    const list = assertStatus(await c.get(`/api/v1/reports/schedules?client_id=${BOREALIS}`, { token: T.admin }), 200);
    assert.ok(list.items.some((x) => x.id === s.id));
    assert.ok(list.items.every((x) => x.client_id === BOREALIS));
    assert.equal(list.next_cursor, null);
  });

  test('before 07:00 Berlin on the 1st nothing goes; at 07:00 exactly one mail per address, with the pack and the CSV', async () => {
    await clockTo('2040-02-01T05:59:00Z');
    assert.deepEqual(await mailTo(state.rcpt), []);
    assert.equal((await get(state.monthly.id)).last_period_sent, null);

    const ran = await clockTo('2040-02-01T06:00:00Z');
    assert.ok(ran.ran.outbox.expanded >= 1, JSON.stringify(ran.ran));
    const got = await mailTo(state.rcpt);
    assert.equal(got.length, 2, 'one message per address');
    assert.deepEqual(got.map((m) => m.to).sort(), state.rcpt.map((a) => [a.toLowerCase()]).sort());
    for (const m of got) {
      assert.equal(m.from, 'desk@msp.test');
      assert.equal(m.header('subject'), 'SLA review January 2040: Borealis Logistics');
      assert.equal(m.header('auto-submitted'), 'auto-generated');
      assert.match(m.header('content-type'), /^multipart\/mixed/);
      const [text, html, csv, ...rest] = parts(m);
      assert.deepEqual(rest, []);
      assert.equal(text.type, 'text/plain');
      assert.match(text.body, /SLA review of Borealis Logistics for January 2040 \(2040-01-01 to 2040-01-31\)/);
      assert.match(text.body, /sla-review-Borealis-Logistics-2040-01\.html: the review/);
      assert.match(text.body, /sla-review-Borealis-Logistics-2040-01\.csv: the tickets/);
      assert.match(text.body, /MSP Desk/);
      assert.deepEqual([html.type, html.disposition, html.filename], ['text/html', 'attachment', 'sla-review-Borealis-Logistics-2040-01.html']);
      assert.match(html.body, /^<!DOCTYPE html>/);
      assert.match(html.body, /Borealis Logistics/);
      assert.match(html.body, /2040-01-01/);
      assert.deepEqual([csv.type, csv.disposition, csv.filename], ['text/csv', 'attachment', 'sla-review-Borealis-Logistics-2040-01.csv']);
      const lines = csv.body.split(/\r?\n/).filter(Boolean);
      assert.equal(lines[0], CSV_HEADER);
      for (const t of state.tickets)
        assert.ok(lines.some((l) => l.startsWith(`${t.number},${t.id},${BOREALIS},`)), `${t.number} in the CSV`);
      assert.ok(lines.slice(1).every((l) => l.split(',')[2] === String(BOREALIS)), 'only Borealis\'s tickets');
    }
    const s = await get(state.monthly.id);
    assert.equal(s.last_period_sent, '2040-01-01');
    assert.equal(s.last_sent_at, '2040-02-01T06:00:00Z');
    assert.equal(s.next_send_at, '2040-03-01T06:00:00Z');
    assert.deepEqual(s.next_period, { from: '2040-02-01', to: '2040-03-01', label: '2040-02' });
    assert.equal(s.version, state.monthly.version, 'sending is not an edit');
    // The deliveries: e-mail, the review's event and template, sent.
    const ds = assertStatus(await c.get('/api/v1/deliveries?channel=email&limit=200', { token: T.admin }), 200).items
      .filter((d) => state.rcpt.includes(d.target));
    assert.equal(ds.length, 2);
    assert.ok(ds.every((d) => d.event === 'report.review' && d.template === 'client.sla_review' && d.state === 'sent' && d.ticket_id === null));
  });

  test('later in the same month, and again: nothing more', async () => {
    await clockTo('2040-02-01T06:05:00Z');
    await clockTo('2040-02-15T06:00:00Z');
    await clockTo('2040-02-29T23:00:00Z');
    assert.equal((await mailTo(state.rcpt)).length, 2);
  });

  test('quarterly, HTML only, at 09:00 New York: Q1 on April 1st, once', async () => {
    const rcpt = addrs('quarterly', 1);
    const s = assertStatus(await create({ client_id: ACME, cadence: 'quarterly', recipients: rcpt, hour: 9 }), 201);
    assert.deepEqual([s.formats, s.hour, s.timezone, s.next_send_at, s.next_period],
      [['html'], 9, 'America/New_York', '2040-04-01T13:00:00Z', { from: '2040-01-01', to: '2040-04-01', label: '2040-Q1' }]);
    await clockTo('2040-03-01T06:00:00Z');   // the monthly one's February
    await clockTo('2040-04-01T12:59:00Z');
    assert.deepEqual(await mailTo(rcpt), []);
    await clockTo('2040-04-01T13:00:00Z');
    const got = await mailTo(rcpt);
    assert.equal(got.length, 1);
    assert.equal(got[0].header('subject'), 'SLA review Q1 2040: Acme Dental');
    const [text, html, ...rest] = parts(got[0]);
    assert.deepEqual(rest, [], 'no CSV');
    assert.match(text.body, /for Q1 2040 \(2040-01-01 to 2040-03-31\)/);
    assert.doesNotMatch(text.body, /\.csv/);
    assert.equal(html.filename, 'sla-review-Acme-Dental-2040-Q1.html');
    assert.match(html.body, /Acme Dental/);
    assert.match(html.body, /2040-01-01/);
    assert.equal((await get(s.id)).next_send_at, '2040-07-01T13:00:00Z');
    await clockTo('2040-05-01T13:00:00Z');
    assert.equal((await mailTo(rcpt)).length, 1);
    // The monthly one went on: February, March and April, each once.
    assert.equal((await mailTo(state.rcpt)).length, 2 * 4);
  });

  test('a switched-off schedule sends nothing; switched on, what fell due meanwhile stays unsent', async () => {
    const rcpt = addrs('off', 1);
    const s = assertStatus(await create({ client_id: BOREALIS, cadence: 'monthly', recipients: rcpt, enabled: false }), 201);
    assert.deepEqual([s.enabled, s.next_send_at, s.next_period], [false, null, null]);
    await clockTo('2040-06-01T06:00:00Z');
    await clockTo('2040-06-10T00:00:00Z');
    assert.deepEqual(await mailTo(rcpt), []);
    const r = await c.patch(`/api/v1/reports/schedules/${s.id}`, { enabled: true }, { token: T.admin, headers: { 'If-Match': `"v${s.version}"` } });
    const on = assertStatus(r, 200);
    assert.equal(on.version, s.version + 1);
    assert.equal(on.next_send_at, '2040-07-01T05:00:00Z');   // 07:00 CEST; May's is not sent
    assert.equal(on.counts_from, '2040-06-10T00:00:00Z');
    // Edited after it was switched on (only the recipients): May stays
    // unsent, now and when the job looks again.
    await clockTo('2040-06-11T00:00:00Z');
    const ed = assertStatus(await c.patch(`/api/v1/reports/schedules/${s.id}`, { recipients: [...rcpt, rcpt[0].replace('off-', 'off2-')] }, { token: T.admin, headers: { 'If-Match': `"v${on.version}"` } }), 200);
    assert.deepEqual([ed.next_send_at, ed.next_period.label, ed.counts_from], ['2040-07-01T05:00:00Z', '2040-06', on.counts_from]);
    rcpt.push(rcpt[0].replace('off-', 'off2-'));
    await clockTo('2040-06-20T00:00:00Z');
    assert.deepEqual(await mailTo(rcpt), []);
    assert.equal((await get(s.id)).last_period_sent, null);
    await clockTo('2040-07-01T05:00:00Z');
    const got = await mailTo(rcpt);
    assert.equal(got.length, 2);
    assert.ok(got.every((m) => m.header('subject') === 'SLA review June 2040: Borealis Logistics'));
    // Switched off again: July's does not go.
    const cur = await get(s.id);
    assertStatus(await c.patch(`/api/v1/reports/schedules/${s.id}`, { enabled: false }, { token: T.admin, headers: { 'If-Match': `"v${cur.version}"` } }), 200);
    await clockTo('2040-08-01T05:00:00Z');
    assert.equal((await mailTo(rcpt)).length, 2);
  });

  test('an edit moves the next send (a later hour today) without skipping the period that is due', async () => {
    await clockTo('2040-08-10T00:00:00Z');
    const rcpt = addrs('edit', 1);
    const s = assertStatus(await create({ client_id: BOREALIS, cadence: 'monthly', recipients: rcpt }), 201);
    assert.equal(s.next_send_at, '2040-09-01T05:00:00Z');
    await clockTo('2040-09-01T04:30:00Z');
    const r = await c.patch(`/api/v1/reports/schedules/${s.id}`, { hour: 10, recipients: [...rcpt, 'second@review.example'] }, { token: T.admin, headers: { 'If-Match': `"v${s.version}"` } });
    const e = assertStatus(r, 200);
    assert.equal(e.next_send_at, '2040-09-01T08:00:00Z');
    assert.deepEqual(e.next_period, { from: '2040-08-01', to: '2040-09-01', label: '2040-08' });
    await clockTo('2040-09-01T07:59:00Z');
    assert.deepEqual(await mailTo(rcpt), []);
    await clockTo('2040-09-01T08:00:00Z');
    assert.equal((await mailTo(rcpt)).length, 1);
    assert.equal((await mailTo(['second@review.example'])).length, 1);
  });

  test('send now: the last complete month by default, or a period given; the schedule itself does not move', async () => {
    const rcpt = addrs('now', 2);
    const s = assertStatus(await create({ client_id: BOREALIS, cadence: 'monthly', recipients: rcpt, formats: ['html', 'csv'], enabled: false }), 201);
    const r = assertStatus(await c.post(`/api/v1/reports/schedules/${s.id}/send`, {}, { token: T.admin }), 202);
    assert.equal(r.schedule_id, s.id);
    assert.ok(r.outbox_id > 0);
    assert.deepEqual(r.period, { from: '2040-08-01', to: '2040-09-01', label: '2040-08' });
    assert.deepEqual(r.recipients, rcpt);
    await clockTo('2040-09-01T08:00:01Z');
    let got = await mailTo(rcpt);
    assert.equal(got.length, 2);
    assert.ok(got.every((m) => m.header('subject') === 'SLA review August 2040: Borealis Logistics'));

    const r2 = assertStatus(await c.post(`/api/v1/reports/schedules/${s.id}/send`, { from: '2040-01-05', to: '2040-01-20' }, { token: T.admin }), 202);
    assert.deepEqual(r2.period, { from: '2040-01-05', to: '2040-01-20', label: '2040-01-05_2040-01-19' });
    await clockTo('2040-09-01T08:00:02Z');
    got = (await mailTo(rcpt)).filter((m) => m.header('subject') === 'SLA review 2040-01-05 to 2040-01-19: Borealis Logistics');
    assert.equal(got.length, 2);
    const [, html, csv] = parts(got[0]);
    assert.equal(html.filename, 'sla-review-Borealis-Logistics-2040-01-05_2040-01-19.html');
    assert.equal(csv.filename, 'sla-review-Borealis-Logistics-2040-01-05_2040-01-19.csv');
    assert.equal(csv.body.split(/\r?\n/)[0], CSV_HEADER);
    // January's tickets (made on the 10th) are in this period's rows.
    for (const t of state.tickets)
      assert.ok(csv.body.includes(`${t.number},${t.id},`));
    const after = await get(s.id);
    assert.deepEqual([after.last_period_sent, after.enabled, after.version], [null, false, s.version]);

    // Its problems.
    const send = (body) => c.post(`/api/v1/reports/schedules/${s.id}/send`, body, { token: T.admin });
    assertProblem(await send({ from: '2040-13-01', to: '2040-14-01' }), 400, { field: 'from' });
    assertProblem(await send({ from: '2040-01-01' }), 400, { field: 'to' });
    assertProblem(await send({ to: '2040-01-01' }), 400, { field: 'from' });
    assertProblem(await send({ from: '2040-02-01', to: '2040-01-01' }), 400, { field: 'to' });
    assertProblem(await send({ from: '2036-01-01', to: '2040-01-01' }), 400, { field: 'to' });
    assertProblem(await send({ from: '2040-01-01', to: '2040-02-01', cc: 'x' }), 400, { field: 'cc' });
    assertProblem(await c.post('/api/v1/reports/schedules/999999/send', {}, { token: T.admin }), 404);
    await clockTo('2040-09-01T08:00:03Z');
    assert.equal((await mailTo(rcpt)).length, 4, 'nothing more went');
  });

  test('every bad input is a 400 naming its field, and changes nothing', async () => {
    const ok = { client_id: BOREALIS, cadence: 'monthly', recipients: ['ok@review.example'] };
    const cases = [
      [{}, ['client_id', 'cadence', 'recipients']],
      [{ ...ok, client_id: 999999 }, ['client_id']],
      [{ ...ok, client_id: 'two' }, ['client_id']],
      [{ ...ok, cadence: 'weekly' }, ['cadence']],
      [{ ...ok, recipients: [] }, ['recipients']],
      [{ ...ok, recipients: 'ok@review.example' }, ['recipients']],
      [{ ...ok, recipients: ['not-an-address'] }, ['recipients[0]']],
      [{ ...ok, recipients: ['a@review.example', 42] }, ['recipients[1]']],
      [{ ...ok, recipients: ['m\u00fcller@review.example'] }, ['recipients[0]']],
      [{ ...ok, recipients: ['ok@review.example', 'a(b)@review.example'] }, ['recipients[1]']],
      [{ ...ok, recipients: ['a@review.example', 'A@Review.Example'] }, ['recipients[1]']],
      [{ ...ok, recipients: ['a@review.example', 'b@x\r\nBcc: evil@x.example'] }, ['recipients[1]']],
      [{ ...ok, recipients: Array.from({ length: 11 }, (_, i) => `r${i}@review.example`) }, ['recipients']],
      [{ ...ok, formats: [] }, ['formats']],
      [{ ...ok, formats: ['csv'] }, ['formats']],
      [{ ...ok, formats: ['html', 'pdf'] }, ['formats[1]']],
      [{ ...ok, formats: ['html', 'html'] }, ['formats[1]']],
      [{ ...ok, hour: 24 }, ['hour']],
      [{ ...ok, hour: -1 }, ['hour']],
      [{ ...ok, hour: 7.5 }, ['hour']],
      [{ ...ok, enabled: 'yes' }, ['enabled']],
      [{ ...ok, day_of_month: 3 }, ['day_of_month']],
    ];
    const before = assertStatus(await c.get('/api/v1/reports/schedules?limit=500', { token: T.admin }), 200).items.length;
    for (const [body, fields] of cases) {
      const p = assertProblem(await create(body), 400);
      for (const f of fields)
        assert.ok(p.errors.some((x) => x.field === f), `${JSON.stringify(body)}: ${f} in ${JSON.stringify(p.errors)}`);
    }
    assertProblem(await c.api('POST', '/api/v1/reports/schedules', { token: T.admin, body: '{"client_id":', headers: { 'Content-Type': 'application/json' } }), 400);
    assert.equal(assertStatus(await c.get('/api/v1/reports/schedules?limit=500', { token: T.admin }), 200).items.length, before);

    // PATCH: the same checks; the client is fixed; versions.
    const s = assertStatus(await create(ok), 201);
    const patch = (body, v = s.version) => c.patch(`/api/v1/reports/schedules/${s.id}`, body, { token: T.admin, headers: { 'If-Match': `"v${v}"` } });
    assertProblem(await patch({ client_id: ACME }), 400, { field: 'client_id' });
    assertProblem(await patch({ recipients: ['x'] }), 400, { field: 'recipients[0]' });
    assertProblem(await patch({ cadence: 'daily', hour: 30 }), 400, { field: 'hour' });
    assertProblem(await patch({ formats: ['csv'] }), 400, { field: 'formats' });
    assertProblem(await patch({ hour: 8 }, s.version + 5), 412);
    assertProblem(await c.patch(`/api/v1/reports/schedules/${s.id}`, { hour: 8 }, { token: T.admin, headers: { 'If-Match': 'v1' } }), 400);
    assertProblem(await c.patch('/api/v1/reports/schedules/999999', { hour: 8 }, { token: T.admin }), 404);
    const same = await get(s.id);
    assert.deepEqual(same, s);
    // client_id may be repeated as it is.
    assert.equal(assertStatus(await patch({ client_id: BOREALIS, hour: 8 }), 200).hour, 8);
    // Query parameters.
    assertProblem(await c.get('/api/v1/reports/schedules?client_id=x', { token: T.admin }), 400, { field: 'client_id' });
    assertProblem(await c.get('/api/v1/reports/schedules?limit=0', { token: T.admin }), 400);
  });

  test('Idempotency-Key: a retried create answers the first schedule', async () => {
    const headers = { 'Idempotency-Key': randomUUID() };
    const body = { client_id: ACME, cadence: 'quarterly', recipients: addrs('idem', 1) };
    const a = assertStatus(await c.post('/api/v1/reports/schedules', body, { token: T.admin, headers }), 201);
    const r = await c.post('/api/v1/reports/schedules', body, { token: T.admin, headers });
    assert.equal(assertStatus(r, 201).id, a.id);
    assert.equal(r.headers.get('idempotent-replayed'), 'true');
    assertProblem(await c.post('/api/v1/reports/schedules', { ...body, hour: 3 }, { token: T.admin, headers }), 409);
  });

  test('only provider admins: client roles and other staff get 403, and see nothing', async () => {
    const s = assertStatus(await create({ client_id: ACME, cadence: 'monthly', recipients: addrs('roles', 1) }), 201);
    for (const who of ['acmeAdmin', 'borealisIT', 'dispatcher', 'tier1']) {
      const token = T[who];
      assertProblem(await c.get('/api/v1/reports/schedules', { token }), 403);
      assertProblem(await c.get(`/api/v1/reports/schedules/${s.id}`, { token }), 403);
      assertProblem(await create({ client_id: ACME, cadence: 'monthly', recipients: ['x@review.example'] }, token), 403);
      assertProblem(await c.patch(`/api/v1/reports/schedules/${s.id}`, { hour: 1 }, { token }), 403);
      assertProblem(await c.api('DELETE', `/api/v1/reports/schedules/${s.id}`, { token }), 403);
      assertProblem(await c.post(`/api/v1/reports/schedules/${s.id}/send`, {}, { token }), 403);
    }
    assertProblem(await c.get('/api/v1/reports/schedules'), 401);
    assert.deepEqual(await get(s.id), s);
  });

  test('deleting a schedule: gone, and nothing more is sent for it', async () => {
    const rcpt = addrs('gone', 1);
    const s = assertStatus(await create({ client_id: BOREALIS, cadence: 'monthly', recipients: rcpt }), 201);
    assert.equal((await c.api('DELETE', `/api/v1/reports/schedules/${s.id}`, { token: T.admin })).status, 204);
    assertProblem(await c.get(`/api/v1/reports/schedules/${s.id}`, { token: T.admin }), 404);
    assertProblem(await c.api('DELETE', `/api/v1/reports/schedules/${s.id}`, { token: T.admin }), 404);
    await clockTo('2040-10-01T06:00:00Z');
    assert.deepEqual(await mailTo(rcpt), []);
  });

  test('the template is an editable one, and an edited one is what goes out', async () => {
    const all = assertStatus(await c.get('/api/v1/mail/templates', { token: T.admin }), 200);
    const t = all.items.find((x) => x.key === 'client.sla_review');
    assert.ok(t);
    for (const p of ['report.period', 'report.from', 'report.to', 'report.attachments'])
      assert.ok(all.placeholders.includes(p), p);
    assertStatus(await c.api('PUT', `/api/v1/mail/templates/${t.id}`, { token: T.admin, body: { subject: 'Your {{report.period}} review ({{client.name}})', body: 'Hi,\n\n{{report.attachments}}\n-- {{desk.name}}\n' } }), 200);
    const rcpt = addrs('tmpl', 1);
    const s = assertStatus(await create({ client_id: ACME, cadence: 'monthly', recipients: rcpt }), 201);
    assertStatus(await c.post(`/api/v1/reports/schedules/${s.id}/send`, {}, { token: T.admin }), 202);
    await clockTo('2040-10-01T06:00:01Z');
    const [m] = await mailTo(rcpt);
    assert.equal(m.header('subject'), 'Your September 2040 review (Acme Dental)');
    assert.match(parts(m)[0].body, /^Hi,\n\nAttached:\n- sla-review-Acme-Dental-2040-09\.html: the review/);
    assert.equal((await c.api('DELETE', `/api/v1/mail/templates/${t.id}`, { token: T.admin })).status, 200);
  });

  test('a change of cadence never resends what was sent, and a quarter partly sent as months goes whole', async () => {
    await clockTo('2040-10-01T06:00:02Z');
    const rcpt = addrs('cadence', 1);
    const s = assertStatus(await create({ client_id: BOREALIS, cadence: 'quarterly', recipients: rcpt }), 201);
    assert.equal(s.next_send_at, '2041-01-01T06:00:00Z');    // Q4; Q3 fell due before it existed
    await clockTo('2041-01-01T06:00:00Z');
    assert.deepEqual((await mailTo(rcpt)).map((m) => m.header('subject')), ['SLA review Q4 2040: Borealis Logistics']);
    let cur = await get(s.id);
    assert.deepEqual([cur.last_period_sent, cur.last_period_to], ['2040-10-01', '2041-01-01']);
    // Quarterly to monthly: December went with Q4, so January is next.
    await clockTo('2041-01-15T12:00:00Z');
    cur = assertStatus(await c.patch(`/api/v1/reports/schedules/${s.id}`, { cadence: 'monthly' }, { token: T.admin, headers: { 'If-Match': `"v${cur.version}"` } }), 200);
    assert.deepEqual([cur.next_send_at, cur.next_period], ['2041-02-01T06:00:00Z', { from: '2041-01-01', to: '2041-02-01', label: '2041-01' }]);
    await clockTo('2041-01-20T12:00:00Z');
    assert.equal((await mailTo(rcpt)).length, 1, 'December is not sent again');
    await clockTo('2041-02-01T06:00:00Z');
    assert.equal((await mailTo(rcpt)).length, 2);
    // Monthly to quarterly with January sent: Q1 goes whole on April 1st.
    await clockTo('2041-02-15T12:00:00Z');
    cur = await get(s.id);
    cur = assertStatus(await c.patch(`/api/v1/reports/schedules/${s.id}`, { cadence: 'quarterly' }, { token: T.admin, headers: { 'If-Match': `"v${cur.version}"` } }), 200);
    assert.equal(cur.next_send_at, '2041-04-01T05:00:00Z');  // 07:00 CEST
    await clockTo('2041-03-01T06:00:00Z');
    assert.equal((await mailTo(rcpt)).length, 2);
    await clockTo('2041-04-01T05:00:00Z');
    assert.deepEqual((await mailTo(rcpt)).map((m) => m.header('subject')).sort(), [
      'SLA review January 2041: Borealis Logistics', 'SLA review Q1 2041: Borealis Logistics', 'SLA review Q4 2040: Borealis Logistics']);
  });
});

describe('two servers on one PostgreSQL send a period once', { skip: !PG_BASE && 'needs PostgreSQL: make api-pg' }, () => {
  let d, A, B, cA, cB, tA, tB, sink2;

  before(async () => {
    sink2 = await SmtpSink.start();
    d = await createDb();
    A = await serve(d.db, { testClock: true, env: MAIL_ENV(sink2) });
    B = await serve(d.db, { testClock: true, env: MAIL_ENV(sink2) });
    cA = new Client(A.url);
    cB = new Client(B.url);
    tA = await cA.token(await cA.session(DEMO.admin, d.password), 'a');
    tB = await cB.token(await cB.session(DEMO.admin, d.password), 'b');
  });
  after(async () => {
    await A?.stop().catch(() => {});
    await B?.stop();
    await sink2?.cleanup();
    if (d)
      await rm(d.dir, { recursive: true, force: true });
  });

  test('both clocks pass the send time: one mail per address', async () => {
    await clockTo('2040-01-10T12:00:00Z', cA, tA);
    await clockTo('2040-01-10T12:00:00Z', cB, tB);
    const rcpt = addrs('scale', 2);
    const s = assertStatus(await cA.post('/api/v1/reports/schedules', { client_id: BOREALIS, cadence: 'monthly', recipients: rcpt }, { token: tA }), 201);
    assert.equal(s.next_send_at, '2040-02-01T06:00:00Z');
    // Both servers move past the send time, several times, in turn.
    const ran = [];
    for (const at of ['2040-02-01T06:00:00Z', '2040-02-01T06:01:00Z', '2040-02-02T00:00:00Z']) {
      ran.push((await clockTo(at, cB, tB)).ran.leader);
      ran.push((await clockTo(at, cA, tA)).ran.leader);
    }
    assert.ok(ran.includes(true), 'one of them leads');
    const got = await mailTo(rcpt, sink2);
    assert.equal(got.length, 2);
    assert.deepEqual(got.map((m) => m.to[0]).sort(), [...rcpt].sort());
    const seen = assertStatus(await cB.get(`/api/v1/reports/schedules/${s.id}`, { token: tB }), 200);
    assert.equal(seen.last_period_sent, '2040-01-01');
  });
});
