// contracts.test.mjs: client contracts (create, read, list, PATCH with
// If-Match; validation naming each member; who may write and who may read
// which), and which SLA policy a new ticket takes: its client's active
// contract's (the latest starts_on among those active today that name a
// policy), else the default policy, else none.
//
// The "default" SLA policy is server-wide state, so the SLA describe block
// runs first and the others after it. The demo database comes with a
// default policy and an active contract naming a policy for each client;
// the SLA block first turns those off (default: false, sla_policy_id: null)
// so that it starts from "no policy at all".
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ACME, BOREALIS, DEMO, startServer } from './lib/server.mjs';
import { assertProblem, assertStatus, uniq } from './lib/util.mjs';

let srv, c;
const T = {};
let calendarId;

before(async () => {
  srv = await startServer();
  c = srv.client;
  for (const k of ['admin', 'dispatcher', 'tier1', 'acmeAdmin', 'acmeUser', 'borealisIT', 'borealisUser'])
    T[k] = await c.token(await c.session(DEMO[k], srv.password));
  calendarId = assertStatus(await c.post('/api/v1/calendars', { name: uniq('noc'), timezone: 'UTC', '24x7': true }, { token: T.admin }), 201).id;
});
after(() => srv?.stop());

/* Dates relative to today (UTC), as YYYY-MM-DD. */
const NOW = new Date();
const TODAY_MS = Date.UTC(NOW.getUTCFullYear(), NOW.getUTCMonth(), NOW.getUTCDate());
const day = (offset = 0) => new Date(TODAY_MS + offset * 86400000).toISOString().slice(0, 10);
const today = day(0), yesterday = day(-1), tomorrow = day(1);

const createContract = async (body, who = 'admin') => {
  const r = await c.post('/api/v1/contracts', body, { token: T[who] });
  assertStatus(r, 201);
  return r.body;
};
const getContract = async (id, who = 'admin') => assertStatus(await c.get(`/api/v1/contracts/${id}`, { token: T[who] }), 200);
const patchContract = (id, body, who = 'admin', headers) => c.patch(`/api/v1/contracts/${id}`, body, { token: T[who], headers });

/* Every contract the user can list (walking the cursor), with an optional query. */
const listAll = async (who = 'admin', query = '') => {
  const items = [];
  let cursor = null;
  for (let pages = 0; ; pages++) {
    assert.ok(pages < 100, 'paging ends');
    const q = [query, 'limit=2', cursor ? `cursor=${encodeURIComponent(cursor)}` : ''].filter(Boolean).join('&');
    const page = assertStatus(await c.get(`/api/v1/contracts?${q}`, { token: T[who] }), 200);
    assert.ok(Array.isArray(page.items));
    assert.ok(page.items.length <= 2, 'limit is honoured');
    items.push(...page.items);
    cursor = page.next_cursor;
    if (!cursor)
      return items;
  }
};

const createPolicy = async (extra = {}) => {
  const body = {
    name: uniq('policy'), calendar_id: calendarId,
    targets: { P1: { response: 900, resolution: 4 * 3600 }, P2: { response: 3600, resolution: 8 * 3600 },
      P3: { response: 4 * 3600, resolution: 24 * 3600 }, P4: { response: 8 * 3600, resolution: 72 * 3600 } },
    ...extra,
  };
  return assertStatus(await c.post('/api/v1/sla-policies', body, { token: T.admin }), 201);
};

const newTicket = async (clientId) =>
  assertStatus(await c.post('/api/v1/tickets', { client_id: clientId, subject: uniq('SLA check') }, { token: T.dispatcher }), 201);
const getTicket = async (id) => assertStatus(await c.get(`/api/v1/tickets/${id}`, { token: T.admin }), 200);
/* The policy a ticket's sla names, or null when sla is null. */
const policyOf = (t) => {
  assert.ok('sla' in t, 'a ticket has an sla member');
  return t.sla === null ? null : t.sla.policy_id;
};

describe('which SLA policy a new ticket takes', () => {
  const P = {};        // policies by letter
  const K = {};        // contracts by label
  const tickets = {};  // tickets created along the way, by label

  test('with no default policy and no active contract naming a policy, a new ticket\'s sla is null', async () => {
    // Turn off what the demo database set up.
    for (const p of assertStatus(await c.get('/api/v1/sla-policies?limit=100', { token: T.admin }), 200).items)
      if (p.default)
        assert.equal(assertStatus(await c.patch(`/api/v1/sla-policies/${p.id}`, { default: false }, { token: T.admin }), 200).default, false);
    for (const k of await listAll())
      if (k.sla_policy_id !== null)
        assert.equal(assertStatus(await patchContract(k.id, { sla_policy_id: null }), 200).sla_policy_id, null);
    K.acmeNoPolicy = await createContract({ client_id: ACME, model: 'per_seat', starts_on: day(-100), sla_policy_id: null });
    assert.equal(K.acmeNoPolicy.active, true);
    assert.equal(policyOf(await newTicket(ACME)), null);
    assert.equal(policyOf(await newTicket(BOREALIS)), null);
  });

  test('with a default policy D and no contract naming a policy, every client\'s new tickets take D', async () => {
    P.A = await createPolicy();
    P.B = await createPolicy();
    P.C = await createPolicy();
    P.D = await createPolicy({ default: true });
    assert.equal(P.D.default, true);
    assert.equal(P.A.default, false);
    const t = await newTicket(BOREALIS);
    assert.equal(policyOf(t), P.D.id);
    for (const k of ['policy_id', 'response_due_at', 'resolution_due_at', 'response_breached', 'resolution_breached',
      'paused', 'business_seconds_to_response', 'business_seconds_to_resolution'])
      assert.ok(k in t.sla, `sla.${k} present`);
    assert.equal(t.sla.response_breached, false);
    assert.equal(t.sla.resolution_breached, false);
    assert.equal(policyOf(await newTicket(ACME)), P.D.id);
  });

  test('an active ACME contract naming A: new ACME tickets take A, new BOREALIS tickets still D', async () => {
    K.acmeA = await createContract({ client_id: ACME, sla_policy_id: P.A.id, model: 'per_seat', starts_on: day(-30) });
    assert.equal(K.acmeA.active, true);
    tickets.acmeA = await newTicket(ACME);
    assert.equal(policyOf(tickets.acmeA), P.A.id);
    assert.equal(policyOf(await getTicket(tickets.acmeA.id)), P.A.id, 'GET agrees');
    assert.equal(policyOf(await newTicket(BOREALIS)), P.D.id);
  });

  test('a contract that ended yesterday or starts tomorrow does not apply', async () => {
    K.borealisEnded = await createContract({ client_id: BOREALIS, sla_policy_id: P.B.id, model: 'flat_fee', starts_on: day(-60), ends_on: yesterday });
    K.borealisFuture = await createContract({ client_id: BOREALIS, sla_policy_id: P.B.id, model: 'flat_fee', starts_on: tomorrow });
    // A later starts_on than A's, but not active yet: it must not win.
    K.acmeFuture = await createContract({ client_id: ACME, sla_policy_id: P.C.id, model: 'block_hours', starts_on: tomorrow, ends_on: day(30) });
    for (const k of [K.borealisEnded, K.borealisFuture, K.acmeFuture])
      assert.equal(k.active, false, JSON.stringify(k));
    assert.equal(policyOf(await newTicket(BOREALIS)), P.D.id);
    assert.equal(policyOf(await newTicket(ACME)), P.A.id);
  });

  test('a contract starting and ending today is active and applies (both ends inclusive)', async () => {
    K.borealisToday = await createContract({ client_id: BOREALIS, sla_policy_id: P.B.id, model: 'break_fix', starts_on: today, ends_on: today });
    assert.equal(K.borealisToday.active, true);
    assert.equal(policyOf(await newTicket(BOREALIS)), P.B.id);
    assert.equal(policyOf(await newTicket(ACME)), P.A.id, 'another client\'s contract changes nothing for ACME');
  });

  test('the latest starts_on among active contracts wins; an active contract without a policy does not count', async () => {
    K.acmeC = await createContract({ client_id: ACME, sla_policy_id: P.C.id, model: 'flat_fee', starts_on: day(-10) });
    tickets.acmeC = await newTicket(ACME);
    assert.equal(policyOf(tickets.acmeC), P.C.id);
    K.acmeNoPolicyToday = await createContract({ client_id: ACME, model: 'break_fix', starts_on: today });
    assert.equal(K.acmeNoPolicyToday.sla_policy_id, null);
    assert.equal(policyOf(await newTicket(ACME)), P.C.id);
  });

  test('PATCH a contract\'s sla_policy_id: new tickets follow, existing tickets keep their policy', async () => {
    const k = assertStatus(await patchContract(K.acmeC.id, { sla_policy_id: P.B.id }), 200);
    assert.equal(k.sla_policy_id, P.B.id);
    assert.equal(policyOf(await newTicket(ACME)), P.B.id);
    assert.equal(policyOf(await getTicket(tickets.acmeC.id)), P.C.id, 'the ticket made under C keeps C');
    assert.equal(policyOf(await getTicket(tickets.acmeA.id)), P.A.id, 'the ticket made under A keeps A');
  });

  test('PATCH the dates: a contract that lapses stops applying; one brought forward to today starts', async () => {
    const lapsed = assertStatus(await patchContract(K.acmeC.id, { ends_on: yesterday }), 200);
    assert.equal(lapsed.active, false);
    assert.equal(policyOf(await newTicket(ACME)), P.A.id, 'back to A, the remaining active contract with a policy');

    const started = assertStatus(await patchContract(K.acmeFuture.id, { starts_on: today }), 200);
    assert.equal(started.active, true);
    assert.equal(policyOf(await newTicket(ACME)), P.C.id);
  });

  test('PATCH the contract\'s policy to null: the client falls back to its next active contract', async () => {
    assertStatus(await patchContract(K.acmeFuture.id, { sla_policy_id: null }), 200);
    assert.equal(policyOf(await newTicket(ACME)), P.A.id);
    assertStatus(await patchContract(K.borealisToday.id, { sla_policy_id: null }), 200);
    assert.equal(policyOf(await newTicket(BOREALIS)), P.D.id, 'no active contract with a policy: the default');
  });
});

describe('contracts: create and read', () => {
  let policyId;
  before(async () => { policyId = (await createPolicy()).id; });

  test('an admin creates a contract: 201 with Location, ETag and the contract as sent', async () => {
    const body = {
      client_id: BOREALIS, sla_policy_id: policyId, name: uniq('Managed desktops'), model: 'per_seat',
      starts_on: day(-5), ends_on: day(360), notes: '42 seats, billed monthly',
    };
    const r = await c.post('/api/v1/contracts', body, { token: T.admin });
    const k = assertStatus(r, 201);
    assert.equal(typeof k.id, 'number');
    assert.match(r.headers.get('location') || '', new RegExp(`/api/v1/contracts/${k.id}$`));
    assert.match(r.headers.get('etag') || '', /^(W\/)?".+"$/);
    for (const [m, v] of Object.entries(body))
      assert.equal(k[m], v, m);
    assert.equal(k.active, true);
    for (const m of ['created_at', 'updated_at'])
      assert.ok(!Number.isNaN(Date.parse(k[m])), `${m} is an instant: ${k[m]}`);

    const g = await c.get(`/api/v1/contracts/${k.id}`, { token: T.admin });
    assert.deepEqual(assertStatus(g, 200), k);
    assert.equal(g.headers.get('etag'), r.headers.get('etag'));
    assert.deepEqual(await getContract(k.id, 'tier1'), k, 'technicians read contracts');
  });

  test('only client_id, model and starts_on are required; sla_policy_id and ends_on default to null', async () => {
    const k = await createContract({ client_id: ACME, model: 'break_fix', starts_on: day(-1) });
    assert.equal(k.client_id, ACME);
    assert.equal(k.model, 'break_fix');
    assert.equal(k.starts_on, day(-1));
    assert.equal(k.sla_policy_id, null);
    assert.equal(k.ends_on, null);
    assert.equal(typeof k.name, 'string');
    assert.ok('notes' in k);
    const n = await createContract({ client_id: ACME, model: 'flat_fee', starts_on: day(-1), sla_policy_id: null, ends_on: null, notes: null });
    assert.equal(n.sla_policy_id, null);
    assert.equal(n.ends_on, null);
  });

  test('every model is accepted', async () => {
    for (const model of ['per_seat', 'flat_fee', 'break_fix', 'block_hours'])
      assert.equal((await createContract({ client_id: ACME, model, starts_on: '2026-01-01' })).model, model);
  });

  test('active means today lies within starts_on..ends_on', async () => {
    for (const [starts_on, ends_on, active] of [
      [day(-10), null, true], [today, null, true], [today, today, true], [day(-10), day(10), true],
      [tomorrow, null, false], [day(-10), yesterday, false], [day(5), day(10), false],
    ]) {
      const k = await createContract({ client_id: BOREALIS, model: 'flat_fee', starts_on, ends_on });
      assert.equal(k.active, active, `${starts_on}..${ends_on}`);
      assert.equal((await getContract(k.id)).active, active, `GET ${starts_on}..${ends_on}`);
    }
  });

  const valid = () => ({ client_id: ACME, model: 'per_seat', starts_on: '2026-03-01', name: uniq('bad') });
  for (const [label, change, field] of [
    ['an unknown member', { colour: 'red' }, 'colour'],
    ['a model not in the list', { model: 'hourly' }, 'model'],
    ['a model of the wrong type', { model: 3 }, 'model'],
    ['no model', { model: undefined }, 'model'],
    ['no client_id', { client_id: undefined }, 'client_id'],
    ['a client_id of no client', { client_id: 99999 }, 'client_id'],
    ['a client_id that is a string', { client_id: 'acme' }, 'client_id'],
    ['no starts_on', { starts_on: undefined }, 'starts_on'],
    ['starts_on February 30th', { starts_on: '2026-02-30' }, 'starts_on'],
    ['starts_on in another format', { starts_on: '03/01/2026' }, 'starts_on'],
    ['an ends_on that is no date', { ends_on: '2026-13-01' }, 'ends_on'],
    ['ends_on before starts_on', { starts_on: '2026-03-01', ends_on: '2026-02-28' }, 'ends_on'],
    ['an sla_policy_id of no policy', { sla_policy_id: 99999 }, 'sla_policy_id'],
  ]) {
    test(`${label} is 400 naming ${field}, and nothing is created`, async () => {
      const before_ = (await listAll()).length;
      const body = { ...valid(), ...change };
      for (const [k, v] of Object.entries(change))
        if (v === undefined)
          delete body[k];
      assertProblem(await c.post('/api/v1/contracts', body, { token: T.admin }), 400, { field });
      assert.equal((await listAll()).length, before_);
    });
  }

  test('only admins create contracts: dispatchers, technicians and client admins get 403', async () => {
    const before_ = (await listAll()).length;
    for (const who of ['dispatcher', 'tier1', 'acmeAdmin', 'acmeUser'])
      assertProblem(await c.post('/api/v1/contracts', valid(), { token: T[who] }), 403);
    assert.equal((await listAll()).length, before_);
  });

  test('the list pages with limit and cursor, each contract once, and filters by client_id', async () => {
    const all = await listAll();
    const ids = all.map((k) => k.id);
    assert.equal(new Set(ids).size, ids.length, 'no contract twice');
    assert.ok(all.some((k) => k.client_id === ACME) && all.some((k) => k.client_id === BOREALIS));
    const one = assertStatus(await c.get('/api/v1/contracts?limit=1', { token: T.admin }), 200);
    assert.equal(one.items.length, 1);
    assert.equal(typeof one.next_cursor, 'string');
    const acme = await listAll('admin', `client_id=${ACME}`);
    assert.ok(acme.length > 0);
    assert.ok(acme.every((k) => k.client_id === ACME));
    assert.equal(acme.length, all.filter((k) => k.client_id === ACME).length);
    const big = assertStatus(await c.get('/api/v1/contracts?limit=100', { token: T.admin }), 200);
    for (const k of big.items)
      assert.deepEqual(k, all.find((x) => x.id === k.id), 'list items are whole contracts');
  });

  test('client admins and client IT read only their own organisation\'s contracts; client users get 403', async () => {
    const all = await listAll();
    const acmeIds = all.filter((k) => k.client_id === ACME).map((k) => k.id).sort((a, b) => a - b);
    const borealisIds = all.filter((k) => k.client_id === BOREALIS).map((k) => k.id).sort((a, b) => a - b);
    assert.ok(acmeIds.length && borealisIds.length);

    assert.deepEqual((await listAll('acmeAdmin')).map((k) => k.id).sort((a, b) => a - b), acmeIds);
    assert.deepEqual((await listAll('borealisIT')).map((k) => k.id).sort((a, b) => a - b), borealisIds);
    assert.deepEqual(await getContract(acmeIds[0], 'acmeAdmin'), await getContract(acmeIds[0]));
    assert.deepEqual(await getContract(borealisIds[0], 'borealisIT'), await getContract(borealisIds[0]));
    assertProblem(await c.get(`/api/v1/contracts/${borealisIds[0]}`, { token: T.acmeAdmin }), 404);
    assertProblem(await c.get(`/api/v1/contracts/${acmeIds[0]}`, { token: T.borealisIT }), 404);

    // Asking for the other organisation by filter lists nothing of it.
    assert.deepEqual(assertStatus(await c.get(`/api/v1/contracts?client_id=${BOREALIS}`, { token: T.acmeAdmin }), 200).items, []);
    assert.deepEqual(assertStatus(await c.get(`/api/v1/contracts?client_id=${ACME}`, { token: T.borealisIT }), 200).items, []);

    for (const who of ['acmeUser', 'borealisUser']) {
      assertProblem(await c.get('/api/v1/contracts', { token: T[who] }), 403);
      assertProblem(await c.get(`/api/v1/contracts/${who === 'acmeUser' ? acmeIds[0] : borealisIds[0]}`, { token: T[who] }), 403);
    }
  });

  test('an unknown contract is 404', async () => {
    assertProblem(await c.get('/api/v1/contracts/999999', { token: T.admin }), 404);
    assertProblem(await patchContract(999999, { notes: 'x' }), 404);
  });
});

describe('contracts: PATCH', () => {
  let policyId, base;
  before(async () => {
    policyId = (await createPolicy()).id;
    base = () => ({ client_id: ACME, sla_policy_id: policyId, name: uniq('Support'), model: 'flat_fee', starts_on: '2026-02-01', ends_on: '2027-01-31', notes: 'first' });
  });

  test('PATCH is partial: the members sent change, the others stay; the ETag changes', async () => {
    const r0 = await c.post('/api/v1/contracts', base(), { token: T.admin });
    const k = assertStatus(r0, 201);
    const r = await patchContract(k.id, { notes: 'renewed', model: 'block_hours' });
    const p = assertStatus(r, 200);
    assert.deepEqual({ ...p, updated_at: k.updated_at }, { ...k, notes: 'renewed', model: 'block_hours' });
    assert.notEqual(r.headers.get('etag'), r0.headers.get('etag'));
    assert.deepEqual(await getContract(k.id), p);
  });

  test('If-Match: a stale ETag is 412 and changes nothing; the current one works', async () => {
    const r0 = await c.post('/api/v1/contracts', base(), { token: T.admin });
    const k = assertStatus(r0, 201);
    const v1 = r0.headers.get('etag');
    const ok = await patchContract(k.id, { notes: 'second' }, 'admin', { 'If-Match': v1 });
    assertStatus(ok, 200);
    const v2 = ok.headers.get('etag');
    assert.notEqual(v2, v1);
    assertProblem(await patchContract(k.id, { notes: 'lost update' }, 'admin', { 'If-Match': v1 }), 412);
    assert.equal((await getContract(k.id)).notes, 'second');
    assert.equal(assertStatus(await patchContract(k.id, { notes: 'third' }, 'admin', { 'If-Match': v2 }), 200).notes, 'third');
  });

  test('nullable members may be set to null', async () => {
    const k = await createContract(base());
    const p = assertStatus(await patchContract(k.id, { sla_policy_id: null, ends_on: null }), 200);
    assert.equal(p.sla_policy_id, null);
    assert.equal(p.ends_on, null);
    assert.equal(p.starts_on, k.starts_on);
  });

  for (const [label, change, field] of [
    ['an unknown member', { colour: 'red' }, 'colour'],
    ['a model not in the list', { model: 'hourly' }, 'model'],
    ['starts_on February 30th', { starts_on: '2026-02-30' }, 'starts_on'],
    ['ends_on before the existing starts_on', { ends_on: '2026-01-31' }, 'ends_on'],
    ['a client_id of no client', { client_id: 99999 }, 'client_id'],
    ['an sla_policy_id of no policy', { sla_policy_id: 99999 }, 'sla_policy_id'],
  ]) {
    test(`PATCH with ${label} is 400 naming ${field}, and changes nothing`, async () => {
      const k = await createContract(base());
      assertProblem(await patchContract(k.id, change), 400, { field });
      assert.deepEqual(await getContract(k.id), k);
    });
  }

  test('only admins change contracts: dispatchers, technicians and client admins get 403', async () => {
    const k = await createContract(base());
    for (const who of ['dispatcher', 'tier1', 'acmeAdmin'])
      assertProblem(await patchContract(k.id, { notes: `by ${who}` }, who), 403);
    assert.deepEqual(await getContract(k.id), k);
  });
});
