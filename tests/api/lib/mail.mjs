// mail.mjs: helpers for the mail intake and outbox API tests (issue 8;
// docs/MAIL.md): building incoming messages, posting them to
// POST /api/v1/mail/inbound, reading the messages itsup sends (headers,
// quoted-printable bodies), and a real SMTP server (smtp-sink.py) to send
// them to.
//
//   const raw = mail({ from: 'alice@acme-dental.example', subject: 'Printer' });
//   const r = await inbound(c, token, raw);          // {status, body, ...}
//   const sink = await SmtpSink.start();             // any free port
//   const got = await sink.waitFor(2);               // [{from, to, data, headers, body}]
//   await sink.stop(); await sink.restart();         // the same port again
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const SINK = new URL('./smtp-sink.py', import.meta.url).pathname;

/* A fresh Message-ID (without <>). */
export const newMid = (domain = 'sender.example') => `${randomUUID()}@${domain}`;

/* An RFC 2047 encoded word (UTF-8, base64) of s. */
export const b64word = (s) => `=?utf-8?b?${Buffer.from(s, 'utf8').toString('base64')}?=`;

/* An incoming message as text (CRLF line ends unless lf is true).
 * messageId null: no Message-ID header at all. headers: extra header
 * lines ("Name: value"). contentType: of the body (text/plain by default);
 * raw: a whole body as is (after the blank line), with contentType. */
export function mail({
  from = 'alice@acme-dental.example', to = 'support@msp.test', subject = 'Help', messageId,
  inReplyTo, references, headers = [], body = 'Hello,\nit does not work.\n', contentType,
  lf = false,
} = {}) {
  const mid = messageId === undefined ? newMid() : messageId;
  const h = [`From: ${from}`, `To: ${to}`, `Subject: ${subject}`, 'Date: Mon, 23 Nov 2026 09:15:00 +0000'];
  if (mid)
    h.push(`Message-ID: <${mid}>`);
  if (inReplyTo)
    h.push(`In-Reply-To: <${inReplyTo}>`);
  if (references)
    h.push(`References: ${references.map((x) => `<${x}>`).join(' ')}`);
  h.push('MIME-Version: 1.0');
  h.push(`Content-Type: ${contentType || 'text/plain; charset=utf-8'}`);
  h.push(...headers);
  const text = h.join('\n') + '\n\n' + body;
  return lf ? text : text.replace(/\r?\n/g, '\r\n');
}

/* POST /api/v1/mail/inbound with raw (string or Buffer). */
export function inbound(c, token, raw, contentType = 'message/rfc822') {
  return c.api('POST', '/api/v1/mail/inbound', { token, body: raw, headers: { 'Content-Type': contentType } });
}

/* ---- reading a message ---------------------------------------------------------------------- */

/* Quoted-printable undone (soft breaks, =XX), as UTF-8 text. */
export function qpDecode(s) {
  const bytes = [];
  const t = s.replace(/=\r?\n/g, '');
  for (let i = 0; i < t.length; i++) {
    const ch = t[i];
    if (ch === '=' && /^[0-9A-Fa-f]{2}$/.test(t.slice(i + 1, i + 3))) {
      bytes.push(parseInt(t.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(ch, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/* RFC 2047 encoded words in a header value decoded (B and Q, UTF-8). */
export function decodeWords(v) {
  return v.replace(/\?=\s+=\?/g, '?==?').replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_, cs, enc, text) => {
    const buf = enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64')
      : Buffer.from(qpDecode(text.replace(/_/g, ' ')), 'utf8');
    return buf.toString(/^utf-?8$/i.test(cs) ? 'utf8' : 'latin1');
  });
}

/* A message as text -> {headerLines: ['Name: value' unfolded], headers:
 * {lowercase name: [values]}, header(name) (the first, decoded),
 * body (decoded when quoted-printable or base64)}. */
export function parseMessage(data) {
  const sep = data.search(/\r?\n\r?\n/);
  const head = sep < 0 ? data : data.slice(0, sep);
  const rawBody = sep < 0 ? '' : data.slice(sep).replace(/^\r?\n\r?\n/, '');
  const headerLines = head.replace(/\r?\n[ \t]/g, ' ').split(/\r?\n/).filter(Boolean);
  const headers = {};
  for (const l of headerLines) {
    const i = l.indexOf(':');
    if (i < 0)
      continue;
    const k = l.slice(0, i).trim().toLowerCase();
    (headers[k] ||= []).push(l.slice(i + 1).trim());
  }
  const cte = (headers['content-transfer-encoding']?.[0] || '').toLowerCase();
  const body = cte === 'quoted-printable' ? qpDecode(rawBody)
    : cte === 'base64' ? Buffer.from(rawBody.replace(/\s+/g, ''), 'base64').toString('utf8') : rawBody;
  return {
    headerLines,
    headers,
    header: (name) => (headers[name.toLowerCase()]?.[0] !== undefined ? decodeWords(headers[name.toLowerCase()][0]) : undefined),
    body: body.replace(/\r\n/g, '\n'),
  };
}

/* "<a@b>" -> "a@b" (the first id in a header value). */
export const idOf = (v) => (/<([^>]+)>/.exec(v || '') || [])[1];

/* ---- a real SMTP server ------------------------------------------------------------------- */

export class SmtpSink {
  /* Starts smtp-sink.py on port (0: any free one) writing into a new dir. */
  static async start(port = 0) {
    const s = new SmtpSink();
    s.dirs = [];
    await s.#spawn(port);
    return s;
  }

  async #spawn(port) {
    const dir = await mkdtemp(path.join(tmpdir(), 'itsup-smtp-'));
    this.dirs.push(dir);
    this.dir = dir;
    const child = spawn('/usr/bin/python3', [SINK, dir, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    this.port = await new Promise((resolve, reject) => {
      let out = '';
      const t = setTimeout(() => reject(new Error(`smtp-sink did not start: ${err}`)), 10000);
      child.stdout.on('data', (d) => {
        out += d;
        const m = /ready (\d+)/.exec(out);
        if (m) {
          clearTimeout(t);
          resolve(Number(m[1]));
        }
      });
      child.on('exit', (code) => {
        clearTimeout(t);
        reject(new Error(`smtp-sink exited ${code}: ${err}`));
      });
    });
    this.exited = new Promise((r) => child.on('exit', r));
  }

  get url() { return `smtp://127.0.0.1:${this.port}`; }

  /* Stops it (SIGTERM to the process this object started). */
  async stop() {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      await this.exited;
    }
    this.child = null;
  }

  /* Starts it again on the same port, into a new dir (the sink counts its
   * files from 1 again); messages() reads every dir. Retries briefly while
   * the port is still held. */
  async restart() {
    await this.stop();
    for (let i = 0; ; i++) {
      try {
        await this.#spawn(this.port);
        return;
      } catch (e) {
        if (i >= 50)
          throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /* Every message received so far (all dirs, in order), each with its
   * parsed form: {from, to, data, headers, header(), body, file}. */
  async messages() {
    const out = [];
    for (const dir of this.dirs) {
      const names = (await readdir(dir)).filter((n) => /^\d+\.json$/.test(n))
        .sort((a, b) => parseInt(a, 10) - parseInt(b, 10));
      for (const n of names) {
        const m = JSON.parse(await readFile(path.join(dir, n), 'utf8'));
        out.push({ ...m, ...parseMessage(m.data), file: path.join(dir, n) });
      }
    }
    return out;
  }

  /* Polls until at least n messages arrived (or pred over the list holds);
   * throws after ms. */
  async waitFor(n, { ms = 10000, pred } = {}) {
    const end = Date.now() + ms;
    for (;;) {
      const list = await this.messages();
      if (pred ? pred(list) : list.length >= n)
        return list;
      if (Date.now() > end)
        throw new Error(`smtp sink: ${list.length} messages, wanted ${pred ? 'a condition' : n} within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async cleanup() {
    await this.stop();
    for (const d of this.dirs)
      await rm(d, { recursive: true, force: true });
  }
}
