// access.test.mjs: who may call what. Every route in src/http/routes.c
// that is not public answers 401 without credentials (the list is read
// from routes.c, so a new route is covered the day it is added); roles
// are checked before anything changes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ACME, DEMO, startServer } from './lib/server.mjs';
import { assertProblem, assertStatus, uniq } from './lib/util.mjs';

const ROUTES_C = new URL('../../src/http/routes.c', import.meta.url);
const PUBLIC = [
  'GET /healthz',
  'GET /readyz',
  'GET /metrics',
  'GET /api/v1/openapi.json',
  'POST /api/v1/auth/login',
  // The CSAT link: no login, but a signature (tickets-outcomes.test.mjs).
  'GET /api/v1/csat/{id}',
  'POST /api/v1/csat/{id}',
  // Monitoring (issue 7): no login, but credentials of their own: an
  // enrolment token in the body, a device token (Bearer), a receiver token
  // (?token= or Bearer). Tested in monitoring.test.mjs and
  // alertmanager.test.mjs; below only that they refuse to work without.
  'POST /api/v1/agent/enroll',
  'POST /api/v1/agent/checkin',
  'POST /api/v1/integrations/alertmanager',
];
// The public routes that take credentials of their own (above), with a
// body that is valid but for the credential.
const OWN_CREDENTIALS = {
  'POST /api/v1/agent/enroll': { enroll_token: 'itsup_enr_not-a-real-token', hostname: 'access-test' },
  'POST /api/v1/agent/checkin': { batch_id: 1, metrics: [{ name: 'cpu.percent', value: 1 }] },
  'POST /api/v1/integrations/alertmanager': {
    version: '4', status: 'firing', receiver: 'itsup', alerts: [{
      status: 'firing', labels: { alertname: 'AccessTest', client: '1' }, annotations: {}, fingerprint: 'access-test',
    }],
  },
};

// A row whose 7th field is true is test_only: it exists only with
// `itsup serve --test-clock`, so this server (without it) answers 404.
function readRoutes() {
  const src = readFileSync(ROUTES_C, 'utf8');
  const re = /\{\s*"([A-Z]+)"\s*,\s*"([^"]+)"\s*,\s*(\w+)\s*,\s*(P_[A-Z]+)\s*,([^}]*)\}/g;
  return [...src.matchAll(re)].map(([, method, pattern, handler, perm, rest]) =>
    ({ method, pattern, handler, perm, testOnly: /\btrue\s*$/.test(rest) }));
}

const routes = readRoutes().filter((r) => !r.testOnly);
const concrete = (pattern, id = 1) => pattern.replace(/\{[a-z_]+\}/g, String(id));

describe('the route table', () => {
  test('routes.c parses into a plausible table', () => {
    assert.ok(routes.length >= 20, `found ${routes.length} routes`);
    for (const r of routes)
      assert.match(r.pattern, /^\//);
  });

  test('exactly the service routes, login, the signed CSAT link and the monitoring routes with credentials of their own are public', () => {
    const pub = routes.filter((r) => r.perm === 'P_PUBLIC').map((r) => `${r.method} ${r.pattern}`);
    assert.deepEqual(pub.sort(), [...PUBLIC].sort());
  });
});

let srv, c;
before(async () => {
  srv = await startServer();
  c = srv.client;
});
after(() => srv?.stop());

describe('without credentials', () => {
  for (const r of routes.filter((x) => x.perm !== 'P_PUBLIC')) {
    test(`${r.method} ${r.pattern} is 401`, async () => {
      const body = r.method === 'GET' ? undefined : {};
      const res = await c.api(r.method, concrete(r.pattern), { body });
      assertProblem(res, 401, { slug: 'unauthenticated' });
      assert.match(res.headers.get('www-authenticate') || '', /^Bearer/);
      // Same with credentials that are not real.
      assertProblem(await c.api(r.method, concrete(r.pattern), { body, token: 'itsup_not-a-real-token' }), 401);
      assertProblem(await c.api(r.method, concrete(r.pattern), {
        body, session: { cookie: 'not-a-real-session', csrf: 'not-a-real-csrf' },
      }), 401);
    });
  }

  // The CSAT link needs its signature rather than a login; that is tested
  // with real links in tickets-outcomes.test.mjs.
  for (const p of PUBLIC.filter((x) => x.startsWith('GET ') && !x.includes('{id}'))) {
    test(`${p} needs no login`, async () => {
      assertStatus(await c.get(p.slice(4)), 200);
    });
  }

  // Without their own credential, or with a user's login in its place,
  // these are 401 too: a user's token is no device or receiver token.
  for (const [p, body] of Object.entries(OWN_CREDENTIALS)) {
    const [method, path] = p.split(' ');
    test(`${p} is 401 without its own credential, even with a user's login`, async () => {
      const admin = await c.session(DEMO.admin, srv.password);
      const token = await c.token(admin);
      for (const opts of [{}, { token }, { session: admin }, { token: 'itsup_not-a-real-token' }]) {
        const res = await c.api(method, path, { body, ...opts });
        assertProblem(res, 401, { slug: 'unauthenticated' });
        assert.match(res.headers.get('www-authenticate') || '', /^Bearer/);
      }
      if (path === '/api/v1/integrations/alertmanager') {
        assertProblem(await c.api(method, `${path}?token=${token}`, { body }), 401);
        assertProblem(await c.api(method, `${path}?token=itsup_am_not-a-real-token`, { body }), 401);
      }
    });
  }

  test('nothing was created by those calls', async () => {
    const admin = await c.session(DEMO.admin, srv.password);
    const clients = await c.get('/api/v1/clients?limit=500', { session: admin });
    assert.deepEqual(clients.body.items.map((x) => x.id), [1, 2]);
    const users = await c.get('/api/v1/users?limit=500', { session: admin });
    assert.equal(users.body.items.length, 9);
    for (const id of [1, 2]) {
      const contacts = await c.get(`/api/v1/clients/${id}/contacts`, { session: admin });
      assert.equal(contacts.body.items.length, 2);
      const etoks = await c.get(`/api/v1/clients/${id}/enroll-tokens`, { session: admin });
      assert.deepEqual(etoks.body.items, []);
    }
    assert.deepEqual((await c.get('/api/v1/devices', { session: admin })).body.items, []);
    assert.deepEqual((await c.get('/api/v1/alerts?status=all', { session: admin })).body.items, []);
    assert.deepEqual((await c.get('/api/v1/alertmanager-receivers', { session: admin })).body.items, []);
    assert.deepEqual((await c.get('/api/v1/maintenance-windows', { session: admin })).body.items, []);
    // The three default checks of each client, nothing more.
    assert.equal((await c.get('/api/v1/checks', { session: admin })).body.items.length, 6);
  });
});

describe('roles', () => {
  const tokens = {};

  before(async () => {
    for (const [k, email] of Object.entries(DEMO))
      tokens[k] = await c.token(await c.session(email, srv.password));
  });

  // Every route whose permission is above a role is 403 for it, before
  // the handler runs (so before the body or the ids are looked at); the
  // list is read from routes.c, so a new route is covered the day it is
  // added.
  const BELOW = {
    P_STAFF: ['acmeAdmin', 'acmeUser', 'borealisIT', 'borealisUser'],
    P_DISPATCH: ['tier1', 'tier3', 'acmeAdmin', 'borealisIT'],
    P_ADMIN: ['dispatcher', 'tier2', 'acmeAdmin', 'borealisIT'],
  };
  test('every route is 403 for the roles below its permission', async () => {
    const count = async (p) => (await c.get(p, { token: tokens.admin })).body.items.length;
    const before = {
      checks: await count('/api/v1/checks'),
      windows: await count('/api/v1/maintenance-windows'),
      receivers: await count('/api/v1/alertmanager-receivers'),
      etoks: await count(`/api/v1/clients/${ACME}/enroll-tokens`),
    };
    let n = 0;
    for (const r of routes.filter((x) => BELOW[x.perm])) {
      for (const who of BELOW[r.perm]) {
        const body = r.method === 'GET' ? undefined : {};
        const res = await c.api(r.method, concrete(r.pattern), { body, token: tokens[who] });
        assert.equal(res.status, 403, `${r.method} ${r.pattern} as ${who}: ${res.status} ${res.text}`);
        assertProblem(res, 403, { slug: 'forbidden' });
        n++;
      }
    }
    assert.ok(n >= 100, `only ${n} calls`);
    assert.deepEqual({
      checks: await count('/api/v1/checks'),
      windows: await count('/api/v1/maintenance-windows'),
      receivers: await count('/api/v1/alertmanager-receivers'),
      etoks: await count(`/api/v1/clients/${ACME}/enroll-tokens`),
    }, before);
  });

  const clientNames = async () =>
    (await c.get('/api/v1/clients?limit=500', { token: tokens.admin })).body.items.map((x) => x.name);

  test('a technician cannot create a client: 403, nothing created', async () => {
    const name = uniq('by-tech');
    assertProblem(await c.post('/api/v1/clients', { name }, { token: tokens.tier1 }), 403, { slug: 'forbidden' });
    assert.ok(!(await clientNames()).includes(name));
  });

  test('a technician cannot change a client: 403, nothing changed', async () => {
    const before = await c.get('/api/v1/clients/1', { token: tokens.admin });
    assertProblem(await c.patch('/api/v1/clients/1', { notes: 'by tech' }, { token: tokens.tier2 }), 403);
    const after = await c.get('/api/v1/clients/1', { token: tokens.admin });
    assert.deepEqual(after.body, before.body);
  });

  test('a dispatcher and an admin can create clients', async () => {
    assertStatus(await c.post('/api/v1/clients', { name: uniq('by-dispatch') }, { token: tokens.dispatcher }), 201);
    assertStatus(await c.post('/api/v1/clients', { name: uniq('by-admin') }, { token: tokens.admin }), 201);
  });

  test('a technician can read clients and contacts', async () => {
    assertStatus(await c.get('/api/v1/clients', { token: tokens.tier1 }), 200);
    assertStatus(await c.get('/api/v1/clients/2/contacts', { token: tokens.tier1 }), 200);
  });

  test('a client user cannot list users: 403', async () => {
    assertProblem(await c.get('/api/v1/users', { token: tokens.acmeUser }), 403, { slug: 'forbidden' });
    assertProblem(await c.get('/api/v1/users', { token: tokens.borealisUser }), 403);
  });

  test('a client user cannot create contacts in their own organisation: 403', async () => {
    const name = uniq('by-user');
    assertProblem(await c.post(`/api/v1/clients/${ACME}/contacts`, { name }, { token: tokens.acmeUser }), 403);
    const list = await c.get(`/api/v1/clients/${ACME}/contacts`, { token: tokens.admin });
    assert.ok(!list.body.items.some((x) => x.name === name));
  });

  test('a client user cannot change a contact of their own organisation: 403', async () => {
    const list = await c.get(`/api/v1/clients/${ACME}/contacts`, { token: tokens.acmeUser });
    assertStatus(list, 200);
    const id = list.body.items[0].id;
    const before = await c.get(`/api/v1/contacts/${id}`, { token: tokens.admin });
    assertProblem(await c.patch(`/api/v1/contacts/${id}`, { name: 'Changed' }, { token: tokens.acmeUser }), 403);
    assert.deepEqual((await c.get(`/api/v1/contacts/${id}`, { token: tokens.admin })).body, before.body);
  });

  test('a client user cannot create users: 403, nothing created', async () => {
    const email = `${uniq('u')}@acme-dental.example`;
    assertProblem(await c.post('/api/v1/users', { email, name: 'New', role: 'client_user' }, { token: tokens.acmeUser }), 403);
    const users = await c.get('/api/v1/users?limit=500', { token: tokens.admin });
    assert.ok(!users.body.items.some((u) => u.email === email));
  });

  test('a technician or dispatcher cannot create users: 403', async () => {
    for (const who of ['tier3', 'dispatcher'])
      assertProblem(await c.post('/api/v1/users', { email: `${uniq(who)}@demo.itsup.test`, name: 'X', role: 'technician', tier: 1 }, { token: tokens[who] }), 403);
  });

  test('only an admin reads and changes settings', async () => {
    for (const who of ['dispatcher', 'tier1', 'acmeAdmin', 'borealisIT']) {
      assertProblem(await c.get('/api/v1/settings', { token: tokens[who] }), 403);
      assertProblem(await c.patch('/api/v1/settings', { mfa_required_for_staff: true }, { token: tokens[who] }), 403);
    }
    const s = await c.get('/api/v1/settings', { token: tokens.admin });
    assertStatus(s, 200);
    assert.equal(s.body.mfa_required_for_staff, false);
  });

  test('nobody changes their own role', async () => {
    const me = await c.get('/api/v1/me', { token: tokens.acmeAdmin });
    const r = await c.patch(`/api/v1/users/${me.body.id}`, { role: 'admin' }, { token: tokens.acmeAdmin });
    assertProblem(r, 403);
    assert.equal((await c.get(`/api/v1/users/${me.body.id}`, { token: tokens.admin })).body.role, 'client_admin');
    const t = await c.get('/api/v1/me', { token: tokens.tier1 });
    assertProblem(await c.patch(`/api/v1/users/${t.body.id}`, { tier: 3 }, { token: tokens.tier1 }), 403);
    assert.equal((await c.get(`/api/v1/users/${t.body.id}`, { token: tokens.admin })).body.tier, 1);
  });

  test('a technician cannot make another user admin', async () => {
    const users = await c.get('/api/v1/users?role=technician', { token: tokens.admin });
    const other = users.body.items.find((u) => u.email === DEMO.tier2);
    assertProblem(await c.patch(`/api/v1/users/${other.id}`, { role: 'admin' }, { token: tokens.tier1 }), 403);
    assert.equal((await c.get(`/api/v1/users/${other.id}`, { token: tokens.admin })).body.role, 'technician');
  });
});
