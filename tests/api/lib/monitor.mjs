// monitor.mjs: helpers for the monitoring API tests (issue 7): a client
// with its default checks, enrolment tokens, agents that enrol and check
// in (each with its own batch counter), the test clock that runs the
// scheduler, and the readings the agent sends.
//
//   const m = new Monitor(c, adminToken);
//   const client = await m.client();                 // POST /clients
//   const dev = await m.device(client.id);           // token + enrol
//   await m.checkin(dev, [disk(95)]);                // batch 1, 2, ...
//   await m.tick();                                  // clock +0 s: the scheduler runs
//   await m.tick(301);                               // clock +301 s, then it runs
import { assertStatus, uniq } from './util.mjs';

/* The agent's readings. */
export const disk = (value, mount = '/') => ({ name: 'disk.used_percent', value, labels: { mount } });
export const mem = (value) => ({ name: 'mem.used_percent', value });
export const cpu = (value) => ({ name: 'cpu.percent', value });

export const iso = (ms) => new Date(ms).toISOString().replace('.000Z', 'Z');

export class Monitor {
  constructor(c, admin) {
    this.c = c;
    this.admin = admin;
  }

  /* POST /api/v1/test/clock: moves the clock by seconds (0: stays) and
   * runs every due timer, monitoring included. Returns the answer. */
  async tick(seconds = 0) {
    return assertStatus(await this.c.post('/api/v1/test/clock', { advance_seconds: seconds }, { token: this.admin }), 200);
  }

  /* Sets the clock to ms (forward only) and runs every due timer. */
  async clockTo(ms) {
    return assertStatus(await this.c.post('/api/v1/test/clock', { now: iso(ms) }, { token: this.admin }), 200);
  }

  /* The server's now (ms), without moving it. */
  async now() {
    return Date.parse((await this.tick(0)).now);
  }

  /* A new client (which gets the three default checks). */
  async client(name = uniq('Monitored')) {
    return assertStatus(await this.c.post('/api/v1/clients', { name }, { token: this.admin }), 201);
  }

  /* The same (kept for the tests that name it so). */
  async clientOnly(name = uniq('Monitored')) {
    return assertStatus(await this.c.post('/api/v1/clients', { name }, { token: this.admin }), 201);
  }

  /* A new enrolment token of client (the answer, token included). */
  async enrollToken(clientId, body = {}, token = this.admin) {
    return assertStatus(await this.c.post(`/api/v1/clients/${clientId}/enroll-tokens`, body, { token }), 201);
  }

  /* POST /api/v1/agent/enroll as an agent would (no Authorization). */
  enroll(enrollToken, hostname = uniq('host'), extra = {}) {
    return this.c.post('/api/v1/agent/enroll', { enroll_token: enrollToken, hostname, os: 'Linux', ...extra });
  }

  /* An enrolled device of client: {id, token, client_id, hostname, batch}. */
  async device(clientId, hostname = uniq('host')) {
    const t = await this.enrollToken(clientId);
    const e = assertStatus(await this.enroll(t.token, hostname), 201);
    return { id: e.device_id, token: e.device_token, client_id: e.client_id, hostname, batch: 0 };
  }

  /* POST /api/v1/agent/checkin with the device's next batch id (or
   * opts.batch). Returns the raw response. */
  checkinRaw(dev, metrics, { batch, at, inventory } = {}) {
    const body = { batch_id: batch ?? ++dev.batch, metrics };
    if (at !== undefined)
      body.at = at;
    if (inventory !== undefined)
      body.inventory = inventory;
    return this.c.post('/api/v1/agent/checkin', body, { token: dev.token });
  }

  async checkin(dev, metrics, opts) {
    return assertStatus(await this.checkinRaw(dev, metrics, opts), 200);
  }

  /* The device's alerts (status: open | firing | pending | resolved | all). */
  async alerts(dev, status = 'all', token = this.admin) {
    return assertStatus(await this.c.get(`/api/v1/alerts?device_id=${dev.id}&status=${status}`, { token }), 200).items;
  }

  /* The one alert of the device's check named name (undefined if none). */
  async alert(dev, name) {
    const all = (await this.alerts(dev)).filter((a) => a.name === name);
    if (all.length > 1)
      throw new Error(`${all.length} alerts named ${name} on device ${dev.id}`);
    return all[0];
  }

  /* The monitoring tickets of the device. */
  async tickets(dev) {
    const items = assertStatus(await this.c.get(`/api/v1/tickets?client_id=${dev.client_id}&limit=500`, { token: this.admin }), 200).items;
    return items.filter((t) => t.device_id === dev.id && t.channel === 'monitoring');
  }

  async ticket(id) {
    return assertStatus(await this.c.get(`/api/v1/tickets/${id}`, { token: this.admin }), 200);
  }

  async timeline(id) {
    return assertStatus(await this.c.get(`/api/v1/tickets/${id}/timeline`, { token: this.admin }), 200).items;
  }

  async messages(id) {
    return assertStatus(await this.c.get(`/api/v1/tickets/${id}/messages`, { token: this.admin }), 200).items;
  }

  async getDevice(dev, token = this.admin) {
    return assertStatus(await this.c.get(`/api/v1/devices/${dev.id}`, { token }), 200);
  }
}

/* Throws unless text is one well-formed XML element (with optional
 * prolog): every tag closed in order, attributes quoted and unique, only
 * the five named entities or character references, no stray '<' or '&'.
 * Returns the root element's name. Enough for the SVG charts. */
export function assertWellFormedXml(text) {
  let i = 0;
  const stack = [];
  let root = null;
  const fail = (why) => { throw new Error(`not well-formed XML at ${i}: ${why}: ${JSON.stringify(text.slice(Math.max(0, i - 40), i + 40))}`); };
  const checkText = (s) => {
    if (s.includes('<'))
      fail('a raw < in text');
    for (const m of s.matchAll(/&([^;]*);?/g))
      if (!/^(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+)$/.test(m[1]) || !m[0].endsWith(';'))
        fail(`a bad entity ${m[0]}`);
  };
  const NAME = /^[A-Za-z_:][-A-Za-z0-9_:.]*/;
  if (text.startsWith('<?xml')) {
    i = text.indexOf('?>');
    if (i < 0)
      fail('unterminated prolog');
    i += 2;
  }
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    const chunk = lt < 0 ? text.slice(i) : text.slice(i, lt);
    if (stack.length)
      checkText(chunk);
    else if (chunk.trim())
      fail('text outside the root element');
    if (lt < 0)
      break;
    i = lt;
    if (text.startsWith('<!--', i)) {
      const e = text.indexOf('-->', i);
      if (e < 0)
        fail('unterminated comment');
      i = e + 3;
      continue;
    }
    if (text.startsWith('</', i)) {
      const m = NAME.exec(text.slice(i + 2));
      if (!m)
        fail('a bad end tag');
      const j = i + 2 + m[0].length;
      if (!/^\s*>/.test(text.slice(j)))
        fail('a bad end tag');
      if (stack.pop() !== m[0])
        fail(`</${m[0]}> closes another element`);
      i = text.indexOf('>', j) + 1;
      continue;
    }
    const m = NAME.exec(text.slice(i + 1));
    if (!m)
      fail('a bad start tag');
    if (!stack.length && root !== null)
      fail('a second root element');
    if (root === null)
      root = m[0];
    i += 1 + m[0].length;
    const seen = new Set();
    for (;;) {
      const rest = text.slice(i);
      const end = /^\s*(\/?)>/.exec(rest);
      if (end) {
        i += end[0].length;
        if (!end[1])
          stack.push(m[0]);
        break;
      }
      const a = /^\s+([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*("([^"]*)"|'([^']*)')/.exec(rest);
      if (!a)
        fail('a bad attribute');
      if (seen.has(a[1]))
        fail(`attribute ${a[1]} twice`);
      seen.add(a[1]);
      checkText(a[3] ?? a[4]);
      i += a[0].length;
    }
  }
  if (stack.length)
    fail(`<${stack.at(-1)}> not closed`);
  if (root === null)
    fail('no element');
  return root;
}
