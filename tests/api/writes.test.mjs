// writes.test.mjs: idempotent creates, ETag versions and If-Match.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ACME, BOREALIS, DEMO, startServer } from './lib/server.mjs';
import { assertProblem, assertStatus, uniq } from './lib/util.mjs';

let srv, c, token, dispatcher;

before(async () => {
  srv = await startServer();
  c = srv.client;
  token = await c.token(await c.session(DEMO.admin, srv.password));
  dispatcher = await c.token(await c.session(DEMO.dispatcher, srv.password));
});
after(() => srv?.stop());

const key = () => ({ 'Idempotency-Key': randomUUID() });
const list = async (p) => (await c.get(`${p}${p.includes('?') ? '&' : '?'}limit=500`, { token })).body.items;

describe('Idempotency-Key', () => {
  const creates = [
    ['a client', '/api/v1/clients', () => ({ name: uniq('Idem Client') })],
    ['a contact', `/api/v1/clients/${ACME}/contacts`, () => ({ name: uniq('Idem Contact'), email: `${uniq('c')}@acme-dental.example` })],
    ['a user', '/api/v1/users', () => ({ email: `${uniq('idem')}@demo.itsup.test`, name: 'Idem User', role: 'technician', tier: 2 })],
  ];

  for (const [what, path, make] of creates) {
    test(`a retried create of ${what} answers 201, the same object, Idempotent-Replayed: true`, async () => {
      const body = make();
      const headers = key();
      const first = await c.post(path, body, { token, headers });
      assertStatus(first, 201);
      assert.equal(first.headers.get('idempotent-replayed'), null);
      const again = await c.post(path, body, { token, headers });
      assertStatus(again, 201);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.deepEqual(again.body, first.body);
      assert.equal(again.headers.get('location'), first.headers.get('location'));
      assert.equal(again.headers.get('etag'), first.headers.get('etag'));
      const listPath = path === '/api/v1/users' ? '/api/v1/users' : path;
      const field = body.email && path === '/api/v1/users' ? 'email' : 'name';
      assert.equal((await list(listPath)).filter((x) => x[field] === body[field]).length, 1, 'created once');
    });

    test(`the same key with a different body for ${what} is 409, nothing created`, async () => {
      const headers = key();
      assertStatus(await c.post(path, make(), { token, headers }), 201);
      const before = await list(path);
      const other = make();
      assertProblem(await c.post(path, other, { token, headers }), 409);
      assert.deepEqual(await list(path), before);
    });
  }

  test('the same key and body on another path is 409', async () => {
    const headers = key();
    const body = { name: uniq('Path Contact') };
    assertStatus(await c.post(`/api/v1/clients/${ACME}/contacts`, body, { token, headers }), 201);
    assertProblem(await c.post(`/api/v1/clients/${BOREALIS}/contacts`, body, { token, headers }), 409);
    assert.ok(!(await list(`/api/v1/clients/${BOREALIS}/contacts`)).some((x) => x.name === body.name));
  });

  test('keys belong to their user: another user with the same key creates its own', async () => {
    const headers = key();
    const a = await c.post('/api/v1/clients', { name: uniq('Mine') }, { token, headers });
    const b = await c.post('/api/v1/clients', { name: uniq('Yours') }, { token: dispatcher, headers });
    assertStatus(a, 201);
    assertStatus(b, 201);
    assert.notEqual(a.body.id, b.body.id);
    assert.equal(b.headers.get('idempotent-replayed'), null);
  });

  test('a create that failed validation does not use up the key', async () => {
    const headers = key();
    assertProblem(await c.post('/api/v1/clients', { name: '' }, { token, headers }), 400);
    const r = await c.post('/api/v1/clients', { name: uniq('After Failure') }, { token, headers });
    assertStatus(r, 201);
    assert.equal(r.headers.get('idempotent-replayed'), null);
  });

  test('10 simultaneous retries create one object, all answered with it', async () => {
    const headers = key();
    const body = { name: uniq('Race') };
    const rs = await Promise.all(Array.from({ length: 10 }, () => c.post('/api/v1/clients', body, { token, headers })));
    for (const r of rs)
      assertStatus(r, 201);
    assert.equal(new Set(rs.map((r) => r.body.id)).size, 1);
    assert.equal(rs.filter((r) => r.headers.get('idempotent-replayed') !== 'true').length, 1);
    assert.equal((await list('/api/v1/clients')).filter((x) => x.name === body.name).length, 1);
  });

  test('without a key, two identical POSTs are two creates', async () => {
    const body = { name: uniq('No Key') };
    const a = await c.post(`/api/v1/clients/${ACME}/contacts`, body, { token });
    const b = await c.post(`/api/v1/clients/${ACME}/contacts`, body, { token });
    assertStatus(a, 201);
    assertStatus(b, 201);
    assert.notEqual(a.body.id, b.body.id);
  });
});

describe('ETag and If-Match', () => {
  const objects = [
    ['client', async () => (await c.post('/api/v1/clients', { name: uniq('Versioned') }, { token })).body.id,
      (id) => `/api/v1/clients/${id}`, (i) => ({ notes: `edit ${i}` })],
    ['contact', async () => (await c.post(`/api/v1/clients/${ACME}/contacts`, { name: uniq('Versioned') }, { token })).body.id,
      (id) => `/api/v1/contacts/${id}`, (i) => ({ phone: `+1 555 000 ${i}` })],
    ['user', async () => (await c.post('/api/v1/users', { email: `${uniq('v')}@demo.itsup.test`, name: 'Versioned', role: 'dispatcher' }, { token })).body.id,
      (id) => `/api/v1/users/${id}`, (i) => ({ name: `Versioned ${i}` })],
  ];

  for (const [what, create, at, edit] of objects) {
    test(`a new ${what} is "v1"; each PATCH adds one`, async () => {
      const p = at(await create());
      const g = await c.get(p, { token });
      assert.equal(g.headers.get('etag'), '"v1"');
      for (let v = 1; v <= 3; v++) {
        const r = await c.patch(p, edit(v), { token, headers: { 'If-Match': `"v${v}"` } });
        assertStatus(r, 200);
        assert.equal(r.headers.get('etag'), `"v${v + 1}"`);
        const after = await c.get(p, { token });
        assert.equal(after.headers.get('etag'), `"v${v + 1}"`);
        assert.deepEqual(after.body, r.body);
      }
    });

    test(`a PATCH of a ${what} with an older If-Match is 412 and changes nothing`, async () => {
      const p = at(await create());
      assertStatus(await c.patch(p, edit(1), { token, headers: { 'If-Match': '"v1"' } }), 200);
      const before = await c.get(p, { token });
      assertProblem(await c.patch(p, edit(2), { token, headers: { 'If-Match': '"v1"' } }), 412, { slug: 'precondition-failed' });
      assertProblem(await c.patch(p, edit(3), { token, headers: { 'If-Match': '"v9"' } }), 412);
      const after = await c.get(p, { token });
      assert.deepEqual(after.body, before.body);
      assert.equal(after.headers.get('etag'), '"v2"');
    });
  }

  test('If-Match: * and no If-Match both apply the change', async () => {
    const id = await objects[0][1]();
    assertStatus(await c.patch(`/api/v1/clients/${id}`, { notes: 'star' }, { token, headers: { 'If-Match': '*' } }), 200);
    const r = await c.patch(`/api/v1/clients/${id}`, { notes: 'none' }, { token });
    assertStatus(r, 200);
    assert.equal(r.body.notes, 'none');
    assert.equal(r.headers.get('etag'), '"v3"');
  });

  test('a PATCH that fails validation does not bump the version', async () => {
    const id = await objects[0][1]();
    assertProblem(await c.patch(`/api/v1/clients/${id}`, { timezone: 'Nowhere/Land' }, { token, headers: { 'If-Match': '"v1"' } }), 400);
    assert.equal((await c.get(`/api/v1/clients/${id}`, { token })).headers.get('etag'), '"v1"');
  });

  test('of 8 simultaneous PATCHes with the same If-Match exactly one wins', async () => {
    const id = await objects[0][1]();
    const rs = await Promise.all(Array.from({ length: 8 }, (_, i) =>
      c.patch(`/api/v1/clients/${id}`, { notes: `racer ${i}` }, { token, headers: { 'If-Match': '"v1"' } })));
    const won = rs.filter((r) => r.status === 200);
    assert.equal(won.length, 1, rs.map((r) => r.status).join(','));
    for (const r of rs.filter((x) => x.status !== 200))
      assertProblem(r, 412);
    const after = await c.get(`/api/v1/clients/${id}`, { token });
    assert.equal(after.headers.get('etag'), '"v2"');
    assert.equal(after.body.notes, won[0].body.notes);
  });

  test('a PATCH of something missing is 404, whatever the If-Match', async () => {
    assertProblem(await c.patch('/api/v1/clients/999999', { notes: 'x' }, { token, headers: { 'If-Match': '"v1"' } }), 404);
    assertProblem(await c.patch('/api/v1/contacts/999999', { name: 'x' }, { token, headers: { 'If-Match': '"v1"' } }), 404);
  });

  test('updated_at moves, created_at does not', async () => {
    const id = await objects[0][1]();
    const before = (await c.get(`/api/v1/clients/${id}`, { token })).body;
    await new Promise((r) => setTimeout(r, 5));
    const after = (await c.patch(`/api/v1/clients/${id}`, { notes: 'later' }, { token })).body;
    assert.equal(after.created_at, before.created_at);
    assert.ok(Date.parse(after.updated_at) > Date.parse(before.updated_at), `${after.updated_at} > ${before.updated_at}`);
  });
});

describe('conflicts', () => {
  test('a second client with the same name is 409, nothing created', async () => {
    const name = uniq('Unique Name');
    assertStatus(await c.post('/api/v1/clients', { name }, { token }), 201);
    assertProblem(await c.post('/api/v1/clients', { name: name.toUpperCase() }, { token }), 409);
    assert.equal((await list('/api/v1/clients')).filter((x) => x.name.toLowerCase() === name.toLowerCase()).length, 1);
  });

  test("a contact's e-mail is unique within its organisation only", async () => {
    const email = `${uniq('shared')}@example.com`;
    assertStatus(await c.post(`/api/v1/clients/${ACME}/contacts`, { name: 'First', email }, { token }), 201);
    const dup = await c.post(`/api/v1/clients/${ACME}/contacts`, { name: 'Second', email: email.toUpperCase() }, { token });
    assertProblem(dup, 409, { field: 'email' });
    assert.equal((await list(`/api/v1/clients/${ACME}/contacts`)).filter((x) => x.email === email).length, 1);
    assertStatus(await c.post(`/api/v1/clients/${BOREALIS}/contacts`, { name: 'Elsewhere', email }, { token }), 201);
  });

  test('a PATCH onto a name in use is 409 and changes nothing', async () => {
    const a = (await c.post('/api/v1/clients', { name: uniq('Taken') }, { token })).body;
    const b = await c.get(`/api/v1/clients/${BOREALIS}`, { token });
    assertProblem(await c.patch(`/api/v1/clients/${BOREALIS}`, { name: a.name }, { token }), 409, { field: 'name' });
    const after = await c.get(`/api/v1/clients/${BOREALIS}`, { token });
    assert.deepEqual(after.body, b.body);
    assert.equal(after.headers.get('etag'), b.headers.get('etag'));
  });

  test('a second user with the same e-mail is 409', async () => {
    assertProblem(await c.post('/api/v1/users', { email: DEMO.tier1.toUpperCase(), name: 'Twin', role: 'technician', tier: 1 }, { token }), 409);
  });
});
