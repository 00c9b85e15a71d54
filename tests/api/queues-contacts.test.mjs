// queues-contacts.test.mjs: the technician console's queue counts
// (GET /api/v1/queues: open, unassigned, P1 and SLA-breached tickets per
// queue) and contact search across clients (GET /api/v1/contacts?q=): what
// each counts or finds, who may ask, tenancy, literal matching of LIKE's
// wildcards, phone digits, and 400s naming the parameter.
//
// Every test works in queues and on contacts of its own (unique names), so
// the tests do not depend on each other. The server runs on the test clock
// so that a breach comes without sleeping; the clock moves only in the
// breach test.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ACME, BOREALIS, DEMO, startServer } from './lib/server.mjs';
import { assertProblem, assertStatus, uniq } from './lib/util.mjs';

let srv, c;
const T = {};   // tokens by DEMO key
const U = {};   // user ids by DEMO key
const CLIENT_ROLES = ['acmeAdmin', 'acmeUser', 'borealisIT', 'borealisUser'];

before(async () => {
  srv = await startServer({ testClock: true });
  c = srv.client;
  await Promise.all(['admin', 'dispatcher', 'tier1', 'tier2', ...CLIENT_ROLES].map(async (k) => {
    const s = await c.session(DEMO[k], srv.password);
    U[k] = s.user.id;
    T[k] = await c.token(s);
  }));
});
after(() => srv?.stop());

/* A word of letters only (no word breaks, no LIKE wildcards, no digits),
 * unique per call. */
const word = () => 'zq' + uniq('').slice(1).replace(/[0-9]/g, (d) => 'ghijklmnop'[d]);

const ticket = async (body, who = 'dispatcher') => assertStatus(await c.post('/api/v1/tickets',
  { client_id: ACME, subject: uniq('Counted'), ...body }, { token: T[who] }), 201);
const patch = async (id, body) => assertStatus(await c.patch(`/api/v1/tickets/${id}`, body, { token: T.dispatcher }), 200);
const p1 = { priority: 'P1', priority_reason: 'whole office down' };

const queues = async (query = '', who = 'tier1') => {
  const r = await c.get(`/api/v1/queues${query}`, { token: T[who] });
  assertStatus(r, 200);
  assert.deepEqual(Object.keys(r.body).sort(), ['items', 'truncated']);
  assert.equal(r.body.truncated, false);
  return r.body.items;
};
/* The row of queue q, or undefined when no open ticket is in it. */
const row = async (q, query = '', who = 'tier1') => (await queues(query, who)).find((i) => i.queue === q);

const contact = async (client, body, who = 'admin') => assertStatus(
  await c.post(`/api/v1/clients/${client}/contacts`, body, { token: T[who] }), 201);
const search = async (query, who = 'tier1') => {
  const r = await c.get(`/api/v1/contacts?${new URLSearchParams(query)}`, { token: T[who] });
  assertStatus(r, 200);
  return r.body;
};
const names = async (query, who) => (await search(query, who)).items.map((i) => i.name);

describe('GET /api/v1/queues', () => {
  test('counts open tickets per queue as they are created, assigned and resolved', async () => {
    const qa = word(), qb = word();
    assert.equal(await row(qa), undefined, 'a queue without open tickets has no row');
    const a1 = await ticket({ queue: qa, ...p1 });
    const a2 = await ticket({ queue: qa });
    const a3 = await ticket({ queue: qa, client_id: BOREALIS, assignee_id: U.tier2 });
    const b1 = await ticket({ queue: qb, ...p1, assignee_id: U.tier1 });
    assert.deepEqual(await row(qa), { queue: qa, open: 3, unassigned: 2, p1: 1, breached: 0 });
    assert.deepEqual(await row(qb), { queue: qb, open: 1, unassigned: 0, p1: 1, breached: 0 });

    await patch(a1.id, { assignee_id: U.tier1 });
    assert.deepEqual(await row(qa), { queue: qa, open: 3, unassigned: 1, p1: 1, breached: 0 });
    // Waiting on the customer is still open work.
    await patch(a2.id, { status: 'pending_customer' });
    assert.equal((await row(qa)).open, 3);
    await patch(a1.id, { status: 'resolved' });
    assert.deepEqual(await row(qa), { queue: qa, open: 2, unassigned: 1, p1: 0, breached: 0 });
    // Moving a ticket moves its count.
    await patch(a3.id, { queue: qb });
    assert.deepEqual(await row(qa), { queue: qa, open: 1, unassigned: 1, p1: 0, breached: 0 });
    assert.deepEqual(await row(qb), { queue: qb, open: 2, unassigned: 0, p1: 1, breached: 0 });
    await patch(a2.id, { status: 'resolved' });
    await patch(b1.id, { status: 'resolved' });
    await patch(a3.id, { status: 'resolved' });
    assert.equal(await row(qa), undefined);
    assert.equal(await row(qb), undefined);
    // Reopened, it counts again.
    await patch(a1.id, { status: 'open' });
    assert.deepEqual(await row(qa), { queue: qa, open: 1, unassigned: 0, p1: 1, breached: 0 });
  });

  test('one row per queue, sorted by name, every member a count', async () => {
    const w = word();
    for (const q of [`${w}c`, `${w}a`, `${w}b`])
      await ticket({ queue: q });
    const items = await queues('', 'dispatcher');
    const ours = items.filter((i) => i.queue.startsWith(w)).map((i) => i.queue);
    assert.deepEqual(ours, [`${w}a`, `${w}b`, `${w}c`]);
    const all = items.map((i) => i.queue);
    assert.deepEqual(all, [...all].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)), 'sorted by name');
    assert.equal(new Set(all).size, all.length, 'one row per queue');
    for (const i of items) {
      assert.deepEqual(Object.keys(i).sort(), ['breached', 'open', 'p1', 'queue', 'unassigned']);
      for (const k of ['open', 'unassigned', 'p1', 'breached'])
        assert.ok(Number.isInteger(i[k]) && i[k] >= 0, JSON.stringify(i));
      assert.ok(i.open >= Math.max(i.unassigned, i.p1, i.breached), JSON.stringify(i));
    }
  });

  test('client_id counts one client\'s tickets', async () => {
    const q = word();
    await ticket({ queue: q, client_id: ACME, ...p1 });
    await ticket({ queue: q, client_id: ACME });
    await ticket({ queue: q, client_id: BOREALIS, assignee_id: U.tier1 });
    assert.deepEqual(await row(q), { queue: q, open: 3, unassigned: 2, p1: 1, breached: 0 });
    assert.deepEqual(await row(q, `?client_id=${ACME}`), { queue: q, open: 2, unassigned: 2, p1: 1, breached: 0 });
    assert.deepEqual(await row(q, `?client_id=${BOREALIS}`), { queue: q, open: 1, unassigned: 0, p1: 0, breached: 0 });
    assert.deepEqual(await queues('?client_id=999999'), [], 'no such client: nothing');
  });

  test('breached counts open tickets whose SLA response or resolution is breached', async () => {
    // Acme's contract: the Standard policy, P1 on the 24x7 calendar with a
    // 15-minute response. Borealis: Premium, P1 response 10 minutes.
    const q = word();
    const late = await ticket({ queue: q, ...p1 });
    const replied = await ticket({ queue: q, ...p1, client_id: BOREALIS });
    const calm = await ticket({ queue: q, priority: 'P4', priority_reason: 'cosmetic' });
    assert.equal(late.sla.response_breached, false);
    assertStatus(await c.post(`/api/v1/tickets/${replied.id}/messages`, { kind: 'reply', body: 'on it' }, { token: T.tier1 }), 201);
    assertStatus(await c.post('/api/v1/test/clock', { advance_seconds: 20 * 60 }, { token: T.admin }), 200);
    const got = assertStatus(await c.get(`/api/v1/tickets/${late.id}`, { token: T.tier1 }), 200);
    assert.equal(got.sla.response_breached, true, 'the scheduler recorded the breach');
    assert.deepEqual(await row(q), { queue: q, open: 3, unassigned: 3, p1: 2, breached: 1 });
    assert.deepEqual(await row(q, `?client_id=${BOREALIS}`), { queue: q, open: 1, unassigned: 1, p1: 1, breached: 0 });
    // Resolved, a breached ticket leaves the counts (its breach stays on it).
    await patch(late.id, { status: 'resolved' });
    assert.deepEqual(await row(q), { queue: q, open: 2, unassigned: 2, p1: 1, breached: 0 });
    assert.ok(calm.id);
  });

  test('provider staff only: every client role is 403', async () => {
    for (const who of ['admin', 'dispatcher', 'tier1'])
      assertStatus(await c.get('/api/v1/queues', { token: T[who] }), 200);
    for (const who of CLIENT_ROLES)
      assertProblem(await c.get('/api/v1/queues', { token: T[who] }), 403);
    assertProblem(await c.get(`/api/v1/queues?client_id=${ACME}`, { token: T.acmeAdmin }), 403);
    assertProblem(await c.get('/api/v1/queues'), 401);
  });

  for (const bad of ['0', '-1', 'abc', '1.5', '', '99999999999999999999'])
    test(`client_id=${JSON.stringify(bad)} is 400 naming client_id`, async () => {
      assertProblem(await c.get(`/api/v1/queues?client_id=${encodeURIComponent(bad)}`, { token: T.tier1 }), 400,
        { slug: 'validation', field: 'client_id' });
    });
});

describe('GET /api/v1/contacts (search)', () => {
  test('finds a name by its start or a word\'s, without case; each item names its client', async () => {
    const w = word();
    const jane = await contact(ACME, { name: `${w} Jane Roe`, email: `${w}.roe@acme-dental.example` });
    const mary = await contact(BOREALIS, { name: `${w} Mary-Jane Watson` });
    await contact(ACME, { name: `${w} Janet Other` });
    assert.deepEqual(await names({ q: w }), [`${w} Jane Roe`, `${w} Mary-Jane Watson`, `${w} Janet Other`]);
    assert.deepEqual(await names({ q: `${w.toUpperCase()} JANE R` }), [`${w} Jane Roe`]);
    assert.deepEqual(await names({ q: `${w} jane` }), [`${w} Jane Roe`, `${w} Janet Other`]);
    assert.deepEqual(await names({ q: `${w} mary-jane w` }), [`${w} Mary-Jane Watson`]);
    assert.deepEqual(await names({ q: `${w} wats` }), [], 'the words of q are matched in order, together');
    const found = (await search({ q: `${w.slice(0, -1)}` })).items.filter((i) => i.name.startsWith(w));
    assert.equal(found.length, 3, 'a prefix of the first word');
    assert.deepEqual(await names({ q: w.slice(2) }), [], 'not the middle of a word');
    const items = (await search({ q: `${w} jane r` })).items;
    assert.equal(items.length, 1);
    assert.equal(items[0].id, jane.id);
    assert.equal(items[0].client_id, ACME);
    assert.equal(items[0].client_name, 'Acme Dental');
    assert.equal(items[0].email, `${w}.roe@acme-dental.example`);
    // Every word of the name starts a match: "mary", and "jane" after the hyphen.
    const m = word();
    await contact(BOREALIS, { name: `Mary-Jane ${m}` });
    assert.deepEqual(await names({ q: m }), [`Mary-Jane ${m}`]);
    const byWord = (await search({ q: 'jane', client_id: BOREALIS, limit: 500 })).items.map((i) => i.name);
    assert.ok(byWord.includes(`Mary-Jane ${m}`), JSON.stringify(byWord));
    assert.ok(byWord.includes(mary.name), JSON.stringify(byWord));
    const got = (await search({ q: m })).items[0];
    assert.equal(got.client_id, BOREALIS);
    assert.equal(got.client_name, 'Borealis Logistics');
  });

  test('finds the start of the e-mail address', async () => {
    const w = word();
    await contact(ACME, { name: 'Someone Else', email: `${w}@acme-dental.example` });
    assert.deepEqual(await names({ q: w }), ['Someone Else']);
    assert.deepEqual(await names({ q: `${w.toUpperCase()}@ACME` }), ['Someone Else']);
    assert.deepEqual(await names({ q: `${w.slice(1)}` }), [], 'not the middle of the address');
  });

  test('finds phone digits whatever the spaces and punctuation', async () => {
    const w = word();
    const digits = String(1000000 + Math.floor(Math.random() * 8999999)); // 7 digits, unique enough
    const phone = `+1 (${digits.slice(0, 3)}) ${digits.slice(3)}`;
    await contact(ACME, { name: `${w} Phone`, phone });
    const mine = async (q) => (await search({ q, limit: 500 })).items.filter((i) => i.name.startsWith(w)).map((i) => i.phone);
    for (const q of [digits, `${digits.slice(0, 3)} ${digits.slice(3, 5)}`, `(${digits.slice(0, 3)}) ${digits.slice(3)}`,
      `${digits.slice(0, 3)}-${digits.slice(3)}`, `1 ${digits}`, `+1${digits}`, `${digits.slice(2)}`])
      assert.deepEqual(await mine(q), [phone], `q ${q}`);
    assert.deepEqual(await mine(`${digits}9`), [], 'more digits than the phone has');
    // Letters with digits are not a phone number.
    assert.deepEqual(await mine(`a${digits}`), []);
  });

  test('the demo example: "555 01" finds +1 212 555 0101', async () => {
    const items = (await search({ q: '555 01', client_id: ACME })).items;
    assert.ok(items.some((i) => i.phone === '+1 212 555 0101'), JSON.stringify(items));
  });

  test('% and _ in q match themselves, not anything', async () => {
    const w = word();
    await contact(ACME, { name: `${w}% Percent` });
    await contact(ACME, { name: `${w}_x Under` });
    await contact(ACME, { name: `${w}ax Letter` });
    await contact(ACME, { name: `${w}\\ Back` });
    assert.deepEqual(await names({ q: `${w}%` }), [`${w}% Percent`]);
    assert.deepEqual(await names({ q: `${w}_` }), [`${w}_x Under`]);
    assert.deepEqual(await names({ q: `${w}_x` }), [`${w}_x Under`]);
    assert.deepEqual(await names({ q: `${w}\\` }), [`${w}\\ Back`]);
    assert.deepEqual(await names({ q: `${w}%x` }), []);
    assert.deepEqual(await names({ q: `${w}` }), [`${w}% Percent`, `${w}_x Under`, `${w}ax Letter`, `${w}\\ Back`]);
    // A bare wildcard is not "everything": no name or address starts with it.
    const all = await search({ q: '%', limit: 500 });
    assert.ok(all.items.every((i) => / %|^%/.test(` ${i.name}`) || (i.email || '').startsWith('%')), JSON.stringify(all.items));
    const under = await search({ q: '_', limit: 500 });
    assert.ok(under.items.every((i) => / _/.test(` ${i.name.replace(/-/g, ' ')}`) || (i.email || '').startsWith('_')), JSON.stringify(under.items));
  });

  test('a client user only ever sees their own organisation\'s contacts', async () => {
    const w = word();
    await contact(ACME, { name: `${w} Acme Person`, email: `${w}@acme-dental.example`, phone: '+1 212 555 0199' });
    await contact(BOREALIS, { name: `${w} Borealis Person`, email: `${w}@borealis.example`, phone: '+49 30 5550 1099' });
    for (const who of ['borealisUser', 'borealisIT']) {
      assert.deepEqual(await names({ q: w }, who), [`${w} Borealis Person`]);
      assert.deepEqual(await names({ q: w, client_id: ACME }, who), [], 'asking for Acme gives nothing');
      const everything = (await search({ limit: 500 }, who)).items;
      assert.ok(everything.length >= 1);
      assert.ok(everything.every((i) => i.client_id === BOREALIS), JSON.stringify(everything));
      const phones = (await search({ q: '555', limit: 500 }, who)).items;
      assert.ok(phones.every((i) => i.client_id === BOREALIS), JSON.stringify(phones));
    }
    for (const who of ['acmeUser', 'acmeAdmin'])
      assert.deepEqual(await names({ q: w }, who), [`${w} Acme Person`]);
    assert.deepEqual(await names({ q: w }, 'tier1'), [`${w} Acme Person`, `${w} Borealis Person`]);
    assert.deepEqual(await names({ q: w, client_id: BOREALIS }, 'tier1'), [`${w} Borealis Person`]);
    assertProblem(await c.get(`/api/v1/contacts?q=${w}`), 401);
  });

  test('pages by id with limit and cursor', async () => {
    const w = word();
    for (const n of ['a', 'b', 'c', 'd', 'e'])
      await contact(ACME, { name: `${w} ${n}` });
    const seen = [];
    let cursor = null, pages = 0;
    do {
      const page = await search({ q: w, limit: 2, ...(cursor ? { cursor } : {}) });
      assert.ok(page.items.length <= 2);
      seen.push(...page.items.map((i) => i.name));
      cursor = page.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    assert.deepEqual(seen, ['a', 'b', 'c', 'd', 'e'].map((n) => `${w} ${n}`));
    assert.equal(pages, 3);
  });

  test('q is trimmed; an empty q lists every contact in scope', async () => {
    const w = word();
    await contact(ACME, { name: `${w} Trim` });
    assert.deepEqual(await names({ q: `   ${w} ` }), [`${w} Trim`]);
    const empty = await search({ q: '   ', limit: 500 }, 'acmeUser');
    const none = await search({ limit: 500 }, 'acmeUser');
    assert.deepEqual(empty, none);
    assert.ok(none.items.some((i) => i.name === `${w} Trim`));
  });

  test('q of 100 characters is fine (counted as characters, not bytes)', async () => {
    assertStatus(await c.get(`/api/v1/contacts?q=${'a'.repeat(100)}`, { token: T.tier1 }), 200);
    assertStatus(await c.get(`/api/v1/contacts?q=${encodeURIComponent('é'.repeat(100))}`, { token: T.tier1 }), 200);
  });

  for (const [label, query, field] of [
    ['q longer than 100 characters', `q=${'a'.repeat(101)}`, 'q'],
    ['q of 101 two-byte characters', `q=${encodeURIComponent('é'.repeat(101))}`, 'q'],
    ['q with a control character', 'q=a%01b', 'q'],
    ['limit 0', 'q=a&limit=0', 'limit'],
    ['limit 501', 'q=a&limit=501', 'limit'],
    ['limit that is not a number', 'limit=ten', 'limit'],
    ['a cursor that is not one', 'cursor=-5', 'cursor'],
    ['client_id 0', 'client_id=0', 'client_id'],
    ['client_id that is not a number', 'q=a&client_id=acme', 'client_id'],
  ]) {
    test(`${label} is 400 naming ${field}`, async () => {
      assertProblem(await c.get(`/api/v1/contacts?${query}`, { token: T.tier1 }), 400, { slug: 'validation', field });
    });
  }
});

describe('contacts carry their client\'s name everywhere', () => {
  test('create, get and a client\'s list', async () => {
    const created = await contact(BOREALIS, { name: uniq('Named') });
    assert.equal(created.client_name, 'Borealis Logistics');
    const got = assertStatus(await c.get(`/api/v1/contacts/${created.id}`, { token: T.borealisUser }), 200);
    assert.equal(got.client_name, 'Borealis Logistics');
    const list = assertStatus(await c.get(`/api/v1/clients/${BOREALIS}/contacts?limit=500`, { token: T.tier1 }), 200);
    assert.ok(list.items.every((i) => i.client_name === 'Borealis Logistics'));
  });
});
