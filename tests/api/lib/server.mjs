// server.mjs: a real itsup server on a temporary database, for black-box
// API tests. Each test file starts its own (own temp dir, own port), so
// files can run in parallel.
//
//   const srv = await startServer();            // demo DB, MFA policy off
//   const srv = await startServer({ kind: 'init' }); // one admin, MFA on
//   const srv = await startServer({ testClock: true }); // itsup serve --test-clock
//   const c = srv.client;                        // HTTP helpers bound to srv.url
//   await srv.stop();                            // SIGTERM, wait, checks, rm -rf
//
// With ITSUP_SANITIZED=1, stop() (and every CLI run) throws when the process
// exited non-zero or its stderr holds an ASan/LSan/UBSan report.
//
// With ITSUP_API_PG=1 (make api-pg, under scripts/with-pg), every database
// is a new PostgreSQL database on the throw-away server in ITSUP_TEST_PG
// instead of a SQLite file: db is then its URL, which every itsup command
// takes in place of a path. sql(db, text) and cloneDb() work on either.
import { spawn, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const BIN = process.env.ITSUP_BIN || new URL('../../../build/itsup', import.meta.url).pathname;
export const SANITIZED = process.env.ITSUP_SANITIZED === '1';
export const PG_BASE = process.env.ITSUP_API_PG === '1' ? process.env.ITSUP_TEST_PG : null;
if (process.env.ITSUP_API_PG === '1' && !PG_BASE)
  throw new Error('ITSUP_API_PG=1 needs ITSUP_TEST_PG (run under scripts/with-pg)');
export const isPg = (db) => /^postgres(ql)?:\/\//.test(db);
const SANITIZER_MARKS = ['AddressSanitizer', 'LeakSanitizer', 'runtime error'];

export const DEMO = {
  admin: 'admin@demo.itsup.test',
  dispatcher: 'dispatch@demo.itsup.test',
  tier1: 'tier1@demo.itsup.test',
  tier2: 'tier2@demo.itsup.test',
  tier3: 'tier3@demo.itsup.test',
  acmeAdmin: 'it-lead@acme-dental.example',     // client_admin, client 1
  acmeUser: 'frontdesk@acme-dental.example',    // client_user, client 1
  borealisIT: 'sysadmin@borealis.example',      // client_it, client 2
  borealisUser: 'office@borealis.example',      // client_user, client 2
};
export const ACME = 1;
export const BOREALIS = 2;

function sanitizerReport(text) {
  return SANITIZER_MARKS.find((m) => text.includes(m));
}

/* Runs `itsup ARGS...`; resolves {code, stdout, stderr} whatever the exit
 * status (callers assert it), except that a sanitizer report throws. */
export function cli(args, { env } = {}) {
  return new Promise((resolve, reject) => {
    execFile(BIN, args, { env: { ...process.env, ...env }, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        const mark = SANITIZED && sanitizerReport(stderr);
        if (mark) {
          reject(new Error(`itsup ${args[0]}: ${mark} report:\n${stderr}`));
          return;
        }
        if (err && typeof err.code !== 'number') {
          reject(err);
          return;
        }
        resolve({ code, stdout, stderr });
      });
  });
}

async function cliOk(args) {
  const r = await cli(args);
  if (r.code !== 0)
    throw new Error(`itsup ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r;
}

/* Runs SQL on db (a SQLite file or a PostgreSQL URL); resolves the rows
 * as text, columns separated by '|', one row a line. */
export async function sql(db, text) {
  const args = isPg(db) ? ['psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', db, '-c', text]]
    : ['sqlite3', ['-cmd', '.timeout 5000', db, text]];
  return new Promise((resolve, reject) => {
    execFile(args[0], args[1], { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err)
        reject(new Error(`${args[0]}: ${stderr || err.message}`));
      else
        resolve(stdout);
    });
  });
}

/* A new, empty PostgreSQL database on the test server; its URL. */
export async function newPgDb() {
  const name = 'itsup_t_' + randomBytes(6).toString('hex');
  await sql(PG_BASE, `CREATE DATABASE ${name}`);
  return PG_BASE.replace(/\/[^/?]*(\?.*)?$/, `/${name}$1`);
}

/* A copy of db (the server on it stopped) to tamper with: a file next to
 * it in dir, or a new PostgreSQL database made from it as a template. */
export async function cloneDb(db, dir, name) {
  if (isPg(db)) {
    const to = 'itsup_c_' + randomBytes(6).toString('hex');
    const from = new URL(db).pathname.slice(1);
    await sql(PG_BASE, `CREATE DATABASE ${to} TEMPLATE ${from}`);
    return db.replace(/\/[^/?]*(\?.*)?$/, `/${to}`);
  }
  const to = `${dir}/${name}.db`;
  await copyFile(db, to);
  for (const ext of ['-wal']) {
    if (await stat(db + ext).catch(() => null))
      await copyFile(db + ext, to + ext);
  }
  return to;
}

/* A new temp dir with a database: 'demo' (all demo users, MFA off) or
 * 'init' (one admin, MFA required for staff). sqlite: a SQLite file even
 * when the run is on PostgreSQL. */
export async function createDb({ kind = 'demo', sqlite = false } = {}) {
  const dir = await mkdtemp(path.join(tmpdir(), 'itsup-api-'));
  const db = PG_BASE && !sqlite ? await newPgDb() : path.join(dir, 'itsup.db');
  let password, adminEmail;
  if (kind === 'demo') {
    const creds = path.join(dir, 'logins.txt');
    await cliOk(['demo', '--db', db, '--credentials', creds]);
    const first = (await readFile(creds, 'utf8')).split('\n')[0];
    const m = /^password: (\S+)$/.exec(first);
    if (!m)
      throw new Error(`unexpected credentials file: ${first}`);
    password = m[1];
    adminEmail = DEMO.admin;
  } else if (kind === 'init') {
    password = randomBytes(12).toString('base64url');
    adminEmail = 'root@init.itsup.test';
    const pwfile = path.join(dir, 'admin-password');
    await writeFile(pwfile, password + '\n', { mode: 0o600 });
    await cliOk(['init', '--db', db, '--admin-email', adminEmail, '--admin-password-file', pwfile]);
  } else {
    throw new Error(`unknown kind ${kind}`);
  }
  return { dir, db, password, adminEmail };
}

/* Starts `itsup serve` on db; resolves once it logs "listening".
 * testClock: pass --test-clock (the clock moves only by POST
 * /api/v1/test/clock). */
export function serve(db, { env, testClock = false } = {}) {
  return new Promise((resolve, reject) => {
    const args = ['serve', isPg(db) ? '--pg' : '--db', db, '--listen', '127.0.0.1:0'];
    if (testClock)
      args.push('--test-clock');
    const child = spawn(BIN, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let pending = '';
    let url = null;
    const exited = new Promise((res) => child.on('exit', (code, signal) => res({ code, signal })));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      if (url)
        return;
      pending += chunk;
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        try {
          const ev = JSON.parse(line);
          if (ev.msg === 'listening' && ev.addr) {
            url = `http://${ev.addr}`;
            resolve(handle);
          }
        } catch { /* not JSON: keep it in stderr */ }
      }
    });
    child.on('error', reject);
    exited.then(({ code, signal }) => {
      if (!url)
        reject(new Error(`itsup serve exited (${code ?? signal}) before listening:\n${stderr}`));
    });
    const timer = setTimeout(() => {
      if (!url) {
        child.kill('SIGKILL');
        reject(new Error(`itsup serve did not log "listening" in 20 s:\n${stderr}`));
      }
    }, 20000);
    timer.unref();

    const handle = {
      get url() { return url; },
      pid: child.pid,
      stderr: () => stderr,
      /* Resolves the first JSON log line for which pred is true (polling
       * up to ms); rejects when none appears. */
      async waitForLog(pred, ms = 5000) {
        const end = Date.now() + ms;
        for (;;) {
          for (const l of stderr.split('\n')) {
            try {
              const ev = JSON.parse(l);
              if (pred(ev))
                return ev;
            } catch { /* partial or non-JSON line */ }
          }
          if (Date.now() > end)
            throw new Error(`no such log line within ${ms} ms`);
          await new Promise((r) => setTimeout(r, 20));
        }
      },
      exited,
      /* SIGTERM, wait; under sanitizers, a non-zero exit or a report fails. */
      async stop() {
        if (child.exitCode === null && child.signalCode === null)
          child.kill('SIGTERM');
        const { code, signal } = await withTimeout(exited, 30000, 'itsup serve did not stop within 30 s after SIGTERM', () => child.kill('SIGKILL'));
        const mark = sanitizerReport(stderr);
        if (SANITIZED && (code !== 0 || mark))
          throw new Error(`itsup serve exited ${code ?? signal}${mark ? ` with a ${mark} report` : ''}:\n${tail(stderr)}`);
        return { code, signal };
      },
      /* kill -9; a sanitizer report printed before it still fails. */
      async kill9() {
        child.kill('SIGKILL');
        const r = await exited;
        const mark = SANITIZED && sanitizerReport(stderr);
        if (mark)
          throw new Error(`itsup serve printed a ${mark} report:\n${tail(stderr)}`);
        return r;
      },
    };
  });
}

function tail(s, lines = 80) {
  // The sanitizer report matters, not the request log before it.
  const i = SANITIZER_MARKS.map((m) => s.indexOf(m)).filter((x) => x >= 0).sort((a, b) => a - b)[0];
  if (i !== undefined)
    return s.slice(Math.max(0, s.lastIndexOf('\n', i - 1))).slice(0, 20000);
  return s.split('\n').slice(-lines).join('\n');
}

function withTimeout(p, ms, msg, onTimeout) {
  let t;
  return Promise.race([
    p,
    new Promise((_, rej) => { t = setTimeout(() => { onTimeout?.(); rej(new Error(msg)); }, ms); }),
  ]).finally(() => clearTimeout(t));
}

/* A database and a server on it: {url, db, dir, password, adminEmail,
 * client, server, stop(), restart()}. stop() also removes the temp dir. */
export async function startServer({ kind = 'demo', env, testClock = false } = {}) {
  const d = await createDb({ kind });
  const srv = { ...d, server: null, client: null };
  try {
    srv.server = await serve(d.db, { env, testClock });
  } catch (e) {
    await rm(d.dir, { recursive: true, force: true });
    throw e;
  }
  srv.url = srv.server.url;
  srv.client = new Client(srv.url);
  srv.stop = async () => {
    try {
      if (srv.server)
        await srv.server.stop();
    } finally {
      srv.server = null;
      await rm(d.dir, { recursive: true, force: true });
    }
  };
  return srv;
}

/* ---- HTTP ------------------------------------------------------------------ */

export const SESSION_COOKIE = '__Host-itsup_session';

export class Client {
  constructor(url) {
    this.url = url;
  }

  /* api('POST', '/api/v1/clients', {token | session, body, headers, csrf})
   * -> {status, headers, body (parsed JSON or null), text}.
   * body: an object (sent as JSON) or a string / Buffer (sent as is, with
   * Content-Type application/json unless headers say otherwise).
   * session: {cookie, csrf}; the CSRF header is sent on non-GET requests
   * unless csrf is false (or a string to send instead). */
  async api(method, p, { token, session, body, headers = {}, csrf } = {}) {
    const h = { ...headers };
    if (token)
      h.Authorization = `Bearer ${token}`;
    if (session) {
      h.Cookie = `${SESSION_COOKIE}=${session.cookie}`;
      if (method !== 'GET' && method !== 'HEAD' && csrf !== false)
        h['X-CSRF-Token'] = typeof csrf === 'string' ? csrf : session.csrf;
    }
    let payload;
    if (body !== undefined) {
      payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
      if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type'))
        h['Content-Type'] = 'application/json';
    }
    const res = await fetch(this.url + p, { method, headers: h, body: payload });
    const text = await res.text();
    let parsed = null;
    const ct = res.headers.get('content-type') || '';
    if (ct.includes('json') && text.length) {
      try { parsed = JSON.parse(text); } catch { parsed = null; }
    }
    return { status: res.status, headers: res.headers, body: parsed, text };
  }

  get(p, o) { return this.api('GET', p, o); }
  post(p, body, o = {}) { return this.api('POST', p, { ...o, body }); }
  patch(p, body, o = {}) { return this.api('PATCH', p, { ...o, body }); }

  /* POST /auth/login; returns the response plus session {cookie, csrf}
   * when it succeeded. */
  async login(email, password, totp) {
    const body = { email, password };
    if (totp !== undefined)
      body.totp = totp;
    const r = await this.api('POST', '/api/v1/auth/login', { body });
    if (r.status === 200) {
      const cookie = r.headers.getSetCookie()
        .map((c) => c.split(';')[0])
        .find((c) => c.startsWith(SESSION_COOKIE + '='));
      r.session = { cookie: cookie.slice(SESSION_COOKIE.length + 1), csrf: r.body.csrf_token };
    }
    return r;
  }

  /* Logs in or throws; returns {cookie, csrf, user}. */
  async session(email, password, totp) {
    const r = await this.login(email, password, totp);
    if (r.status !== 200)
      throw new Error(`login ${email}: ${r.status} ${r.text}`);
    return { ...r.session, user: r.body.user };
  }

  /* A new API token for the session's user (POST /api/v1/tokens). */
  async token(session, name = 'api-test') {
    const r = await this.post('/api/v1/tokens', { name }, { session });
    if (r.status !== 201)
      throw new Error(`token: ${r.status} ${r.text}`);
    return r.body.token;
  }
}

/* Asserts-free check helper: is r an RFC 9457 problem of this status? */
export function isProblem(r, status) {
  return r.status === status &&
    (r.headers.get('content-type') || '').startsWith('application/problem+json') &&
    r.body && typeof r.body.type === 'string' && r.body.status === status &&
    typeof r.body.title === 'string';
}

/* Stand-alone forms of the Client methods, for a one-off call. */
export const api = (url, method, p, opts) => new Client(url).api(method, p, opts);
export const login = (url, email, password, totp) => new Client(url).session(email, password, totp);
