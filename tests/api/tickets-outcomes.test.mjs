// tickets-outcomes.test.mjs: how tickets end. First-contact resolution
// (true and each way it becomes false), the CSAT link and its one answer,
// and the auto-close of resolved tickets. The server runs with
// --test-clock: time moves only by POST /api/v1/test/clock (never sleep).
// No escalation rules exist on this server, so moving the clock only
// auto-closes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ACME, DEMO, startServer } from './lib/server.mjs';
import { assertProblem, assertStatus, uniq } from './lib/util.mjs';

let srv, c;
const T = {};
const U = {};
const DAY = 86400;

before(async () => {
  srv = await startServer({ testClock: true });
  c = srv.client;
  await Promise.all(['admin', 'dispatcher', 'tier1', 'tier2', 'acmeAdmin', 'acmeUser'].map(async (k) => {
    const s = await c.session(DEMO[k], srv.password);
    U[k] = s.user.id;
    T[k] = await c.token(s);
  }));
});
after(() => srv?.stop());

const create = async (body = {}, who = 'acmeUser') => {
  const r = await c.post('/api/v1/tickets', { subject: uniq('Outcome'), ...(who.startsWith('acme') ? {} : { client_id: ACME }), ...body }, { token: T[who] });
  assertStatus(r, 201);
  return r.body;
};
const get = async (id, who = 'admin') => assertStatus(await c.get(`/api/v1/tickets/${id}`, { token: T[who] }), 200);
const patch = async (id, body, who) => assertStatus(await c.patch(`/api/v1/tickets/${id}`, body, { token: T[who] }), 200);
const reply = async (id, who, body = 'a reply') =>
  assertStatus(await c.post(`/api/v1/tickets/${id}/messages`, { kind: 'reply', body }, { token: T[who] }), 201);
const escalate = async (id, body, who = 'tier1') =>
  assertStatus(await c.post(`/api/v1/tickets/${id}/escalate`, body, { token: T[who] }), 200);
const advance = async (seconds) => {
  const r = await c.post('/api/v1/test/clock', { advance_seconds: seconds }, { token: T.admin });
  assertStatus(r, 200);
  assert.equal(typeof r.body.now, 'string');
  assert.equal(typeof r.body.ran?.closed, 'number');
  assert.equal(typeof r.body.ran?.escalated, 'number');
  return r.body;
};

describe('first-contact resolution', () => {
  test('open tickets have fcr null', async () => {
    const t = await create();
    assert.equal(t.fcr, null);
    await reply(t.id, 'tier1');
    assert.equal((await get(t.id)).fcr, null);
  });

  test('true: resolved at tier 1 by the assignee who also answered', async () => {
    const t = await create();
    await patch(t.id, { assignee_id: U.tier1 }, 'dispatcher');
    await reply(t.id, 'tier1', 'Restart the router, please');
    const r = await patch(t.id, { status: 'resolved' }, 'tier1');
    assert.equal(r.fcr, true);
    assert.equal(typeof r.fcr_reason, 'string');
    assert.ok(r.fcr_reason.length > 0);
    const seen = await get(t.id, 'acmeUser');
    assert.equal(seen.fcr, true);
    assert.ok(!('fcr_reason' in seen), 'fcr_reason is for staff');
  });

  test('true: resolved by the first public replier (no assignee)', async () => {
    const t = await create();
    await reply(t.id, 'tier2');
    assert.equal((await patch(t.id, { status: 'resolved' }, 'tier2')).fcr, true);
  });

  test('true: resolved at once by the first person to touch it', async () => {
    const t = await create();
    assert.equal((await patch(t.id, { status: 'resolved' }, 'tier1')).fcr, true);
  });

  test('false: resolved by someone other than the first handler', async () => {
    const t = await create();
    await reply(t.id, 'tier1', 'first answer');
    const r = await patch(t.id, { status: 'resolved' }, 'tier2');
    assert.equal(r.fcr, false);
    assert.ok(r.fcr_reason);
  });

  test('false: escalated to tier 2 before resolution', async () => {
    const t = await create();
    await reply(t.id, 'tier1');
    await escalate(t.id, { to_tier: 2, reason: 'needs domain admin', assignee_id: U.tier2 });
    const r = await patch(t.id, { status: 'resolved' }, 'tier2');
    assert.equal(r.fcr, false);
    assert.match(r.fcr_reason, /escalat/);
  });

  test('false: escalated and de-escalated, then resolved at tier 1 by the first handler', async () => {
    const t = await create({ assignee_id: U.tier1 }, 'dispatcher');
    await escalate(t.id, { to_tier: 2, reason: 'up' });
    await escalate(t.id, { to_tier: 1, reason: 'down again', assignee_id: U.tier1 }, 'tier2');
    const r = await patch(t.id, { status: 'resolved' }, 'tier1');
    assert.equal(r.tier, 1);
    assert.equal(r.fcr, false);
  });

  test('false: escalated to a vendor', async () => {
    const t = await create({ assignee_id: U.tier1 }, 'dispatcher');
    await escalate(t.id, { vendor: 'ISP', vendor_ref: 'INC-7', reason: 'line down' });
    assert.equal((await patch(t.id, { status: 'resolved' }, 'tier1')).fcr, false);
  });

  test('false: a ticket created at tier 2', async () => {
    const t = await create({ tier: 2 }, 'tier2');
    assert.equal((await patch(t.id, { status: 'resolved' }, 'tier2')).fcr, false);
  });

  test('false after the client reopens within 7 days, and stays false after the next resolution', async () => {
    const t = await create();
    await reply(t.id, 'tier1');
    assert.equal((await patch(t.id, { status: 'resolved' }, 'tier1')).fcr, true);
    await advance(2 * DAY);
    await reply(t.id, 'acmeUser', 'it is broken again');
    let now = await get(t.id);
    assert.equal(now.status, 'open');
    assert.equal(now.reopens, 1);
    assert.equal(now.fcr, false);
    now = await patch(t.id, { status: 'resolved' }, 'tier1');
    assert.equal(now.fcr, false);
    assert.equal(now.reopens, 1);
  });

  test('false after a staff reopen within 7 days', async () => {
    const t = await create();
    await reply(t.id, 'tier1');
    await patch(t.id, { status: 'resolved' }, 'tier1');
    const r = await patch(t.id, { status: 'open', reason: 'customer called back' }, 'tier1');
    assert.equal(r.fcr, false);
    assert.equal((await patch(t.id, { status: 'resolved' }, 'tier1')).fcr, false);
  });
});

describe('CSAT', () => {
  let t, url;
  before(async () => {
    t = await create({ subject: 'Email not syncing' });
    await reply(t.id, 'tier1');
    await patch(t.id, { status: 'resolved' }, 'tier1');
    url = (await get(t.id, 'acmeUser')).csat_url;
  });

  test('a client viewer of a resolved ticket gets a signed csat_url; staff and open tickets do not', async () => {
    assert.match(url, /^\/api\/v1\/csat\/\d+\?expires=\d+&sig=[0-9a-f]+$/);
    assert.equal(url.split('?')[0], `/api/v1/csat/${t.id}`);
    assert.ok(!(await get(t.id, 'admin')).csat_url);
    const open = await create();
    assert.ok(!(await get(open.id, 'acmeUser')).csat_url);
    assert.equal((await get(t.id, 'acmeAdmin')).csat_url?.split('&sig=')[1], url.split('&sig=')[1]);
  });

  test('GET without login shows the number and subject, not yet rated', async () => {
    const r = await c.get(url);
    assertStatus(r, 200);
    assert.deepEqual(r.body, { number: t.number, subject: 'Email not syncing', rating: null });
  });

  test('tampered links are 404', async () => {
    const [pathPart, query] = url.split('?');
    const params = new URLSearchParams(query);
    const sig = params.get('sig');
    const flipped = (sig[0] === '0' ? '1' : '0') + sig.slice(1);
    const other = await create();
    const bad = [
      `${pathPart}?expires=${params.get('expires')}&sig=${flipped}`,
      `${pathPart}?expires=${Number(params.get('expires')) + 1000}&sig=${sig}`,
      `${pathPart}?expires=${params.get('expires')}`,
      `${pathPart}?expires=${params.get('expires')}&sig=${sig.slice(0, 32)}`,
      `/api/v1/csat/${other.id}?${query}`,
      pathPart,
    ];
    for (const u of bad) {
      assertProblem(await c.get(u), 404);
      assertProblem(await c.post(u, { rating: 1 }), 404);
    }
    assert.equal((await c.get(url)).body.rating, null, 'no tampered rating was stored');
  });

  test('a rating must be 1..5', async () => {
    for (const rating of [0, 6, 'five', 2.5, null])
      assertProblem(await c.post(url, { rating }), 400, { field: 'rating' });
    assertProblem(await c.post(url, {}), 400, { field: 'rating' });
    assert.equal((await c.get(url)).body.rating, null);
  });

  test('POST rates once (201); a second answer is 409 and does not change it', async () => {
    const r = await c.post(url, { rating: 4, comment: 'quick and friendly' });
    assertStatus(r, 201);
    assert.equal(r.body.rating, 4);
    assertProblem(await c.post(url, { rating: 1, comment: 'changed my mind' }), 409);
    assert.equal((await c.get(url)).body.rating, 4);
  });
});

describe('auto-close', () => {
  test('a resolved ticket closes after 7 days by default (advance 8 days), an open one does not', async () => {
    const resolved = await create();
    await patch(resolved.id, { status: 'resolved' }, 'tier1');
    const open = await create();
    await reply(open.id, 'tier1');
    let r = await advance(6 * DAY);
    assert.equal((await get(resolved.id)).status, 'resolved', 'not before 7 days');
    r = await advance(2 * DAY);
    assert.ok(r.ran.closed >= 1, JSON.stringify(r));
    const now = await get(resolved.id);
    assert.equal(now.status, 'closed');
    assert.ok(now.closed_at);
    assert.ok(new Date(now.closed_at) > new Date(now.resolved_at));
    assert.equal(now.fcr, true, 'closing keeps the FCR verdict');
    assert.equal((await get(open.id)).status, 'open');
    const ev = assertStatus(await c.get(`/api/v1/tickets/${resolved.id}/timeline`, { token: T.acmeUser }), 200).items
      .filter((e) => e.kind === 'status' && e.data.to === 'closed');
    assert.equal(ev.length, 1);
    assert.equal(ev[0].data.from, 'resolved');
    // Closed is final; the next tick changes nothing.
    r = await advance(9 * DAY);
    assert.equal((await get(resolved.id)).closed_at, now.closed_at);
  });

  test('a ticket reopened before the deadline is not closed', async () => {
    const t = await create();
    await patch(t.id, { status: 'resolved' }, 'tier1');
    await advance(3 * DAY);
    await reply(t.id, 'acmeUser', 'not fixed');
    await advance(8 * DAY);
    assert.equal((await get(t.id)).status, 'open');
  });

  test('the client\'s auto_close_days decides the delay', async () => {
    const cl = await c.get(`/api/v1/clients/${ACME}`, { token: T.admin });
    const before = cl.body.auto_close_days;
    assertStatus(await c.patch(`/api/v1/clients/${ACME}`, { auto_close_days: 2 }, { token: T.admin, headers: { 'If-Match': cl.headers.get('etag') } }), 200);
    try {
      const t = await create();
      await patch(t.id, { status: 'resolved' }, 'tier1');
      await advance(DAY + 3600);
      assert.equal((await get(t.id)).status, 'resolved');
      await advance(DAY);
      assert.equal((await get(t.id)).status, 'closed');
    } finally {
      const cl2 = await c.get(`/api/v1/clients/${ACME}`, { token: T.admin });
      assertStatus(await c.patch(`/api/v1/clients/${ACME}`, { auto_close_days: before }, { token: T.admin, headers: { 'If-Match': cl2.headers.get('etag') } }), 200);
    }
  });

  test('a reopen after 7 days does not undo FCR; a client reply to the auto-closed ticket opens a linked one', async () => {
    const cl = await c.get(`/api/v1/clients/${ACME}`, { token: T.admin });
    assertStatus(await c.patch(`/api/v1/clients/${ACME}`, { auto_close_days: 30 }, { token: T.admin, headers: { 'If-Match': cl.headers.get('etag') } }), 200);
    try {
      const t = await create();
      await reply(t.id, 'tier1');
      await patch(t.id, { status: 'resolved' }, 'tier1');
      await advance(8 * DAY);
      await reply(t.id, 'acmeUser', 'it came back after a week');
      let now = await get(t.id);
      assert.equal(now.status, 'open');
      assert.equal(now.reopens, 1);
      now = await patch(t.id, { status: 'resolved' }, 'tier1');
      assert.equal(now.fcr, true, now.fcr_reason);
      await advance(31 * DAY);
      assert.equal((await get(t.id)).status, 'closed');
      const r = await c.post(`/api/v1/tickets/${t.id}/messages`, { kind: 'reply', body: 'and again' }, { token: T.acmeUser });
      assertStatus(r, 201);
      const linked = await get(Number(r.headers.get('location').split('/').pop()), 'acmeUser');
      assert.equal(linked.parent_id, t.id);
      assert.equal(linked.status, 'new');
    } finally {
      const cl2 = await c.get(`/api/v1/clients/${ACME}`, { token: T.admin });
      assertStatus(await c.patch(`/api/v1/clients/${ACME}`, { auto_close_days: 7 }, { token: T.admin, headers: { 'If-Match': cl2.headers.get('etag') } }), 200);
    }
  });

  test('a CSAT link expires (no longer accepted) long after resolution', async () => {
    const t = await create();
    await patch(t.id, { status: 'resolved' }, 'tier1');
    const url = (await get(t.id, 'acmeUser')).csat_url;
    assertStatus(await c.get(url), 200);
    await advance(60 * DAY);
    const r = await c.get(url);
    assert.ok([404, 410].includes(r.status), `${r.status} ${r.text}`);
    assert.ok([404, 410].includes((await c.post(url, { rating: 5 })).status));
  });
});

describe('the test clock', () => {
  test('admin only; now or advance_seconds, forward only', async () => {
    assertProblem(await c.post('/api/v1/test/clock', { advance_seconds: 60 }, { token: T.tier1 }), 403);
    assertProblem(await c.post('/api/v1/test/clock', { advance_seconds: 60 }, { token: T.acmeAdmin }), 403);
    assertProblem(await c.post('/api/v1/test/clock', {}, { token: T.admin }), 400);
    assertProblem(await c.post('/api/v1/test/clock', { advance_seconds: 1, now: '2099-01-01T00:00:00Z' }, { token: T.admin }), 400);
    assertProblem(await c.post('/api/v1/test/clock', { now: '2001-01-01T00:00:00Z' }, { token: T.admin }), 400, { field: 'now' });
    const a = await advance(0);
    const target = new Date(new Date(a.now).getTime() + 3 * 3600 * 1000).toISOString();
    const r = await c.post('/api/v1/test/clock', { now: target }, { token: T.admin });
    assertStatus(r, 200);
    assert.equal(new Date(r.body.now).getTime(), new Date(target).getTime());
    const t = await create();
    assert.equal(new Date(t.created_at).getTime(), new Date(target).getTime(), 'the server reads the test clock');
  });
});
