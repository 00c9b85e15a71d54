// audit.test.mjs: logins, failures, denials and changes are recorded in a
// hash-chained audit log; `itsup audit verify` says ok, and finds any edit
// or deletion made behind the server's back.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { Client, DEMO, cli, cloneDb, createDb, serve, sql } from './lib/server.mjs';
import { assertProblem, assertStatus, uniq } from './lib/util.mjs';

const sqlite = sql;
const verify = (db) => cli(['audit', 'verify', '--db', db]);

let d, server;
const tampered = [];

before(async () => { d = await createDb(); });
after(async () => {
  if (server)
    await server.stop();
  await rm(d.dir, { recursive: true, force: true });
});

/* A copy of the database to tamper with (the server is stopped, but copy
 * a WAL if one was left). */
async function copyDb(name) {
  const to = await cloneDb(d.db, d.dir, name);
  tampered.push(to);
  return to;
}

describe('a day of work, then verify', () => {
  test('the server records logins, failures, denials and changes', async () => {
    server = await serve(d.db);
    const c = new Client(server.url);
    const admin = await c.session(DEMO.admin, d.password);
    assertProblem(await c.login(DEMO.admin, 'wrong-password-1'), 401);
    assertProblem(await c.login('ghost@nowhere.example', d.password), 401);
    const created = await c.post('/api/v1/clients', { name: uniq('Audited') }, { session: admin });
    assertStatus(created, 201);
    assertStatus(await c.patch(`/api/v1/clients/${created.body.id}`, { notes: 'changed' }, { session: admin }), 200);
    const tech = await c.session(DEMO.tier1, d.password);
    assertProblem(await c.post('/api/v1/clients', { name: uniq('Denied') }, { session: tech }), 403);
    assertProblem(await c.post('/api/v1/clients', { name: uniq('No CSRF') }, { session: admin, csrf: false }), 403);
    assert.equal((await c.api('POST', '/api/v1/auth/logout', { session: tech })).status, 204);
    await server.stop();
    server = null;
  });

  test('`itsup audit verify` says ok', async () => {
    const r = await verify(d.db);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const m = /^ok: (\d+) records/m.exec(r.stdout);
    assert.ok(m, r.stdout);
    assert.ok(Number(m[1]) >= 20, `${m[1]} records`); // demo set-up + the above
  });

  test('each of those is in the log, without secrets', async () => {
    const rows = (await sqlite(d.db, "SELECT action || '|' || outcome FROM audit_log ORDER BY seq")).trim().split('\n');
    for (const want of ['login|ok', 'login.failed|failed', 'client.create|ok', 'client.update|ok', 'permission.denied|denied', 'logout|ok'])
      assert.ok(rows.includes(want), `${want} in ${rows.join(', ')}`);
    assert.equal(rows.filter((x) => x === 'login.failed|failed').length, 2);
    const all = await sqlite(d.db, 'SELECT * FROM audit_log');
    assert.ok(!all.includes(d.password), 'no password in the audit log');
  });

  test('a restarted server continues the chain', async () => {
    server = await serve(d.db);
    const c = new Client(server.url);
    await c.session(DEMO.dispatcher, d.password);
    await server.stop();
    server = null;
    const r = await verify(d.db);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^ok: /);
  });
});

describe('tampering', () => {
  test('an edited detail: BROKEN at record 2, exit 1', async () => {
    const db = await copyDb('edited');
    await sqlite(db, "UPDATE audit_log SET detail='x' WHERE seq=2");
    const r = await verify(db);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /BROKEN at record 2\b/);
  });

  test('a failed login rewritten as a success is found', async () => {
    const db = await copyDb('outcome');
    const seq = Number((await sqlite(db, "SELECT min(seq) FROM audit_log WHERE action='login.failed'")).trim());
    await sqlite(db, `UPDATE audit_log SET outcome='ok', action='login' WHERE seq=${seq}`);
    const r = await verify(db);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, new RegExp(`BROKEN at record ${seq}\\b`));
  });

  test('a changed actor or time is found', async () => {
    for (const [name, set] of [['actor', 'actor_id = actor_id + 1'], ['time', 'at = at - 1000']]) {
      const db = await copyDb(name);
      await sqlite(db, `UPDATE audit_log SET ${set} WHERE seq=5`);
      const r = await verify(db);
      assert.equal(r.code, 1, `${name}: ${r.stdout}`);
      assert.match(r.stdout, /BROKEN at record 5\b/, name);
    }
  });

  test('a deleted record is found', async () => {
    const db = await copyDb('deleted');
    await sqlite(db, 'DELETE FROM audit_log WHERE seq=3');
    const r = await verify(db);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /BROKEN at record [34]\b/);
  });

  test('a record re-hashed by hand still breaks the chain after it', async () => {
    const db = await copyDb('rehashed');
    // Editing a record and fixing its own hash is not enough: the next
    // record's prev_hash still names the old one.
    await sqlite(db, "UPDATE audit_log SET hash = (SELECT hash FROM audit_log WHERE seq=7), detail='forged' WHERE seq=6");
    const r = await verify(db);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /BROKEN at record [67]\b/);
  });

  test('the original still verifies', async () => {
    const r = await verify(d.db);
    assert.equal(r.code, 0, r.stdout);
  });
});
