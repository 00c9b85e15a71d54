// tickets-lifecycle.test.mjs: creating tickets (priority, numbers,
// idempotency), reading and changing them (ETag, If-Match), the status
// machine (409 on forbidden moves), messages and what they do to the
// status, manual escalation and de-escalation, and time entries.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ACME, BOREALIS, DEMO, startServer } from './lib/server.mjs';
import { assertProblem, assertStatus, uniq } from './lib/util.mjs';

let srv, c;
const T = {};   // tokens by DEMO key
const U = {};   // user ids by DEMO key

before(async () => {
  srv = await startServer();
  c = srv.client;
  await Promise.all(['admin', 'dispatcher', 'tier1', 'tier2', 'tier3', 'acmeAdmin', 'acmeUser', 'borealisUser']
    .map(async (k) => {
      const s = await c.session(DEMO[k], srv.password);
      U[k] = s.user.id;
      T[k] = await c.token(s);
    }));
});
after(() => srv?.stop());

const create = async (body, who = 'admin', headers) => {
  const r = await c.post('/api/v1/tickets', { client_id: ACME, subject: uniq('Ticket'), ...body }, { token: T[who], headers });
  assertStatus(r, 201);
  return r.body;
};
const get = async (id, who = 'admin') => assertStatus(await c.get(`/api/v1/tickets/${id}`, { token: T[who] }), 200);
const patch = (id, body, who = 'admin', headers) => c.patch(`/api/v1/tickets/${id}`, body, { token: T[who], headers });
const reply = (id, body, who, kind = 'reply') => c.post(`/api/v1/tickets/${id}/messages`, { kind, body }, { token: T[who] });
const timeline = async (id, who = 'admin') => assertStatus(await c.get(`/api/v1/tickets/${id}/timeline`, { token: T[who] }), 200).items;
const etagOf = async (id) => (await c.get(`/api/v1/tickets/${id}`, { token: T.admin })).headers.get('etag');

describe('create', () => {
  test('staff create: 201, Location, ETag, a human number and the defaults', async () => {
    const subject = uniq('Printer jammed');
    const r = await c.post('/api/v1/tickets', { client_id: ACME, subject, description: 'paper everywhere' }, { token: T.admin });
    assertStatus(r, 201);
    const t = r.body;
    assert.equal(typeof t.id, 'number');
    assert.match(t.number, /^T-\d{6}$/);
    assert.equal(r.headers.get('location'), `/api/v1/tickets/${t.id}`);
    assert.match(r.headers.get('etag') || '', /^"v\d+"$/);
    assert.equal(t.client_id, ACME);
    assert.equal(t.subject, subject);
    assert.equal(t.description, 'paper everywhere');
    assert.equal(t.status, 'new');
    assert.equal(t.type, 'incident');
    assert.equal(t.impact, 'medium');
    assert.equal(t.urgency, 'medium');
    assert.equal(t.priority, 'P3');
    assert.equal(t.channel, 'api');
    assert.equal(t.tier, 1);
    assert.equal(t.assignee_id, null);
    assert.equal(t.fcr, null);
    for (const k of ['created_at', 'updated_at'])
      assert.match(t[k], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    for (const k of ['first_response_at', 'resolved_at', 'closed_at'])
      assert.equal(t[k], null, k);
    const again = await c.get(`/api/v1/tickets/${t.id}`, { token: T.tier1 });
    assertStatus(again, 200);
    assert.deepEqual(again.body, t);
    assert.equal(again.headers.get('etag'), r.headers.get('etag'));
  });

  test('priority follows impact x urgency (urgency defaults to medium)', async () => {
    const want = {
      'high/high': 'P1', 'high/medium': 'P2', 'medium/high': 'P2', 'medium/medium': 'P3',
      'high/low': 'P3', 'low/high': 'P3', 'medium/low': 'P4', 'low/medium': 'P4', 'low/low': 'P4',
    };
    const got = {};
    await Promise.all(Object.keys(want).map(async (k) => {
      const [impact, urgency] = k.split('/');
      got[k] = (await create({ impact, urgency })).priority;
    }));
    assert.deepEqual(got, want);
    assert.equal((await create({ impact: 'high' })).priority, 'P2');
    assert.equal((await create({ impact: 'low' })).priority, 'P4');
  });

  test('a hand-set priority needs priority_reason; with it, staff see the reason', async () => {
    assertProblem(await c.post('/api/v1/tickets', { client_id: ACME, subject: 'x', priority: 'P1' }, { token: T.dispatcher }), 400, { field: 'priority_reason' });
    const t = await create({ impact: 'low', urgency: 'low', priority: 'P1', priority_reason: 'CEO laptop' }, 'dispatcher');
    assert.equal(t.priority, 'P1');
    assert.equal(t.priority_reason, 'CEO laptop');
  });

  test('a ticket created with an assignee starts open; the assignee must be active staff', async () => {
    const t = await create({ assignee_id: U.tier1 });
    assert.equal(t.status, 'open');
    assert.equal(t.assignee_id, U.tier1);
    assertProblem(await c.post('/api/v1/tickets', { client_id: ACME, subject: 'x', assignee_id: U.acmeUser }, { token: T.admin }), 400, { field: 'assignee_id' });
    assertProblem(await c.post('/api/v1/tickets', { client_id: ACME, subject: 'x', assignee_id: 999999 }, { token: T.admin }), 400, { field: 'assignee_id' });
  });

  test('invalid fields are 400 naming them', async () => {
    const bad = [
      [{ client_id: ACME }, 'subject'],
      [{ client_id: ACME, subject: '' }, 'subject'],
      [{ client_id: ACME, subject: 'x', urgency: 'urgent' }, 'urgency'],
      [{ client_id: ACME, subject: 'x', impact: 3 }, 'impact'],
      [{ client_id: ACME, subject: 'x', type: 'complaint' }, 'type'],
      [{ client_id: ACME, subject: 'x', priority: 'P0', priority_reason: 'r' }, 'priority'],
      [{ client_id: ACME, subject: 'x', channel: 'fax' }, 'channel'],
      [{ client_id: ACME, subject: 'x', tier: 4 }, 'tier'],
      [{ client_id: ACME, subject: 'x', requester_contact_id: 3 }, 'requester_contact_id'],
      [{ subject: 'x' }, 'client_id'],
    ];
    for (const [body, field] of bad)
      assertProblem(await c.post('/api/v1/tickets', body, { token: T.admin }), 400, { field });
    const unknown = await c.post('/api/v1/tickets', { client_id: 999999, subject: 'x' }, { token: T.admin });
    assert.ok([400, 404].includes(unknown.status), `${unknown.status} ${unknown.text}`);
  });

  test('a requester contact sets the client; its login becomes the requester user', async () => {
    const t = await create({ client_id: undefined, requester_contact_id: 2 });
    assert.equal(t.client_id, ACME);
    assert.equal(t.requester_contact_id, 2);
    assert.equal(t.requester_user_id, U.acmeUser);
    const b = await create({ client_id: BOREALIS, requester_contact_id: 3 });
    assert.equal(b.client_id, BOREALIS);
  });

  test('a browser session opens portal tickets', async () => {
    const s = await c.session(DEMO.acmeUser, srv.password);
    const r = await c.post('/api/v1/tickets', { subject: uniq('From the portal') }, { session: s });
    assertStatus(r, 201);
    assert.equal(r.body.channel, 'portal');
    assert.equal(r.body.client_id, ACME);
    assert.equal(r.body.requester_user_id, U.acmeUser);
  });

  test('human numbers are unique and increase with the id, also under concurrency', async () => {
    const made = await Promise.all(Array.from({ length: 16 }, (_, i) =>
      create({ subject: `burst ${i}` }, i % 2 ? 'dispatcher' : 'acmeUser')));
    const seq = [await create({}), await create({})];
    const all = [...made, ...seq].sort((a, b) => a.id - b.id);
    const nums = all.map((t) => Number(t.number.slice(2)));
    assert.equal(new Set(nums).size, nums.length, 'numbers are unique');
    for (let i = 1; i < nums.length; i++)
      assert.ok(nums[i] > nums[i - 1], `numbers increase with ids: ${all.map((t) => `${t.id}:${t.number}`).join(' ')}`);
    assert.ok(Number(seq[1].number.slice(2)) > Number(seq[0].number.slice(2)));
    for (const t of all)
      assert.match(t.number, /^T-\d{6}$/);
  });
});

describe('idempotent create', () => {
  const byQueue = async (queue) =>
    assertStatus(await c.get(`/api/v1/tickets?queue=${queue}&limit=500`, { token: T.admin }), 200).items;

  test('a retried create with the same Idempotency-Key makes one ticket', async () => {
    const queue = uniq('idem');
    const headers = { 'Idempotency-Key': randomUUID() };
    const body = { client_id: ACME, subject: 'Retried', queue };
    const first = await c.post('/api/v1/tickets', body, { token: T.dispatcher, headers });
    assertStatus(first, 201);
    const again = await c.post('/api/v1/tickets', body, { token: T.dispatcher, headers });
    assertStatus(again, 201);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal(again.body.id, first.body.id);
    assert.equal(again.body.number, first.body.number);
    assert.equal(again.headers.get('location'), first.headers.get('location'));
    assert.equal((await byQueue(queue)).length, 1);
  });

  test('concurrent retries with one key still make one ticket', async () => {
    const subject = uniq('Concurrent retry');
    const headers = { 'Idempotency-Key': randomUUID() };
    const rs = await Promise.all(Array.from({ length: 6 }, () =>
      c.post('/api/v1/tickets', { subject }, { token: T.acmeUser, headers })));
    const ok = rs.filter((r) => r.status === 201);
    assert.ok(ok.length >= 1, rs.map((r) => `${r.status} ${r.text}`).join('\n'));
    for (const r of rs)
      assert.ok([201, 409].includes(r.status), `${r.status} ${r.text}`);
    assert.equal(new Set(ok.map((r) => r.body.id)).size, 1);
    const mine = assertStatus(await c.get('/api/v1/tickets?limit=500', { token: T.acmeUser }), 200).items;
    assert.equal(mine.filter((t) => t.subject === subject).length, 1);
  });

  test('the same key with another body is 409, nothing created', async () => {
    const queue = uniq('idem');
    const headers = { 'Idempotency-Key': randomUUID() };
    assertStatus(await c.post('/api/v1/tickets', { client_id: ACME, subject: 'One', queue }, { token: T.dispatcher, headers }), 201);
    assertProblem(await c.post('/api/v1/tickets', { client_id: ACME, subject: 'Two', queue }, { token: T.dispatcher, headers }), 409);
    assert.deepEqual((await byQueue(queue)).map((t) => t.subject), ['One']);
  });
});

describe('read and update', () => {
  test('PATCH with a stale If-Match is 412 and changes nothing; the current one works', async () => {
    const t = await create({});
    const v1 = await etagOf(t.id);
    const ok = await patch(t.id, { subject: 'First edit' }, 'admin', { 'If-Match': v1 });
    assertStatus(ok, 200);
    const v2 = ok.headers.get('etag');
    assert.notEqual(v2, v1);
    assertProblem(await patch(t.id, { subject: 'Lost update' }, 'tier1', { 'If-Match': v1 }), 412);
    assert.equal((await get(t.id)).subject, 'First edit');
    assert.equal(await etagOf(t.id), v2);
    assertStatus(await patch(t.id, { subject: 'Second edit' }, 'tier1', { 'If-Match': v2 }), 200);
    assert.equal((await get(t.id)).subject, 'Second edit');
  });

  test('changing impact or urgency recomputes the priority', async () => {
    const t = await create({ impact: 'low', urgency: 'low' });
    assert.equal(t.priority, 'P4');
    const r = await patch(t.id, { impact: 'high', urgency: 'high' });
    assertStatus(r, 200);
    assert.equal(r.body.priority, 'P1');
    assert.equal((await patch(t.id, { urgency: 'low' })).body.priority, 'P3');
  });

  test('a hand-set priority needs a reason on PATCH too', async () => {
    const t = await create({});
    assertProblem(await patch(t.id, { priority: 'P1' }), 400, { field: 'priority_reason' });
    assert.equal((await get(t.id)).priority, 'P3');
    const r = await patch(t.id, { priority: 'P2', priority_reason: 'whole office down' });
    assertStatus(r, 200);
    assert.equal(r.body.priority, 'P2');
    assert.equal(r.body.priority_reason, 'whole office down');
  });

  test('staff fields: type, category, queue, assignee, requester', async () => {
    const t = await create({});
    const r = await patch(t.id, { type: 'service_request', category: 'hardware', queue: 'field', assignee_id: U.tier2, requester_contact_id: 1 });
    assertStatus(r, 200);
    assert.equal(r.body.type, 'service_request');
    assert.equal(r.body.category, 'hardware');
    assert.equal(r.body.queue, 'field');
    assert.equal(r.body.assignee_id, U.tier2);
    assert.equal(r.body.status, 'open', 'assigning a new ticket opens it');
    assert.equal(r.body.requester_contact_id, 1);
    assertProblem(await patch(t.id, { requester_contact_id: 3 }), 400, { field: 'requester_contact_id' });
    assertProblem(await patch(t.id, { assignee_id: U.acmeAdmin }), 400, { field: 'assignee_id' });
    assertStatus(await patch(t.id, { assignee_id: null }), 200);
    assert.equal((await get(t.id)).assignee_id, null);
  });

  test('an empty or invalid PATCH is 400; an unknown ticket is 404', async () => {
    const t = await create({});
    assertProblem(await patch(t.id, {}), 400);
    assertProblem(await patch(t.id, { status: 'done' }), 400, { field: 'status' });
    assertProblem(await patch(t.id, { subject: '' }), 400, { field: 'subject' });
    assertProblem(await patch(999999, { subject: 'x' }), 404);
    assertProblem(await c.get('/api/v1/tickets/999999', { token: T.admin }), 404);
  });
});

describe('status transitions', () => {
  test('the working path: new -> open -> pending_customer -> on_hold -> pending_vendor -> open -> resolved -> open -> resolved -> closed', async () => {
    const t = await create({});
    for (const status of ['open', 'pending_customer', 'on_hold', 'pending_vendor', 'open', 'resolved']) {
      const r = await patch(t.id, { status, reason: `to ${status}` }, 'tier1');
      assertStatus(r, 200);
      assert.equal(r.body.status, status);
    }
    let now = await get(t.id);
    assert.ok(now.resolved_at, 'resolved_at set');
    assert.equal(now.closed_at, null);
    const reopened = assertStatus(await patch(t.id, { status: 'open' }, 'tier1'), 200);
    assert.equal(reopened.resolved_at, null, 'a reopen clears resolved_at');
    assert.equal(reopened.reopens, 1);
    assertStatus(await patch(t.id, { status: 'resolved' }, 'tier1'), 200);
    now = assertStatus(await patch(t.id, { status: 'closed' }, 'tier1'), 200);
    assert.equal(now.status, 'closed');
    assert.ok(now.resolved_at && now.closed_at);
    const statusEvents = (await timeline(t.id)).filter((e) => e.kind === 'status').map((e) => `${e.data.from}>${e.data.to}`);
    assert.deepEqual(statusEvents, ['new>open', 'open>pending_customer', 'pending_customer>on_hold', 'on_hold>pending_vendor',
      'pending_vendor>open', 'open>resolved', 'resolved>open', 'open>resolved', 'resolved>closed']);
  });

  const forbidden = [
    ['new', 'closed', /resolved/],
    ['open', 'closed', /resolved/],
    ['open', 'new', /new/],
    ['pending_customer', 'new', /new/],
    ['resolved', 'pending_customer', /reopen|open|closed/],
    ['resolved', 'on_hold', /reopen|open|closed/],
    ['resolved', 'new', /new/],
    ['closed', 'open', /closed|final/],
    ['closed', 'resolved', /closed|final/],
    ['closed', 'new', /closed|final|new/],
    ['open', 'open', /already|status/],
  ];
  const reach = {
    new: [],
    open: ['open'],
    pending_customer: ['open', 'pending_customer'],
    resolved: ['open', 'resolved'],
    closed: ['open', 'resolved', 'closed'],
  };
  for (const [from, to, why] of forbidden) {
    test(`${from} -> ${to} is 409 with the reason; nothing changes`, async () => {
      const t = await create({});
      for (const s of reach[from])
        assertStatus(await patch(t.id, { status: s }, 'tier1'), 200);
      const before = await get(t.id);
      const etag = await etagOf(t.id);
      const body = assertProblem(await patch(t.id, { status: to }, 'tier1'), 409);
      assert.match(body.detail, why);
      assert.deepEqual(await get(t.id), before);
      assert.equal(await etagOf(t.id), etag);
    });
  }

  test('a status change bundled with other fields is all-or-nothing', async () => {
    const t = await create({});
    assertProblem(await patch(t.id, { subject: 'should not stick', status: 'closed' }, 'tier1'), 409);
    assert.equal((await get(t.id)).subject, t.subject);
  });
});

describe('messages', () => {
  test('the first public staff reply sets first_response_at once and opens a new ticket; a note does neither', async () => {
    const t = await create({}, 'acmeUser');
    assertStatus(await reply(t.id, 'looking into it (internal)', 'tier1', 'note'), 201);
    let now = await get(t.id);
    assert.equal(now.status, 'new');
    assert.equal(now.first_response_at, null);
    const r = await reply(t.id, 'Hello, we are on it', 'tier1');
    assertStatus(r, 201);
    assert.equal(r.body.kind, 'reply');
    assert.equal(r.body.ticket_id, t.id);
    assert.equal(r.body.author_user_id, U.tier1);
    now = await get(t.id);
    assert.equal(now.status, 'open');
    assert.ok(now.first_response_at);
    const first = now.first_response_at;
    assertStatus(await reply(t.id, 'second reply', 'tier2'), 201);
    assert.equal((await get(t.id)).first_response_at, first);
    const msgs = assertStatus(await c.get(`/api/v1/tickets/${t.id}/messages`, { token: T.admin }), 200).items;
    assert.deepEqual(msgs.map((m) => m.kind), ['note', 'reply', 'reply']);
  });

  test('a client reply does not count as a first response', async () => {
    const t = await create({}, 'acmeUser');
    assertStatus(await reply(t.id, 'any news?', 'acmeUser'), 201);
    const now = await get(t.id);
    assert.equal(now.first_response_at, null);
    assert.equal(now.status, 'new');
  });

  test('a client reply to pending_customer moves the ticket back to open', async () => {
    const t = await create({}, 'acmeUser');
    assertStatus(await patch(t.id, { status: 'pending_customer' }, 'tier1'), 200);
    assertStatus(await reply(t.id, 'here is the info', 'acmeUser'), 201);
    const now = await get(t.id);
    assert.equal(now.status, 'open');
    assert.equal(now.reopens, 0);
  });

  test('a client reply to a resolved ticket reopens it (reopens + 1)', async () => {
    const t = await create({}, 'acmeUser');
    assertStatus(await patch(t.id, { status: 'resolved' }, 'tier1'), 200);
    assertStatus(await reply(t.id, 'it broke again', 'acmeUser'), 201);
    const now = await get(t.id);
    assert.equal(now.status, 'open');
    assert.equal(now.reopens, 1);
    assert.equal(now.resolved_at, null);
  });

  test('a client reply to a closed ticket opens a new ticket linked by parent_id', async () => {
    const t = await create({}, 'acmeUser');
    assertStatus(await patch(t.id, { status: 'resolved' }, 'tier1'), 200);
    assertStatus(await patch(t.id, { status: 'closed' }, 'tier1'), 200);
    const closed = await get(t.id);
    const r = await reply(t.id, 'the same problem is back', 'acmeUser');
    assertStatus(r, 201);
    const loc = r.headers.get('location');
    assert.match(loc || '', /^\/api\/v1\/tickets\/\d+$/);
    const newId = Number(loc.split('/').pop());
    assert.notEqual(newId, t.id);
    assert.equal(r.body.ticket_id, newId);
    const n = await get(newId, 'acmeUser');
    assert.equal(n.parent_id, t.id);
    assert.equal(n.client_id, ACME);
    assert.equal(n.status, 'new');
    assert.notEqual(n.number, t.number);
    assert.ok(Number(n.number.slice(2)) > Number(t.number.slice(2)));
    const msgs = assertStatus(await c.get(`/api/v1/tickets/${newId}/messages`, { token: T.acmeUser }), 200).items;
    assert.deepEqual(msgs.map((m) => m.body), ['the same problem is back']);
    // The closed ticket is untouched.
    assert.deepEqual(await get(t.id), closed);
    assert.deepEqual(assertStatus(await c.get(`/api/v1/tickets/${t.id}/messages`, { token: T.admin }), 200).items, []);
  });

  test('a staff reply to a closed ticket is 409; nothing is added', async () => {
    const t = await create({});
    assertStatus(await patch(t.id, { status: 'resolved' }, 'tier1'), 200);
    assertStatus(await patch(t.id, { status: 'closed' }, 'tier1'), 200);
    const before = await get(t.id);
    assertProblem(await reply(t.id, 'too late', 'tier1'), 409);
    assert.deepEqual(await get(t.id), before);
    assert.deepEqual(assertStatus(await c.get(`/api/v1/tickets/${t.id}/messages`, { token: T.admin }), 200).items, []);
  });

  test('bad messages are 400; a client cannot post a note (400 naming kind)', async () => {
    const t = await create({}, 'acmeUser');
    assertProblem(await c.post(`/api/v1/tickets/${t.id}/messages`, { kind: 'shout', body: 'x' }, { token: T.admin }), 400, { field: 'kind' });
    assertProblem(await c.post(`/api/v1/tickets/${t.id}/messages`, { kind: 'reply', body: '' }, { token: T.admin }), 400, { field: 'body' });
    assertProblem(await c.post(`/api/v1/tickets/${t.id}/messages`, { kind: 'reply' }, { token: T.admin }), 400, { field: 'body' });
    assertProblem(await reply(t.id, 'let me write an internal note', 'acmeUser', 'note'), 400, { field: 'kind' });
    assert.deepEqual(assertStatus(await c.get(`/api/v1/tickets/${t.id}/messages`, { token: T.admin }), 200).items, []);
    assertProblem(await reply(999999, 'x', 'admin'), 404);
  });
});

describe('escalation and de-escalation', () => {
  const esc = (id, body, who = 'tier1') => c.post(`/api/v1/tickets/${id}/escalate`, body, { token: T[who] });

  test('escalating to a higher tier is recorded; the assignee is cleared', async () => {
    const t = await create({ assignee_id: U.tier1 });
    const r = await esc(t.id, { to_tier: 2, reason: 'needs AD rights' });
    assertStatus(r, 200);
    assert.equal(r.body.tier, 2);
    assert.equal(r.body.assignee_id, null);
    assert.equal(r.body.escalations, 1);
    const ev = (await timeline(t.id)).filter((e) => e.kind === 'escalated');
    assert.equal(ev.length, 1);
    assert.equal(ev[0].data.from_tier, 1);
    assert.equal(ev[0].data.to_tier, 2);
    assert.equal(ev[0].data.reason, 'needs AD rights');
    assert.equal(ev[0].actor_id, U.tier1);
  });

  test('moving to a lower tier is recorded as a de-escalation, not an escalation', async () => {
    const t = await create({});
    assertStatus(await esc(t.id, { to_tier: 3, reason: 'server room' }), 200);
    const r = await esc(t.id, { to_tier: 1, reason: 'back to the desk', assignee_id: U.tier1 }, 'tier3');
    assertStatus(r, 200);
    assert.equal(r.body.tier, 1);
    assert.equal(r.body.escalations, 1);
    assert.equal(r.body.assignee_id, U.tier1);
    const ev = (await timeline(t.id)).filter((e) => e.kind === 'escalated' || e.kind === 'deescalated');
    assert.deepEqual(ev.map((e) => [e.kind, e.data.from_tier, e.data.to_tier, e.data.reason]), [
      ['escalated', 1, 3, 'server room'],
      ['deescalated', 3, 1, 'back to the desk'],
    ]);
  });

  test('escalating to a vendor sets pending_vendor, vendor and vendor_ref', async () => {
    const t = await create({ assignee_id: U.tier2 });
    const r = await esc(t.id, { vendor: 'Dell ProSupport', vendor_ref: 'SR-123', reason: 'dead mainboard' }, 'tier2');
    assertStatus(r, 200);
    assert.equal(r.body.status, 'pending_vendor');
    assert.equal(r.body.vendor, 'Dell ProSupport');
    assert.equal(r.body.vendor_ref, 'SR-123');
    assert.equal(r.body.tier, 1);
    assert.equal(r.body.escalations, 1);
    const kinds = (await timeline(t.id)).map((e) => e.kind);
    assert.ok(kinds.includes('escalated'), kinds.join());
    assert.ok(kinds.includes('status'), kinds.join());
  });

  test('bad escalations: 400 without a reason or target, 409 to the same tier or when resolved, 403 for clients', async () => {
    const t = await create({}, 'acmeUser');
    assertProblem(await esc(t.id, { to_tier: 2 }), 400, { field: 'reason' });
    assertProblem(await esc(t.id, { reason: 'why not' }), 400);
    assertProblem(await esc(t.id, { to_tier: 2, vendor: 'HP', reason: 'both' }), 400);
    assertProblem(await esc(t.id, { to_tier: 4, reason: 'no such tier' }), 400, { field: 'to_tier' });
    assertProblem(await esc(t.id, { to_tier: 1, reason: 'already there' }), 409);
    assertProblem(await esc(t.id, { to_tier: 2, reason: 'x', assignee_id: U.acmeUser }), 400, { field: 'assignee_id' });
    assertProblem(await esc(t.id, { to_tier: 2, reason: 'x' }, 'acmeUser'), 403);
    assertProblem(await esc(t.id, { to_tier: 2, reason: 'x' }, 'acmeAdmin'), 403);
    const unchanged = await get(t.id);
    assert.equal(unchanged.tier, 1);
    assert.equal(unchanged.escalations, 0);
    assertStatus(await patch(t.id, { status: 'resolved' }, 'tier1'), 200);
    assertProblem(await esc(t.id, { to_tier: 2, reason: 'too late' }), 409);
    assert.equal((await get(t.id)).tier, 1);
    assertProblem(await esc(999999, { to_tier: 2, reason: 'x' }), 404);
  });
});

describe('time entries', () => {
  const te = (id, body, who = 'tier1') => c.post(`/api/v1/tickets/${id}/time-entries`, body, { token: T[who] });
  const list = async (id, who = 'tier1') => assertStatus(await c.get(`/api/v1/tickets/${id}/time-entries`, { token: T[who] }), 200).items;

  test('staff log time; entries are listed with their fields', async () => {
    const t = await create({});
    const a = await te(t.id, { minutes: 45, billable: false, note: 'remote session' });
    assertStatus(a, 201);
    assert.equal(a.body.ticket_id, t.id);
    assert.equal(a.body.user_id, U.tier1);
    assert.equal(a.body.minutes, 45);
    assert.equal(a.body.billable, false);
    assert.equal(a.body.note, 'remote session');
    const startedAt = '2026-01-05T09:30:00Z';
    const b = await te(t.id, { minutes: 1440, started_at: startedAt }, 'tier2');
    assertStatus(b, 201);
    assert.equal(b.body.billable, true, 'billable by default');
    assert.equal(new Date(b.body.started_at).getTime(), new Date(startedAt).getTime());
    const items = await list(t.id);
    assert.deepEqual(items.map((x) => [x.id, x.minutes, x.billable, x.user_id]),
      [[a.body.id, 45, false, U.tier1], [b.body.id, 1440, true, U.tier2]]);
    assert.equal(items.reduce((s, x) => s + x.minutes, 0), 1485);
  });

  test('minutes must be 1..1440; other bad fields are 400', async () => {
    const t = await create({});
    for (const minutes of [0, -5, 1441, 'ten', 1.5])
      assertProblem(await te(t.id, { minutes }), 400, { field: 'minutes' });
    assertProblem(await te(t.id, {}), 400, { field: 'minutes' });
    assertProblem(await te(t.id, { minutes: 5, billable: 'yes' }), 400, { field: 'billable' });
    assertProblem(await te(t.id, { minutes: 5, started_at: 'yesterday' }), 400, { field: 'started_at' });
    assert.deepEqual(await list(t.id), []);
  });

  test('client roles can neither log nor read time (403); unknown ticket 404', async () => {
    const t = await create({}, 'acmeUser');
    assertStatus(await te(t.id, { minutes: 10 }), 201);
    for (const who of ['acmeUser', 'acmeAdmin']) {
      assertProblem(await te(t.id, { minutes: 10 }, who), 403);
      assertProblem(await c.get(`/api/v1/tickets/${t.id}/time-entries`, { token: T[who] }), 403);
    }
    assert.equal((await list(t.id)).length, 1);
    assertProblem(await te(999999, { minutes: 10 }), 404);
  });
});

describe('concurrent changes to one ticket', () => {
  // Without If-Match a caller asked for no precondition: a busy ticket is
  // no reason to answer 412 or to drop the change.
  test('simultaneous replies, notes and time entries are all kept', async () => {
    const t = await create({}, 'acmeUser');
    const N = 12;
    const who = ['tier1', 'tier2', 'acmeUser', 'admin'];
    const msgs = await Promise.all(Array.from({ length: N }, (_, i) => {
      const w = who[i % who.length];
      return reply(t.id, `message ${i}`, w, w === 'acmeUser' || i % 3 ? 'reply' : 'note');
    }));
    assert.deepEqual(msgs.map((r) => r.status), Array(N).fill(201), msgs.map((r) => `${r.status} ${r.text}`).filter((s) => !s.startsWith('201')).join('\n'));
    const stored = assertStatus(await c.get(`/api/v1/tickets/${t.id}/messages`, { token: T.admin }), 200).items;
    assert.equal(stored.length, N);
    const tes = await Promise.all(Array.from({ length: N }, () =>
      c.post(`/api/v1/tickets/${t.id}/time-entries`, { minutes: 5 }, { token: T.tier1 })));
    assert.deepEqual(tes.map((r) => r.status), Array(N).fill(201));
    const times = assertStatus(await c.get(`/api/v1/tickets/${t.id}/time-entries`, { token: T.tier1 }), 200).items;
    assert.equal(times.length, N);
  });

  test('simultaneous PATCHes without If-Match all apply; with a stale one, 412', async () => {
    const t = await create({});
    const etag = await etagOf(t.id);
    const fields = ['subject', 'description', 'category', 'queue'];
    const rs = await Promise.all(Array.from({ length: 8 }, (_, i) =>
      patch(t.id, { [fields[i % 4]]: `${fields[i % 4]}-${i}` }, i % 2 ? 'tier1' : 'tier2')));
    assert.deepEqual(rs.map((r) => r.status), Array(8).fill(200), rs.map((r) => `${r.status} ${r.text}`).filter((s) => !s.startsWith('200')).join('\n'));
    assertProblem(await patch(t.id, { subject: 'stale' }, 'tier1', { 'If-Match': etag }), 412);
  });
});
