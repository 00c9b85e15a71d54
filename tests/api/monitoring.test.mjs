// monitoring.test.mjs: the monitoring server (issue 7) from the outside:
// enrolment tokens and agents that enrol with them, the agent's check-in
// (validation, replayed batches, latest readings), devices, checks and
// their defaults, alerts through their life (for_seconds, hysteresis,
// flapping, acknowledgement) and the tickets they open, maintenance
// windows, offline detection with its grace period after a start, who
// may see what, and the series and SVG charts.
//
// Time: one server with --test-clock. The clock moves only when a test
// says so, and POST /api/v1/test/clock runs the scheduler (alert events ->
// tickets, heartbeats, maintenance ends, rollups). Two check-ins at the
// same instant are one sample for an alert (a sample no newer than the
// last is ignored), so tests move the clock a little between readings.
// Every device of every test is seen by the heartbeat pass, so each test
// makes its own client and devices and looks only at those.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { ACME, BOREALIS, Client, DEMO, cli, createDb, serve, sql, startServer } from './lib/server.mjs';
import { assertProblem, assertStatus, uniq } from './lib/util.mjs';
import { Monitor, assertWellFormedXml, cpu, disk, iso, mem } from './lib/monitor.mjs';

let srv, c, m;
const T = {};   // API tokens by DEMO key
const U = {};   // user ids by DEMO key
const MIN = 60000;

before(async () => {
  srv = await startServer({ testClock: true });
  c = srv.client;
  for (const k of ['admin', 'dispatcher', 'tier1', 'acmeAdmin', 'acmeUser', 'borealisIT', 'borealisUser']) {
    const s = await c.session(DEMO[k], srv.password);
    U[k] = s.user.id;
    T[k] = await c.token(s);
  }
  m = new Monitor(c, T.admin);
});
after(() => srv?.stop());

const etokens = async (clientId, who = 'admin') =>
  assertStatus(await c.get(`/api/v1/clients/${clientId}/enroll-tokens`, { token: T[who] }), 200).items;
const checksOf = async (clientId, who = 'admin') =>
  assertStatus(await c.get(`/api/v1/checks?client_id=${clientId}`, { token: T[who] }), 200).items;
const newCheck = async (body, who = 'admin') => assertStatus(await c.post('/api/v1/checks', body, { token: T[who] }), 201);
const dropCheck = async (id) => assertStatus(await c.api('DELETE', `/api/v1/checks/${id}`, { token: T.admin }), 204);
const alertGet = async (id, who = 'admin') => assertStatus(await c.get(`/api/v1/alerts/${id}`, { token: T[who] }), 200);
const ack = (id, who) => c.post(`/api/v1/alerts/${id}/ack`, undefined, { token: T[who] });
const reply = (id, body, who = 'tier1') => c.post(`/api/v1/tickets/${id}/messages`, { kind: 'reply', body }, { token: T[who] });
const byName = (list) => [...list].sort((a, b) => (a.name + JSON.stringify(a.labels)).localeCompare(b.name + JSON.stringify(b.labels)));
const recoveredNotes = (msgs) => msgs.filter((x) => x.kind === 'note' && /^Recovered:/.test(x.body));

/* ---- enrolment ------------------------------------------------------------------------------ */

describe('enrolment', () => {
  test('an admin makes a token for a client (shown once), an agent enrols with it; revoked, expired, used-up and unknown tokens are 401', async () => {
    const client = await m.client();

    // The token is in the answer to the POST, and nowhere after.
    const r = await c.post(`/api/v1/clients/${client.id}/enroll-tokens`, { name: 'office PCs' }, { token: T.admin });
    const tok = assertStatus(r, 201);
    assert.equal(tok.client_id, client.id);
    assert.equal(tok.name, 'office PCs');
    assert.equal(tok.uses, 0);
    assert.equal(tok.max_uses, 0);
    assert.equal(tok.expires_at, null);
    assert.equal(tok.revoked_at, null);
    assert.equal(typeof tok.token, 'string');
    assert.ok(tok.token.length >= 32, tok.token);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    let list = await etokens(client.id);
    assert.deepEqual(list.map((t) => t.id), [tok.id]);
    assert.equal('token' in list[0], false);
    assert.ok(!JSON.stringify(list).includes(tok.token));

    // An agent enrols (no Authorization header, the token in the body).
    const e = await m.enroll(tok.token, 'pc-01', { inventory: { cpu_count: 4 } });
    const en = assertStatus(e, 201);
    assert.equal(typeof en.device_id, 'number');
    assert.equal(typeof en.device_token, 'string');
    assert.ok(en.device_token.length >= 32);
    assert.equal(en.client_id, client.id);
    const dev = await m.getDevice({ id: en.device_id });
    assert.equal(dev.hostname, 'pc-01');
    assert.equal(dev.client_id, client.id);
    assert.equal(dev.os, 'Linux');
    assert.equal(dev.inventory.cpu_count, 4);
    assert.equal(dev.status, 'offline');   // never seen yet
    assert.equal(dev.last_seen_at, null);
    assert.equal(dev.active, true);
    assert.deepEqual(dev.metrics, []);
    // A token without max_uses serves every PC of the office.
    assertStatus(await m.enroll(tok.token, 'pc-02'), 201);
    list = await etokens(client.id);
    assert.equal(list[0].uses, 2);

    // Revoked: 204, then 401 for the next agent (and the list says when).
    assertStatus(await c.api('DELETE', `/api/v1/clients/${client.id}/enroll-tokens/${tok.id}`, { token: T.admin }), 204);
    const revoked = await m.enroll(tok.token, 'pc-03');
    assertProblem(revoked, 401);
    assert.match(revoked.headers.get('www-authenticate') || '', /^Bearer/);
    list = await etokens(client.id);
    assert.notEqual(list[0].revoked_at, null);
    assert.equal(list[0].uses, 2);
    assertProblem(await c.api('DELETE', `/api/v1/clients/${client.id}/enroll-tokens/${tok.id}`, { token: T.admin }), 404);

    // Expired: good until expires_at, 401 after.
    const now = await m.now();
    const short = await m.enrollToken(client.id, { name: 'one minute', expires_at: iso(now + MIN) });
    assert.equal(short.expires_at.slice(0, 19), iso(now + MIN).slice(0, 19));
    assertStatus(await m.enroll(short.token, 'pc-04'), 201);
    await m.tick(61);
    assertProblem(await m.enroll(short.token, 'pc-05'), 401);
    assertProblem(await c.post(`/api/v1/clients/${client.id}/enroll-tokens`, { expires_at: iso(now - MIN) }, { token: T.admin }), 400, { field: 'expires_at' });

    // Used up: max_uses 1 enrols one agent.
    const once = await m.enrollToken(client.id, { name: 'one PC', max_uses: 1 });
    assert.equal(once.max_uses, 1);
    assertStatus(await m.enroll(once.token, 'pc-06'), 201);
    assertProblem(await m.enroll(once.token, 'pc-07'), 401);
    assert.equal((await etokens(client.id)).find((t) => t.id === once.id).uses, 1);

    // Unknown token; a body without a hostname.
    assertProblem(await m.enroll('itsup_enr_not-a-token', 'pc-08'), 401);
    assertProblem(await c.post('/api/v1/agent/enroll', { enroll_token: once.token }), 400, { field: 'hostname' });

    // Four enrolled: pc-01, 02, 04, 06 (and none of the refused).
    const devs = assertStatus(await c.get(`/api/v1/devices?client_id=${client.id}`, { token: T.admin }), 200).items;
    assert.deepEqual(devs.map((d) => d.hostname).sort(), ['pc-01', 'pc-02', 'pc-04', 'pc-06']);
  });

  test('only admins and dispatchers manage enrolment tokens: client roles and technicians are 403, whichever client', async () => {
    assertProblem(await c.post(`/api/v1/clients/${ACME}/enroll-tokens`, {}, { token: T.acmeUser }), 403);
    assertProblem(await c.post(`/api/v1/clients/${ACME}/enroll-tokens`, {}, { token: T.acmeAdmin }), 403);
    assertProblem(await c.post(`/api/v1/clients/${ACME}/enroll-tokens`, {}, { token: T.tier1 }), 403);
    const t = await m.enrollToken(BOREALIS, { name: uniq('borealis') }, T.dispatcher);
    assert.equal(t.client_id, BOREALIS);
    // A client_admin of ACME asking for Borealis's tokens learns nothing:
    // the same 403 as for its own client's (the routes are for the
    // provider's admins and dispatchers only; see the report).
    assertProblem(await c.get(`/api/v1/clients/${BOREALIS}/enroll-tokens`, { token: T.acmeAdmin }), 403);
    assertProblem(await c.get(`/api/v1/clients/${ACME}/enroll-tokens`, { token: T.acmeAdmin }), 403);
    assertProblem(await c.api('DELETE', `/api/v1/clients/${BOREALIS}/enroll-tokens/${t.id}`, { token: T.acmeAdmin }), 403);
    // A token of Borealis is not found under ACME; no such client is 404.
    assertProblem(await c.api('DELETE', `/api/v1/clients/${ACME}/enroll-tokens/${t.id}`, { token: T.admin }), 404);
    assertProblem(await c.get('/api/v1/clients/999999/enroll-tokens', { token: T.admin }), 404);
    assertProblem(await c.post('/api/v1/clients/999999/enroll-tokens', {}, { token: T.admin }), 404);
  });
});

/* ---- the agent's credentials ----------------------------------------------------------------- */

test('agent auth: a device token opens the agent routes only, a user token is no device token, no token is 401', async () => {
  const client = await m.client();
  const dev = await m.device(client.id);
  await m.checkin(dev, [cpu(5)]);

  // The device token on user routes.
  assertProblem(await c.get('/api/v1/tickets', { token: dev.token }), 401);
  assertProblem(await c.get('/api/v1/devices', { token: dev.token }), 401);
  assertProblem(await c.get(`/api/v1/devices/${dev.id}`, { token: dev.token }), 401);
  // A user's API token (an admin's even) on the check-in.
  const r = await c.post('/api/v1/agent/checkin', { batch_id: 99, metrics: [cpu(1)] }, { token: T.admin });
  assertProblem(r, 401);
  assert.match(r.headers.get('www-authenticate') || '', /^Bearer/);
  // No token, another scheme, a made-up token.
  assertProblem(await c.post('/api/v1/agent/checkin', { batch_id: 99, metrics: [cpu(1)] }), 401);
  assertProblem(await c.post('/api/v1/agent/checkin', { batch_id: 99, metrics: [cpu(1)] }, { headers: { Authorization: `Basic ${Buffer.from('x:y').toString('base64')}` } }), 401);
  assertProblem(await c.post('/api/v1/agent/checkin', { batch_id: 99, metrics: [cpu(1)] }, { token: 'itsup_dev_made-up' }), 401);
  // None of these stored anything: cpu is still 5.
  assert.deepEqual((await m.getDevice(dev)).metrics.map((x) => x.value), [5]);

  // A retired device's token stops working (only admins and dispatchers retire).
  const etag = (await c.get(`/api/v1/devices/${dev.id}`, { token: T.admin })).headers.get('etag');
  assertProblem(await c.patch(`/api/v1/devices/${dev.id}`, { active: false }, { token: T.acmeAdmin }), 403);
  assertProblem(await c.patch(`/api/v1/devices/${dev.id}`, { active: false }, { token: T.tier1 }), 403);
  const retired = assertStatus(await c.patch(`/api/v1/devices/${dev.id}`, { active: false }, { token: T.dispatcher, headers: { 'If-Match': etag } }), 200);
  assert.equal(retired.active, false);
  assertProblem(await m.checkinRaw(dev, [cpu(6)]), 401);
});

/* ---- check-in validation ---------------------------------------------------------------------- */

describe('check-in validation: a bad body is 400 naming the field, and nothing of it is stored', () => {
  let dev, before;
  const BATCH = 1000;   // every bad body uses it; none of them may take it
  const ok = [cpu(1), disk(2)];

  test('a device with one good check-in', async () => {
    const client = await m.client();
    dev = await m.device(client.id);
    await m.checkin(dev, [cpu(10), disk(20)]);
    before = await m.getDevice(dev);
    assert.equal(before.metrics.length, 2);
  });

  for (const [label, body, field] of [
    ['metrics[1].value in text', { batch_id: BATCH, metrics: [cpu(1), { name: 'cpu.percent', value: 'high' }] }, 'metrics[1].value'],
    ['metrics[1].value null (JSON has no NaN)', { batch_id: BATCH, metrics: [cpu(1), { name: 'load.1', value: null }] }, 'metrics[1].value'],
    ['metrics[1].value a boolean', { batch_id: BATCH, metrics: [cpu(1), { name: 'load.1', value: true }] }, 'metrics[1].value'],
    ['metrics[1].value missing', { batch_id: BATCH, metrics: [cpu(1), { name: 'load.1' }] }, 'metrics[1].value'],
    ['a label that is a number', { batch_id: BATCH, metrics: [{ name: 'disk.used_percent', value: 3, labels: { mount: 1 } }] }, 'metrics[0].labels'],
    ['labels that are a string', { batch_id: BATCH, metrics: [cpu(1), { name: 'disk.used_percent', value: 3, labels: '/' }] }, 'metrics[1].labels'],
    ['no batch_id', { metrics: ok }, 'batch_id'],
    ['batch_id 0', { batch_id: 0, metrics: ok }, 'batch_id'],
    ['a value past 1e15 (its rollups would overflow)', { batch_id: BATCH, metrics: [cpu(1), { name: 'net.rx_bytes', value: 1e16 }] }, 'metrics[1].value'],
    ['a reading from before 2000', { batch_id: BATCH, metrics: [{ ...cpu(1), at: '1969-12-31T23:59:59Z' }] }, 'metrics[0].at'],
    ['a batch from before 2000', { batch_id: BATCH, at: 900000000000, metrics: ok }, 'at'],
    ['batch_id in text', { batch_id: '1000', metrics: ok }, 'batch_id'],
    ['an unknown field', { batch_id: BATCH, metrics: ok, colour: 'red' }, 'colour'],
    ['an unknown field in a metric', { batch_id: BATCH, metrics: [cpu(1), { ...cpu(2), unit: '%' }] }, 'metrics[1].unit'],
    ['a metric name with a space', { batch_id: BATCH, metrics: [{ name: 'cpu percent', value: 1 }] }, 'metrics[0].name'],
    ['a metric that is not an object', { batch_id: BATCH, metrics: [cpu(1), 42] }, 'metrics[1]'],
    ['no metrics', { batch_id: BATCH }, 'metrics'],
    ['1001 metrics', { batch_id: BATCH, metrics: Array.from({ length: 1001 }, (_, i) => cpu(i)) }, 'metrics'],
    ['an at that is not an instant', { batch_id: BATCH, at: 'yesterday', metrics: ok }, 'at'],
    ['a sample at that is not an instant', { batch_id: BATCH, metrics: [{ ...cpu(1), at: 'soon' }] }, 'metrics[0].at'],
    ['an inventory that is a list', { batch_id: BATCH, metrics: ok, inventory: [1, 2] }, 'inventory'],
  ]) {
    test(`${label}: 400 naming ${field}`, async () => {
      const r = await c.post('/api/v1/agent/checkin', body, { token: dev.token });
      assertProblem(r, 400, { field });
      const now = await m.getDevice(dev);
      assert.deepEqual(now.metrics, before.metrics);
      assert.equal(now.last_seen_at, before.last_seen_at);
    });
  }

  test('a value too large for a number (1e999) is 400 too', async () => {
    const body = `{"batch_id":${BATCH},"metrics":[{"name":"cpu.percent","value":1},{"name":"cpu.percent","value":1e999}]}`;
    assertProblem(await c.post('/api/v1/agent/checkin', body, { token: dev.token }), 400);
    assert.deepEqual((await m.getDevice(dev)).metrics, before.metrics);
  });

  test('none of the refused bodies took the batch id: a good batch with it is stored', async () => {
    await m.tick(1);
    const r = await m.checkin(dev, [cpu(11)], { batch: BATCH });
    assert.deepEqual(r, { stored: 1, duplicate: false });
    assert.equal((await m.getDevice(dev)).metrics.find((x) => x.name === 'cpu.percent').value, 11);
  });
});

/* ---- replays and the latest readings ---------------------------------------------------------- */

test('duplicate batch: the same batch_id twice stores once; the latest readings (with labels) show on the device and in the list', async () => {
  const client = await m.client();
  const dev = await m.device(client.id, uniq('db-server'));
  await m.tick(5);
  const now = iso(await m.now());

  const first = await m.checkin(dev, [cpu(12.5), disk(40, '/'), disk(70, '/home')], { batch: 7, inventory: { kernel: '6.1' } });
  assert.deepEqual(first, { stored: 3, duplicate: false });
  // The agent did not get the answer and sends batch 7 again (say, read
  // again): nothing of it is stored, the answer says why.
  const again = await m.checkin(dev, [cpu(99), disk(99, '/')], { batch: 7 });
  assert.deepEqual(again, { stored: 0, duplicate: true });

  const d = await m.getDevice(dev);
  assert.equal(d.status, 'online');
  assert.equal(d.last_seen_at, now);
  assert.equal(d.inventory.kernel, '6.1');
  assert.deepEqual(byName(d.metrics), [
    { name: 'cpu.percent', labels: {}, value: 12.5, at: now },
    { name: 'disk.used_percent', labels: { mount: '/' }, value: 40, at: now },
    { name: 'disk.used_percent', labels: { mount: '/home' }, value: 70, at: now },
  ]);
  assert.deepEqual(d.alerts, []);   // 70 % is no alarm; 99 % never arrived

  const list = assertStatus(await c.get(`/api/v1/devices?client_id=${client.id}`, { token: T.admin }), 200).items;
  assert.equal(list.length, 1);
  assert.equal(list[0].id, dev.id);
  assert.equal(list[0].hostname, dev.hostname);
  assert.equal(list[0].status, 'online');
  assert.deepEqual(byName(list[0].metrics), byName(d.metrics));
  const online = assertStatus(await c.get(`/api/v1/devices?client_id=${client.id}&status=online`, { token: T.admin }), 200).items;
  assert.deepEqual(online.map((x) => x.id), [dev.id]);
  const offline = assertStatus(await c.get(`/api/v1/devices?client_id=${client.id}&status=offline`, { token: T.admin }), 200).items;
  assert.deepEqual(offline, []);
  assertProblem(await c.get('/api/v1/devices?status=asleep', { token: T.admin }), 400, { field: 'status' });

  // A later batch updates the series it has; the others keep their last reading.
  await m.tick(10);
  assert.deepEqual(await m.checkin(dev, [cpu(20)], { batch: 8 }), { stored: 1, duplicate: false });
  assert.deepEqual(byName((await m.getDevice(dev)).metrics).map((x) => [x.name, x.value]),
    [['cpu.percent', 20], ['disk.used_percent', 40], ['disk.used_percent', 70]]);
  // A late batch from the agent's spool (older readings) hides nothing fresher.
  assert.deepEqual(await m.checkin(dev, [cpu(77), disk(41, '/')], { batch: 6, at: iso(Date.parse(now) - 3600000) }),
    { stored: 2, duplicate: false });
  assert.deepEqual(byName((await m.getDevice(dev)).metrics).map((x) => [x.name, x.value]),
    [['cpu.percent', 20], ['disk.used_percent', 40], ['disk.used_percent', 70]]);

  // /metrics counts check-ins, replays and samples.
  const text = (await c.get('/metrics')).text;
  const num = (name) => Number((text.match(new RegExp(`^${name} (\\d+)$`, 'm')) || [])[1]);
  assert.ok(num('itsup_agent_checkins_total') >= 4, text);
  assert.ok(num('itsup_agent_checkin_duplicates_total') >= 1);
  assert.ok(num('itsup_metric_samples_total') >= 6);
});

test("check-in times: a batch's at (RFC 3339 or ms) is the readings' time, a sample's own at wins, and more than 5 minutes ahead is taken as now", async () => {
  const client = await m.client();
  const dev = await m.device(client.id);
  await m.tick(1);
  const now = await m.now();
  const latest = async () => Object.fromEntries((await m.getDevice(dev)).metrics.map((x) => [x.name, x.at]));

  await m.checkin(dev, [cpu(1), { name: 'load.1', value: 0.5, at: now - 30000 }], { at: iso(now - 60000) });
  assert.deepEqual(await latest(), { 'cpu.percent': iso(now - 60000), 'load.1': iso(now - 30000) });
  await m.checkin(dev, [cpu(2)], { at: now - 20000 });
  assert.deepEqual(await latest(), { 'cpu.percent': iso(now - 20000), 'load.1': iso(now - 30000) });
  await m.checkin(dev, [cpu(3), { name: 'load.1', value: 0.7, at: iso(now + 3600000) }], { at: now + 86400000 });
  assert.deepEqual(await latest(), { 'cpu.percent': iso(now), 'load.1': iso(now) });
  // The device was seen when the batch arrived, whatever its readings say.
  assert.equal((await m.getDevice(dev)).last_seen_at, iso(now));
});

test('a client made a moment ago: the first check-in of its first device meets its default checks', async () => {
  // As on a busy server: the checks were just loaded (a check-in of another device).
  const warm = await m.device((await m.client()).id);
  await m.checkin(warm, [cpu(1)]);
  const client = await m.clientOnly();
  const dev = await m.device(client.id);
  await m.checkin(dev, [disk(95)]);
  assert.equal((await m.alert(dev, 'Disk full'))?.status, 'firing');
});

/* ---- checks -------------------------------------------------------------------------------- */

test('default checks: a new client has Disk full, Memory exhausted and Offline', async () => {
  const client = await m.client();
  const mine = byName((await checksOf(client.id)).filter((k) => k.client_id === client.id));
  assert.deepEqual(mine.map((k) => k.name), ['Disk full', 'Memory exhausted', 'Offline']);
  const [diskFull, memory, offline] = mine;
  assert.deepEqual([diskFull.kind, diskFull.metric, diskFull.op, diskFull.crit, diskFull.hysteresis, diskFull.for_seconds, diskFull.enabled],
    ['metric', 'disk.used_percent', '>', 90, 2, 0, true]);
  assert.deepEqual([memory.metric, memory.op, memory.crit, memory.for_seconds], ['mem.used_percent', '>', 95, 600]);
  assert.deepEqual([offline.kind, offline.metric, offline.op, offline.crit, offline.offline_after],
    ['offline', 'heartbeat.age_seconds', '>', 300, 300]);
  for (const k of mine) {
    assert.equal(k.device_id, null);
    assert.equal(k.warn, null);
  }
});

test('checks: staff create, read, change (If-Match) and delete them; bad bodies are 400 naming the field; client roles are 403', async () => {
  const client = await m.client();
  const other = await m.client();
  const otherDev = await m.device(other.id);
  const body = { name: 'CPU hot', client_id: client.id, metric: 'cpu.percent', op: '>', warn: 80, crit: 90 };

  // A technician (staff) creates one; the defaults are filled in.
  const r = await c.post('/api/v1/checks', body, { token: T.tier1 });
  const chk = assertStatus(r, 201);
  assert.equal(r.headers.get('location'), `/api/v1/checks/${chk.id}`);
  assert.equal(r.headers.get('etag'), '"v1"');
  assert.deepEqual(
    [chk.name, chk.client_id, chk.device_id, chk.kind, chk.metric, chk.labels, chk.op, chk.warn, chk.crit],
    ['CPU hot', client.id, null, 'metric', 'cpu.percent', null, '>', 80, 90]);
  assert.deepEqual([chk.hysteresis, chk.for_seconds, chk.flap_changes, chk.impact, chk.enabled, chk.version],
    [0, 0, 0, 'medium', true, 1]);
  assert.deepEqual(assertStatus(await c.get(`/api/v1/checks/${chk.id}`, { token: T.admin }), 200), chk);
  assert.ok((await checksOf(client.id)).some((k) => k.id === chk.id));

  // Bad bodies.
  for (const [change, field] of [
    [{ crit: 70 }, 'crit'],                                  // critical below the warning for ">"
    [{ op: '<', warn: 20, crit: 30 }, 'crit'],               // critical above the warning for "<"
    [{ op: '=>' }, 'op'],
    [{ op: undefined }, 'op'],
    [{ metric: undefined }, 'metric'],
    [{ metric: 'cpu percent' }, 'metric'],
    [{ metric: 'heartbeat.age_seconds' }, 'metric'],        // the server's own: kind offline
    [{ warn: undefined, crit: undefined }, 'warn'],          // no threshold at all
    [{ warn: 'high' }, 'warn'],
    [{ labels: { mount: 1 } }, 'labels'],
    [{ hysteresis: -1 }, 'hysteresis'],
    [{ flap_changes: 1 }, 'flap_changes'],
    [{ flap_changes: 4 }, 'flap_window_seconds'],
    [{ impact: 'huge' }, 'impact'],
    [{ client_id: 999999 }, 'client_id'],
    [{ device_id: otherDev.id }, 'device_id'],              // a device of another client
    [{ offline_after: 60 }, 'offline_after'],               // only for kind offline
    [{ colour: 'red' }, 'colour'],
  ]) {
    const name = uniq('bad');
    const res = await c.post('/api/v1/checks', { ...body, name, ...change }, { token: T.admin });
    assertProblem(res, 400, { field });
    assert.ok(!(await checksOf(client.id)).some((k) => k.name === name), `${JSON.stringify(change)} created nothing`);
  }

  // The offline shorthand.
  const o = await newCheck({ kind: 'offline', offline_after: 120, client_id: client.id });
  assert.deepEqual([o.name, o.kind, o.metric, o.op, o.crit, o.offline_after, o.impact], ['Offline', 'offline', 'heartbeat.age_seconds', '>', 120, 120, 'high']);
  assertProblem(await c.post('/api/v1/checks', { kind: 'offline', client_id: client.id }, { token: T.admin }), 400, { field: 'offline_after' });
  assertProblem(await c.post('/api/v1/checks', { kind: 'offline', offline_after: 5, client_id: client.id }, { token: T.admin }), 400, { field: 'offline_after' });
  assertProblem(await c.post('/api/v1/checks', { kind: 'offline', offline_after: 120, metric: 'cpu.percent', client_id: client.id }, { token: T.admin }), 400, { field: 'metric' });

  // PATCH with If-Match: the current version changes it, a stale one is 412.
  const p = await c.patch(`/api/v1/checks/${chk.id}`, { crit: 95, for_seconds: 120 }, { token: T.tier1, headers: { 'If-Match': '"v1"' } });
  const changed = assertStatus(p, 200);
  assert.deepEqual([changed.warn, changed.crit, changed.for_seconds, changed.version], [80, 95, 120, 2]);
  assert.equal(p.headers.get('etag'), '"v2"');
  assertProblem(await c.patch(`/api/v1/checks/${chk.id}`, { crit: 99 }, { token: T.tier1, headers: { 'If-Match': '"v1"' } }), 412);
  assertProblem(await c.patch(`/api/v1/checks/${chk.id}`, { crit: 70 }, { token: T.tier1 }), 400, { field: 'crit' });
  assertProblem(await c.patch(`/api/v1/checks/${chk.id}`, { crit: 99 }, { token: T.tier1, headers: { 'If-Match': 'v2' } }), 400);
  const got = assertStatus(await c.get(`/api/v1/checks/${chk.id}`, { token: T.admin }), 200);
  assert.deepEqual([got.crit, got.version], [95, 2]);
  const op = assertStatus(await c.patch(`/api/v1/checks/${o.id}`, { offline_after: 600 }, { token: T.admin }), 200);
  assert.deepEqual([op.crit, op.offline_after, op.metric], [600, 600, 'heartbeat.age_seconds']);

  // Client roles read (in scope) but do not write.
  for (const who of ['acmeUser', 'acmeAdmin']) {
    assertProblem(await c.post('/api/v1/checks', { ...body, client_id: ACME }, { token: T[who] }), 403);
    assertProblem(await c.patch(`/api/v1/checks/${chk.id}`, { crit: 99 }, { token: T[who] }), 403);
    assertProblem(await c.api('DELETE', `/api/v1/checks/${chk.id}`, { token: T[who] }), 403);
  }

  // DELETE: 204, then 404.
  assertStatus(await c.api('DELETE', `/api/v1/checks/${chk.id}`, { token: T.tier1 }), 204);
  assertProblem(await c.get(`/api/v1/checks/${chk.id}`, { token: T.admin }), 404);
  assertProblem(await c.api('DELETE', `/api/v1/checks/${chk.id}`, { token: T.admin }), 404);
  assertProblem(await c.patch(`/api/v1/checks/${chk.id}`, { crit: 99 }, { token: T.admin }), 404);
  assert.ok(!(await checksOf(client.id)).some((k) => k.id === chk.id));
  await dropCheck(o.id);
});

/* ---- alerts and tickets ----------------------------------------------------------------------- */

test('alert lifecycle: disk 95 % fires, the scheduler opens one ticket, repeats add none, recovery resolves it with a note, firing again within 7 days reopens it', async () => {
  const client = await m.client();
  const dev = await m.device(client.id, uniq('fileserver'));

  // 95 % on /: the default "Disk full" (> 90) fires at once.
  await m.checkin(dev, [disk(95), cpu(3)]);
  const [al] = await m.alerts(dev, 'open');
  assert.deepEqual([al.name, al.source, al.status, al.severity, al.value, al.client_id, al.device_id],
    ['Disk full', 'check', 'firing', 'critical', 95, client.id, dev.id]);
  assert.deepEqual(al.labels, { mount: '/' });
  assert.equal(al.hostname, dev.hostname);
  assert.equal(al.ticket_id, null);   // the scheduler has not run
  assert.equal(al.acked, false);
  assert.equal(al.flapping, false);
  assert.equal(al.in_maintenance, false);
  assert.notEqual(al.firing_since, null);
  const firing = assertStatus(await c.get(`/api/v1/alerts?status=firing&client_id=${client.id}`, { token: T.admin }), 200).items;
  assert.deepEqual(firing.map((a) => a.id), [al.id]);
  assert.deepEqual((await m.getDevice(dev)).alerts.map((a) => a.id), [al.id]);
  assert.deepEqual(await m.tickets(dev), []);

  // The scheduler: one incident ticket, channel monitoring, for the device.
  await m.tick();
  let tickets = await m.tickets(dev);
  assert.equal(tickets.length, 1);
  const t = tickets[0];
  assert.deepEqual([t.channel, t.type, t.device_id, t.client_id, t.urgency], ['monitoring', 'incident', dev.id, client.id, 'high']);
  assert.match(t.subject, new RegExp(`^\\[critical\\] Disk full on ${dev.hostname}`));
  assert.ok(['new', 'open'].includes(t.status), t.status);
  assert.equal((await alertGet(al.id)).ticket_id, t.id);
  assert.deepEqual((await alertGet(al.id)).events.map((e) => [e.kind, e.severity, e.value]), [['fire', 'critical', 95]]);

  // Still full a little later: still the one ticket, whose timeline has the alert.
  await m.tick(10);
  await m.checkin(dev, [disk(96)]);
  await m.tick();
  tickets = await m.tickets(dev);
  assert.deepEqual(tickets.map((x) => x.id), [t.id]);
  const alertEvents = (await m.timeline(t.id)).filter((e) => e.kind === 'alert');
  assert.ok(alertEvents.length >= 1);
  assert.deepEqual([alertEvents[0].data.alert_id, alertEvents[0].data.event, alertEvents[0].data.severity], [al.id, 'fire', 'critical']);
  assert.equal((await alertGet(al.id)).value, 96);

  // Recovery: the alert resolves; the scheduler resolves the ticket with a note.
  await m.tick(10);
  await m.checkin(dev, [disk(50)]);
  const rec = await alertGet(al.id);
  assert.equal(rec.status, 'resolved');
  assert.notEqual(rec.resolved_at, null);
  assert.deepEqual(rec.events.map((e) => e.kind), ['fire', 'resolve']);
  assert.deepEqual((await m.alerts(dev, 'open')), []);
  assert.deepEqual((await m.alerts(dev, 'resolved')).map((a) => a.id), [al.id]);
  await m.tick();
  let now = await m.ticket(t.id);
  assert.equal(now.status, 'resolved');
  assert.equal(recoveredNotes(await m.messages(t.id)).length, 1);
  assert.ok((await m.timeline(t.id)).some((e) => e.kind === 'alert' && e.data.event === 'resolve'));

  // Full again a quarter of an hour later (checking in meanwhile, so it
  // is not offline): the same ticket, reopened.
  for (let i = 0; i < 3; i++) {
    await m.tick(240);
    await m.checkin(dev, [disk(50)]);
  }
  await m.tick(180);
  await m.checkin(dev, [disk(97)]);
  assert.equal((await alertGet(al.id)).status, 'firing');
  await m.tick();
  tickets = await m.tickets(dev);
  assert.deepEqual(tickets.map((x) => x.id), [t.id]);
  now = await m.ticket(t.id);
  assert.equal(now.status, 'open');
  assert.equal(now.reopens, 1);
  assert.equal((await alertGet(al.id)).ticket_id, t.id);
});

test('technician touched it: after a reply, an assignment or a status change, recovery leaves the ticket open and only notes it', async () => {
  const client = await m.client();
  const touches = {
    reply: async (id) => assertStatus(await reply(id, 'Looking at the disk now'), 201),
    assign: async (id) => assertStatus(await c.patch(`/api/v1/tickets/${id}`, { assignee_id: U.tier1 }, { token: T.dispatcher }), 200),
    status: async (id) => assertStatus(await c.patch(`/api/v1/tickets/${id}`, { status: 'on_hold' }, { token: T.tier1 }), 200),
  };
  for (const [how, touch] of Object.entries(touches)) {
    const dev = await m.device(client.id, uniq(how));
    await m.checkin(dev, [disk(95)]);
    await m.tick();
    const [t] = await m.tickets(dev);
    assert.ok(t, `${how}: a ticket`);
    await touch(t.id);
    const touched = await m.ticket(t.id);

    await m.tick(10);
    await m.checkin(dev, [disk(40)]);
    assert.equal((await m.alert(dev, 'Disk full')).status, 'resolved');
    await m.tick();
    const now = await m.ticket(t.id);
    assert.notEqual(now.status, 'resolved', how);
    assert.equal(now.status, touched.status, how);
    assert.equal(now.assignee_id, touched.assignee_id, how);
    const notes = recoveredNotes(await m.messages(t.id));
    assert.equal(notes.length, 1, how);
    assert.match(notes[0].body, /stays/);
  }
});

test('technician touched it, then the alert changed severity: recovery still leaves the ticket to the technician', async () => {
  const client = await m.client();
  const dev = await m.device(client.id);
  await newCheck({ name: 'Queue long', client_id: client.id, device_id: dev.id, metric: 'app.queue_length', op: '>', warn: 80, crit: 90 });

  await m.checkin(dev, [{ name: 'app.queue_length', value: 85 }]);
  await m.tick();
  const [t] = await m.tickets(dev);
  assert.match(t.subject, /^\[warning\] Queue long/);
  assertStatus(await reply(t.id, 'Draining the queue by hand'), 201);

  await m.tick(10);
  await m.checkin(dev, [{ name: 'app.queue_length', value: 95 }]);   // warning -> critical
  await m.tick();
  assert.ok((await m.timeline(t.id)).some((e) => e.kind === 'alert' && e.data.event === 'severity'));

  await m.tick(10);
  await m.checkin(dev, [{ name: 'app.queue_length', value: 10 }]);
  await m.tick();
  const notes = recoveredNotes(await m.messages(t.id));
  assert.equal(notes.length, 1);
  assert.match(notes[0].body, /stays/);   // the server says "Resolved by monitoring."
  assert.notEqual((await m.ticket(t.id)).status, 'resolved');
});

test('for_seconds: memory at 97 % is pending first and fires only once held for 600 s (samples less than 600 s apart)', async () => {
  const client = await m.client();
  const dev = await m.device(client.id);

  await m.checkin(dev, [mem(97)]);
  let al = await m.alert(dev, 'Memory exhausted');
  assert.equal(al.status, 'pending');
  assert.notEqual(al.pending_since, null);
  assert.equal(al.firing_since, null);
  const pendingSince = al.pending_since;
  assert.deepEqual((await m.alerts(dev, 'pending')).map((a) => a.id), [al.id]);
  assert.deepEqual(await m.alerts(dev, 'firing'), []);

  // 290 s and 580 s after the first sample: still pending, no ticket.
  for (const v of [97, 98]) {
    await m.tick(290);
    await m.checkin(dev, [mem(v)]);
    al = await m.alert(dev, 'Memory exhausted');
    assert.equal(al.status, 'pending');
    assert.equal(al.pending_since, pendingSince);
  }
  await m.tick();
  assert.deepEqual(await m.tickets(dev), []);

  // 680 s: held long enough.
  await m.tick(100);
  await m.checkin(dev, [mem(97)]);
  al = await m.alert(dev, 'Memory exhausted');
  assert.equal(al.status, 'firing');
  assert.notEqual(al.firing_since, null);
  await m.tick();
  const tickets = await m.tickets(dev);
  assert.equal(tickets.length, 1);
  assert.match(tickets[0].subject, /Memory exhausted/);
});

test('for_seconds: after a gap between samples longer than for_seconds, the pending period starts again', async () => {
  const client = await m.client();
  const dev = await m.device(client.id);
  await m.checkin(dev, [mem(97)]);
  const first = (await m.alert(dev, 'Memory exhausted')).pending_since;
  await m.tick(700);   // silent for 700 s (> 600): nobody knows what memory did meanwhile
  await m.checkin(dev, [mem(97)]);
  const al = await m.alert(dev, 'Memory exhausted');
  assert.equal(al.status, 'pending');
  assert.ok(Date.parse(al.pending_since) > Date.parse(first));
});

test('hysteresis: disk 91 % fires; 89 % and 88.5 % keep it firing (hysteresis 2 below 90); 87 % resolves', async () => {
  const client = await m.client();
  const dev = await m.device(client.id);
  const steps = [[91, 'firing'], [89, 'firing'], [88.5, 'firing'], [87, 'resolved']];
  for (const [v, status] of steps) {
    await m.tick(10);
    await m.checkin(dev, [disk(v)]);
    const al = await m.alert(dev, 'Disk full');
    assert.equal(al.status, status, `${v} %`);
    assert.equal(al.value, v);
    await m.tick();
  }
  const tickets = await m.tickets(dev);
  assert.equal(tickets.length, 1);
  assert.equal(tickets[0].status, 'resolved');
  assert.deepEqual((await alertGet((await m.alert(dev, 'Disk full')).id)).events.map((e) => e.kind), ['fire', 'resolve']);
});

test('maintenance window: alerts change state inside it but open no ticket; at the end only what is still wrong is announced', async () => {
  const client = await m.client();
  const dev = await m.device(client.id);
  const now = await m.now();

  // Validation and who may.
  assertProblem(await c.post('/api/v1/maintenance-windows', { client_id: client.id, starts_at: iso(now), ends_at: iso(now - MIN) }, { token: T.admin }), 400, { field: 'ends_at' });
  assertProblem(await c.post('/api/v1/maintenance-windows', { client_id: client.id, starts_at: iso(now) }, { token: T.admin }), 400, { field: 'ends_at' });
  assertProblem(await c.post('/api/v1/maintenance-windows', { client_id: ACME, starts_at: iso(now), ends_at: iso(now + MIN) }, { token: T.acmeAdmin }), 403);

  // A window of the whole client, from a minute ago to 2 minutes from now.
  const w = assertStatus(await c.post('/api/v1/maintenance-windows', {
    client_id: client.id, name: 'Disk swap', starts_at: iso(now - MIN), ends_at: iso(now + 2 * MIN),
  }, { token: T.dispatcher }), 201);
  assert.deepEqual([w.client_id, w.device_id, w.name, w.repeat, w.timezone], [client.id, null, 'Disk swap', 'none', 'UTC']);
  assert.ok(assertStatus(await c.get(`/api/v1/maintenance-windows?client_id=${client.id}`, { token: T.admin }), 200).items.some((x) => x.id === w.id));

  // Disk full inside it: the alert fires, flagged, and no ticket.
  await m.tick(1);
  await m.checkin(dev, [disk(95)]);
  let al = await m.alert(dev, 'Disk full');
  assert.equal(al.status, 'firing');
  assert.equal(al.in_maintenance, true);
  await m.tick();
  assert.deepEqual(await m.tickets(dev), []);

  // The window ends with the disk still full: now the ticket.
  await m.tick(130);
  al = await m.alert(dev, 'Disk full');
  assert.equal(al.status, 'firing');
  assert.equal(al.in_maintenance, false);
  const tickets = await m.tickets(dev);
  assert.equal(tickets.length, 1);
  assert.equal(al.ticket_id, tickets[0].id);

  // A window of one device in which its disk fills and empties again: no ticket at all.
  const dev2 = await m.device(client.id);
  const t0 = await m.now();
  const w2 = assertStatus(await c.post('/api/v1/maintenance-windows', {
    client_id: client.id, device_id: dev2.id, name: 'Backup restore', starts_at: iso(t0), ends_at: iso(t0 + 10 * MIN),
  }, { token: T.admin }), 201);
  assert.equal(w2.device_id, dev2.id);
  await m.tick(1);
  await m.checkin(dev2, [disk(95)]);
  assert.equal((await m.alert(dev2, 'Disk full')).in_maintenance, true);
  for (const v of [50, 45]) {      // every 250 s, so it never looks offline
    await m.tick(250);
    await m.checkin(dev2, [disk(v)]);
  }
  await m.tick(250);               // past the end (751 s)
  al = await m.alert(dev2, 'Disk full');
  assert.equal(al.status, 'resolved');
  assert.equal(al.in_maintenance, false);
  assert.deepEqual(await m.tickets(dev2), []);
  assert.equal(al.ticket_id, null);
});

test('offline: silent for 301 s, the scheduler fires "Offline" and opens a ticket; the next check-in resolves both', async () => {
  const client = await m.client();
  const dev = await m.device(client.id, uniq('laptop'));
  await m.checkin(dev, [cpu(5)]);
  assert.equal((await m.getDevice(dev)).status, 'online');

  await m.tick(301);
  const al = await m.alert(dev, 'Offline');
  assert.ok(al, 'an Offline alert');
  assert.deepEqual([al.status, al.severity, al.check_id !== null], ['firing', 'critical', true]);
  assert.ok(al.value >= 301, String(al.value));
  const d = await m.getDevice(dev);
  assert.equal(d.status, 'offline');
  assert.deepEqual(d.alerts.map((a) => a.name), ['Offline']);
  const off = assertStatus(await c.get(`/api/v1/devices?client_id=${client.id}&status=offline`, { token: T.admin }), 200).items;
  assert.deepEqual(off.map((x) => x.id), [dev.id]);
  const tickets = await m.tickets(dev);
  assert.equal(tickets.length, 1);
  assert.match(tickets[0].subject, new RegExp(`^\\[critical\\] Offline on ${dev.hostname}`));
  assert.equal(tickets[0].impact, 'high');

  await m.tick(5);
  await m.checkin(dev, [cpu(6)]);
  assert.equal((await m.alert(dev, 'Offline')).status, 'resolved');
  assert.equal((await m.getDevice(dev)).status, 'online');
  await m.tick();
  assert.equal((await m.ticket(tickets[0].id)).status, 'resolved');
});

test('offline grace period: a device last seen long before the server started is not alarmed until the threshold has passed since the start', async () => {
  // Its own database and server, restarted: the silence counts from the start.
  const d = await createDb();
  let server;
  try {
    const tok = await cli(['token', 'create', '--db', d.db, '--user', DEMO.admin, '--name', 'grace']);
    assert.equal(tok.code, 0, tok.stderr);
    const admin = tok.stdout.trim();
    server = await serve(d.db, { testClock: true });
    let mm = new Monitor(new Client(server.url), admin);
    const client = await mm.client();
    const dev = await mm.device(client.id);
    await mm.checkin(dev, [cpu(1)]);
    await server.stop();
    server = null;

    // The device was last seen a day ago (as if the server had been down that long).
    await sql(d.db, `UPDATE devices SET last_seen_at = last_seen_at - 86400000, created_at = created_at - 86400000 WHERE id = ${dev.id}`);
    server = await serve(d.db, { testClock: true });
    mm = new Monitor(new Client(server.url), admin);

    await mm.tick();
    assert.equal((await mm.getDevice(dev)).status, 'offline');   // it is: not seen for a day
    assert.equal(await mm.alert(dev, 'Offline'), undefined);   // but no alarm: the server just started
    await mm.tick(240);
    assert.equal((await mm.alerts(dev, 'open')).length, 0);
    assert.deepEqual(await mm.tickets(dev), []);

    await mm.tick(70);   // 310 s since the start
    const al = await mm.alert(dev, 'Offline');
    assert.equal(al?.status, 'firing');
    assert.ok(al.value > 300 && al.value < 400, String(al.value));   // counted from the start, not from a day ago
    assert.equal((await mm.tickets(dev)).length, 1);
  } finally {
    if (server)
      await server.stop();
    await rm(d.dir, { recursive: true, force: true });
  }
});

test('ack: staff acknowledge a firing alert (noted on its ticket); a pending or resolved one is 409; client roles are 403', async () => {
  const client = await m.client();
  const dev = await m.device(client.id);
  await m.checkin(dev, [disk(95), mem(97)]);
  await m.tick();
  const al = await m.alert(dev, 'Disk full');
  const [t] = await m.tickets(dev);

  assertProblem(await ack(al.id, 'acmeUser'), 403);
  assertProblem(await ack(al.id, 'acmeAdmin'), 403);
  assertProblem(await ack(al.id, 'borealisIT'), 403);
  assert.equal((await alertGet(al.id)).acked, false);

  const acked = assertStatus(await ack(al.id, 'tier1'), 200);
  assert.equal(acked.id, al.id);
  assert.equal(acked.acked, true);
  assert.equal(acked.acked_by, U.tier1);
  assert.notEqual(acked.acked_at, null);
  assert.equal(acked.status, 'firing');
  assert.ok(acked.events.some((e) => e.kind === 'ack'));
  await m.tick();
  assert.ok((await m.timeline(t.id)).some((e) => e.kind === 'alert' && e.data.event === 'ack'));

  // Pending (memory, not held 600 s yet): nothing was announced to acknowledge.
  const pending = await m.alert(dev, 'Memory exhausted');
  assert.equal(pending.status, 'pending');
  assertProblem(await ack(pending.id, 'tier1'), 409);

  // Resolved: 409, and the acknowledgement went with what it acknowledged.
  await m.tick(10);
  await m.checkin(dev, [disk(40), mem(40)]);
  const resolved = await alertGet(al.id);
  assert.equal(resolved.status, 'resolved');
  assert.equal(resolved.acked, false);
  assertProblem(await ack(al.id, 'tier1'), 409);
  assertProblem(await ack(999999, 'tier1'), 404);
});

test('ack twice: the second acknowledgement of the same firing alert is 409 and adds nothing to the ticket', async () => {
  const client = await m.client();
  const dev = await m.device(client.id);
  await m.checkin(dev, [disk(95)]);
  await m.tick();
  const al = await m.alert(dev, 'Disk full');
  assertStatus(await ack(al.id, 'tier1'), 200);
  assertProblem(await ack(al.id, 'dispatcher'), 409);
  assert.equal((await alertGet(al.id)).events.filter((e) => e.kind === 'ack').length, 1);
});

/* ---- tenancy ------------------------------------------------------------------------------- */

test("tenant isolation: a client_admin sees only its client's devices, alerts and checks (and the global ones); another client's are 404", async () => {
  const acme = await m.device(ACME, uniq('acme-pc'));
  const bor = await m.device(BOREALIS, uniq('borealis-pc'));
  await m.tick(1);
  await m.checkin(acme, [disk(95)]);
  await m.checkin(bor, [disk(96)]);
  const acmeAlert = await m.alert(acme, 'Disk full');
  const borAlert = await m.alert(bor, 'Disk full');
  const global = await newCheck({ name: uniq('everyone'), metric: 'tenancy.probe', op: '>', crit: 1 });
  const borCheck = await newCheck({ name: uniq('borealis only'), client_id: BOREALIS, metric: 'tenancy.probe', op: '>', crit: 2 });
  const now = await m.now();
  const borWindow = assertStatus(await c.post('/api/v1/maintenance-windows', {
    client_id: BOREALIS, name: 'later', starts_at: iso(now + 86400000), ends_at: iso(now + 86400000 + MIN),
  }, { token: T.admin }), 201);
  try {
    for (const who of ['acmeAdmin', 'acmeUser']) {
      const devices = assertStatus(await c.get('/api/v1/devices?limit=500', { token: T[who] }), 200).items;
      assert.ok(devices.length >= 1);
      assert.ok(devices.every((d) => d.client_id === ACME), who);
      assert.ok(devices.some((d) => d.id === acme.id), who);
      assert.equal((await m.getDevice(acme, T[who])).id, acme.id);
      assert.deepEqual(assertStatus(await c.get(`/api/v1/devices?client_id=${BOREALIS}`, { token: T[who] }), 200).items, []);
      assertProblem(await c.get(`/api/v1/devices/${bor.id}`, { token: T[who] }), 404);
      assertProblem(await c.get(`/api/v1/devices/${bor.id}/series?metric=disk.used_percent`, { token: T[who] }), 404);
      assertProblem(await c.get(`/api/v1/devices/${bor.id}/chart.svg?metric=disk.used_percent`, { token: T[who] }), 404);

      const alerts = assertStatus(await c.get('/api/v1/alerts?status=all&limit=500', { token: T[who] }), 200).items;
      assert.ok(alerts.every((a) => a.client_id === ACME), who);
      assert.ok(alerts.some((a) => a.id === acmeAlert.id), who);
      assert.deepEqual(assertStatus(await c.get(`/api/v1/alerts?device_id=${bor.id}&status=all`, { token: T[who] }), 200).items, []);
      assertProblem(await c.get(`/api/v1/alerts/${borAlert.id}`, { token: T[who] }), 404);

      const checks = assertStatus(await c.get('/api/v1/checks', { token: T[who] }), 200).items;
      assert.ok(checks.every((k) => k.client_id === ACME || k.client_id === null), who);
      assert.ok(checks.some((k) => k.id === global.id), who);
      assert.ok(checks.some((k) => k.client_id === ACME && k.name === 'Disk full'), who);
      assert.equal(assertStatus(await c.get(`/api/v1/checks/${global.id}`, { token: T[who] }), 200).id, global.id);
      assertProblem(await c.get(`/api/v1/checks/${borCheck.id}`, { token: T[who] }), 404);

      assertProblem(await c.get(`/api/v1/maintenance-windows/${borWindow.id}`, { token: T[who] }), 404);
      const windows = assertStatus(await c.get('/api/v1/maintenance-windows', { token: T[who] }), 200).items;
      assert.ok(windows.every((w) => w.client_id === ACME), who);
    }
    // And the other way round.
    assertProblem(await c.get(`/api/v1/devices/${acme.id}`, { token: T.borealisUser }), 404);
    assertProblem(await c.get(`/api/v1/alerts/${acmeAlert.id}`, { token: T.borealisIT }), 404);
    assert.equal((await m.getDevice(bor, T.borealisIT)).id, bor.id);
    // Staff see both.
    const all = assertStatus(await c.get('/api/v1/alerts?status=all&limit=500', { token: T.tier1 }), 200).items;
    assert.ok(all.some((a) => a.id === acmeAlert.id) && all.some((a) => a.id === borAlert.id));
  } finally {
    await dropCheck(global.id);
    await dropCheck(borCheck.id);
    assertStatus(await c.api('DELETE', `/api/v1/maintenance-windows/${borWindow.id}`, { token: T.admin }), 204);
  }
});

test("tenant isolation: a check for one device belongs to the device's client, not to every client", async () => {
  const acme = await m.device(ACME, uniq('acme-nas'));
  const k = await newCheck({ name: uniq('NAS temperature'), device_id: acme.id, metric: 'nas.temp_c', op: '>', crit: 60 });
  try {
    assert.equal(k.device_id, acme.id);
    assertProblem(await c.get(`/api/v1/checks/${k.id}`, { token: T.borealisUser }), 404);
    const seen = assertStatus(await c.get('/api/v1/checks', { token: T.borealisIT }), 200).items;
    assert.ok(!seen.some((x) => x.id === k.id));
    assert.equal(k.client_id, ACME);
  } finally {
    await dropCheck(k.id);
  }
});

/* ---- history ------------------------------------------------------------------------------- */

test('series and chart: 1-minute rollups with avg/min/max (a minute behind the clock), an SVG line chart, labels select a mount', async () => {
  const client = await m.client();
  const dev = await m.device(client.id);
  // From the start of the next minute M: readings at M+5 s, M+35 s (one
  // minute), M+65 s, M+125 s.
  const M = Math.floor((await m.now()) / MIN) * MIN + MIN;
  const readings = [
    [5, 10, 40, 70], [35, 30, 41, 71], [65, 50, 42, 72], [125, 70, 43, 73],
  ];
  for (const [s, c1, root, home] of readings) {
    await m.clockTo(M + s * 1000);
    await m.checkin(dev, [cpu(c1), disk(root, '/'), disk(home, '/home')]);
  }
  const series = async (q) => assertStatus(await c.get(`/api/v1/devices/${dev.id}/series?${q}`, { token: T.admin }), 200);
  const pts = (s) => s.points.map((p) => [p.at, p.avg, p.min, p.max]);

  // At M+190 s the rollups reach M+130 s: the minutes M and M+1 are in, M+2 is not.
  await m.clockTo(M + 190 * 1000);
  let s = await series('metric=cpu.percent&range=24h');
  assert.deepEqual([s.metric, s.range, s.step_seconds, s.labels], ['cpu.percent', '24h', 60, {}]);
  assert.deepEqual(pts(s), [[iso(M), 20, 10, 30], [iso(M + MIN), 50, 50, 50]]);
  await m.tick(60);
  s = await series('metric=cpu.percent&range=24h');
  assert.deepEqual(pts(s), [[iso(M), 20, 10, 30], [iso(M + MIN), 50, 50, 50], [iso(M + 2 * MIN), 70, 70, 70]]);

  // labels pick the mount; without them there is no such series.
  s = await series(`metric=disk.used_percent&labels=${encodeURIComponent('{"mount":"/home"}')}`);
  assert.deepEqual(s.labels, { mount: '/home' });
  assert.deepEqual(pts(s).map((p) => p.slice(1)), [[70.5, 70, 71], [72, 72, 72], [73, 73, 73]]);
  s = await series(`metric=disk.used_percent&labels=${encodeURIComponent('{"mount":"/"}')}&range=24h`);
  assert.deepEqual(pts(s).map((p) => p.slice(1)), [[40.5, 40, 41], [42, 42, 42], [43, 43, 43]]);
  assert.deepEqual((await series('metric=disk.used_percent')).points, []);
  s = await series('metric=cpu.percent&range=7d');
  assert.deepEqual([s.range, s.step_seconds], ['7d', 3600]);

  // Bad queries.
  for (const [q, field] of [['range=24h', 'metric'], ['metric=cpu.percent&range=1y', 'range'], ['metric=cpu.percent&labels=%7Bmount', 'labels'], ['metric=cpu.percent&labels=%7B%22mount%22%3A1%7D', 'labels']])
    assertProblem(await c.get(`/api/v1/devices/${dev.id}/series?${q}`, { token: T.admin }), 400, { field });
  assertProblem(await c.get('/api/v1/devices/999999/series?metric=cpu.percent', { token: T.admin }), 404);

  // The chart: SVG, well-formed, with a line through the points.
  const chart = async (q) => {
    const r = await c.get(`/api/v1/devices/${dev.id}/chart.svg?${q}`, { token: T.admin });
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-type') || '', /^image\/svg\+xml/);
    assert.ok(r.text.startsWith('<svg'), r.text.slice(0, 80));
    assert.equal(assertWellFormedXml(r.text), 'svg');
    return r.text;
  };
  let svg = await chart('metric=cpu.percent&range=24h');
  const line = /<polyline[^>]* points="([^"]*)"/.exec(svg);
  assert.ok(line, 'a polyline');
  assert.equal(line[1].trim().split(/\s+/).length, 3);   // one point a minute
  svg = await chart(`metric=disk.used_percent&labels=${encodeURIComponent('{"mount":"/home"}')}`);
  assert.match(svg, /<polyline/);
  assert.match(svg, /mount/);
  // No data: still a well-formed chart, saying so, without a line.
  svg = await chart('metric=load.15');
  assert.doesNotMatch(svg, /<polyline/);
  assert.match(svg, /no data/);
  assertProblem(await c.get(`/api/v1/devices/${dev.id}/chart.svg?metric=cpu.percent&range=1y`, { token: T.admin }), 400, { field: 'range' });
});

test('chart: label values with XML specials are escaped (the SVG stays well-formed)', async () => {
  const client = await m.client();
  const dev = await m.device(client.id);
  const mount = '/mnt/<a & "b">';
  await m.checkin(dev, [disk(30, mount)]);
  await m.tick(180);
  const labels = encodeURIComponent(JSON.stringify({ mount }));
  const s = assertStatus(await c.get(`/api/v1/devices/${dev.id}/series?metric=disk.used_percent&labels=${labels}`, { token: T.admin }), 200);
  assert.equal(s.points.length, 1);
  const r = await c.get(`/api/v1/devices/${dev.id}/chart.svg?metric=disk.used_percent&labels=${labels}`, { token: T.admin });
  assert.equal(r.status, 200);
  assert.equal(assertWellFormedXml(r.text), 'svg');
  assert.ok(!r.text.includes(mount));
  assert.ok(r.text.includes('/mnt/&lt;a &amp; '), r.text);   // the title names the series
});

/* ---- flapping ------------------------------------------------------------------------------ */

test('flapping: 4 changes within the hour mark the alert flapping; it stays one ticket and goes quiet', async () => {
  const client = await m.client();
  const dev = await m.device(client.id);
  const chk = await newCheck({
    name: 'Service up', client_id: client.id, device_id: dev.id, metric: 'process.running', labels: { name: 'nginx' },
    op: '<', crit: 1, flap_changes: 4, flap_window_seconds: 3600,
  });
  const up = (v) => ({ name: 'process.running', value: v, labels: { name: 'nginx' } });
  // down, up, down, up: the 4th change starts flapping.
  for (const v of [0, 1, 0, 1]) {
    await m.tick(30);
    await m.checkin(dev, [up(v)]);
    await m.tick();
  }
  let al = await m.alert(dev, 'Service up');
  assert.equal(al.check_id, chk.id);
  assert.equal(al.flapping, true);
  const kinds = (await alertGet(al.id)).events.map((e) => e.kind);
  assert.ok(kinds.includes('flapping'), kinds.join());
  let tickets = await m.tickets(dev);
  assert.equal(tickets.length, 1);
  const timelineBefore = (await m.timeline(tickets[0].id)).length;

  // While flapping, more of the same announces nothing.
  for (const v of [0, 1, 0]) {
    await m.tick(30);
    await m.checkin(dev, [up(v)]);
    await m.tick();
  }
  al = await m.alert(dev, 'Service up');
  assert.equal(al.flapping, true);
  tickets = await m.tickets(dev);
  assert.equal(tickets.length, 1);
  assert.equal((await m.timeline(tickets[0].id)).length, timelineBefore);
  await dropCheck(chk.id);
});

/* ---- last: it moves the clock a day ----------------------------------------------------------- */

test('an SLA timer on the ticket is no person: recovery after an SLA breach still resolves the ticket', async () => {
  const client = await m.client();
  const dev = await m.device(client.id);
  await m.checkin(dev, [disk(95)]);
  await m.tick();
  const [t] = await m.tickets(dev);
  assert.ok(t.sla.response_due_at, 'the ticket has an SLA');

  // Past the response target: the SLA timers warn and breach (system writes).
  await m.clockTo(Date.parse(t.sla.response_due_at) + MIN);
  assert.equal((await m.ticket(t.id)).sla.response_breached, true);

  await m.tick(10);
  await m.checkin(dev, [disk(40)]);
  assert.equal((await m.alert(dev, 'Disk full')).status, 'resolved');
  await m.tick();
  const notes = recoveredNotes(await m.messages(t.id));
  assert.equal(notes.length, 1);
  assert.match(notes[0].body, /Resolved by monitoring/);   // the server says "... stays as it is, because someone has worked on it."
  assert.equal((await m.ticket(t.id)).status, 'resolved');
});

test('a deleted check ends its alerts: the ticket it opened is resolved, nothing stays firing', async () => {
  const client = await m.client();
  const dev = await m.device(client.id, uniq('db'));
  const check = assertStatus(await c.post('/api/v1/checks', {
    name: 'Load', client_id: client.id, metric: 'load.1', op: '>', crit: 8,
  }, { token: T.admin }), 201);
  await m.checkin(dev, [{ name: 'load.1', value: 12 }]);
  await m.tick();
  const [al] = (await m.alerts(dev, 'open')).filter((a) => a.check_id === check.id);
  const [t] = await m.tickets(dev);
  assert.equal(al.ticket_id, t.id);

  assertStatus(await c.api('DELETE', `/api/v1/checks/${check.id}`, { token: T.admin }), 204);
  await m.tick();
  assert.deepEqual((await m.alerts(dev, 'open')).map((a) => a.id), []);
  const after = await alertGet(al.id);
  assert.equal(after.status, 'resolved');
  assert.equal(after.check_id, null);
  assert.equal((await m.ticket(t.id)).status, 'resolved');
  // A client role cannot delete checks.
  const other = assertStatus(await c.post('/api/v1/checks', {
    name: 'x', client_id: client.id, metric: 'load.1', op: '>', crit: 8,
  }, { token: T.admin }), 201);
  assertProblem(await c.api('DELETE', `/api/v1/checks/${other.id}`, { token: T.acmeUser }), 403);
});

test('a retired device ends its alerts and its token stops working', async () => {
  const client = await m.client();
  const dev = await m.device(client.id, uniq('old-pc'));
  await m.checkin(dev, [disk(97)]);
  await m.tick();
  const [al] = await m.alerts(dev, 'open');
  const [t] = await m.tickets(dev);
  const d = await m.getDevice(dev);
  const r = assertStatus(await c.patch(`/api/v1/devices/${dev.id}`, { active: false },
    { token: T.admin, headers: { 'If-Match': `"v${d.version}"` } }), 200);
  assert.equal(r.active, false);
  await m.tick();
  assert.equal((await alertGet(al.id)).status, 'resolved');
  assert.equal((await m.ticket(t.id)).status, 'resolved');
  assertProblem(await m.checkinRaw(dev, [disk(97)]), 401);
});

test('a person worked on the ticket before it was resolved and reopened: after the reopen it is the monitor\'s again', async () => {
  const client = await m.client();
  const dev = await m.device(client.id, uniq('nas'));
  await m.checkin(dev, [disk(96)]);
  await m.tick();
  const [t] = await m.tickets(dev);
  // A technician adds a note; the disk recovers: the note only.
  assertStatus(await c.post(`/api/v1/tickets/${t.id}/messages`, { kind: 'note', body: 'looking' }, { token: T.tier1 }), 201);
  await m.tick(60);
  await m.checkin(dev, [disk(50)]);
  await m.tick();
  assert.notEqual((await m.ticket(t.id)).status, 'resolved');
  // The technician resolves it; the disk fills again: the same ticket reopens.
  const etag = (await c.get(`/api/v1/tickets/${t.id}`, { token: T.admin })).headers.get('etag');
  assertStatus(await c.patch(`/api/v1/tickets/${t.id}`, { status: 'resolved' },
    { token: T.tier1, headers: { 'If-Match': etag } }), 200);
  await m.tick(60);
  await m.checkin(dev, [disk(97)]);
  await m.tick();
  assert.equal((await m.ticket(t.id)).status, 'open');
  // Nobody touched it since the reopen: recovery resolves it.
  await m.tick(60);
  await m.checkin(dev, [disk(40)]);
  await m.tick();
  assert.equal((await m.ticket(t.id)).status, 'resolved');
});
