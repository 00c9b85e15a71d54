// scaleout.test.mjs: two itsup servers on one PostgreSQL (issue 6). They
// serve the same data: a session made on one works on the other, writes
// through both are read through the other, ticket numbers stay unique, an
// Idempotency-Key replays across servers. The scheduler runs on exactly one
// of them (the leader); kill -9 the leader mid-write and the other takes
// over: every write the dead one acknowledged is there, and the SLA timers
// that came due fire on the survivor, once.
//
// Runs only on PostgreSQL (make api-pg); on SQLite one file has one server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { ACME, BOREALIS, Client, DEMO, PG_BASE, createDb, serve } from './lib/server.mjs';
import { assertProblem, assertStatus, totp, uniq } from './lib/util.mjs';

let d, A, B, cA, cB, tA, tB;

const clock = async (c, token, body) => assertStatus(await c.post('/api/v1/test/clock', body, { token }), 200);
const slaEvents = async (c, token, id) =>
  assertStatus(await c.get(`/api/v1/tickets/${id}/timeline`, { token }), 200).items.filter((e) => e.kind.startsWith('sla.'));

describe('two servers on one PostgreSQL', { skip: !PG_BASE && 'needs PostgreSQL: make api-pg' }, () => {
  before(async () => {
    d = await createDb();
    A = await serve(d.db, { testClock: true });
    B = await serve(d.db, { testClock: true });
    cA = new Client(A.url);
    cB = new Client(B.url);
  });
  after(async () => {
    await A?.stop().catch(() => {});
    await B?.stop();
    if (d)
      await rm(d.dir, { recursive: true, force: true });
  });

  test('a session made on one server works on the other; so does logout', async () => {
    const s = await cA.session(DEMO.admin, d.password);
    const me = assertStatus(await cB.get('/api/v1/me', { session: s }), 200);
    assert.equal(me.email, DEMO.admin);
    tA = await cA.token(s, 'scale-a');
    tB = await cB.token(await cB.session(DEMO.dispatcher, d.password), 'scale-b');
    const other = await cB.session(DEMO.tier1, d.password);
    assert.equal((await cB.api('POST', '/api/v1/auth/logout', { session: other })).status, 204);
    assert.equal((await cA.get('/api/v1/me', { session: other })).status, 401);
  });

  test('writes through both servers, read through the other: all there, numbers unique', async () => {
    const made = await Promise.all(Array.from({ length: 40 }, (_, i) => {
      const [c, token] = i % 2 ? [cA, tA] : [cB, tB];
      return c.post('/api/v1/tickets', {
        client_id: i % 3 ? ACME : BOREALIS, subject: uniq(`scale ${i}`), priority: 'P3', priority_reason: 'test',
      }, { token }).then((r) => ({ r, via: c }));
    }));
    const numbers = new Set();
    for (const { r, via } of made) {
      assertStatus(r, 201);
      numbers.add(r.body.number);
      const other = via === cA ? cB : cA;
      const got = assertStatus(await other.get(`/api/v1/tickets/${r.body.id}`, { token: tA }), 200);
      assert.equal(got.subject, r.body.subject);
      assert.equal(got.number, r.body.number);
    }
    assert.equal(numbers.size, 40, 'every ticket its own number');
  });

  test('an Idempotency-Key used on one server replays on the other', async () => {
    const headers = { 'Idempotency-Key': randomUUID() };
    const body = { name: uniq('Idem contact') };
    const first = assertStatus(await cA.post(`/api/v1/clients/${ACME}/contacts`, body, { token: tA, headers }), 201);
    const again = assertStatus(await cB.post(`/api/v1/clients/${ACME}/contacts`, body, { token: tA, headers }), 201);
    assert.equal(again.id, first.id);
    assert.equal((await cB.post(`/api/v1/clients/${ACME}/contacts`, body, { token: tA, headers })).headers.get('idempotent-replayed'), 'true');
    const list = assertStatus(await cB.get(`/api/v1/contacts?client_id=${ACME}&q=${encodeURIComponent(body.name)}`, { token: tA }), 200);
    assert.equal(list.items.length, 1, 'stored once');
  });

  test('a TOTP code used on one server cannot be replayed on the other; failed logins count on both', async () => {
    const s = await cA.session(DEMO.tier2, d.password);
    const secret = assertStatus(await cA.post('/api/v1/me/totp', undefined, { session: s }), 200).secret;
    // The servers' clocks are test clocks, frozen at their start: codes
    // are of the server's time, not of this process's.
    const now = Date.parse((await clock(cA, tA, { advance_seconds: 0 })).now);
    const code = totp(secret, now);
    assertStatus(await cA.post('/api/v1/me/totp/confirm', { code }, { session: s }), 200);
    assertProblem(await cB.login(DEMO.tier2, d.password, code), 401, { slug: 'invalid-credentials' });
    assertStatus(await cB.login(DEMO.tier2, d.password, totp(secret, now + 30000)), 200);
    // Five failures spread over the two servers throttle the account on both.
    for (let i = 0; i < 5; i++)
      assertProblem(await (i % 2 ? cA : cB).login(DEMO.tier3, `wrong-${i}`), 401);
    assertProblem(await cA.login(DEMO.tier3, d.password), 429);
    assertProblem(await cB.login(DEMO.tier3, d.password), 429);
  });

  test('the scheduler runs on one server; kill -9 it and the other fires the due timers, once', async (ctx) => {
    // The first to ask leads; the other, asked after, does not.
    const a0 = await clock(cA, tA, { advance_seconds: 0 });
    assert.equal(a0.ran.leader, true);
    const b0 = await clock(cB, tA, { advance_seconds: 0 });
    assert.equal(b0.ran.leader, false);

    // A P1 (15-minute response on the demo's 24x7 calendar), created on A.
    const t = assertStatus(await cA.post('/api/v1/tickets', {
      client_id: ACME, subject: uniq('P1 scale'), priority: 'P1', priority_reason: 'test',
    }, { token: tA }), 201);
    // B's clock passes the warnings and the breach: B is not the leader, nothing fires.
    const b1 = await clock(cB, tA, { advance_seconds: 20 * 60 });
    assert.equal(b1.ran.leader, false);
    assert.deepEqual(await slaEvents(cB, tB, t.id), []);

    // kill -9 the leader while four clients write through it: PostgreSQL
    // ends its sessions and frees the lock; every write it acknowledged is
    // there (read through B).
    const acked = new Map();
    let dead = false;
    const writers = Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; !dead; i++) {
        const name = uniq(`kill ${w}-${i}`);
        const r = await cA.post(`/api/v1/clients/${ACME}/contacts`, { name }, { token: tA }).catch(() => null);
        if (r?.status === 201)
          acked.set(r.body.id, name);
      }
    });
    await new Promise((res) => setTimeout(res, 300));
    const { signal } = await A.kill9();
    dead = true;
    await Promise.all(writers);
    assert.equal(signal, 'SIGKILL');
    A = null;
    assert.ok(acked.size > 0, 'writes were acknowledged before the kill');
    for (const [id, name] of acked)
      assert.equal(assertStatus(await cB.get(`/api/v1/contacts/${id}`, { token: tB }), 200).name, name);
    ctx.diagnostic(`${acked.size} writes acknowledged by the killed server, all read back through the other`);
    let took = null;
    const t0 = Date.now();
    while (Date.now() - t0 < 15000) {
      const r = await clock(cB, tA, { advance_seconds: 1 });
      if (r.ran.leader) {
        took = Date.now() - t0;
        break;
      }
      await new Promise((res) => setTimeout(res, 200));
    }
    assert.ok(took !== null, 'B took over the scheduler within 15 s');
    ctx.diagnostic(`takeover after ${took} ms`);
    const ev = await slaEvents(cB, tB, t.id);
    assert.deepEqual(ev.map((e) => e.kind).sort(), ['sla.breached', 'sla.warning', 'sla.warning']);
    // Later runs announce nothing again.
    await clock(cB, tA, { advance_seconds: 10 * 60 });
    assert.equal((await slaEvents(cB, tB, t.id)).length, 3);
    assert.equal(assertStatus(await cB.get(`/api/v1/tickets/${t.id}`, { token: tB }), 200).sla.response_breached, true);
  });
});
