// validation.test.mjs: bad input is refused with problem+json naming the
// field, and changes nothing.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { ACME, DEMO, startServer } from './lib/server.mjs';
import { assertProblem, assertStatus, uniq } from './lib/util.mjs';

let srv, c, token, snap;

before(async () => {
  srv = await startServer();
  c = srv.client;
  token = await c.token(await c.session(DEMO.admin, srv.password));
});
after(() => srv?.stop());

/* Everything a bad request could have touched, as the admin sees it. */
async function snapshot() {
  const out = {};
  for (const p of ['/api/v1/clients?limit=500', `/api/v1/clients/${ACME}`, `/api/v1/clients/${ACME}/contacts?limit=500`,
    '/api/v1/users?limit=500', '/api/v1/settings']) {
    const r = await c.get(p, { token });
    assertStatus(r, 200);
    out[p] = { body: r.body, etag: r.headers.get('etag') };
  }
  return out;
}

beforeEach(async () => { snap = await snapshot(); });
const unchanged = async () => assert.deepEqual(await snapshot(), snap, 'nothing changed');

const post = (p, body, o = {}) => c.post(p, body, { token, ...o });
const patch = (p, body, o = {}) => c.patch(p, body, { token, ...o });
const contact1 = async () => (await c.get(`/api/v1/clients/${ACME}/contacts`, { token })).body.items[0];
const userId = async (email) => (await c.get('/api/v1/users?limit=500', { token })).body.items.find((u) => u.email === email).id;

describe('malformed bodies', () => {
  test('malformed JSON is 400 malformed-json', async () => {
    for (const body of ['{"name":', '{name: "x"}', '', 'null x', '{"name":"a"}}'])
      assertProblem(await post('/api/v1/clients', body), 400, { slug: 'malformed-json' });
    assertProblem(await patch(`/api/v1/clients/${ACME}`, '{"notes":'), 400, { slug: 'malformed-json' });
    await unchanged();
  });

  test('a duplicated key is refused', async () => {
    assertProblem(await post('/api/v1/clients', `{"name":"${uniq('dup')}","name":"other"}`), 400);
    await unchanged();
  });

  test('a body that is not an object is 400', async () => {
    for (const body of ['[]', '"name"', '42', 'null', 'true'])
      assertProblem(await post('/api/v1/clients', body), 400);
    await unchanged();
  });

  test('a wrong Content-Type is 415', async () => {
    const body = JSON.stringify({ name: uniq('ct') });
    for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'])
      assertProblem(await post('/api/v1/clients', body, { headers: { 'Content-Type': ct } }), 415);
    assertProblem(await c.api('POST', '/api/v1/clients', { token, body: Buffer.from(body), headers: { 'Content-Type': '' } }), 415);
    await unchanged();
  });

  test('a body over 1 MiB is 413', async () => {
    const big = JSON.stringify({ name: uniq('big'), notes: 'n'.repeat(1 << 20) });
    assertProblem(await post('/api/v1/clients', big), 413);
    assertProblem(await patch(`/api/v1/clients/${ACME}`, big), 413);
    assertProblem(await post(`/api/v1/clients/${ACME}/contacts`, big), 413);
    await unchanged();
  });

  test('a chunked body over 1 MiB is 413 too', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let n = 0;
    const body = new ReadableStream({ pull(ctl) { if (n++ < 32) ctl.enqueue(chunk); else ctl.close(); } });
    const res = await fetch(srv.url + '/api/v1/clients', {
      method: 'POST', body, duplex: 'half',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    });
    assert.equal(res.status, 413, await res.text());
    await unchanged();
  });

  test('a client that hangs up mid-body changes nothing and hurts nothing', async () => {
    const { port } = new URL(srv.url);
    await new Promise((resolve, reject) => {
      const sock = net.connect(Number(port), '127.0.0.1', () => {
        sock.write('POST /api/v1/clients HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
          `Authorization: Bearer ${token}\r\nContent-Length: 100000\r\n\r\n{"name":"half`);
        setTimeout(() => { sock.destroy(); resolve(); }, 100);
      });
      sock.on('error', reject);
    });
    assertStatus(await c.get('/healthz'), 200);
    await unchanged();
  });

  test('a body just under 1 MiB is parsed (and refused for its field)', async () => {
    const body = JSON.stringify({ name: 'n'.repeat((1 << 20) - 20) });
    assertProblem(await post('/api/v1/clients', body), 400, { field: 'name' });
    await unchanged();
  });
});

describe('fields', () => {
  test('unknown fields are 400 naming them', async () => {
    assertProblem(await post('/api/v1/clients', { name: uniq('c'), colour: 'red' }), 400, { field: 'colour' });
    assertProblem(await patch(`/api/v1/clients/${ACME}`, { notes: 'x', id: 5 }), 400, { field: 'id' });
    assertProblem(await post(`/api/v1/clients/${ACME}/contacts`, { name: 'X', client_id: 2 }), 400, { field: 'client_id' });
    assertProblem(await post('/api/v1/users', { email: `${uniq('u')}@x.example`, name: 'X', role: 'admin', is_root: true }), 400, { field: 'is_root' });
    assertProblem(await post('/api/v1/auth/login', { email: DEMO.admin, password: srv.password, remember: true }), 400, { field: 'remember' });
    assertProblem(await patch('/api/v1/settings', { mfa_required_for_staff: true, debug: true }), 400, { field: 'debug' });
    await unchanged();
  });

  test('missing required fields are 400 naming them', async () => {
    assertProblem(await post('/api/v1/clients', {}), 400, { field: 'name' });
    assertProblem(await post(`/api/v1/clients/${ACME}/contacts`, { email: 'a@b.example' }), 400, { field: 'name' });
    const r = await post('/api/v1/users', { email: `${uniq('u')}@x.example` });
    assertProblem(r, 400, { field: 'name' });
    assertProblem(r, 400, { field: 'role' });
    assertProblem(await post('/api/v1/tokens', {}), 400, { field: 'name' });
    assertProblem(await patch('/api/v1/settings', {}), 400, { field: 'mfa_required_for_staff' });
    await unchanged();
  });

  test('wrong types are 400 naming the field', async () => {
    const cases = [
      ['/api/v1/clients', { name: 42 }, 'name'],
      ['/api/v1/clients', { name: uniq('c'), active: 'yes' }, 'active'],
      ['/api/v1/clients', { name: uniq('c'), timezone: 1 }, 'timezone'],
      ['/api/v1/clients', { name: uniq('c'), notes: ['a'] }, 'notes'],
      ['/api/v1/clients', { name: null }, 'name'],
      [`/api/v1/clients/${ACME}/contacts`, { name: 'X', email: 5 }, 'email'],
      [`/api/v1/clients/${ACME}/contacts`, { name: { first: 'X' } }, 'name'],
      ['/api/v1/users', { email: `${uniq('u')}@demo.itsup.test`, name: 'X', role: 'technician', tier: '1' }, 'tier'],
      ['/api/v1/users', { email: `${uniq('u')}@demo.itsup.test`, name: 'X', role: 'technician', tier: 1.5 }, 'tier'],
      ['/api/v1/users', { email: `${uniq('u')}@demo.itsup.test`, name: 'X', role: 'superuser' }, 'role'],
      ['/api/v1/users', { email: `${uniq('u')}@demo.itsup.test`, name: 'X', role: 'client_user', client_id: '1' }, 'client_id'],
      ['/api/v1/tokens', { name: 'x', expires_at: 'tomorrow' }, 'expires_at'],
    ];
    for (const [p, body, field] of cases)
      assertProblem(await post(p, body), 400, { field });
    assertProblem(await patch('/api/v1/settings', { mfa_required_for_staff: 'false' }), 400, { field: 'mfa_required_for_staff' });
    await unchanged();
  });

  test('text with NUL or control characters, or too long, is 400', async () => {
    for (const name of ['line\nbreak', 'tab\there', 'esc\u001b[31m', 'del\u007f', '', 'n'.repeat(201)])
      assertProblem(await post('/api/v1/clients', { name }), 400, { field: 'name' });
    assertProblem(await post('/api/v1/clients', { name: 'a\u0000b' }), 400);
    await unchanged();
  });

  test('a bad time zone is 400 naming timezone', async () => {
    for (const timezone of ['Mars/Olympus_Mons', '../../etc/passwd', '/etc/localtime', 'Europe', 'Europe/Berlin ', ''])
      assertProblem(await post('/api/v1/clients', { name: uniq('tz'), timezone }), 400, { field: 'timezone' });
    assertProblem(await patch(`/api/v1/clients/${ACME}`, { timezone: 'Not/A_Zone' }), 400, { field: 'timezone' });
    await unchanged();
  });

  test('a good time zone is kept', async () => {
    const r = await post('/api/v1/clients', { name: uniq('tz-ok'), timezone: 'Australia/Lord_Howe' });
    assertStatus(r, 201);
    assert.equal(r.body.timezone, 'Australia/Lord_Howe');
  });

  test('a bad e-mail address is 400 naming email', async () => {
    for (const email of ['not-an-email', 'a@b', '@example.com', 'a@@b.example', 'a b@c.example', 'a@b.', '<a@b.example>'])
      assertProblem(await post(`/api/v1/clients/${ACME}/contacts`, { name: 'X', email }), 400, { field: 'email' });
    for (const email of ['nobody', 'x@y'])
      assertProblem(await post('/api/v1/users', { email, name: 'X', role: 'dispatcher' }), 400, { field: 'email' });
    const c1 = await contact1();
    assertProblem(await patch(`/api/v1/contacts/${c1.id}`, { email: 'broken' }), 400, { field: 'email' });
    await unchanged();
  });

  test('a bad email_domain is 400', async () => {
    for (const email_domain of ['Example.COM', 'nodot', '.example.com', 'exa mple.com'])
      assertProblem(await post('/api/v1/clients', { name: uniq('dom'), email_domain }), 400, { field: 'email_domain' });
    await unchanged();
  });

  test('a role of the wrong shape is 400', async () => {
    const email = () => `${uniq('shape')}@demo.itsup.test`;
    assertProblem(await post('/api/v1/users', { email: email(), name: 'X', role: 'technician' }), 400, { field: 'tier' });
    assertProblem(await post('/api/v1/users', { email: email(), name: 'X', role: 'technician', tier: 4 }), 400, { field: 'tier' });
    assertProblem(await post('/api/v1/users', { email: email(), name: 'X', role: 'dispatcher', tier: 2 }), 400, { field: 'tier' });
    assertProblem(await post('/api/v1/users', { email: email(), name: 'X', role: 'client_user' }), 400, { field: 'client_id' });
    assertProblem(await post('/api/v1/users', { email: email(), name: 'X', role: 'admin', client_id: ACME }), 400, { field: 'client_id' });
    assertProblem(await post('/api/v1/users', { email: email(), name: 'X', role: 'admin', password: 'short' }), 400, { field: 'password' });
    await unchanged();
  });

  test('a client user for a client that does not exist is refused', async () => {
    const r = await post('/api/v1/users', { email: `${uniq('ghost')}@x.example`, name: 'X', role: 'client_user', client_id: 999999 });
    assert.ok([400, 404].includes(r.status), r.text);
    await unchanged();
  });

  test('a PATCH with nothing to change is 400', async () => {
    assertProblem(await patch(`/api/v1/clients/${ACME}`, {}), 400);
    assertProblem(await patch(`/api/v1/contacts/${(await contact1()).id}`, {}), 400);
    assertProblem(await patch(`/api/v1/users/${await userId(DEMO.tier1)}`, {}), 400);
    await unchanged();
  });

  test('several bad fields are all named', async () => {
    const r = await post('/api/v1/clients', { name: 7, timezone: 'Nowhere/Land', active: 'no' });
    for (const field of ['name', 'timezone', 'active'])
      assertProblem(r, 400, { field });
    await unchanged();
  });

  test('changing your own password needs the current one', async () => {
    const tech = await c.session(DEMO.tier1, srv.password);
    const id = tech.user.id;
    snap = await snapshot(); // the login itself set last_login_at
    assertProblem(await c.patch(`/api/v1/users/${id}`, { password: 'brand-new-password' }, { session: tech }), 400, { field: 'current_password' });
    assertProblem(await c.patch(`/api/v1/users/${id}`, { password: 'brand-new-password', current_password: 'wrong-one-123' }, { session: tech }), 400, { field: 'current_password' });
    await unchanged();
    assertStatus(await c.login(DEMO.tier1, srv.password), 200, 'the old password still works');
  });
});

describe('addresses and headers', () => {
  test('ids that are not positive integers are 404', async () => {
    for (const id of ['0', '-1', 'abc', '1.5', '01', '99999999999999999999', '1e3', '1/', '1;x'])
      assertProblem(await c.get(`/api/v1/clients/${id}`, { token }), 404);
  });

  test('bad paging parameters are 400 naming them', async () => {
    for (const q of ['limit=0', 'limit=501', 'limit=ten', 'limit=-5'])
      assertProblem(await c.get(`/api/v1/clients?${q}`, { token }), 400, { field: 'limit' });
    for (const q of ['cursor=abc', 'cursor=-1'])
      assertProblem(await c.get(`/api/v1/clients?${q}`, { token }), 400, { field: 'cursor' });
    assertProblem(await c.get('/api/v1/users?role=superuser', { token }), 400, { field: 'role' });
    assertProblem(await c.get('/api/v1/users?client_id=x', { token }), 400, { field: 'client_id' });
  });

  test('a malformed If-Match is 400', async () => {
    for (const etag of ['v1', '"1"', '"v"', '"v0"', '"vx"', 'W/"v1"'])
      assertProblem(await patch(`/api/v1/clients/${ACME}`, { notes: 'x' }, { headers: { 'If-Match': etag } }), 400);
    await unchanged();
  });

  test('a malformed Idempotency-Key is 400', async () => {
    for (const key of ['', 'k'.repeat(256)])
      assertProblem(await post('/api/v1/clients', { name: uniq('idem') }, { headers: { 'Idempotency-Key': key } }), 400);
    await unchanged();
  });
});

describe('query parameters', () => {
  test('a parameter that is not UTF-8 is 400 naming it, on every route', async () => {
    for (const [p, field] of [['/api/v1/tickets?q=%FF', 'q'], ['/api/v1/tickets?queue=%C3%28', 'queue'],
      [`/api/v1/clients/${ACME}/contacts?q=ab%FE`, 'q'], ['/api/v1/contacts?q=%80x', 'q']]) {
      assertProblem(await c.get(p, { token }), 400, { field });
    }
    // UTF-8 text is fine.
    assertStatus(await c.get('/api/v1/tickets?q=%C3%9Cberraschung', { token }), 200);
  });
});
