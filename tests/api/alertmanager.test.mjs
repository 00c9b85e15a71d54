// alertmanager.test.mjs: Prometheus Alertmanager as a source of alerts
// (issue 7). An admin makes a receiver for a client (or a provider-wide
// one); Alertmanager's webhook (payload version 4) posts to
// /api/v1/integrations/alertmanager with the receiver's token (?token= or
// a Bearer token). Each alert is keyed by its fingerprint (within its
// client), "firing" and "resolved" drive the same lifecycle as a check's
// alert (a ticket opened by the scheduler, resolved on recovery), labels
// name the device (and, for a provider-wide receiver, the client).
//
// Two parts: payloads posted by hand (the real ones captured from
// Alertmanager 0.25.0, Debian's 0.25.0-1+b4, with a stand-in receiver, in
// tests/fixtures/alertmanager/: firing.json and resolved.json are one
// alert's two notifications; mixed.json is a group whose status is
// "firing" while one of its alerts is resolved), then the real
// prometheus-alertmanager from Debian (scripts/deps installs it) on its
// own port and storage, sending to the server. That part is skipped only
// when the binary is absent (ITSUP_ALERTMANAGER names another).
//
// One server with --test-clock: POST /api/v1/test/clock {advance_seconds:
// 0} runs the scheduler that opens and resolves tickets. Each test makes
// its own client and devices and looks only at those.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { access, constants, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ACME, BOREALIS, DEMO, startServer } from './lib/server.mjs';
import { assertProblem, assertStatus, uniq } from './lib/util.mjs';
import { Monitor } from './lib/monitor.mjs';

const AM_BIN = process.env.ITSUP_ALERTMANAGER || '/usr/bin/prometheus-alertmanager';
const FIXTURES = new URL('../fixtures/alertmanager/', import.meta.url);
const HOOK = '/api/v1/integrations/alertmanager';

let srv, c, m;
const T = {};
const FX = {};

before(async () => {
  srv = await startServer({ testClock: true });
  c = srv.client;
  for (const k of ['admin', 'dispatcher', 'acmeAdmin', 'borealisIT'])
    T[k] = await c.token(await c.session(DEMO[k], srv.password));
  m = new Monitor(c, T.admin);
  for (const f of ['firing', 'resolved', 'mixed'])
    FX[f] = JSON.parse(await readFile(new URL(`${f}.json`, FIXTURES), 'utf8'));
});
after(() => srv?.stop());

/* ---- helpers ------------------------------------------------------------------------------------ */

const clone = (o) => JSON.parse(JSON.stringify(o));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/* A receiver of client (or provider-wide when client is null). */
const receiver = async (client, body = {}) => assertStatus(await c.post(
  client ? `/api/v1/clients/${client}/alertmanager-receivers` : '/api/v1/alertmanager-receivers',
  { name: uniq('am'), ...body }, { token: T.admin }), 201);

/* Posts payload to the webhook as Alertmanager would: the token in the URL
 * (its webhook_configs url) or, with bearer, in Authorization (its
 * http_config). */
const hook = (token, payload, { bearer = false } = {}) => bearer
  ? c.post(HOOK, payload, { token, headers: { 'User-Agent': 'Alertmanager/0.25.0' } })
  : c.post(`${HOOK}?token=${encodeURIComponent(token)}`, payload, { headers: { 'User-Agent': 'Alertmanager/0.25.0' } });

/* A captured payload with each alert's fingerprint made unique to the
 * test (the same labels give the same fingerprint in every Alertmanager)
 * unless fp is given, and edit(payload) applied. */
function payload(name, { fp, edit } = {}) {
  const p = clone(FX[name]);
  const tag = uniq('fp');
  p.alerts.forEach((a, i) => { a.fingerprint = fp ? (Array.isArray(fp) ? fp[i] : fp) : `${a.fingerprint}-${tag}-${i}`; });
  edit?.(p);
  return p;
}

/* The client's alerts from Alertmanager. */
const alertsOf = async (clientId, who = 'admin', status = 'all') =>
  assertStatus(await c.get(`/api/v1/alerts?client_id=${clientId}&status=${status}&limit=200`, { token: T[who] }), 200).items
    .filter((a) => a.source === 'alertmanager');
const alertGet = async (id) => assertStatus(await c.get(`/api/v1/alerts/${id}`, { token: T.admin }), 200);
/* The monitoring tickets of a client. */
const ticketsOf = async (clientId) =>
  assertStatus(await c.get(`/api/v1/tickets?client_id=${clientId}&limit=500`, { token: T.admin }), 200).items
    .filter((t) => t.channel === 'monitoring');

/* A new client with a device per hostname: {client, dev: {hostname: device}}.
 * Its default checks are deleted: its devices never check in, and the
 * "Offline" check would alert (and open tickets) once the clock passes
 * the offline threshold. */
async function clientWith(...hosts) {
  const client = await m.clientOnly(uniq('Prom'));
  const checks = assertStatus(await c.get(`/api/v1/checks?client_id=${client.id}`, { token: T.admin }), 200).items;
  for (const k of checks.filter((x) => x.client_id === client.id))
    assertStatus(await c.api('DELETE', `/api/v1/checks/${k.id}`, { token: T.admin }), 204);
  const dev = {};
  for (const h of hosts)
    dev[h] = await m.device(client.id, h);
  return { client, dev };
}

/* ---- receivers ---------------------------------------------------------------------------------- */

describe('receivers', () => {
  test('an admin makes a receiver for a client (its token shown once); others may not', async () => {
    const { client } = await clientWith();
    for (const who of ['dispatcher', 'acmeAdmin']) {
      const r = await c.post(`/api/v1/clients/${client.id}/alertmanager-receivers`, { name: 'prod' }, { token: T[who] });
      assert.ok(r.status === 403 || r.status === 404, `${who}: ${r.status} ${r.text}`);
    }
    assertProblem(await c.post(`/api/v1/clients/${client.id}/alertmanager-receivers`, {}, { token: T.admin }), 400, { field: 'name' });

    const r = await c.post(`/api/v1/clients/${client.id}/alertmanager-receivers`, { name: 'prod' }, { token: T.admin });
    const rc = assertStatus(r, 201);
    assert.equal(rc.client_id, client.id);
    assert.equal(rc.name, 'prod');
    assert.equal(rc.client_label, 'client');
    assert.equal(rc.device_label, 'instance');
    assert.equal(typeof rc.token, 'string');
    assert.ok(rc.token.length >= 32, rc.token);
    assert.equal(rc.url, `${HOOK}?token=${rc.token}`);
    assert.match(r.headers.get('cache-control') || '', /no-store/);

    const list = assertStatus(await c.get('/api/v1/alertmanager-receivers', { token: T.admin }), 200).items;
    const mine = list.find((x) => x.id === rc.id);
    assert.ok(mine, 'listed');
    assert.equal(mine.token, undefined, 'the token is not shown again');
    assert.ok(!JSON.stringify(list).includes(rc.token));
    assert.equal((await c.get('/api/v1/alertmanager-receivers', { token: T.dispatcher })).status, 403);

    const other = await receiver(client.id, { client_label: 'customer', device_label: 'host' });
    assert.equal(other.client_label, 'customer');
    assert.equal(other.device_label, 'host');
    assert.notEqual(other.token, rc.token);
  });

  test("a receiver for a client that does not exist is 404", async () => {
    assertProblem(await c.post('/api/v1/clients/987654/alertmanager-receivers', { name: 'x' }, { token: T.admin }), 404);
  });
});

/* ---- the webhook, posted by hand -------------------------------------------------------------- */

describe('the webhook', () => {
  test('no token, an unknown token, a user or device token: 401, and nothing is stored', async () => {
    const { client, dev } = await clientWith('web01');
    await receiver(client.id);
    const body = payload('firing');
    const answers = [
      await c.post(HOOK, body),
      await hook('itsup_am_' + '0'.repeat(64), body),
      await hook('itsup_am_' + '0'.repeat(64), body, { bearer: true }),
      await hook('', body),
      await hook(T.admin, body, { bearer: true }),
      await hook(dev.web01.token, body, { bearer: true }),
    ];
    for (const r of answers)
      assertProblem(r, 401);
    assert.deepEqual(await alertsOf(client.id), []);
  });

  test('a malformed payload is 400 naming the field, and nothing of it is stored', async () => {
    const { client } = await clientWith('web01');
    const rc = await receiver(client.id);
    const bad = (edit) => payload('firing', { edit });

    assertProblem(await hook(rc.token, '{"alerts": ['), 400);
    assertProblem(await hook(rc.token, '[]'), 400);
    assertProblem(await hook(rc.token, {}), 400, { field: 'alerts' });
    assertProblem(await hook(rc.token, bad((p) => { p.alerts = 'DiskFull'; })), 400, { field: 'alerts' });
    assertProblem(await hook(rc.token, bad((p) => { p.version = '3'; })), 400, { field: 'version' });
    assertProblem(await hook(rc.token, bad((p) => { p.alerts[0].status = 'pending'; })), 400, { field: 'alerts[0].status' });
    assertProblem(await hook(rc.token, bad((p) => { delete p.alerts[0].status; })), 400, { field: 'alerts[0].status' });
    assertProblem(await hook(rc.token, bad((p) => { delete p.alerts[0].fingerprint; })), 400, { field: 'alerts[0].fingerprint' });
    assertProblem(await hook(rc.token, bad((p) => { p.alerts[0].fingerprint = ''; })), 400, { field: 'alerts[0].fingerprint' });
    assertProblem(await hook(rc.token, bad((p) => { delete p.alerts[0].labels; })), 400, { field: 'alerts[0].labels' });
    assertProblem(await hook(rc.token, bad((p) => { delete p.alerts[0].labels.alertname; })), 400, { field: 'alerts[0].labels' });
    assertProblem(await hook(rc.token, bad((p) => { p.alerts[0].labels.severity = 2; })), 400, { field: 'alerts[0].labels' });
    assertProblem(await hook(rc.token, bad((p) => { p.alerts[0].annotations = 'full'; })), 400, { field: 'alerts[0].annotations' });
    assertProblem(await hook(rc.token, bad((p) => { p.alerts[0] = 'DiskFull'; })), 400, { field: 'alerts[0].status' });

    // A good alert next to a bad one: the whole call is refused.
    const mixed = payload('mixed', { edit: (p) => { p.alerts[1].status = 'silenced'; } });
    assertProblem(await hook(rc.token, mixed), 400, { field: 'alerts[1].status' });
    assert.deepEqual(await alertsOf(client.id), []);

    // An empty group is fine (nothing to do).
    assert.equal(assertStatus(await hook(rc.token, bad((p) => { p.alerts = []; })), 200).accepted, 0);
  });

  test("Alertmanager's firing payload: one alert on the device named by instance (without :port), and one ticket however often it is sent", async () => {
    const { client, dev } = await clientWith('web01', 'web02');
    const rc = await receiver(client.id);
    const p = payload('firing');
    const fx = FX.firing.alerts[0];

    assert.equal(assertStatus(await hook(rc.token, p), 200).accepted, 1);
    let alerts = await alertsOf(client.id);
    assert.equal(alerts.length, 1, JSON.stringify(alerts));
    const a = alerts[0];
    assert.equal(a.source, 'alertmanager');
    assert.equal(a.client_id, client.id);
    assert.equal(a.device_id, dev.web01.id);
    assert.equal(a.check_id, null);
    assert.equal(a.name, 'DiskFull');
    assert.equal(a.status, 'firing');
    assert.equal(a.severity, 'critical');
    assert.equal(a.summary, fx.annotations.summary);
    assert.deepEqual(a.labels, fx.labels);
    assert.ok(a.firing_since, 'firing_since');
    assert.equal(a.resolved_at, null);
    // Also on the device's page, among its open alerts.
    assert.ok((await m.getDevice(dev.web01)).alerts.some((x) => x.id === a.id));

    await m.tick();
    let tickets = await ticketsOf(client.id);
    assert.equal(tickets.length, 1, JSON.stringify(tickets));
    const t = tickets[0];
    assert.equal(t.device_id, dev.web01.id);
    assert.equal(t.type, 'incident');
    assert.equal(t.subject, '[critical] DiskFull on web01');
    assert.equal((await alertGet(a.id)).ticket_id, t.id);

    // Alertmanager repeats a group (repeat_interval, a retry, a restart):
    // the same fingerprint is the same alert, by ?token= or by Bearer.
    assert.equal(assertStatus(await hook(rc.token, p), 200).accepted, 1);
    assert.equal(assertStatus(await hook(rc.token, p, { bearer: true }), 200).accepted, 1);
    await m.tick();
    await m.tick(60);
    assert.equal(assertStatus(await hook(rc.token, p), 200).accepted, 1);
    await m.tick();
    alerts = await alertsOf(client.id);
    assert.equal(alerts.length, 1, JSON.stringify(alerts));
    assert.equal(alerts[0].id, a.id);
    assert.equal(alerts[0].status, 'firing');
    tickets = await ticketsOf(client.id);
    assert.equal(tickets.length, 1, JSON.stringify(tickets));
    assert.equal(tickets[0].id, t.id);
  });

  test('resolved: the alert resolves and its ticket with it; firing again reopens that ticket', async () => {
    const { client, dev } = await clientWith('web01');
    const rc = await receiver(client.id);
    const fp = uniq('fp');
    assertStatus(await hook(rc.token, payload('firing', { fp })), 200);
    await m.tick();
    const [t] = await ticketsOf(client.id);
    assert.ok(t, 'a ticket');

    await m.tick(30);
    assert.equal(assertStatus(await hook(rc.token, payload('resolved', { fp })), 200).accepted, 1);
    let [a] = await alertsOf(client.id);
    assert.equal(a.status, 'resolved');
    assert.ok(a.resolved_at, 'resolved_at');
    assert.equal(a.device_id, dev.web01.id);
    assert.deepEqual(await alertsOf(client.id, 'admin', 'open'), []);
    await m.tick();
    let tk = await m.ticket(t.id);
    assert.equal(tk.status, 'resolved', JSON.stringify(tk));
    const notes = (await m.messages(t.id)).filter((x) => x.kind === 'note');
    assert.ok(notes.length >= 1, 'a recovery note');

    // The same resolved group again (Alertmanager repeats): nothing changes.
    assertStatus(await hook(rc.token, payload('resolved', { fp })), 200);
    await m.tick();
    assert.equal((await alertsOf(client.id)).length, 1);

    // Firing again within 7 days: the same alert and the same ticket, reopened.
    await m.tick(120);
    assertStatus(await hook(rc.token, payload('firing', { fp })), 200);
    await m.tick();
    const all = await alertsOf(client.id);
    assert.equal(all.length, 1, JSON.stringify(all));
    a = all[0];
    assert.equal(a.status, 'firing');
    const tickets = await ticketsOf(client.id);
    assert.equal(tickets.length, 1, JSON.stringify(tickets));
    tk = await m.ticket(t.id);
    assert.notEqual(tk.status, 'resolved', JSON.stringify(tk));
    assert.equal(a.ticket_id, t.id);
  });

  test('the same group delivered many times at once (a retry, an HA pair): one alert, one ticket; a resolution never seen firing opens nothing', async () => {
    const { client, dev } = await clientWith('web01');
    const rc = await receiver(client.id);
    const fp = uniq('fp');
    const rs = await Promise.all(Array.from({ length: 16 }, (_, i) => hook(rc.token, payload('firing', { fp }), { bearer: i % 2 === 1 })));
    for (const r of rs)
      assertStatus(r, 200);
    await m.tick();
    const alerts = await alertsOf(client.id);
    assert.equal(alerts.length, 1, JSON.stringify(alerts));
    assert.equal(alerts[0].device_id, dev.web01.id);
    assert.equal((await ticketsOf(client.id)).length, 1);

    // itsup was down while another alert fired; only its resolution arrives.
    assertStatus(await hook(rc.token, payload('resolved', { fp: uniq('fp') })), 200);
    await m.tick();
    assert.equal((await alertsOf(client.id, 'admin', 'open')).length, 1);
    assert.equal((await ticketsOf(client.id)).length, 1);
  });

  test('each alert of a group has its own status: a "firing" group may carry a resolved alert', async () => {
    const { client, dev } = await clientWith('web02', 'web03');
    const rc = await receiver(client.id);
    const fp = [uniq('fp'), uniq('fp')];
    // Both firing first (what Alertmanager sent before the capture).
    const first = payload('mixed', { fp, edit: (p) => { p.alerts[0].status = 'firing'; p.alerts[0].endsAt = '0001-01-01T00:00:00Z'; } });
    assert.equal(assertStatus(await hook(rc.token, first), 200).accepted, 2);
    await m.tick();
    await m.tick(30);
    assert.equal(FX.mixed.status, 'firing');
    assert.equal(FX.mixed.alerts[0].status, 'resolved');
    assert.equal(assertStatus(await hook(rc.token, payload('mixed', { fp })), 200).accepted, 2);
    await m.tick();
    const alerts = await alertsOf(client.id);
    assert.equal(alerts.length, 2, JSON.stringify(alerts));
    const by = Object.fromEntries(alerts.map((a) => [a.device_id, a]));
    assert.equal(by[dev.web02.id].status, 'resolved');
    assert.equal(by[dev.web03.id].status, 'firing');
    for (const a of alerts) {
      assert.equal(a.name, 'HostDown');
      assert.equal(a.severity, 'warning');
    }
    const tickets = await ticketsOf(client.id);
    assert.equal(tickets.length, 2, JSON.stringify(tickets));
    const tk = Object.fromEntries(tickets.map((t) => [t.device_id, t]));
    assert.equal(tk[dev.web02.id].status, 'resolved');
    assert.notEqual(tk[dev.web03.id].status, 'resolved');
  });

  test('severity: critical is critical; warning, none or anything else is warning', async () => {
    const { client } = await clientWith();
    const rc = await receiver(client.id);
    const sevs = { crit: 'critical', warn: 'warning', info: 'info', none: undefined };
    const p = payload('firing', {
      edit: (q) => {
        q.alerts = Object.entries(sevs).map(([k, s], i) => {
          const a = clone(FX.firing.alerts[0]);
          a.fingerprint = `${k}-${uniq()}-${i}`;
          a.labels.alertname = `Sev_${k}`;
          if (s === undefined)
            delete a.labels.severity;
          else
            a.labels.severity = s;
          return a;
        });
      },
    });
    assert.equal(assertStatus(await hook(rc.token, p), 200).accepted, 4);
    const got = Object.fromEntries((await alertsOf(client.id)).map((a) => [a.name, a.severity]));
    assert.deepEqual(got, { Sev_crit: 'critical', Sev_warn: 'warning', Sev_info: 'warning', Sev_none: 'warning' });
  });

  test("a client's receiver files its alerts under its client, whatever the labels say; another client's device is not used", async () => {
    const borealis = assertStatus(await c.get(`/api/v1/clients/${BOREALIS}`, { token: T.admin }), 200);
    const bHost = uniq('bhost');
    const bDev = await m.device(BOREALIS, bHost);
    const rc = await receiver(ACME);
    const tag = uniq('Spoof');
    const p = payload('firing', {
      edit: (q) => {
        const a0 = q.alerts[0];
        q.alerts = [
          { ...clone(a0), fingerprint: `${tag}-1`, labels: { ...a0.labels, alertname: `${tag}_id`, client: String(BOREALIS), instance: `${bHost}:9100` } },
          { ...clone(a0), fingerprint: `${tag}-2`, labels: { ...a0.labels, alertname: `${tag}_name`, client: borealis.name, instance: bHost } },
        ];
      },
    });
    assert.equal(assertStatus(await hook(rc.token, p), 200).accepted, 2);
    await m.tick();

    const mine = (await alertsOf(ACME)).filter((a) => a.name.startsWith(tag));
    assert.equal(mine.length, 2, JSON.stringify(mine));
    for (const a of mine) {
      assert.equal(a.client_id, ACME);
      assert.equal(a.device_id, null, `not Borealis's device: ${JSON.stringify(a)}`);
    }
    assert.deepEqual((await alertsOf(BOREALIS)).filter((a) => a.name.startsWith(tag)), []);
    assert.deepEqual((await m.alerts(bDev)).filter((a) => a.source === 'alertmanager'), []);
    // Borealis's people do not see them; Acme's do.
    const seenB = assertStatus(await c.get('/api/v1/alerts?status=all&limit=200', { token: T.borealisIT }), 200).items;
    assert.ok(!seenB.some((a) => a.name.startsWith(tag)), 'Borealis sees none');
    for (const a of mine)
      assert.equal((await c.get(`/api/v1/alerts/${a.id}`, { token: T.borealisIT })).status, 404);
    const seenA = assertStatus(await c.get('/api/v1/alerts?status=all&limit=200', { token: T.acmeAdmin }), 200).items;
    assert.equal(seenA.filter((a) => a.name.startsWith(tag)).length, 2);
    // Any ticket is Acme's, and none is Borealis's.
    for (const t of (await ticketsOf(BOREALIS)))
      assert.ok(!t.subject.includes(tag), t.subject);
  });

  test('the same fingerprint from two clients (the same labels in two Alertmanagers): two alerts, one each', async () => {
    const A = await clientWith('web01');
    const B = await clientWith('web01');
    const ra = await receiver(A.client.id), rb = await receiver(B.client.id);
    const fp = uniq('fp');
    assertStatus(await hook(ra.token, payload('firing', { fp })), 200);
    assertStatus(await hook(rb.token, payload('firing', { fp })), 200);
    await m.tick();
    const [a] = await alertsOf(A.client.id), [b] = await alertsOf(B.client.id);
    assert.ok(a && b, 'an alert for each client');
    assert.notEqual(a.id, b.id);
    assert.equal(a.device_id, A.dev.web01.id);
    assert.equal(b.device_id, B.dev.web01.id);
    assert.equal((await ticketsOf(A.client.id)).length, 1);
    assert.equal((await ticketsOf(B.client.id)).length, 1);
    // B's resolution does not resolve A's.
    assertStatus(await hook(rb.token, payload('resolved', { fp })), 200);
    assert.equal((await alertGet(a.id)).status, 'firing');
    assert.equal((await alertGet(b.id)).status, 'resolved');
  });

  test('label names are configurable: client_label and device_label', async () => {
    const { client, dev } = await clientWith('web01');
    const rc = await receiver(client.id, { device_label: 'host' });
    const p = payload('firing', {
      edit: (q) => {
        const a0 = q.alerts[0];
        q.alerts = [
          { ...clone(a0), fingerprint: uniq('fp'), labels: { ...a0.labels, alertname: 'ByHost', host: 'web01' } },
          { ...clone(a0), fingerprint: uniq('fp'), labels: { ...a0.labels, alertname: 'ByInstanceOnly' } },
        ];
      },
    });
    assertStatus(await hook(rc.token, p), 200);
    const by = Object.fromEntries((await alertsOf(client.id)).map((a) => [a.name, a]));
    assert.equal(by.ByHost.device_id, dev.web01.id);
    assert.equal(by.ByInstanceOnly.device_id, null, 'instance is not the device label here');

    // A provider-wide receiver with its own client label.
    const pw = await receiver(null, { client_label: 'customer' });
    const q = payload('firing', { edit: (x) => { x.alerts[0].labels = { ...x.alerts[0].labels, alertname: 'ByCustomer', customer: client.name }; } });
    assert.equal(assertStatus(await hook(pw.token, q), 200).accepted, 1);
    const a = (await alertsOf(client.id)).find((x) => x.name === 'ByCustomer');
    assert.ok(a, 'filed under the customer label');
    assert.equal(a.device_id, dev.web01.id);
  });

  test('a provider-wide receiver takes the client from the label (id or exact name); an alert naming none is skipped', async () => {
    const { client, dev } = await clientWith('web01');
    const pw = await receiver(null);
    assert.equal(pw.client_id, null);
    const a0 = FX.firing.alerts[0];
    const p = payload('firing', {
      edit: (q) => {
        q.alerts = [
          { ...clone(a0), fingerprint: uniq('fp'), labels: { ...a0.labels, alertname: 'ById', client: String(client.id) } },
          { ...clone(a0), fingerprint: uniq('fp'), labels: { ...a0.labels, alertname: 'ByName', client: client.name } },
          { ...clone(a0), fingerprint: uniq('fp'), labels: { ...a0.labels, alertname: 'Nobody', client: uniq('No such client') } },
          { ...clone(a0), fingerprint: uniq('fp'), labels: { ...a0.labels, alertname: 'NoLabel' } },
        ];
      },
    });
    const r = assertStatus(await hook(pw.token, p), 200);
    assert.equal(r.accepted, 2, JSON.stringify(r));
    const names = (await alertsOf(client.id)).map((a) => a.name).sort();
    assert.deepEqual(names, ['ById', 'ByName']);
    for (const a of await alertsOf(client.id))
      assert.equal(a.device_id, dev.web01.id);
  });

  test('an alert too big to keep (too many labels) is skipped alone; the rest of its group is taken', async () => {
    const { client } = await clientWith('web01');
    const rc = await receiver(client.id);
    const a0 = FX.firing.alerts[0];
    const many = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`l${i}`, 'x']));
    const p = payload('firing', {
      edit: (q) => {
        q.alerts = [
          { ...clone(a0), fingerprint: uniq('fp'), labels: { ...a0.labels, alertname: 'Kept' } },
          { ...clone(a0), fingerprint: uniq('fp'), labels: { ...a0.labels, ...many, alertname: 'TooBig' } },
        ];
      },
    });
    const r = assertStatus(await hook(rc.token, p), 200);
    assert.equal(r.accepted, 1);
    assert.equal(r.skipped.length, 1);
    assert.match(r.skipped[0].reason, /labels/);
    assert.deepEqual((await alertsOf(client.id)).map((a) => a.name), ['Kept']);
  });

  test('an admin revokes a receiver: its token is 401 from then on; others may not revoke', async () => {
    const { client } = await clientWith('web01');
    const rc = await receiver(client.id);
    assertStatus(await hook(rc.token, payload('firing')), 200);
    assertProblem(await c.api('DELETE', `/api/v1/alertmanager-receivers/${rc.id}`, { token: T.dispatcher }), 403);
    assertStatus(await c.api('DELETE', `/api/v1/alertmanager-receivers/${rc.id}`, { token: T.admin }), 204);
    assertProblem(await hook(rc.token, payload('firing')), 401);
    assert.ok(!(await c.get('/api/v1/alertmanager-receivers', { token: T.admin })).body.items.some((x) => x.id === rc.id));
    assertProblem(await c.api('DELETE', `/api/v1/alertmanager-receivers/${rc.id}`, { token: T.admin }), 404);
  });
});

/* ---- the real Alertmanager ---------------------------------------------------------------------- */

/* Starts prometheus-alertmanager with config (YAML) in dir: its own
 * storage, no clustering, an ephemeral port on 127.0.0.1 (read back from
 * its log). Resolves {url, log(), stop()} once it is ready. */
async function startAlertmanager(dir, config) {
  const file = path.join(dir, 'alertmanager.yml');
  await writeFile(file, config);
  const child = spawn(AM_BIN, [
    `--config.file=${file}`, `--storage.path=${path.join(dir, 'data')}`,
    '--cluster.listen-address=', '--web.listen-address=127.0.0.1:0', '--log.level=debug',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s) => { log += s; });
  let exit = null;
  const exited = new Promise((res) => child.on('exit', (code, signal) => { exit = { code, signal }; res(exit); }));
  const am = {
    url: null,
    log: () => log,
    async stop() {
      if (!exit) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
    },
  };
  const end = Date.now() + 20000;
  for (;;) {
    const mm = /msg="Listening on" address=(\S+)/.exec(log);
    if (mm) {
      am.url = `http://${mm[1]}`;
      break;
    }
    if (exit || Date.now() > end) {
      await am.stop();
      throw new Error(`alertmanager did not start (${exit ? `exited ${exit.code ?? exit.signal}` : 'no "Listening on" in 20 s'}):\n${log}`);
    }
    await sleep(50);
  }
  for (;;) {
    const ok = await fetch(`${am.url}/-/ready`).then((r) => r.status === 200, () => false);
    if (ok)
      return am;
    if (exit || Date.now() > end) {
      await am.stop();
      throw new Error(`alertmanager not ready in 20 s:\n${log}`);
    }
    await sleep(50);
  }
}

/* Resolves fn()'s first truthy answer, polling until ms pass. */
async function until(what, fn, ms = 20000, diag = () => '') {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v)
      return v;
    if (Date.now() > end)
      throw new Error(`${what}: not within ${ms / 1000} s\n${diag()}`);
    await sleep(100);
  }
}

const haveAlertmanager = await access(AM_BIN, constants.X_OK).then(() => true, () => false);

describe('the real prometheus-alertmanager sending to itsup', { skip: haveAlertmanager ? false : `${AM_BIN} is not installed (scripts/deps installs prometheus-alertmanager)` }, () => {
  let dir, am;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'itsup-am-'));
  });
  after(async () => {
    await am?.stop();
    if (dir)
      await rm(dir, { recursive: true, force: true });
  });

  test('an alert fires in Alertmanager: itsup has it on the device and opens a ticket; it resolves: so do they', async () => {
    const { client, dev } = await clientWith('web01', 'db01');
    const rc = await receiver(client.id, { name: 'prometheus' });
    // A second receiver takes its token from a file as a Bearer token
    // (Alertmanager's http_config), for alerts of job "db".
    const rcBearer = await receiver(client.id, { name: 'prometheus-db' });
    await writeFile(path.join(dir, 'itsup-token'), rcBearer.token + '\n', { mode: 0o600 });
    am = await startAlertmanager(dir, `# written by tests/api/alertmanager.test.mjs
route:
  receiver: itsup
  group_by: ['alertname', 'instance']
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 24h
  routes:
    - matchers: ['job="db"']
      receiver: itsup-bearer
receivers:
  - name: itsup
    webhook_configs:
      - url: '${srv.url}${rc.url}'
        send_resolved: true
  - name: itsup-bearer
    webhook_configs:
      - url: '${srv.url}${HOOK}'
        send_resolved: true
        http_config:
          authorization:
            credentials_file: '${path.join(dir, 'itsup-token')}'
`);
    const diag = () => `alertmanager log:\n${am.log().split('\n').slice(-30).join('\n')}\nitsup log:\n${srv.server.stderr().split('\n').slice(-15).join('\n')}`;
    const amPost = async (alerts) => {
      const r = await fetch(`${am.url}/api/v2/alerts`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(alerts),
      });
      assert.equal(r.status, 200, `alertmanager POST /api/v2/alerts: ${r.status} ${await r.text()}`);
    };
    const startsAt = new Date(Date.now() - 60000).toISOString();
    const diskFull = {
      labels: { alertname: 'DiskFull', severity: 'critical', instance: 'web01:9100', job: 'node' },
      annotations: { summary: 'Disk / on web01 is 97% full' },
      startsAt,
      generatorURL: 'http://prometheus.example:9090/graph?g0.expr=disk',
    };

    const dbDown = {
      labels: { alertname: 'PostgresDown', severity: 'warning', instance: 'db01:9187', job: 'db' },
      annotations: { description: 'pg_up is 0 on db01' },
      startsAt,
    };

    await amPost([{ ...diskFull, endsAt: new Date(Date.now() + 3600000).toISOString() },
      { ...dbDown, endsAt: new Date(Date.now() + 3600000).toISOString() }]);
    const firing = await until('itsup shows the alert firing', async () =>
      (await alertsOf(client.id)).find((a) => a.name === 'DiskFull' && a.status === 'firing'), 20000, diag);
    const db = await until('itsup shows the alert sent with a Bearer token firing', async () =>
      (await alertsOf(client.id)).find((a) => a.name === 'PostgresDown' && a.status === 'firing'), 20000, diag);
    assert.equal(db.device_id, dev.db01.id);
    assert.equal(db.severity, 'warning');
    assert.equal(db.summary, 'pg_up is 0 on db01', 'the description when there is no summary');
    assert.equal(firing.source, 'alertmanager');
    assert.equal(firing.device_id, dev.web01.id);
    assert.equal(firing.severity, 'critical');
    assert.equal(firing.summary, 'Disk / on web01 is 97% full');
    assert.equal(firing.labels.instance, 'web01:9100');

    await m.tick();
    const tickets = await ticketsOf(client.id);
    assert.equal(tickets.length, 2, JSON.stringify(tickets));
    const t = tickets.find((x) => x.device_id === dev.web01.id);
    assert.ok(t, JSON.stringify(tickets));
    assert.equal(tickets.find((x) => x.device_id === dev.db01.id).subject, '[warning] PostgresDown on db01');
    assert.equal(t.subject, '[critical] DiskFull on web01');
    assert.equal((await alertGet(firing.id)).ticket_id, t.id);

    // Resolved in Alertmanager: endsAt now.
    await amPost([{ ...diskFull, endsAt: new Date().toISOString() }]);
    const resolved = await until('itsup shows the alert resolved', async () => {
      const a = await alertGet(firing.id);
      return a.status === 'resolved' && a;
    }, 20000, diag);
    assert.ok(resolved.resolved_at);
    await m.tick();
    assert.equal((await m.ticket(t.id)).status, 'resolved');
    const all = await alertsOf(client.id);
    assert.equal(all.length, 2, `one alert a fingerprint: ${JSON.stringify(all)}`);
    assert.equal((await ticketsOf(client.id)).length, 2);
    assert.equal((await alertGet(db.id)).status, 'firing', 'the other alert still fires');

    // Alertmanager's own count: every webhook call succeeded.
    const metrics = await (await fetch(`${am.url}/metrics`)).text();
    const metric = (name) => Number((new RegExp(`^${name}\\{integration="webhook"\\} (\\S+)$`, 'm').exec(metrics) || [])[1]);
    assert.ok(metric('alertmanager_notifications_total') >= 2, metrics);
    assert.equal(metric('alertmanager_notifications_failed_total'), 0, diag());
    // The receivers' tokens are not in itsup's log (it logs the route, not the query).
    assert.ok(!srv.server.stderr().includes(rc.token) && !srv.server.stderr().includes(rcBearer.token));
  });
});
