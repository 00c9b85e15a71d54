// auth.test.mjs: logging in and out, throttling, TOTP, CSRF and API tokens.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO, cli, startServer } from './lib/server.mjs';
import { assertProblem, assertStatus, totp, uniq, wrongTotp } from './lib/util.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('with the demo database (MFA policy off)', () => {
  let srv, c, pw, admin;

  before(async () => {
    srv = await startServer();
    c = srv.client;
    pw = srv.password;
    admin = await c.session(DEMO.admin, pw);
  });
  after(() => srv?.stop());

  test('the right password logs in: user, CSRF token, session cookie', async () => {
    const r = await c.login(DEMO.dispatcher, pw);
    assertStatus(r, 200);
    assert.equal(r.body.user.email, DEMO.dispatcher);
    assert.equal(r.body.user.role, 'dispatcher');
    assert.equal(r.body.mfa_enrollment_required, false);
    assert.ok(r.body.csrf_token.length >= 32);
    assert.equal(r.body.user.password_hash, undefined);
    assert.equal(r.body.user.totp_secret, undefined);
    const cookie = r.headers.getSetCookie().find((s) => s.startsWith('__Host-itsup_session='));
    assert.ok(cookie, 'sets the session cookie');
    for (const attr of [/;\s*Secure/i, /;\s*HttpOnly/i, /;\s*SameSite=Strict/i, /;\s*Path=\//])
      assert.match(cookie, attr);
    assert.doesNotMatch(cookie, /;\s*Domain=/i, '__Host- cookies have no Domain');
    const me = await c.get('/api/v1/me', { session: r.session });
    assertStatus(me, 200);
    assert.equal(me.body.email, DEMO.dispatcher);
    assert.equal(me.body.auth, 'session');
  });

  test('the e-mail is matched without case', async () => {
    assertStatus(await c.login(DEMO.tier2.toUpperCase(), pw), 200);
  });

  test('every login gets a new session id and CSRF token', async () => {
    const a = await c.login(DEMO.tier1, pw);
    const b = await c.login(DEMO.tier1, pw);
    assertStatus(a, 200);
    assertStatus(b, 200);
    assert.notEqual(a.session.cookie, b.session.cookie);
    assert.notEqual(a.session.csrf, b.session.csrf);
  });

  test('a wrong password answers 401 and no cookie', async () => {
    const r = await c.login(DEMO.tier2, pw + 'x');
    assertProblem(r, 401, { slug: 'invalid-credentials' });
    assert.deepEqual(r.headers.getSetCookie(), []);
  });

  test('an unknown account looks exactly like a wrong password', async () => {
    const wrong = await c.login(DEMO.dispatcher, 'not-the-password-123');
    const unknown = await c.login('nobody@nowhere.example', 'not-the-password-123');
    assert.equal(unknown.status, wrong.status);
    assert.equal(unknown.text, wrong.text);
    assert.equal(unknown.headers.get('content-type'), wrong.headers.get('content-type'));
    assert.equal(unknown.headers.get('retry-after'), wrong.headers.get('retry-after'));
  });

  test('a login body without a password is 400 naming the field', async () => {
    assertProblem(await c.post('/api/v1/auth/login', { email: DEMO.tier1 }), 400, { field: 'password' });
  });

  test('5 failures throttle the account: 429 with Retry-After, even with the right password', async () => {
    for (let i = 0; i < 5; i++)
      assertProblem(await c.login(DEMO.tier3, `wrong-password-${i}`), 401);
    const r = await c.login(DEMO.tier3, pw);
    assertProblem(r, 429);
    const wait = Number(r.headers.get('retry-after'));
    assert.ok(Number.isInteger(wait) && wait > 0 && wait <= 15 * 60, `Retry-After ${r.headers.get('retry-after')}`);
    assert.deepEqual(r.headers.getSetCookie(), []);
    // Only that account: another one still logs in from the same address.
    assertStatus(await c.login(DEMO.tier1, pw), 200);
  });

  test('an unknown account is throttled the same way (no enumeration)', async () => {
    const ghost = `${uniq('ghost')}@demo.itsup.test`;
    for (let i = 0; i < 5; i++)
      assertProblem(await c.login(ghost, `wrong-password-${i}`), 401);
    const r = await c.login(ghost, pw);
    assertProblem(r, 429);
    assert.ok(Number(r.headers.get('retry-after')) > 0);
  });

  test('without a session or token, /me is 401', async () => {
    const r = await c.get('/api/v1/me');
    assertProblem(r, 401);
    assert.match(r.headers.get('www-authenticate') || '', /^Bearer/);
  });

  test('a made-up session cookie is 401', async () => {
    const r = await c.get('/api/v1/me', { session: { cookie: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', csrf: 'x' } });
    assertProblem(r, 401);
  });

  test('a cookie POST without X-CSRF-Token is 403 and creates nothing', async () => {
    const name = uniq('csrf-none');
    const r = await c.post('/api/v1/clients', { name }, { session: admin, csrf: false });
    assertProblem(r, 403);
    const list = await c.get('/api/v1/clients?limit=500', { session: admin });
    assert.ok(!list.body.items.some((x) => x.name === name));
  });

  test('a cookie PATCH with a wrong X-CSRF-Token is 403 and changes nothing', async () => {
    const before = await c.get('/api/v1/clients/1', { session: admin });
    const r = await c.patch('/api/v1/clients/1', { notes: 'csrf attack' }, { session: admin, csrf: 'wrong-token' });
    assertProblem(r, 403);
    const after = await c.get('/api/v1/clients/1', { session: admin });
    assert.deepEqual(after.body, before.body);
    assert.equal(after.headers.get('etag'), before.headers.get('etag'));
  });

  test("another session's CSRF token does not fit", async () => {
    const other = await c.session(DEMO.tier1, pw);
    const name = uniq('csrf-other');
    assertProblem(await c.post('/api/v1/clients', { name }, { session: admin, csrf: other.csrf }), 403);
    const list = await c.get('/api/v1/clients?limit=500', { session: admin });
    assert.ok(!list.body.items.some((x) => x.name === name));
  });

  test('with the right X-CSRF-Token the same POST works', async () => {
    assertStatus(await c.post('/api/v1/clients', { name: uniq('csrf-ok') }, { session: admin }), 201);
  });

  test('a token made with POST /tokens works as Bearer, without CSRF', async () => {
    const r = await c.post('/api/v1/tokens', { name: 'ci' }, { session: admin });
    assertStatus(r, 201);
    assert.equal(typeof r.body.id, 'number');
    assert.equal(typeof r.body.token, 'string');
    assert.ok(r.body.token.length >= 40);
    const me = await c.get('/api/v1/me', { token: r.body.token });
    assertStatus(me, 200);
    assert.equal(me.body.email, DEMO.admin);
    assert.equal(me.body.auth, 'token');
    assertStatus(await c.post('/api/v1/clients', { name: uniq('bearer') }, { token: r.body.token }), 201);
  });

  test('a token acts as its owner, with the owner\'s role', async () => {
    const tech = await c.session(DEMO.tier1, pw);
    const token = await c.token(tech);
    assertProblem(await c.post('/api/v1/clients', { name: uniq('tech') }, { token }), 403);
  });

  test('a token with an expiry in the past is refused at creation', async () => {
    const r = await c.post('/api/v1/tokens', { name: 'old', expires_at: '2001-01-01T00:00:00Z' }, { session: admin });
    assertProblem(r, 400, { field: 'expires_at' });
  });

  test('an expired token is 401', async () => {
    const expires = new Date(Date.now() + 1500);
    const r = await c.post('/api/v1/tokens', { name: 'short', expires_at: expires.toISOString() }, { session: admin });
    assertStatus(r, 201);
    assertStatus(await c.get('/api/v1/me', { token: r.body.token }), 200);
    await sleep(expires.getTime() - Date.now() + 300);
    assertProblem(await c.get('/api/v1/me', { token: r.body.token }), 401);
  });

  test('a garbage token is 401', async () => {
    for (const t of ['garbage', 'itsup_' + 'A'.repeat(43), 'x'.repeat(5000)])
      assertProblem(await c.get('/api/v1/me', { token: t }), 401);
    assertProblem(await c.get('/api/v1/me', { headers: { Authorization: 'Bearer ' } }), 401);
    assertProblem(await c.get('/api/v1/me', { headers: { Authorization: 'Basic YWRtaW46YWRtaW4=' } }), 401);
  });

  test('a deactivated account cannot log in, and its session and token stop working', async () => {
    const email = `${uniq('leaver')}@demo.itsup.test`;
    const made = await c.post('/api/v1/users', { email, name: 'Leaver', role: 'dispatcher', password: 'leaver-password-1' }, { session: admin });
    assertStatus(made, 201);
    const s = await c.session(email, 'leaver-password-1');
    const tok = await c.token(s);
    assertStatus(await c.patch(`/api/v1/users/${made.body.id}`, { active: false }, { session: admin }), 200);
    const r = await c.login(email, 'leaver-password-1');
    const unknown = await c.login(`${uniq('nobody')}@demo.itsup.test`, 'leaver-password-1');
    assertProblem(r, 401);
    assert.equal(r.text, unknown.text, 'looks like an unknown account');
    assertProblem(await c.get('/api/v1/me', { session: s }), 401);
    assertProblem(await c.get('/api/v1/me', { token: tok }), 401);
  });

  test('logout ends the session: 204, cookie cleared, then 401', async () => {
    const s = await c.session(DEMO.tier2, pw);
    assertStatus(await c.get('/api/v1/me', { session: s }), 200);
    const r = await c.api('POST', '/api/v1/auth/logout', { session: s });
    assert.equal(r.status, 204);
    const cleared = r.headers.getSetCookie().find((x) => x.startsWith('__Host-itsup_session='));
    assert.match(cleared || '', /Max-Age=0/);
    assertProblem(await c.get('/api/v1/me', { session: s }), 401);
    assertProblem(await c.post('/api/v1/tokens', { name: 'after-logout' }, { session: s }), 401);
  });

  test('logout needs the CSRF header too', async () => {
    const s = await c.session(DEMO.tier2, pw);
    assertProblem(await c.api('POST', '/api/v1/auth/logout', { session: s, csrf: false }), 403);
    assertStatus(await c.get('/api/v1/me', { session: s }), 200);
  });

  // Last: it locks this address out of logging in for 15 minutes.
  test('30 failures from one address throttle every account from it', async () => {
    let r;
    for (let i = 0; i < 35; i++) {
      r = await c.login(`${uniq('spray')}@demo.itsup.test`, 'sprayed-password-1');
      if (r.status === 429)
        break;
      assertProblem(r, 401);
    }
    assertProblem(r, 429);
    const right = await c.login(DEMO.dispatcher, pw);
    assertProblem(right, 429);
    assert.ok(Number(right.headers.get('retry-after')) > 0);
    assertStatus(await c.get('/api/v1/me', { session: admin }), 200, 'existing sessions still work');
  });
});

describe('with an init database (MFA required for staff)', () => {
  let srv, c, pending, spare, secret, confirmCode;

  before(async () => {
    srv = await startServer({ kind: 'init' });
    c = srv.client;
  });
  after(() => srv?.stop());

  test('the first admin logs in and is told to enrol an authenticator', async () => {
    const r = await c.login(srv.adminEmail, srv.password);
    assertStatus(r, 200);
    assert.equal(r.body.mfa_enrollment_required, true);
    assert.equal(r.body.user.role, 'admin');
    pending = r.session;
    spare = await c.session(srv.adminEmail, srv.password);
  });

  test('that session may read /me', async () => {
    const me = await c.get('/api/v1/me', { session: pending });
    assertStatus(me, 200);
    assert.equal(me.body.mfa_enrollment_required, true);
  });

  test('that session gets 403 mfa-enrolment-required everywhere else', async () => {
    const calls = [
      ['GET', '/api/v1/clients'],
      ['GET', '/api/v1/users'],
      ['GET', '/api/v1/settings'],
      ['POST', '/api/v1/clients', { name: 'Too Early' }],
      ['POST', '/api/v1/tokens', { name: 'too-early' }],
      ['PATCH', '/api/v1/settings', { mfa_required_for_staff: false }],
    ];
    for (const [m, p, body] of calls)
      assertProblem(await c.api(m, p, { session: pending, body }), 403, { slug: 'mfa-enrolment-required' });
    const settings = await c.get('/api/v1/settings', { token: await cliToken(srv) });
    assert.equal(settings.body.mfa_required_for_staff, true, 'the policy was not switched off');
  });

  test('that session may log out', async () => {
    assert.equal((await c.api('POST', '/api/v1/auth/logout', { session: spare })).status, 204);
    assertProblem(await c.get('/api/v1/me', { session: spare }), 401);
  });

  test('POST /me/totp answers a base32 secret and an otpauth URI', async () => {
    const r = await c.post('/api/v1/me/totp', undefined, { session: pending });
    assertStatus(r, 200);
    assert.match(r.body.secret, /^[A-Z2-7]+=*$/);
    assert.ok(r.body.secret.replace(/=/g, '').length >= 16);
    assert.match(r.body.otpauth_uri, /^otpauth:\/\/totp\//);
    assert.ok(r.body.otpauth_uri.includes(`secret=${r.body.secret}`));
    secret = r.body.secret;
  });

  test('confirming with a wrong code is 400 naming code; MFA stays off', async () => {
    const r = await c.post('/api/v1/me/totp/confirm', { code: wrongTotp(secret) }, { session: pending });
    assertProblem(r, 400, { field: 'code' });
    const me = await c.get('/api/v1/me', { session: pending });
    assert.equal(me.body.mfa_enabled, false);
    assertProblem(await c.get('/api/v1/clients', { session: pending }), 403, { slug: 'mfa-enrolment-required' });
  });

  test('confirming with the current code enables MFA and frees the session', async () => {
    confirmCode = totp(secret);
    const r = await c.post('/api/v1/me/totp/confirm', { code: confirmCode }, { session: pending });
    assertStatus(r, 200);
    assert.equal(r.body.mfa_enabled, true);
    const me = await c.get('/api/v1/me', { session: pending });
    assert.equal(me.body.mfa_enabled, true);
    assert.equal(me.body.mfa_enrollment_required, false);
    assertStatus(await c.get('/api/v1/clients', { session: pending }), 200);
  });

  test('a second enrolment is refused with 409', async () => {
    assertProblem(await c.post('/api/v1/me/totp', undefined, { session: pending }), 409);
  });

  test('now login without a code is 401 mfa-required, and no session', async () => {
    const r = await c.login(srv.adminEmail, srv.password);
    assertProblem(r, 401);
    assert.ok(r.body.type.endsWith('mfa-required'), r.body.type);
    assert.deepEqual(r.headers.getSetCookie(), []);
  });

  test('login with a wrong code is 401', async () => {
    const r = await c.login(srv.adminEmail, srv.password, wrongTotp(secret));
    assertProblem(r, 401, { slug: 'invalid-credentials' });
    assert.deepEqual(r.headers.getSetCookie(), []);
  });

  test('login with a wrong password and the right code is 401', async () => {
    assertProblem(await c.login(srv.adminEmail, 'wrong-password!', totp(secret)), 401, { slug: 'invalid-credentials' });
  });

  test('a code is accepted once: the one used to confirm cannot log in (RFC 6238 5.2)', async () => {
    // The very code used (not the current one: the 30-second step may
    // have turned since, and a new step's code is rightly accepted).
    assertProblem(await c.login(srv.adminEmail, srv.password, confirmCode), 401, { slug: 'invalid-credentials' });
  });

  test('login with the right (next) code is 200 and unrestricted', async () => {
    // The server accepts one step of drift; the next step's code is unused.
    const r = await c.login(srv.adminEmail, srv.password, totp(secret, Date.now() + 30000));
    assertStatus(r, 200);
    assert.equal(r.body.mfa_enrollment_required, false);
    assert.equal(r.body.user.mfa_enabled, true);
    assertStatus(await c.get('/api/v1/users', { session: r.session }), 200);
  });
});

async function cliToken(srv) {
  const r = await cli(['token', 'create', '--db', srv.db, '--user', srv.adminEmail, '--name', uniq('cli')]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}
