// tenancy.test.mjs: a client organisation sees only itself. Another
// organisation's objects answer 404 (never 403), exactly like ids that do
// not exist, and nothing of theirs changes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ACME, BOREALIS, DEMO, startServer } from './lib/server.mjs';
import { assertProblem, assertStatus, uniq } from './lib/util.mjs';

const MISSING = 999999;
let srv, c;
const t = {};        // tokens by DEMO key
const ids = {};      // user ids by DEMO key
const contacts = {}; // contact ids by client id

before(async () => {
  srv = await startServer();
  c = srv.client;
  for (const [k, email] of Object.entries(DEMO))
    t[k] = await c.token(await c.session(email, srv.password));
  const users = await c.get('/api/v1/users?limit=500', { token: t.admin });
  for (const [k, email] of Object.entries(DEMO))
    ids[k] = users.body.items.find((u) => u.email === email).id;
  for (const id of [ACME, BOREALIS])
    contacts[id] = (await c.get(`/api/v1/clients/${id}/contacts`, { token: t.admin })).body.items.map((x) => x.id);
});
after(() => srv?.stop());

/* What the admin sees of path (the truth, to compare before and after). */
const truth = async (path) => (await c.get(path, { token: t.admin })).body;

/* r must be a 404 indistinguishable from the one for a missing id. */
async function assertLooksMissing(r, missing) {
  assertProblem(r, 404);
  assert.equal(r.text, missing.text, 'same body as for an id that does not exist');
}

describe('lists', () => {
  test('a client user lists only their own organisation', async () => {
    for (const [who, own] of [['acmeUser', ACME], ['acmeAdmin', ACME], ['borealisUser', BOREALIS], ['borealisIT', BOREALIS]]) {
      const r = await c.get('/api/v1/clients', { token: t[who] });
      assertStatus(r, 200);
      assert.deepEqual(r.body.items.map((x) => x.id), [own], who);
    }
  });

  test('staff list every organisation', async () => {
    for (const who of ['admin', 'dispatcher', 'tier1']) {
      const r = await c.get('/api/v1/clients', { token: t[who] });
      assert.deepEqual(r.body.items.map((x) => x.id).slice(0, 2), [ACME, BOREALIS], who);
    }
  });

  test("a client admin lists only their organisation's users", async () => {
    const r = await c.get('/api/v1/users?limit=500', { token: t.acmeAdmin });
    assertStatus(r, 200);
    assert.ok(r.body.items.length >= 2);
    for (const u of r.body.items)
      assert.equal(u.client_id, ACME, u.email);
  });

  test("a client admin filtering on the other organisation gets none of its users", async () => {
    const r = await c.get(`/api/v1/users?client_id=${BOREALIS}`, { token: t.acmeAdmin });
    assert.ok(r.status === 200 || r.status === 404, r.text);
    if (r.status === 200)
      assert.deepEqual(r.body.items, []);
  });

  test('paging with limit and cursor walks every user once, within the organisation', async () => {
    for (const [who, all] of [['admin', null], ['acmeAdmin', ACME]]) {
      const seen = [];
      let cursor = null;
      for (let page = 0; page < 50; page++) {
        const r = await c.get(`/api/v1/users?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: t[who] });
        assertStatus(r, 200);
        assert.ok(r.body.items.length <= 2);
        seen.push(...r.body.items);
        cursor = r.body.next_cursor;
        if (!cursor)
          break;
      }
      const ids = seen.map((u) => u.id);
      assert.equal(new Set(ids).size, ids.length, `${who}: no user twice`);
      const truthList = (await c.get(`/api/v1/users?limit=500${all ? `&client_id=${all}` : ''}`, { token: t.admin })).body.items;
      assert.deepEqual(ids, truthList.map((u) => u.id), who);
    }
  });

  test('the cursor does not reach into the other organisation', async () => {
    const r = await c.get('/api/v1/clients?cursor=1', { token: t.acmeUser });
    assertStatus(r, 200);
    assert.deepEqual(r.body.items, []);
  });
});

describe('reading another organisation', () => {
  test('its client is 404, like a missing one', async () => {
    const missing = await c.get(`/api/v1/clients/${MISSING}`, { token: t.acmeUser });
    await assertLooksMissing(await c.get(`/api/v1/clients/${BOREALIS}`, { token: t.acmeUser }), missing);
    await assertLooksMissing(await c.get(`/api/v1/clients/${BOREALIS}`, { token: t.acmeAdmin }), missing);
    await assertLooksMissing(await c.get(`/api/v1/clients/${ACME}`, { token: t.borealisIT }), missing);
  });

  test('its contact list is 404, like a missing client', async () => {
    const missing = await c.get(`/api/v1/clients/${MISSING}/contacts`, { token: t.acmeUser });
    await assertLooksMissing(await c.get(`/api/v1/clients/${BOREALIS}/contacts`, { token: t.acmeUser }), missing);
    await assertLooksMissing(await c.get(`/api/v1/clients/${ACME}/contacts`, { token: t.borealisUser }), missing);
  });

  test('its contacts are 404, like missing ones', async () => {
    const missing = await c.get(`/api/v1/contacts/${MISSING}`, { token: t.acmeAdmin });
    for (const id of contacts[BOREALIS]) {
      await assertLooksMissing(await c.get(`/api/v1/contacts/${id}`, { token: t.acmeAdmin }), missing);
      await assertLooksMissing(await c.get(`/api/v1/contacts/${id}`, { token: t.acmeUser }), missing);
    }
    for (const id of contacts[ACME])
      await assertLooksMissing(await c.get(`/api/v1/contacts/${id}`, { token: t.borealisIT }), missing);
  });

  test('its users are 404, like missing ones', async () => {
    const missing = await c.get(`/api/v1/users/${MISSING}`, { token: t.acmeAdmin });
    for (const who of ['borealisIT', 'borealisUser', 'admin'])
      await assertLooksMissing(await c.get(`/api/v1/users/${ids[who]}`, { token: t.acmeAdmin }), missing);
    const missing2 = await c.get(`/api/v1/users/${MISSING}`, { token: t.borealisIT });
    await assertLooksMissing(await c.get(`/api/v1/users/${ids.acmeAdmin}`, { token: t.borealisIT }), missing2);
  });

  test('its own organisation reads fine', async () => {
    assertStatus(await c.get(`/api/v1/clients/${ACME}`, { token: t.acmeUser }), 200);
    assertStatus(await c.get(`/api/v1/clients/${ACME}/contacts`, { token: t.acmeUser }), 200);
    assertStatus(await c.get(`/api/v1/contacts/${contacts[ACME][0]}`, { token: t.acmeUser }), 200);
    assertStatus(await c.get(`/api/v1/users/${ids.acmeUser}`, { token: t.acmeAdmin }), 200);
  });

  test('a client user sees only themselves among users', async () => {
    assertStatus(await c.get(`/api/v1/users/${ids.acmeUser}`, { token: t.acmeUser }), 200);
    const missing = await c.get(`/api/v1/users/${MISSING}`, { token: t.acmeUser });
    await assertLooksMissing(await c.get(`/api/v1/users/${ids.acmeAdmin}`, { token: t.acmeUser }), missing);
  });
});

describe('changing another organisation', () => {
  test('PATCH of its contact is 404 and changes nothing', async () => {
    const id = contacts[BOREALIS][0];
    const before = await truth(`/api/v1/contacts/${id}`);
    const missing = await c.patch(`/api/v1/contacts/${MISSING}`, { name: 'Hijacked' }, { token: t.acmeAdmin });
    await assertLooksMissing(await c.patch(`/api/v1/contacts/${id}`, { name: 'Hijacked' }, { token: t.acmeAdmin }), missing);
    await assertLooksMissing(await c.patch(`/api/v1/contacts/${id}`, { name: 'Hijacked' }, { token: t.acmeUser }), missing);
    assert.deepEqual(await truth(`/api/v1/contacts/${id}`), before);
  });

  test('PATCH of its user is 404 and changes nothing', async () => {
    const before = await truth(`/api/v1/users/${ids.borealisUser}`);
    const missing = await c.patch(`/api/v1/users/${MISSING}`, { name: 'Hijacked' }, { token: t.acmeAdmin });
    await assertLooksMissing(await c.patch(`/api/v1/users/${ids.borealisUser}`, { name: 'Hijacked' }, { token: t.acmeAdmin }), missing);
    await assertLooksMissing(await c.patch(`/api/v1/users/${ids.borealisUser}`, { active: false }, { token: t.acmeAdmin }), missing);
    await assertLooksMissing(await c.patch(`/api/v1/users/${ids.borealisUser}`, { password: 'new-password-123' }, { token: t.acmeAdmin }), missing);
    assert.deepEqual(await truth(`/api/v1/users/${ids.borealisUser}`), before);
    assertStatus(await c.login(DEMO.borealisUser, srv.password), 200);
  });

  test('a client admin cannot change provider staff: 404, nothing changed', async () => {
    const before = await truth(`/api/v1/users/${ids.admin}`);
    const missing = await c.patch(`/api/v1/users/${MISSING}`, { active: false }, { token: t.acmeAdmin });
    await assertLooksMissing(await c.patch(`/api/v1/users/${ids.admin}`, { active: false }, { token: t.acmeAdmin }), missing);
    assert.deepEqual(await truth(`/api/v1/users/${ids.admin}`), before);
  });

  test('PATCH of its client answers exactly like a missing client, and changes nothing', async () => {
    const before = await truth(`/api/v1/clients/${BOREALIS}`);
    const missing = await c.patch(`/api/v1/clients/${MISSING}`, { name: 'Hijacked' }, { token: t.acmeAdmin });
    const r = await c.patch(`/api/v1/clients/${BOREALIS}`, { name: 'Hijacked' }, { token: t.acmeAdmin });
    assert.ok(r.status === 404 || r.status === 403, r.text);
    assert.equal(r.status, missing.status);
    assert.equal(r.text, missing.text);
    assert.deepEqual(await truth(`/api/v1/clients/${BOREALIS}`), before);
  });

  test('POST of a contact into it is 404 and creates nothing', async () => {
    const before = await truth(`/api/v1/clients/${BOREALIS}/contacts`);
    const missing = await c.post(`/api/v1/clients/${MISSING}/contacts`, { name: 'Planted' }, { token: t.acmeAdmin });
    for (const who of ['acmeAdmin', 'acmeUser'])
      await assertLooksMissing(await c.post(`/api/v1/clients/${BOREALIS}/contacts`, { name: 'Planted' }, { token: t[who] }), missing);
    await assertLooksMissing(await c.post(`/api/v1/clients/${ACME}/contacts`, { name: 'Planted' }, { token: t.borealisIT }), missing);
    assert.deepEqual(await truth(`/api/v1/clients/${BOREALIS}/contacts`), before);
  });

  test('client IT manages contacts of its own organisation', async () => {
    const r = await c.post(`/api/v1/clients/${BOREALIS}/contacts`, { name: uniq('By IT') }, { token: t.borealisIT });
    assertStatus(r, 201);
    assert.equal(r.body.client_id, BOREALIS);
  });

  test('a contact cannot be moved to another organisation', async () => {
    const r = await c.patch(`/api/v1/contacts/${contacts[ACME][0]}`, { client_id: BOREALIS }, { token: t.admin });
    assertProblem(r, 400, { field: 'client_id' });
    assert.equal((await truth(`/api/v1/contacts/${contacts[ACME][0]}`)).client_id, ACME);
  });
});

describe('a client admin creating users', () => {
  const usersOf = async (client) =>
    (await c.get(`/api/v1/users?limit=500&client_id=${client}`, { token: t.admin })).body.items.map((u) => u.email);

  test('creates a client_user in their own organisation', async () => {
    const email = `${uniq('new')}@acme-dental.example`;
    const r = await c.post('/api/v1/users', { email, name: 'New Hire', role: 'client_user' }, { token: t.acmeAdmin });
    assertStatus(r, 201);
    assert.equal(r.body.client_id, ACME);
    assert.equal(r.body.role, 'client_user');
    assert.ok((await usersOf(ACME)).includes(email));
  });

  test('also when naming their organisation explicitly', async () => {
    const r = await c.post('/api/v1/users', { email: `${uniq('new')}@acme-dental.example`, name: 'X', role: 'client_it', client_id: ACME }, { token: t.acmeAdmin });
    assertStatus(r, 201);
    assert.equal(r.body.client_id, ACME);
  });

  test('cannot create one in another organisation, answered as for a missing one', async () => {
    const email = `${uniq('planted')}@borealis.example`;
    const r = await c.post('/api/v1/users', { email, name: 'Planted', role: 'client_user', client_id: BOREALIS }, { token: t.acmeAdmin });
    const missing = await c.post('/api/v1/users', { email, name: 'Planted', role: 'client_user', client_id: MISSING }, { token: t.acmeAdmin });
    assert.ok(r.status === 403 || r.status === 404, r.text);
    assert.equal(r.status, missing.status);
    assert.equal(r.text, missing.text);
    assert.ok(!(await usersOf(BOREALIS)).includes(email));
  });

  test('cannot create a staff role: 403', async () => {
    for (const body of [
      { role: 'admin' },
      { role: 'dispatcher' },
      { role: 'technician', tier: 1 },
    ]) {
      const email = `${uniq('staff')}@acme-dental.example`;
      assertProblem(await c.post('/api/v1/users', { email, name: 'Staff', ...body }, { token: t.acmeAdmin }), 403);
      const all = await c.get('/api/v1/users?limit=500', { token: t.admin });
      assert.ok(!all.body.items.some((u) => u.email === email), body.role);
    }
  });

  test('cannot promote a user of their organisation to staff', async () => {
    assertProblem(await c.patch(`/api/v1/users/${ids.acmeUser}`, { role: 'admin', client_id: null }, { token: t.acmeAdmin }), 403);
    assert.equal((await truth(`/api/v1/users/${ids.acmeUser}`)).role, 'client_user');
  });

  test('cannot move a user of their organisation to another one', async () => {
    const r = await c.patch(`/api/v1/users/${ids.acmeUser}`, { client_id: BOREALIS }, { token: t.acmeAdmin });
    assert.ok(r.status === 403 || r.status === 404, r.text);
    assert.equal((await truth(`/api/v1/users/${ids.acmeUser}`)).client_id, ACME);
  });
});
