// tickets-tenancy.test.mjs: who sees which tickets. Another organisation's
// tickets are 404 on every endpoint; a client_user sees the tickets they
// requested, a client_admin their organisation's; client roles cannot set
// staff-only fields; internal notes and internal events never reach a
// client role, on any endpoint.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ACME, BOREALIS, DEMO, startServer } from './lib/server.mjs';
import { assertProblem, assertStatus, uniq } from './lib/util.mjs';

let srv, c;
const T = {};
const U = {};
const CLIENT_ROLES = ['acmeAdmin', 'acmeUser', 'borealisIT', 'borealisUser'];

before(async () => {
  srv = await startServer();
  c = srv.client;
  await Promise.all(['admin', 'tier1', 'tier2', ...CLIENT_ROLES].map(async (k) => {
    const s = await c.session(DEMO[k], srv.password);
    U[k] = s.user.id;
    T[k] = await c.token(s);
  }));
});
after(() => srv?.stop());

const create = async (body, who = 'admin') => {
  const r = await c.post('/api/v1/tickets', { subject: uniq('Ticket'), ...body }, { token: T[who] });
  assertStatus(r, 201);
  return r.body;
};
const get = async (id, who = 'admin') => assertStatus(await c.get(`/api/v1/tickets/${id}`, { token: T[who] }), 200);
const listIds = async (who, query = '') =>
  assertStatus(await c.get(`/api/v1/tickets?limit=500${query}`, { token: T[who] }), 200).items.map((t) => t.id);

describe('another organisation', () => {
  let bor, borEtag;
  before(async () => {
    bor = await create({ client_id: BOREALIS, subject: 'Borealis forklift scanner offline', description: 'warehouse scanner' }, 'borealisUser');
    assertStatus(await c.post(`/api/v1/tickets/${bor.id}/messages`, { kind: 'reply', body: 'we are on it' }, { token: T.tier1 }), 201);
    borEtag = (await c.get(`/api/v1/tickets/${bor.id}`, { token: T.admin })).headers.get('etag');
  });

  for (const who of ['acmeUser', 'acmeAdmin']) {
    test(`${who} gets 404 for every endpoint of a Borealis ticket, and changes nothing`, async () => {
      const o = { token: T[who] };
      const base = `/api/v1/tickets/${bor.id}`;
      assertProblem(await c.get(base, o), 404);
      assertProblem(await c.patch(base, { subject: 'hijacked' }, o), 404);
      assertProblem(await c.patch(base, { subject: 'hijacked' }, { ...o, headers: { 'If-Match': borEtag } }), 404);
      assertProblem(await c.get(`${base}/messages`, o), 404);
      assertProblem(await c.post(`${base}/messages`, { kind: 'reply', body: 'hello from acme' }, o), 404);
      assertProblem(await c.get(`${base}/timeline`, o), 404);
      // Staff-only routes are refused by role before the ticket is looked up.
      assert.ok([403, 404].includes((await c.post(`${base}/escalate`, { to_tier: 2, reason: 'x' }, o)).status));
      assert.ok([403, 404].includes((await c.get(`${base}/time-entries`, o)).status));
      assert.ok(!(await listIds(who)).includes(bor.id));
      assert.deepEqual(await listIds(who, `&client_id=${BOREALIS}`), []);
      assert.ok(!(await listIds(who, '&q=forklift')).includes(bor.id));
      // Nothing changed.
      const now = await c.get(base, { token: T.admin });
      assert.equal(now.headers.get('etag'), borEtag);
      assert.equal(now.body.subject, bor.subject);
      const msgs = assertStatus(await c.get(`${base}/messages`, { token: T.admin }), 200).items;
      assert.deepEqual(msgs.map((m) => m.body), ['we are on it']);
    });
  }

  test('a client cannot create a ticket for another organisation', async () => {
    const subject = uniq('Cross-tenant');
    for (const who of ['acmeUser', 'acmeAdmin']) {
      const r = await c.post('/api/v1/tickets', { client_id: BOREALIS, subject }, { token: T[who] });
      assert.ok([403, 404].includes(r.status), `${r.status} ${r.text}`);
    }
    const r = await c.post('/api/v1/tickets', { requester_contact_id: 3, subject }, { token: T.acmeAdmin });
    assert.ok([400, 403, 404].includes(r.status), `${r.status} ${r.text}`);
    const all = assertStatus(await c.get(`/api/v1/tickets?limit=500&client_id=${BOREALIS}`, { token: T.admin }), 200).items;
    assert.ok(!all.some((t) => t.subject === subject));
  });

  test('client_it sees its own organisation only', async () => {
    const acme = await create({ client_id: ACME });
    const ids = await listIds('borealisIT');
    assert.ok(ids.includes(bor.id));
    assert.ok(!ids.includes(acme.id));
    assertProblem(await c.get(`/api/v1/tickets/${acme.id}`, { token: T.borealisIT }), 404);
  });
});

describe('visibility inside an organisation', () => {
  let own, forAlice, byAdmin;
  before(async () => {
    own = await create({}, 'acmeUser');                                   // requested by frontdesk
    forAlice = await create({ client_id: ACME, requester_contact_id: 1 }); // staff, for Alice (no login)
    byAdmin = await create({}, 'acmeAdmin');                               // the client_admin's own
  });

  test('a client_user sees only the tickets they requested', async () => {
    const ids = await listIds('acmeUser');
    assert.ok(ids.includes(own.id));
    assert.ok(!ids.includes(forAlice.id));
    assert.ok(!ids.includes(byAdmin.id));
    for (const t of [forAlice, byAdmin]) {
      assertProblem(await c.get(`/api/v1/tickets/${t.id}`, { token: T.acmeUser }), 404);
      assertProblem(await c.patch(`/api/v1/tickets/${t.id}`, { subject: 'mine now' }, { token: T.acmeUser }), 404);
      assertProblem(await c.post(`/api/v1/tickets/${t.id}/messages`, { kind: 'reply', body: 'x' }, { token: T.acmeUser }), 404);
      assertProblem(await c.get(`/api/v1/tickets/${t.id}/messages`, { token: T.acmeUser }), 404);
      assertProblem(await c.get(`/api/v1/tickets/${t.id}/timeline`, { token: T.acmeUser }), 404);
      assert.equal((await get(t.id)).subject, t.subject);
    }
  });

  test('a ticket staff open for the client_user\'s contact is theirs', async () => {
    const t = await create({ client_id: ACME, requester_contact_id: 2 });
    assert.equal(t.requester_user_id, U.acmeUser);
    assert.ok((await listIds('acmeUser')).includes(t.id));
    assert.equal((await get(t.id, 'acmeUser')).id, t.id);
  });

  test('a ticket the client_admin opens for the client_user\'s contact is visible to that user', async () => {
    const t = await create({ requester_contact_id: 2 }, 'acmeAdmin');
    assert.equal(t.requester_contact_id, 2);
    assert.ok((await listIds('acmeUser')).includes(t.id), 'the requester sees the ticket opened on their behalf');
    assertStatus(await c.get(`/api/v1/tickets/${t.id}`, { token: T.acmeUser }), 200);
  });

  test('a client_admin sees every ticket of the organisation, and no other', async () => {
    const ids = await listIds('acmeAdmin');
    for (const t of [own, forAlice, byAdmin])
      assert.ok(ids.includes(t.id), `client_admin sees ${t.number}`);
    const all = assertStatus(await c.get('/api/v1/tickets?limit=500', { token: T.acmeAdmin }), 200).items;
    assert.ok(all.every((t) => t.client_id === ACME));
    assertStatus(await c.post(`/api/v1/tickets/${forAlice.id}/messages`, { kind: 'reply', body: 'adding detail' }, { token: T.acmeAdmin }), 201);
  });

  test('a client creates for its own organisation; client_id is optional', async () => {
    const a = await create({}, 'acmeUser');
    assert.equal(a.client_id, ACME);
    assert.equal(a.requester_user_id, U.acmeUser);
    assert.equal(a.requester_contact_id, 2, 'the contact with the user\'s email');
    const b = await create({ client_id: ACME }, 'acmeAdmin');
    assert.equal(b.client_id, ACME);
    const d = await create({ requester_contact_id: 1 }, 'acmeAdmin');
    assert.equal(d.requester_contact_id, 1);
    assertProblem(await c.post('/api/v1/tickets', { subject: 'x', requester_contact_id: 1 }, { token: T.acmeUser }), 400, { field: 'requester_contact_id' });
  });

  test('with portal_org_visibility on, a client_user sees the organisation\'s tickets (and still not Borealis\')', async () => {
    const bor = await create({ client_id: BOREALIS });
    const cl = await c.get(`/api/v1/clients/${ACME}`, { token: T.admin });
    const r = await c.patch(`/api/v1/clients/${ACME}`, { portal_org_visibility: true }, { token: T.admin, headers: { 'If-Match': cl.headers.get('etag') } });
    assertStatus(r, 200);
    try {
      const ids = await listIds('acmeUser');
      for (const t of [own, forAlice, byAdmin])
        assert.ok(ids.includes(t.id));
      assert.ok(!ids.includes(bor.id));
      assertProblem(await c.get(`/api/v1/tickets/${bor.id}`, { token: T.acmeUser }), 404);
      // Seeing is not changing: a client_user edits only their own tickets.
      const p = await c.patch(`/api/v1/tickets/${forAlice.id}`, { subject: 'not yours' }, { token: T.acmeUser });
      assert.ok([403, 404].includes(p.status), `${p.status} ${p.text}`);
      assert.equal((await get(forAlice.id)).subject, forAlice.subject);
    } finally {
      const cl2 = await c.get(`/api/v1/clients/${ACME}`, { token: T.admin });
      assertStatus(await c.patch(`/api/v1/clients/${ACME}`, { portal_org_visibility: false }, { token: T.admin, headers: { 'If-Match': cl2.headers.get('etag') } }), 200);
    }
    assert.ok(!(await listIds('acmeUser')).includes(forAlice.id));
  });
});

describe('staff-only fields', () => {
  test('a client creating with staff-only fields gets 403 naming each; nothing is created', async () => {
    const subject = uniq('Sneaky');
    const staffOnly = { priority: 'P1', priority_reason: 'me first', queue: 'vip', tier: 3, assignee_id: U.tier2, channel: 'phone' };
    for (const who of ['acmeUser', 'acmeAdmin']) {
      const body = assertProblem(await c.post('/api/v1/tickets', { subject, ...staffOnly }, { token: T[who] }), 403, { field: 'priority' });
      for (const f of ['priority', 'queue', 'tier', 'assignee_id', 'channel'])
        assert.ok(body.errors.some((e) => e.field === f), `${f} named: ${JSON.stringify(body.errors)}`);
      for (const [k, v] of Object.entries(staffOnly))
        assertProblem(await c.post('/api/v1/tickets', { subject, [k]: v }, { token: T[who] }), 403, { field: k });
    }
    const all = assertStatus(await c.get('/api/v1/tickets?limit=500', { token: T.admin }), 200).items;
    assert.ok(!all.some((t) => t.subject === subject));
  });

  test('a client patching staff-only fields gets 403 naming them; nothing changes', async () => {
    const t = await create({}, 'acmeUser');
    const before = await get(t.id);
    const fields = { status: 'resolved', priority: 'P1', priority_reason: 'x', queue: 'vip', assignee_id: U.tier1, impact: 'high', urgency: 'high', type: 'change' };
    for (const who of ['acmeUser', 'acmeAdmin']) {
      for (const [k, v] of Object.entries(fields))
        assertProblem(await c.patch(`/api/v1/tickets/${t.id}`, { [k]: v }, { token: T[who] }), 403, { field: k });
      const all = assertProblem(await c.patch(`/api/v1/tickets/${t.id}`, { subject: 'ok', status: 'closed', queue: 'vip' }, { token: T[who] }), 403, { field: 'status' });
      assert.ok(all.errors.some((e) => e.field === 'queue'));
    }
    assert.deepEqual(await get(t.id), before);
    // What a client may change: the subject and description of their own ticket.
    const ok = await c.patch(`/api/v1/tickets/${t.id}`, { subject: 'Clearer subject', description: 'more detail' }, { token: T.acmeUser });
    assertStatus(ok, 200);
    assert.equal(ok.body.subject, 'Clearer subject');
  });

  test('client roles cannot bulk-change tickets or escalate', async () => {
    const t = await create({}, 'acmeUser');
    for (const who of CLIENT_ROLES) {
      assertProblem(await c.patch('/api/v1/tickets', { ids: [t.id], set: { status: 'resolved' } }, { token: T[who] }), 403);
      assertProblem(await c.post(`/api/v1/tickets/${t.id}/escalate`, { to_tier: 2, reason: 'x' }, { token: T[who] }), 403);
    }
    assert.equal((await get(t.id)).status, 'new');
  });
});

describe('internal notes and events never reach client roles', () => {
  const SECRET = 'quuxsecretword';
  let t;
  before(async () => {
    t = await create({ subject: 'Monitor flickers', description: 'the left monitor flickers' }, 'acmeUser');
    assertStatus(await c.post(`/api/v1/tickets/${t.id}/messages`, { kind: 'note', body: `customer is difficult ${SECRET}` }, { token: T.tier1 }), 201);
    assertStatus(await c.post(`/api/v1/tickets/${t.id}/messages`, { kind: 'reply', body: 'Can you try another cable?' }, { token: T.tier1 }), 201);
    assertStatus(await c.post(`/api/v1/tickets/${t.id}/escalate`, { to_tier: 2, reason: `tier 1 gave up ${SECRET}` }, { token: T.tier1 }), 200);
    assertStatus(await c.post(`/api/v1/tickets/${t.id}/time-entries`, { minutes: 15, note: `billing ${SECRET}` }, { token: T.tier2 }), 201);
  });

  test('staff see the note, the escalation and the time entry', async () => {
    const msgs = assertStatus(await c.get(`/api/v1/tickets/${t.id}/messages`, { token: T.tier2 }), 200).items;
    assert.ok(msgs.some((m) => m.kind === 'note' && m.body.includes(SECRET)));
    const tl = assertStatus(await c.get(`/api/v1/tickets/${t.id}/timeline`, { token: T.tier2 }), 200).items;
    assert.ok(tl.some((e) => e.internal));
    assert.ok(tl.some((e) => e.kind === 'escalated'));
    assert.ok((await listIds('tier2', `&q=${SECRET}`)).includes(t.id), 'staff search finds words in notes');
  });

  for (const who of ['acmeUser', 'acmeAdmin']) {
    test(`${who}: no note in messages, no internal event in the timeline, no hit in search`, async () => {
      const o = { token: T[who] };
      const msgs = assertStatus(await c.get(`/api/v1/tickets/${t.id}/messages`, o), 200).items;
      assert.ok(msgs.length >= 1);
      assert.ok(msgs.every((m) => m.kind === 'reply' && !m.body.includes(SECRET)), JSON.stringify(msgs));
      const tl = assertStatus(await c.get(`/api/v1/tickets/${t.id}/timeline`, o), 200).items;
      assert.ok(tl.length >= 1);
      for (const e of tl) {
        assert.equal(e.internal, false, JSON.stringify(e));
        assert.notEqual(e.data?.kind, 'note', JSON.stringify(e));
      }
      assert.ok(!tl.some((e) => e.kind === 'escalated' || e.kind === 'time_entry'), JSON.stringify(tl));
      assert.ok(!(await listIds(who, `&q=${SECRET}`)).includes(t.id), 'a word only in a note is not found');
      assert.ok((await listIds(who, '&q=flickers')).includes(t.id), 'words of the ticket are found');
      assert.ok((await listIds(who, '&q=cable')).includes(t.id), 'words of public replies are found');
      const one = await c.get(`/api/v1/tickets/${t.id}`, o);
      assertStatus(one, 200);
      for (const k of ['priority_reason', 'fcr_reason', 'tags', 'vendor_ref'])
        assert.ok(!(k in one.body), `${k} is staff-only`);
    });

    test(`${who}: the secret appears in no answer of any endpoint`, async () => {
      const o = { token: T[who] };
      const answers = await Promise.all([
        c.get(`/api/v1/tickets/${t.id}`, o),
        c.get('/api/v1/tickets?limit=500', o),
        c.get(`/api/v1/tickets?q=${SECRET}`, o),
        c.get('/api/v1/tickets?q=flickers', o),
        c.get(`/api/v1/tickets/${t.id}/messages`, o),
        c.get(`/api/v1/tickets/${t.id}/timeline`, o),
        c.get(`/api/v1/tickets/${t.id}/time-entries`, o),
        c.post(`/api/v1/tickets/${t.id}/messages`, { kind: 'reply', body: 'thanks' }, o),
        c.patch(`/api/v1/tickets/${t.id}`, { description: 'the left monitor flickers a lot' }, o),
      ]);
      for (const r of answers)
        assert.ok(!r.text.includes(SECRET), `leaked: ${r.status} ${r.text}`);
    });
  }
});

test('client_it (co-managed IT) is a client role too: no notes, no internal events', async () => {
  const WORD = 'grault' + 'secretword';
  const t = await create({ client_id: BOREALIS, subject: 'VPN drops' });
  assertStatus(await c.post(`/api/v1/tickets/${t.id}/messages`, { kind: 'note', body: `internal ${WORD}` }, { token: T.tier1 }), 201);
  assertStatus(await c.post(`/api/v1/tickets/${t.id}/escalate`, { to_tier: 3, reason: `internal ${WORD}` }, { token: T.tier1 }), 200);
  assertProblem(await c.post(`/api/v1/tickets/${t.id}/messages`, { kind: 'note', body: 'our own note' }, { token: T.borealisIT }), 400, { field: 'kind' });
  assertStatus(await c.post(`/api/v1/tickets/${t.id}/messages`, { kind: 'reply', body: 'we rebooted the firewall' }, { token: T.borealisIT }), 201);
  for (const p of [`/api/v1/tickets/${t.id}`, `/api/v1/tickets/${t.id}/messages`, `/api/v1/tickets/${t.id}/timeline`, `/api/v1/tickets?q=${WORD}`, '/api/v1/tickets?limit=500']) {
    const r = await c.get(p, { token: T.borealisIT });
    assertStatus(r, 200);
    assert.ok(!r.text.includes(WORD), `GET ${p}: ${r.text}`);
  }
  const tl = assertStatus(await c.get(`/api/v1/tickets/${t.id}/timeline`, { token: T.borealisIT }), 200).items;
  assert.ok(tl.every((e) => !e.internal));
  assert.deepEqual(assertStatus(await c.get(`/api/v1/tickets?q=${WORD}`, { token: T.borealisIT }), 200).items, []);
});

test('a hand-set priority_reason is staff-only, in the ticket and in the timeline', async () => {
  const WORD = 'plughreasonword';
  const a = await create({ client_id: ACME, priority: 'P1', priority_reason: `on create ${WORD}` }, 'tier1');
  const b = await create({}, 'acmeUser');
  assertStatus(await c.patch(`/api/v1/tickets/${a.id}`, { priority: 'P2', priority_reason: `on patch ${WORD}` }, { token: T.tier1 }), 200);
  assertStatus(await c.patch(`/api/v1/tickets/${b.id}`, { priority: 'P1', priority_reason: `on patch ${WORD}` }, { token: T.tier1 }), 200);
  const staffTl = assertStatus(await c.get(`/api/v1/tickets/${b.id}/timeline`, { token: T.tier1 }), 200).items;
  assert.ok(staffTl.some((e) => JSON.stringify(e).includes(WORD)), 'staff see why');
  for (const id of [a.id, b.id]) {
    for (const p of [`/api/v1/tickets/${id}`, `/api/v1/tickets/${id}/timeline`, '/api/v1/tickets?limit=500']) {
      const r = await c.get(p, { token: T.acmeAdmin });
      assertStatus(r, 200);
      assert.ok(!r.text.includes(WORD), `GET ${p} shows a client the priority_reason: ${r.text}`);
    }
  }
});

test('without --test-clock, POST /api/v1/test/clock does not exist (404)', async () => {
  assertProblem(await c.post('/api/v1/test/clock', { advance_seconds: 3600 }, { token: T.admin }), 404);
});
