// mailgate.test.mjs: `itsup mailgate` (issue 8) against a stand-in for
// POST /api/v1/mail/inbound (the server side comes next). The MTA runs it
// with one message on stdin; its exit status tells the MTA what became of
// the message: 0 stored, 75 keep it and try again (no answer, 5xx, 429,
// a token problem), 65 refused for good (the MTA bounces it).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BIN } from './lib/server.mjs';

let srv, url, dir, tokenFile;
let answer = 201;
const seen = [];

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'itsup-mailgate-'));
  tokenFile = path.join(dir, 'token');
  await writeFile(tokenFile, 'itsup_mailtoken\n');
  srv = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(answer, { 'Content-Type': 'application/json' });
      res.end(answer < 300 ? '{"ticket_id":1}' : '{"title":"no"}');
    });
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${srv.address().port}`;
});

after(async () => {
  srv?.close();
  await rm(dir, { recursive: true, force: true });
});

/* Runs itsup mailgate with args and stdin; resolves {code, stderr}. */
function mailgate(args, stdin) {
  return new Promise((resolve) => {
    const p = spawn(BIN, ['mailgate', ...args], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('close', (code) => resolve({ code, stderr }));
    p.stdin.end(stdin);
  });
}

const fixture = (name) => readFile(new URL(`../fixtures/mail/${name}`, import.meta.url));

test('a message the server stores: exit 0; posted whole as message/rfc822 with the token', async () => {
  answer = 201;
  seen.length = 0;
  const raw = await fixture('attachment.eml');
  const r = await mailgate(['--url', `${url}/`, '--token-file', tokenFile], raw);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(seen.length, 1);
  assert.equal(seen[0].method, 'POST');
  assert.equal(seen[0].url, '/api/v1/mail/inbound');
  assert.equal(seen[0].headers['content-type'], 'message/rfc822');
  assert.equal(seen[0].headers.authorization, 'Bearer itsup_mailtoken');
  assert.ok(seen[0].body.equals(raw), 'the message arrives byte for byte');
});

test('the server is down, busy or rate-limits: 75, and the MTA keeps the message', async () => {
  for (const status of [500, 503, 429, 401, 404]) {
    answer = status;
    const r = await mailgate(['--url', url, '--token-file', tokenFile], await fixture('plain.eml'));
    assert.equal(r.code, 75, `${status}: ${r.stderr}`);
    assert.match(r.stderr, /try again/);
  }
  // Nobody listening at all.
  const closed = createServer();
  await new Promise((res) => closed.listen(0, '127.0.0.1', res));
  const port = closed.address().port;
  await new Promise((res) => closed.close(res));
  const r = await mailgate(['--url', `http://127.0.0.1:${port}`, '--token-file', tokenFile], 'Subject: x\r\n\r\nx');
  assert.equal(r.code, 75, r.stderr);
});

test('a message refused for good: 65, so the MTA bounces it', async () => {
  for (const status of [400, 413, 415, 422]) {
    answer = status;
    const r = await mailgate(['--url', url, '--token-file', tokenFile], await fixture('plain.eml'));
    assert.equal(r.code, 65, `${status}: ${r.stderr}`);
  }
});

test('its own problems: usage 64, no message 66, an unreadable token file 75', async () => {
  answer = 201;
  assert.equal((await mailgate(['--url', url], 'x')).code, 64);
  assert.equal((await mailgate(['--url', 'ftp://x', '--token-file', tokenFile], 'x')).code, 64);
  assert.equal((await mailgate(['--url', url, '--token-file', tokenFile], '')).code, 66);
  assert.equal((await mailgate(['--url', url, '--token-file', path.join(dir, 'missing')], 'x')).code, 75);
});
