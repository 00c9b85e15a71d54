// durability.test.mjs: an acknowledged write survives kill -9. Eight
// clients create contacts as fast as they can; the server is killed
// mid-stream; after a restart every contact answered 201 is there, and the
// database passes PRAGMA integrity_check. Three times on the same database.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { ACME, BOREALIS, Client, DEMO, cli, createDb, isPg, serve, sql } from './lib/server.mjs';

const run = promisify(execFile);
const WORKERS = 8;
const ROUNDS = 3;
const RUN_MS = 1000;

let d, server, token;
const acked = new Map(); // id -> name, every contact answered 201

before(async () => {
  d = await createDb();
  const t = await cli(['token', 'create', '--db', d.db, '--user', DEMO.admin, '--name', 'durability']);
  assert.equal(t.code, 0, t.stderr);
  token = t.stdout.trim();
  server = await serve(d.db);
});
after(async () => {
  if (server)
    await server.stop();
  await rm(d.dir, { recursive: true, force: true });
});

/* One client: POSTs contacts until the server goes away. */
async function worker(c, round, w, state) {
  for (let i = 0; !state.dead; i++) {
    const name = `dur r${round} w${w} #${i}`;
    const client = (w % 2) ? ACME : BOREALIS;
    let r;
    try {
      r = await c.post(`/api/v1/clients/${client}/contacts`, { name, title: `round ${round}` }, { token });
    } catch {
      return; // connection refused or reset: the server is gone
    }
    if (r.status === 201) {
      assert.equal(r.body.name, name);
      acked.set(r.body.id, name);
      state.acked++;
    } else {
      state.other.push(`${r.status} ${r.text}`);
    }
  }
}

for (let round = 1; round <= ROUNDS; round++) {
  test(`round ${round}: kill -9 mid-stream loses no acknowledged contact`, async (t) => {
    const c = new Client(server.url);
    const state = { dead: false, acked: 0, other: [] };
    const workers = Array.from({ length: WORKERS }, (_, w) => worker(c, round, w, state));
    await new Promise((r) => setTimeout(r, RUN_MS));
    const { signal } = await server.kill9();
    state.dead = true;
    server = null;
    assert.equal(signal, 'SIGKILL');
    await Promise.all(workers);
    assert.deepEqual(state.other, [], 'only 201s before the kill');
    assert.ok(state.acked > 0, 'some contacts were acknowledged');
    t.diagnostic(`${state.acked} contacts acknowledged before the kill, ${acked.size} in all`);

    server = await serve(d.db);
    const c2 = new Client(server.url);
    const missing = [];
    const ids = [...acked.keys()];
    for (let i = 0; i < ids.length; i += 16) {
      await Promise.all(ids.slice(i, i + 16).map(async (id) => {
        const r = await c2.get(`/api/v1/contacts/${id}`, { token });
        if (r.status !== 200 || r.body.name !== acked.get(id))
          missing.push(`${id} ${acked.get(id)}: ${r.status} ${r.text}`);
      }));
    }
    assert.deepEqual(missing, [], `of ${acked.size} acknowledged contacts`);

    if (isPg(d.db)) {
      // Every B-tree index agrees with its table (contrib's amcheck).
      const out = await sql(d.db, "CREATE EXTENSION IF NOT EXISTS amcheck;"
        + " SELECT count(bt_index_check(c.oid, true)) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
        + " JOIN pg_am am ON am.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace"
        + " WHERE am.amname = 'btree' AND n.nspname = 'public'");
      assert.ok(Number(out.trim()) > 10, out);
    } else {
      const { stdout } = await run('sqlite3', ['-cmd', '.timeout 5000', d.db, 'PRAGMA integrity_check']);
      assert.equal(stdout.trim(), 'ok');
    }
  });
}

test('the audit chain survived the kills', async () => {
  await server.stop();
  server = null;
  const r = await cli(['audit', 'verify', '--db', d.db]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
});
