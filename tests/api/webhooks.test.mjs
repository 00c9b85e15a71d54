// webhooks.test.mjs: webhook subscriptions (issue 8; docs/MAIL.md
// "Webhooks" and "The outbox"): CRUD with the secret shown once, URL and
// event validation with the address policy, and signed deliveries to a
// real receiver (node:http on 127.0.0.1) with their retries and history.
//
// Time: one server with --test-clock and ITSUP_WEBHOOK_ALLOW=127.0.0.1/32
// (the receiver is on loopback, which the default policy refuses). POST
// /api/v1/test/clock runs the scheduler and then the outbox dispatcher
// once, before it answers, so a delivery has been attempted (and the
// receiver has seen it) by the time the call returns. Every webhook a test
// makes is deleted at its end, so the next test's deliveries are only its
// own.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { ACME, BOREALIS, DEMO, startServer } from './lib/server.mjs';
import { assertProblem, assertStatus, uniq } from './lib/util.mjs';
import { Monitor, disk } from './lib/monitor.mjs';

let srv, c, recv, base;
const T = {};
const U = {};

/* The receiver: every request by path, and what each path answers
 * (status, by default 200). */
const seen = [];
const answers = new Map();

before(async () => {
  recv = createServer((req, res) => {
    const chunks = [];
    req.on('data', (d) => chunks.push(d));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let json = null;
      try { json = JSON.parse(raw); } catch { /* kept as raw */ }
      seen.push({ method: req.method, path: req.url, headers: req.headers, raw, json });
      const status = answers.get(req.url) ?? 200;
      res.writeHead(status, { 'Content-Type': 'text/plain', ...(status >= 300 && status < 400 ? { Location: `${base}/hook/redirected` } : {}) });
      res.end(status < 300 ? 'ok' : 'no');
    });
  });
  await new Promise((r) => recv.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${recv.address().port}`;
  srv = await startServer({ testClock: true, env: { ITSUP_WEBHOOK_ALLOW: '127.0.0.1/32' } });
  c = srv.client;
  await Promise.all(['admin', 'dispatcher', 'tier1', 'acmeAdmin', 'borealisIT'].map(async (k) => {
    const s = await c.session(DEMO[k], srv.password);
    U[k] = s.user.id;
    T[k] = await c.token(s);
  }));
});
after(async () => {
  await srv?.stop();
  await new Promise((r) => (recv ? recv.close(r) : r()));
});

const tick = async (seconds = 0) =>
  assertStatus(await c.post('/api/v1/test/clock', { advance_seconds: seconds }, { token: T.admin }), 200).ran.outbox;
const hookUrl = (name) => `${base}/hook/${name}`;
const createHook = async (body) => assertStatus(await c.post('/api/v1/webhooks', body, { token: T.admin }), 201);
/* DELETE; then an inactive spacer webhook, which takes the deleted id if
 * the store hands it out again (see the id-reuse test below), so later
 * tests' webhooks never inherit an earlier one's deliveries. */
const dropHook = async (id) => {
  assertStatus(await c.api('DELETE', `/api/v1/webhooks/${id}`, { token: T.admin }), 204);
  await createHook({ name: 'spacer', url: `${base}/hook/spacer`, events: ['*'], active: false });
};
/* Ends a test's subscription without deleting it: inactive, no deliveries. */
const retire = async (id) => assertStatus(await c.patch(`/api/v1/webhooks/${id}`, { active: false }, { token: T.admin }), 200);
const hookDeliveries = async (id) => assertStatus(await c.get(`/api/v1/webhooks/${id}/deliveries`, { token: T.admin }), 200).items;
const newTicket = async (clientId = ACME, extra = {}) =>
  assertStatus(await c.post('/api/v1/tickets', { client_id: clientId, subject: uniq('Hooked'), ...extra }, { token: T.admin }), 201);
const at = (path) => seen.filter((s) => s.path === path);

/* Checks X-Itsup-Signature (t=UNIX,v1=HEX) over the raw body with secret. */
function assertSigned(req, secret) {
  const sig = req.headers['x-itsup-signature'];
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(sig || '');
  assert.ok(m, `signature header: ${sig}`);
  const want = createHmac('sha256', secret).update(`${m[1]}.${req.raw}`).digest('hex');
  assert.equal(m[2], want, 'HMAC-SHA256 of "t.body" with the secret');
  return Number(m[1]);
}

/* Runs the dispatcher so no earlier test's rows are pending, then
 * forgets what the receiver saw. */
async function quiet() {
  await tick(0);
  seen.length = 0;
}

describe('subscriptions', () => {
  test('create shows the secret once (201, Location, ETag); GET and the list never show it', async () => {
    const r = await c.post('/api/v1/webhooks', { name: 'PSA', url: hookUrl('crud'), events: ['ticket.created', 'sla.breach'] }, { token: T.admin });
    const h = assertStatus(r, 201);
    assert.equal(r.headers.get('location'), `/api/v1/webhooks/${h.id}`);
    assert.match(r.headers.get('etag') || '', /^"v\d+"$/);
    assert.match(h.secret, /^whsec_[0-9a-f]{64}$/);
    assert.deepEqual([h.name, h.url, h.events, h.client_id, h.active], ['PSA', hookUrl('crud'), ['ticket.created', 'sla.breach'], null, true]);

    const g = await c.get(`/api/v1/webhooks/${h.id}`, { token: T.admin });
    assertStatus(g, 200);
    assert.equal('secret' in g.body, false);
    assert.ok(!g.text.includes(h.secret));
    const list = assertStatus(await c.get('/api/v1/webhooks', { token: T.admin }), 200);
    assert.ok(list.items.some((x) => x.id === h.id));
    assert.ok(!JSON.stringify(list).includes(h.secret));
    await dropHook(h.id);
  });

  test('PATCH with If-Match changes it (a stale ETag is 412); rotate_secret shows a new secret once; DELETE is 204 and then 404', async () => {
    const h = await createHook({ name: 'Old name', url: hookUrl('patch'), events: ['*'] });
    const g = await c.get(`/api/v1/webhooks/${h.id}`, { token: T.admin });
    const etag = g.headers.get('etag');
    assert.match(etag || '', /^"v\d+"$/);

    const p = await c.patch(`/api/v1/webhooks/${h.id}`, { name: 'New name', events: ['ticket.resolved'], client_id: ACME },
      { token: T.admin, headers: { 'If-Match': etag } });
    const ph = assertStatus(p, 200);
    assert.deepEqual([ph.name, ph.events, ph.client_id], ['New name', ['ticket.resolved'], ACME]);
    assert.equal('secret' in ph, false, 'a PATCH without rotate_secret shows no secret');
    assert.notEqual(p.headers.get('etag'), etag);
    assertProblem(await c.patch(`/api/v1/webhooks/${h.id}`, { name: 'lost update' }, { token: T.admin, headers: { 'If-Match': etag } }), 412);
    assert.equal(assertStatus(await c.get(`/api/v1/webhooks/${h.id}`, { token: T.admin }), 200).name, 'New name');

    const rot = assertStatus(await c.patch(`/api/v1/webhooks/${h.id}`, { rotate_secret: true },
      { token: T.admin, headers: { 'If-Match': p.headers.get('etag') } }), 200);
    assert.match(rot.secret, /^whsec_[0-9a-f]{64}$/);
    assert.notEqual(rot.secret, h.secret);
    assert.equal('secret' in assertStatus(await c.get(`/api/v1/webhooks/${h.id}`, { token: T.admin }), 200), false);

    assertStatus(await c.api('DELETE', `/api/v1/webhooks/${h.id}`, { token: T.admin }), 204);
    assertProblem(await c.get(`/api/v1/webhooks/${h.id}`, { token: T.admin }), 404);
    assert.ok(!assertStatus(await c.get('/api/v1/webhooks', { token: T.admin }), 200).items.some((x) => x.id === h.id));
    assertProblem(await c.api('DELETE', `/api/v1/webhooks/${h.id}`, { token: T.admin }), 404);
    assertProblem(await c.patch(`/api/v1/webhooks/${h.id}`, { name: 'gone' }, { token: T.admin }), 404);
    await createHook({ name: 'spacer', url: `${base}/hook/spacer`, events: ['*'], active: false });
  });

  test('validation: scheme, credentials, events, client; 400 naming the field, nothing made', async () => {
    const before = assertStatus(await c.get('/api/v1/webhooks', { token: T.admin }), 200).items.length;
    const ok = { name: 'x', url: hookUrl('v'), events: ['ticket.created'] };
    const cases = [
      [{ ...ok, url: 'ftp://127.0.0.1/hook' }, 'url'],
      [{ ...ok, url: 'http://user:pass@127.0.0.1/hook' }, 'url'],
      [{ ...ok, url: 'not a url' }, 'url'],
      [{ ...ok, url: 'http://127.0.0.1:0/hook' }, 'url'],
      [{ name: 'x', events: ['ticket.created'] }, 'url'],
      [{ url: hookUrl('v'), events: ['ticket.created'] }, 'name'],
      [{ ...ok, events: [] }, 'events'],
      [{ ...ok, events: 'ticket.created' }, 'events'],
      [{ name: 'x', url: hookUrl('v') }, 'events'],
      [{ ...ok, client_id: 999999 }, 'client_id'],
    ];
    for (const [body, field] of cases)
      assertProblem(await c.post('/api/v1/webhooks', body, { token: T.admin }), 400, { field });
    // An unknown event name: the error names events (events[i]).
    for (const events of [['ticket.exploded'], ['ticket.created', 'nope'], [42]]) {
      const b = assertProblem(await c.post('/api/v1/webhooks', { ...ok, events }, { token: T.admin }), 400);
      assert.ok(b.errors.some((e) => /^events(\[\d+\])?$/.test(e.field)), JSON.stringify(b.errors));
    }
    assert.equal(assertStatus(await c.get('/api/v1/webhooks', { token: T.admin }), 200).items.length, before);
  });

  test('the address policy: private, link-local, loopback and mapped literals are 400 naming url (127.0.0.1 is allowed here only by webhook_allow)', async () => {
    const bad = [
      'http://10.0.0.5/', 'http://192.168.1.1/hook', 'http://172.16.0.1/', 'http://169.254.169.254/latest/meta-data',
      'http://[::1]/', 'http://[fe80::1]/', 'http://[fc00::1]/', 'http://100.64.0.1/', 'http://0.0.0.0/',
      'http://[::ffff:10.0.0.1]/', 'http://127.0.0.2/', 'http://224.0.0.1/',
    ];
    for (const url of bad)
      assertProblem(await c.post('/api/v1/webhooks', { name: 'x', url, events: ['*'] }, { token: T.admin }), 400, { field: 'url' });
    // 127.0.0.1 itself is in this server's webhook_allow.
    const h = await createHook({ name: 'loopback allowed', url: hookUrl('allowed'), events: ['*'] });
    await dropHook(h.id);
  });

  test('without webhook_allow, even 127.0.0.1 is refused (400 url); a host name resolving to it is saved but its delivery fails at once, and nothing reaches the receiver', async () => {
    const other = await startServer({ testClock: true });
    try {
      const oc = other.client;
      const tok = await oc.token(await oc.session(DEMO.admin, other.password));
      for (const url of [hookUrl('x'), 'http://127.0.0.1/', 'http://2130706433/', 'http://0x7f000001/', 'http://[::ffff:127.0.0.1]/', 'http://[64:ff9b::7f00:1]/'])
        assertProblem(await oc.post('/api/v1/webhooks', { name: 'x', url, events: ['*'] }, { token: tok }), 400, { field: 'url' });
      assertStatus(await oc.post('/api/v1/webhooks', { name: 'PSA', url: 'https://psa.example/hook', events: ['ticket.resolved'] }, { token: tok }), 201);

      // A host name is checked when sending: localhost is loopback.
      seen.length = 0;
      const h = assertStatus(await oc.post('/api/v1/webhooks', { name: 'sneaky', url: `http://localhost:${recv.address().port}/hook/ssrf`, events: ['ticket.created'] }, { token: tok }), 201);
      assertStatus(await oc.post('/api/v1/tickets', { client_id: ACME, subject: 'ssrf' }, { token: tok }), 201);
      const ran = assertStatus(await oc.post('/api/v1/test/clock', { advance_seconds: 0 }, { token: tok }), 200).ran.outbox;
      assert.equal(ran.failed, 1, JSON.stringify(ran));
      const [d] = assertStatus(await oc.get(`/api/v1/webhooks/${h.id}/deliveries`, { token: tok }), 200).items;
      assert.deepEqual([d.state, d.attempts, d.last_status], ['failed', 1, null]);
      assert.match(d.last_error, /not allowed|policy/);
      assert.equal(at('/hook/ssrf').length, 0, 'the receiver saw nothing');
    } finally {
      await other.stop();
    }
  });

  test('only admins manage webhooks and see deliveries (dispatcher, technician, client roles: 403)', async () => {
    const h = await createHook({ name: 'roles', url: hookUrl('roles'), events: ['*'] });
    for (const who of ['dispatcher', 'tier1', 'acmeAdmin', 'borealisIT']) {
      assertProblem(await c.post('/api/v1/webhooks', { name: 'x', url: hookUrl('r'), events: ['*'] }, { token: T[who] }), 403);
      assertProblem(await c.get('/api/v1/webhooks', { token: T[who] }), 403);
      assertProblem(await c.get(`/api/v1/webhooks/${h.id}/deliveries`, { token: T[who] }), 403);
      assertProblem(await c.api('DELETE', `/api/v1/webhooks/${h.id}`, { token: T[who] }), 403);
      assertProblem(await c.get('/api/v1/deliveries', { token: T[who] }), 403);
    }
    await dropHook(h.id);
  });
});

describe('deliveries', () => {
  test('a new ticket: a signed POST with X-Itsup-Event ticket.created and X-Itsup-Delivery; the body names the event, the ticket and the data', async () => {
    await quiet();
    const h = await createHook({ name: 'created', url: hookUrl('created'), events: ['ticket.created'] });
    const t = await newTicket(ACME);
    const ran = await tick(0);
    assert.ok(ran.expanded >= 1 && ran.sent >= 1, JSON.stringify(ran));
    const got = at('/hook/created');
    assert.equal(got.length, 1, JSON.stringify(got.map((g) => g.json?.event)));
    const req = got[0];
    assert.equal(req.method, 'POST');
    assert.match(req.headers['content-type'] || '', /^application\/json/);
    assert.equal(req.headers['x-itsup-event'], 'ticket.created');
    const ts = assertSigned(req, h.secret);
    const now = Date.parse((await c.post('/api/v1/test/clock', { advance_seconds: 0 }, { token: T.admin })).body.now);
    assert.ok(Math.abs(now / 1000 - ts) < 3600, `t=${ts} is the (test) clock's time`);
    // A wrong secret does not verify.
    assert.notEqual(createHmac('sha256', 'whsec_wrong').update(`${ts}.${req.raw}`).digest('hex'),
      /v1=([0-9a-f]+)/.exec(req.headers['x-itsup-signature'])[1]);

    const b = req.json;
    assert.ok(b, req.raw);
    assert.equal(b.event, 'ticket.created');
    assert.equal(b.source_event, 'ticket.created');
    assert.equal(b.client_id, ACME);
    assert.equal(typeof b.id, 'number');
    assert.match(b.occurred_at, /^\d{4}-\d\d-\d\dT/);
    assert.deepEqual([b.ticket.id, b.ticket.number, b.ticket.client_id, b.ticket.subject, b.ticket.queue],
      [t.id, t.number, ACME, t.subject, 'general']);

    const ds = await hookDeliveries(h.id);
    assert.equal(ds.length, 1);
    const d = ds[0];
    assert.equal(String(d.id), req.headers['x-itsup-delivery']);
    assert.deepEqual([d.channel, d.event, d.state, d.attempts, d.last_status, d.webhook_id, d.ticket_id, d.target],
      ['webhook', 'ticket.created', 'sent', 1, 200, h.id, t.id, hookUrl('created')]);
    assert.ok(d.sent_at);
    // The delivery's own view has the JSON that was posted.
    const full = assertStatus(await c.get(`/api/v1/deliveries/${d.id}`, { token: T.admin }), 200);
    assert.deepEqual(JSON.parse(full.body), b);
    // The same delivery is in the global list and the ticket's.
    assert.ok(assertStatus(await c.get('/api/v1/deliveries?channel=webhook', { token: T.admin }), 200).items.some((x) => x.id === d.id));
    assert.ok(assertStatus(await c.get(`/api/v1/tickets/${t.id}/deliveries`, { token: T.admin }), 200).items.some((x) => x.id === d.id));
    // Nothing more on the next run.
    await tick(60);
    assert.equal(at('/hook/created').length, 1);
    await retire(h.id);
  });

  test('the events filter: subscribed to ticket.resolved only, a new ticket sends nothing and resolving it sends ticket.resolved; a reply is ticket.updated to "*"', async () => {
    await quiet();
    const res = await createHook({ name: 'resolved only', url: hookUrl('resolved'), events: ['ticket.resolved'] });
    const all = await createHook({ name: 'all', url: hookUrl('all'), events: ['*'] });
    const t = await newTicket(ACME);
    await tick(0);
    assert.equal(at('/hook/resolved').length, 0);
    assert.deepEqual(at('/hook/all').map((r) => r.json.event), ['ticket.created']);

    assertStatus(await c.post(`/api/v1/tickets/${t.id}/messages`, { kind: 'reply', body: 'on it' }, { token: T.tier1 }), 201);
    await tick(0);
    assert.equal(at('/hook/resolved').length, 0);
    const upd = at('/hook/all').slice(1);
    assert.ok(upd.length >= 1);
    assert.ok(upd.every((r) => r.json.event === 'ticket.updated' && r.headers['x-itsup-event'] === 'ticket.updated'));
    const replyEv = upd.find((r) => r.json.source_event === 'ticket.reply');
    assert.ok(replyEv, JSON.stringify(upd.map((r) => r.json.source_event)));
    assert.equal(replyEv.json.data.body, 'on it');
    assertSigned(replyEv, all.secret);

    assertStatus(await c.patch(`/api/v1/tickets/${t.id}`, { status: 'resolved' }, { token: T.tier1 }), 200);
    await tick(0);
    const r = at('/hook/resolved');
    assert.equal(r.length, 1);
    assert.equal(r[0].json.event, 'ticket.resolved');
    assert.equal(r[0].json.ticket.id, t.id);
    assert.equal(r[0].json.ticket.status, 'resolved');
    assertSigned(r[0], res.secret);
    await retire(res.id);
    await retire(all.id);
  });

  test('client_id limits a subscription to one client', async () => {
    await quiet();
    const h = await createHook({ name: 'borealis only', url: hookUrl('borealis'), events: ['*'], client_id: BOREALIS });
    await newTicket(ACME);
    const tb = await newTicket(BOREALIS);
    await tick(0);
    const got = at('/hook/borealis');
    assert.equal(got.length, 1, JSON.stringify(got.map((g) => g.json.ticket?.client_id)));
    assert.equal(got[0].json.ticket.id, tb.id);
    assert.equal(got[0].json.client_id, BOREALIS);
    await retire(h.id);
  });

  test('a receiver answering 500 is retried (same X-Itsup-Delivery, attempts grow, last_status 500, next try ~30 s later); once it answers 200 the delivery is sent', async () => {
    await quiet();
    answers.set('/hook/flaky', 500);
    const h = await createHook({ name: 'flaky', url: hookUrl('flaky'), events: ['ticket.created'] });
    await newTicket(ACME);
    let ran = await tick(0);
    assert.equal(ran.retried, 1, JSON.stringify(ran));
    let [d] = await hookDeliveries(h.id);
    const first = Date.parse((await c.post('/api/v1/test/clock', { advance_seconds: 0 }, { token: T.admin })).body.now);
    assert.deepEqual([d.state, d.attempts, d.last_status], ['pending', 1, 500]);
    assert.match(d.last_error || '', /500/);
    const wait = Date.parse(d.next_attempt_at) - first;
    assert.ok(wait > 20000 && wait <= 31000, `next_attempt_at ${wait} ms later`);

    // Not due yet: nothing is sent.
    await tick(5);
    assert.equal(at('/hook/flaky').length, 1);
    // Past the backoff: tried again, still 500.
    ran = await tick(30);
    assert.equal(ran.retried, 1, JSON.stringify(ran));
    [d] = await hookDeliveries(h.id);
    assert.deepEqual([d.state, d.attempts, d.last_status], ['pending', 2, 500]);
    // Now it works.
    answers.set('/hook/flaky', 200);
    ran = await tick(3600);
    assert.equal(ran.sent, 1, JSON.stringify(ran));
    [d] = await hookDeliveries(h.id);
    assert.deepEqual([d.state, d.attempts, d.last_status, d.next_attempt_at], ['sent', 3, 200, null]);
    const got = at('/hook/flaky');
    assert.equal(got.length, 3);
    assert.deepEqual(new Set(got.map((g) => g.headers['x-itsup-delivery'])), new Set([String(d.id)]));
    assert.ok(got.every((g) => g.raw === got[0].raw), 'the same body on every try');
    for (const g of got)
      assertSigned(g, h.secret);
    answers.delete('/hook/flaky');
    await retire(h.id);
  });

  test('a redirect is not followed: 302 is retried later, the Location never visited', async () => {
    await quiet();
    answers.set('/hook/moved', 302);
    const h = await createHook({ name: 'moved', url: hookUrl('moved'), events: ['ticket.created'] });
    await newTicket(ACME);
    const ran = await tick(0);
    assert.equal(ran.retried, 1, JSON.stringify(ran));
    const [d] = await hookDeliveries(h.id);
    assert.deepEqual([d.state, d.attempts, d.last_status], ['pending', 1, 302]);
    assert.deepEqual(seen.map((x) => x.path), ['/hook/moved']);
    answers.delete('/hook/moved');
    await retire(h.id);
  });

  test('410 Gone fails the delivery at once; POST /deliveries/{id}/retry makes it pending and due now', async () => {
    await quiet();
    answers.set('/hook/gone', 410);
    const h = await createHook({ name: 'gone', url: hookUrl('gone'), events: ['ticket.created'] });
    await newTicket(ACME);
    const ran = await tick(0);
    assert.equal(ran.failed, 1, JSON.stringify(ran));
    let [d] = await hookDeliveries(h.id);
    assert.deepEqual([d.state, d.attempts, d.last_status, d.next_attempt_at], ['failed', 1, 410, null]);
    await tick(7200);
    assert.equal(at('/hook/gone').length, 1, 'a failed delivery is not tried again');
    assert.ok(assertStatus(await c.get('/api/v1/deliveries?state=failed', { token: T.admin }), 200).items.some((x) => x.id === d.id));

    answers.set('/hook/gone', 204);
    d = assertStatus(await c.post(`/api/v1/deliveries/${d.id}/retry`, undefined, { token: T.admin }), 200);
    assert.equal(d.state, 'pending');
    await tick(0);
    [d] = await hookDeliveries(h.id);
    assert.deepEqual([d.state, d.last_status], ['sent', 204]);
    assert.equal(at('/hook/gone').length, 2);
    answers.delete('/hook/gone');
    await retire(h.id);
  });

  test('deleting a webhook fails its pending deliveries ("webhook deleted"); nothing more is posted', async () => {
    await quiet();
    answers.set('/hook/deleted', 503);
    const h = await createHook({ name: 'to delete', url: hookUrl('deleted'), events: ['ticket.created'] });
    await newTicket(ACME);
    await tick(0);
    const [d] = await hookDeliveries(h.id);
    assert.equal(d.state, 'pending');
    await dropHook(h.id);
    const after = assertStatus(await c.get(`/api/v1/deliveries/${d.id}`, { token: T.admin }), 200);
    assert.equal(after.state, 'failed');
    assert.match(after.last_error || '', /webhook deleted/i);
    await tick(3600);
    assert.equal(at('/hook/deleted').length, 1);
    answers.delete('/hook/deleted');
  });

  test('a queued delivery goes to the subscription as it is when sent: switched off, it fails ("switched off") and nothing is posted', async () => {
    await quiet();
    answers.set('/hook/paused', 503);
    const h = await createHook({ name: 'to pause', url: hookUrl('paused'), events: ['ticket.created'] });
    await newTicket(ACME);
    await tick(0);
    const [d] = await hookDeliveries(h.id);
    assert.equal(d.state, 'pending');
    const g = await c.get(`/api/v1/webhooks/${h.id}`, { token: T.admin });
    assertStatus(await c.patch(`/api/v1/webhooks/${h.id}`, { active: false },
      { token: T.admin, headers: { 'If-Match': g.headers.get('etag') } }), 200);
    await tick(3600);
    const after = assertStatus(await c.get(`/api/v1/deliveries/${d.id}`, { token: T.admin }), 200);
    assert.equal(after.state, 'failed');
    assert.match(after.last_error || '', /switched off/i);
    assert.equal(at('/hook/paused').length, 1);
    answers.delete('/hook/paused');
  });

  test('GET /webhooks/{id}/deliveries is that webhook\'s history, newest first; filters by state', async () => {
    await quiet();
    const h = await createHook({ name: 'history', url: hookUrl('history'), events: ['ticket.created'] });
    const other = await createHook({ name: 'other', url: hookUrl('other'), events: ['ticket.created'] });
    const t1 = await newTicket(ACME);
    await tick(0);
    answers.set('/hook/history', 500);
    const t2 = await newTicket(ACME);
    await tick(0);
    const ds = await hookDeliveries(h.id);
    assert.deepEqual(ds.map((d) => d.ticket_id), [t2.id, t1.id]);
    assert.ok(ds.every((d) => d.webhook_id === h.id));
    assert.deepEqual(ds.map((d) => d.state), ['pending', 'sent']);
    const sent = assertStatus(await c.get(`/api/v1/webhooks/${h.id}/deliveries?state=sent`, { token: T.admin }), 200).items;
    assert.deepEqual(sent.map((d) => d.ticket_id), [t1.id]);
    assertProblem(await c.get(`/api/v1/webhooks/${h.id}/deliveries?state=lost`, { token: T.admin }), 400, { field: 'state' });
    assertProblem(await c.get('/api/v1/webhooks/999999/deliveries', { token: T.admin }), 404);
    answers.delete('/hook/history');
    await retire(h.id);
    await retire(other.id);
  });
});

describe('server bugs', () => {
  test('the data of a ticket.created delivery names the new ticket (ticket_id, number), as the ticket object does', async () => {
      await quiet();
      const h = await createHook({ name: 'data', url: hookUrl('data'), events: ['ticket.created'] });
      const t = await newTicket(ACME);
      await tick(0);
      const [req] = at('/hook/data');
      assert.ok(req);
      await retire(h.id);
      assert.equal(req.json.ticket.id, t.id);
      assert.equal(req.json.data.ticket_id, t.id);
      assert.equal(req.json.data.number, t.number);
    });

  test('a deleted webhook\'s deliveries stay its own: a webhook made after it has an empty history, and retrying one of the old deliveries posts nothing', async () => {
      await quiet();
      answers.set('/hook/reuse-old', 503);
      const a = await createHook({ name: 'old', url: hookUrl('reuse-old'), events: ['ticket.created'] });
      await newTicket(ACME);
      await tick(0);
      const [d] = await hookDeliveries(a.id);
      assert.equal(d.state, 'pending');
      // Deleted while its delivery waits; a new webhook right after.
      assertStatus(await c.api('DELETE', `/api/v1/webhooks/${a.id}`, { token: T.admin }), 204);
      const b = await createHook({ name: 'new', url: hookUrl('reuse-new'), events: ['alert.resolved'] });
      try {
        assert.equal(assertStatus(await c.get(`/api/v1/deliveries/${d.id}`, { token: T.admin }), 200).state, 'failed');
        assert.deepEqual((await hookDeliveries(b.id)).map((x) => x.id), [], 'the new webhook has no history');
        answers.set('/hook/reuse-old', 200);
        assertStatus(await c.post(`/api/v1/deliveries/${d.id}/retry`, undefined, { token: T.admin }), 200);
        await tick(0);
        const leaked = at('/hook/reuse-old').slice(1);
        assert.deepEqual(leaked.map((x) => x.headers['x-itsup-signature']), [], 'nothing posted for a deleted webhook');
        assert.equal(assertStatus(await c.get(`/api/v1/deliveries/${d.id}`, { token: T.admin }), 200).state, 'failed');
      } finally {
        answers.delete('/hook/reuse-old');
        await retire(b.id);
      }
    });
});

describe('monitoring', () => {
  test('an alert firing is posted as alert.firing to a subscriber of alert.firing', async () => {
    await quiet();
    const m = new Monitor(c, T.admin);
    const client = await m.client();
    const h = await createHook({ name: 'alerts', url: hookUrl('alerts'), events: ['alert.firing'] });
    const dev = await m.device(client.id, uniq('fileserver'));
    await m.checkin(dev, [disk(95)]);
    await tick(0);
    const got = at('/hook/alerts');
    assert.ok(got.length >= 1, 'alert.firing posted');
    assert.ok(got.every((g) => g.json.event === 'alert.firing'));
    const b = got[0].json;
    assert.equal(b.client_id, client.id);
    assert.equal(b.data.event, 'fire');
    assert.equal(b.data.name, 'Disk full');
    assert.equal(b.data.device_id, dev.id);
    assertSigned(got[0], h.secret);
    await retire(h.id);
  });
});
