// agent.test.mjs: itsup-agent against a stand-in for the server's agent
// routes (the server side of issue 7 comes next): it enrols once and keeps
// its device token (0600); each round's readings are spooled first and
// sent oldest first; while the server is down nothing is lost, and when
// it is back every batch arrives, in order, each with its own id; a batch
// whose answer was lost is sent again with the same id (the server stores
// it once); a batch the server refuses for good does not block the rest.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtemp, rm, stat, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BIN } from './lib/server.mjs';

const AGENT = path.join(path.dirname(BIN), 'itsup-agent');
let srv, url, dir;
const seen = { enroll: [], checkin: [] };
let mode = 'up';   // 'up' | 'down' | 'lose-answer' | 'refuse' | 'not-found'

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'itsup-agent-'));
  srv = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const j = JSON.parse(body);
      if (req.url === '/api/v1/agent/enroll') {
        seen.enroll.push(j);
        res.writeHead(201, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ device_id: 7, device_token: 'dev_tok_123' }));
        return;
      }
      assert.equal(req.headers.authorization, 'Bearer dev_tok_123');
      seen.checkin.push({ mode, id: j.batch_id, body: j });
      if (mode === 'down') {
        res.writeHead(503).end();
      } else if (mode === 'lose-answer') {
        mode = 'up';                       // stored, but the answer is lost once
        req.socket.destroy();
      } else if (mode === 'not-found') {
        res.writeHead(404).end();              // a proxy, a wrong path: keep the readings
      } else if (mode === 'refuse') {
        mode = 'up';
        res.writeHead(400, { 'Content-Type': 'application/json' }).end('{"title":"bad batch"}');
      } else {
        res.writeHead(202, { 'Content-Type': 'application/json' }).end('{"stored":true}');
      }
    });
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${srv.address().port}`;
});
after(async () => {
  srv?.close();
  await rm(dir, { recursive: true, force: true });
});

const agent = (...extra) => new Promise((resolve) => {
  execFile(AGENT, ['--server', url, '--state-dir', dir, '--once', ...extra], (err, stdout, stderr) =>
    resolve({ code: err ? err.code : 0, stdout, stderr }));
});
const ids = (filter) => seen.checkin.filter(filter).map((c) => c.id);

test('enrols once with the token, keeps the device token 0600, and checks in', async () => {
  const r = await agent('--enroll-token', 'enr_T', '--process', 'init-not-a-process');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(seen.enroll.length, 1);
  assert.equal(seen.enroll[0].enroll_token, 'enr_T');
  assert.ok(seen.enroll[0].hostname);
  assert.ok(seen.enroll[0].inventory.cpu_count >= 1);
  const st = await stat(path.join(dir, 'device-token'));
  assert.equal(st.mode & 0o777, 0o600);
  assert.equal((await readFile(path.join(dir, 'device-token'), 'utf8')).trim(), 'dev_tok_123');
  assert.deepEqual(ids(() => true), [1]);
  const first = seen.checkin[0].body;
  const names = first.metrics.map((m) => m.name);
  for (const n of ['load.1', 'mem.used_percent', 'uptime.seconds', 'net.rx_bytes', 'disk.used_percent', 'process.running'])
    assert.ok(names.includes(n), n);
  assert.ok(first.metrics.some((m) => m.name === 'disk.used_percent' && m.labels.mount === '/'));
  assert.equal(first.metrics.find((m) => m.name === 'process.running').value, 0);
  assert.ok(first.inventory, 'the first check-in carries the inventory');
});

test('no second enrolment: the kept token is used', async () => {
  const r = await agent();
  assert.equal(r.code, 0, r.stderr);
  assert.equal(seen.enroll.length, 1);
  assert.deepEqual(ids(() => true), [1, 2]);
});

test('server down: readings are spooled; back up: all arrive in order, once each', async () => {
  mode = 'down';
  assert.equal((await agent()).code, 1);
  assert.equal((await agent()).code, 1);
  mode = 'up';
  const r = await agent();
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(ids((c) => c.mode === 'up'), [1, 2, 3, 4, 5]);
  // While down, each round tried the oldest first and stopped there.
  assert.deepEqual(ids((c) => c.mode === 'down'), [3, 3]);
});

test('a lost answer: the batch is sent again with the same id; a refused one does not block', async () => {
  mode = 'lose-answer';
  assert.equal((await agent()).code, 1);        // batch 6 stored, answer lost
  mode = 'refuse';
  const r = await agent();                        // 6 again (refused for good), then 7
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(ids(() => true).slice(-3), [6, 6, 7]);
  assert.equal((await agent()).code, 0);
  assert.deepEqual(ids(() => true).slice(-1), [8]);
});

test('a 404 (a proxy, a wrong path) keeps the readings; a trailing slash in --server is fine', async () => {
  mode = 'not-found';
  assert.equal((await agent()).code, 1);
  mode = 'up';
  const r = await new Promise((resolve) => {
    execFile(AGENT, ['--server', url + '/', '--state-dir', dir, '--once'], (err, stdout, stderr) =>
      resolve({ code: err ? err.code : 0, stdout, stderr }));
  });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(ids((c) => c.mode === 'up').slice(-2), [9, 10]);
});

test('one agent per state directory: a second is refused while the first runs', async () => {
  const first = spawn(AGENT, ['--server', url, '--state-dir', dir, '--interval', '60'], { stdio: 'ignore' });
  const exited = new Promise((r) => first.on('exit', r));
  // Wait until the first has sent its round (it holds the lock by then).
  const before = seen.checkin.length;
  for (let i = 0; i < 100 && seen.checkin.length === before; i++)
    await new Promise((r) => setTimeout(r, 50));
  const r = await agent();
  first.kill('SIGTERM');
  await exited;
  assert.equal(r.code, 1);
  assert.match(r.stderr, /another itsup-agent is running/);
  assert.equal((await agent()).code, 0, 'free again once the first stopped');
});
