// migrate.test.mjs: `itsup migrate --from-sqlite FILE --pg URL` moves a
// SQLite deployment that has been used (tickets with replies and notes,
// contacts, sessions, the audit chain) into PostgreSQL; a server on the
// PostgreSQL database then serves the same data to the same logins, finds
// tickets by words of their messages, and the audit chain verifies there.
// A second import into the now non-empty database is refused.
//
// Runs only on PostgreSQL (make api-pg).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { ACME, Client, DEMO, PG_BASE, cli, createDb, newPgDb, serve, sql } from './lib/server.mjs';
import { assertStatus, uniq } from './lib/util.mjs';

let d, pg, server;
const made = [];

describe('a used SQLite deployment moved into PostgreSQL', { skip: !PG_BASE && 'needs PostgreSQL: make api-pg' }, () => {
  before(async () => {
    d = await createDb({ sqlite: true });
    server = await serve(d.db);
    const c = new Client(server.url);
    const token = await c.token(await c.session(DEMO.dispatcher, d.password));
    for (let i = 0; i < 5; i++) {
      const t = assertStatus(await c.post('/api/v1/tickets', {
        client_id: ACME, subject: uniq(`moved ${i}`), priority: 'P3', priority_reason: 'test',
        description: `Printer\tjam on floor ${i}\nback\\slash "quoted" Überraschung`,
      }, { token }), 201);
      assertStatus(await c.post(`/api/v1/tickets/${t.id}/messages`, { kind: 'reply', body: `zanzibar-${i} reply` }, { token }), 201);
      made.push(t);
    }
    await server.stop();
    server = null;
    // History imported from another system (docs/IMPORT.md) keeps its
    // external ids through the move.
    const imp = await cli(['import', 'tickets', new URL('../../docs/examples/import-tickets.jsonl', import.meta.url).pathname,
      '--db', d.db]);
    assert.equal(imp.code, 0, imp.stderr);
    pg = await newPgDb();
  });
  after(async () => {
    await server?.stop();
    if (d)
      await rm(d.dir, { recursive: true, force: true });
  });

  test('the copy is verified table by table and committed', async () => {
    const r = await cli(['migrate', '--from-sqlite', d.db, '--pg', pg]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /verified: \d+ tables, \d+ rows: counts and SHA-256 checksums equal/);
    assert.match(r.stdout, /^committed$/m);
    assert.match(r.stdout, /\btickets\b/);
    assert.doesNotMatch(r.stdout + r.stderr, new RegExp(new URL(pg).password), 'the password is never printed');
    const n = Number((await sql(pg, 'SELECT count(*) FROM tickets')).trim());
    assert.equal(n, made.length + 4);
    assert.equal((await sql(pg, "SELECT string_agg(external_id, ',' ORDER BY number) FROM tickets")).trim(),
      'ZM-1041,ZM-1042,ZM-1043,HD-77');
  });

  test('a server on PostgreSQL serves the same data to the same logins', async () => {
    server = await serve(pg);
    const c = new Client(server.url);
    const token = await c.token(await c.session(DEMO.dispatcher, d.password));
    for (const t of made) {
      const got = assertStatus(await c.get(`/api/v1/tickets/${t.id}`, { token }), 200);
      assert.equal(got.number, t.number);
      assert.equal(got.description, t.description);
    }
    const found = assertStatus(await c.get('/api/v1/tickets?q=zanzibar-3', { token }), 200);
    assert.deepEqual(found.items.map((x) => x.id), [made[3].id]);
    // New writes get new ids and numbers after the copied ones.
    const t = assertStatus(await c.post('/api/v1/tickets', {
      client_id: ACME, subject: uniq('after the move'), priority: 'P3', priority_reason: 'test',
    }, { token }), 201);
    assert.ok(t.id > Math.max(...made.map((x) => x.id)));
    assert.notEqual(t.number, made[made.length - 1].number);
    await server.stop();
    server = null;
  });

  test('the audit chain verifies on PostgreSQL', async () => {
    const r = await cli(['audit', 'verify', '--pg', pg]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^ok: \d+ records/m);
  });

  test('importing again into the same, now non-empty database is refused and changes nothing', async () => {
    const before = (await sql(pg, 'SELECT count(*) FROM tickets')).trim();
    const r = await cli(['migrate', '--from-sqlite', d.db, '--pg', pg]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not empty|already|holds/i);
    assert.equal((await sql(pg, 'SELECT count(*) FROM tickets')).trim(), before);
  });
});
