// service.test.mjs: health, metrics, the OpenAPI document, the security
// headers on every answer, and the problem+json shape of errors.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO, startServer } from './lib/server.mjs';
import { assertProblem, assertStatus, uniq } from './lib/util.mjs';

let srv, c, token, session;

before(async () => {
  srv = await startServer();
  c = srv.client;
  session = await c.session(DEMO.admin, srv.password);
  token = await c.token(session);
});
after(() => srv?.stop());

function assertSecurityHeaders(r) {
  const where = `${r.status} answer`;
  const csp = r.headers.get('content-security-policy') || '';
  assert.match(csp, /frame-ancestors 'none'/, `${where}: CSP ${csp}`);
  assert.doesNotMatch(csp, /'unsafe-inline'|'unsafe-eval'/, where);
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff', where);
  assert.ok(r.headers.get('referrer-policy'), `${where}: Referrer-Policy`);
}

describe('service routes', () => {
  test('GET /healthz is 200', async () => {
    const r = await c.get('/healthz');
    assertStatus(r, 200);
    assert.equal(r.body.status, 'ok');
  });

  test('GET /readyz is 200', async () => {
    assertStatus(await c.get('/readyz'), 200);
  });

  test('HEAD /healthz is 200 with no body', async () => {
    const r = await c.api('HEAD', '/healthz');
    assert.equal(r.status, 200);
    assert.equal(r.text, '');
  });

  test('GET /metrics is Prometheus text with request and commit counters', async () => {
    await c.get('/healthz');
    assertStatus(await c.post('/api/v1/clients', { name: uniq('Metric') }, { token }), 201);
    const r = await c.get('/metrics');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/plain/);
    const lines = r.text.split('\n').filter((l) => l && !l.startsWith('#'));
    for (const l of lines)
      assert.match(l, /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? (-?[0-9.]+(e[+-]?[0-9]+)?|NaN|[+-]Inf)$/, l);
    assert.match(r.text, /^# TYPE itsup_http_requests_total counter$/m);
    const healthz = lines.find((l) => l.startsWith('itsup_http_requests_total{') && l.includes('route="/healthz"') && l.includes('status="200"'));
    assert.ok(healthz, 'counts GET /healthz');
    assert.ok(Number(healthz.split(' ').pop()) >= 1);
    const commits = lines.find((l) => l.startsWith('itsup_store_commits_total '));
    assert.ok(commits, 'itsup_store_commits_total');
    assert.ok(Number(commits.split(' ').pop()) >= 1);
  });

  test('the metrics name route patterns, never raw ids', async () => {
    await c.get('/api/v1/clients/424242', { token });
    const r = await c.get('/metrics');
    assert.ok(!r.text.includes('424242'));
    assert.ok(r.text.includes('route="/api/v1/clients/{id}"'));
  });

  test('the commit counter grows with writes', async () => {
    const count = async () => Number((await c.get('/metrics')).text.match(/^itsup_store_commits_total (\d+)$/m)[1]);
    const before = await count();
    assertStatus(await c.post('/api/v1/clients', { name: uniq('Commit') }, { token }), 201);
    assert.ok(await count() > before);
  });

  test('GET /api/v1/openapi.json is an OpenAPI 3.1 JSON document', async () => {
    const r = await c.get('/api/v1/openapi.json');
    assertStatus(r, 200);
    assert.match(r.headers.get('content-type'), /^application\/json/);
    assert.ok(r.body && typeof r.body === 'object', 'parses as JSON');
    assert.match(r.body.openapi, /^3\.1\.\d+$/);
  });
});

describe('security headers', () => {
  test('on a 200', async () => {
    assertSecurityHeaders(await c.get('/healthz'));
    assertSecurityHeaders(await c.get('/api/v1/me', { token }));
    assertSecurityHeaders(await c.get('/metrics'));
  });

  test('on a 201', async () => {
    const r = await c.post('/api/v1/clients', { name: uniq('Headers') }, { token });
    assertStatus(r, 201);
    assertSecurityHeaders(r);
  });

  test('on a 404', async () => {
    const r = await c.get('/no/such/path');
    assertProblem(r, 404);
    assertSecurityHeaders(r);
    assertSecurityHeaders(await c.get('/api/v1/clients/999999', { token }));
  });

  test('on a 401', async () => {
    const r = await c.get('/api/v1/me');
    assertProblem(r, 401);
    assertSecurityHeaders(r);
  });

  test('on 400, 403, 405, 413 and 415', async () => {
    assertSecurityHeaders(await c.post('/api/v1/clients', '{', { token }));
    assertSecurityHeaders(await c.post('/api/v1/clients', { name: uniq('x') }, { session, csrf: false }));
    assertSecurityHeaders(await c.api('DELETE', '/api/v1/clients/1', { token }));
    assertSecurityHeaders(await c.post('/api/v1/clients', 'x'.repeat((1 << 20) + 1), { token }));
    assertSecurityHeaders(await c.post('/api/v1/clients', '{}', { token, headers: { 'Content-Type': 'text/plain' } }));
  });

  test('JSON answers are not cacheable', async () => {
    assert.match((await c.get('/api/v1/me', { token })).headers.get('cache-control') || '', /no-store/);
  });
});

describe('errors', () => {
  test('an unknown path is 404 problem+json', async () => {
    for (const p of ['/nope', '/api/v1', '/api/v1/', '/api/v1/clientsx', '/api/v1/clients/1/contacts/1', '/api/v2/clients'])
      assertProblem(await c.get(p, { token }), 404, { slug: 'not-found' });
  });

  test('a wrong method is 405 with Allow', async () => {
    const r = await c.api('DELETE', '/api/v1/clients', { token });
    assertProblem(r, 405);
    const allow = (r.headers.get('allow') || '').split(/,\s*/).sort();
    assert.deepEqual(allow, ['GET', 'POST']);
    const r2 = await c.api('PUT', '/api/v1/clients/1', { token, body: {} });
    assertProblem(r2, 405);
    assert.deepEqual((r2.headers.get('allow') || '').split(/,\s*/).sort(), ['GET', 'PATCH']);
    const r3 = await c.api('POST', '/healthz');
    assertProblem(r3, 405);
    assert.equal(r3.headers.get('allow'), 'GET');
  });

  test('every problem answer has type, title, status and detail', async () => {
    const answers = {
      '400 malformed': await c.post('/api/v1/clients', '{', { token }),
      '400 validation': await c.post('/api/v1/clients', {}, { token }),
      '401': await c.get('/api/v1/me'),
      '403': await c.post('/api/v1/clients', { name: uniq('x') }, { session, csrf: false }),
      '404 path': await c.get('/nope'),
      '404 object': await c.get('/api/v1/clients/999999', { token }),
      '404 user patch': await c.patch('/api/v1/users/999999', { name: 'x' }, { token }),
      '405': await c.api('DELETE', '/api/v1/clients', { token }),
      '409': await c.post('/api/v1/users', { email: DEMO.tier1, name: 'Twin', role: 'technician', tier: 1 }, { token }),
      '413': await c.post('/api/v1/clients', 'x'.repeat((1 << 20) + 1), { token }),
      '415': await c.post('/api/v1/clients', '{}', { token, headers: { 'Content-Type': 'text/plain' } }),
    };
    const missing = [];
    for (const [what, r] of Object.entries(answers)) {
      assertProblem(r, r.status);
      assert.match(r.body.type, /^https?:\/\//, `${what}: type is a URI`);
      if (typeof r.body.detail !== 'string' || !r.body.detail)
        missing.push(`${what}: ${r.text}`);
    }
    assert.deepEqual(missing, [], 'answers without a detail');
  });
});

describe('the request log', () => {
  test('names routes, and never holds passwords, tokens or session ids', async () => {
    const s = await c.session(DEMO.tier1, srv.password);
    await c.get('/api/v1/me', { session: s });
    await c.get('/api/v1/contacts/31337', { token });
    // The line is written once the answer has gone out: wait for it.
    const line = await srv.server.waitForLog((ev) => ev.route === '/api/v1/contacts/{id}' && ev.status === 404);
    assert.equal(line.method, 'GET');
    const log = srv.server.stderr();
    for (const l of log.split('\n').filter(Boolean))
      assert.doesNotThrow(() => JSON.parse(l), `log line is JSON: ${l}`);
    for (const secret of [srv.password, token, session.cookie, session.csrf, s.cookie, s.csrf, '31337'])
      assert.ok(!log.includes(secret), 'a secret or raw id in the log');
  });
});
