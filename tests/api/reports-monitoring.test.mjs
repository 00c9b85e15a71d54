// reports-monitoring.test.mjs: the SLA review's monitoring figures
// (issue 9; docs/REPORTS.md "Monitoring") from the outside, on a day
// whose answers were worked out by hand:
//
//   2027-05-03 (UTC; the client is new, so its zone is UTC)
//   10:00  the device enrols
//   10:00..11:59  it checks in every minute (120 check-ins)
//   10:10  disk 95 %: "Disk full" fires           (episode 1)
//   10:20  an admin acknowledges it                 MTTA 600 s
//   10:40  disk 50 %: resolved
//   11:00  disk 95 %: fires again                   (episode 2)
//   11:05  disk 50 %: resolved
//   12:00..12:59  silent
//   13:00..13:29  checks in every minute (30 check-ins)
//   15:00  the review is asked for
//
// Episode 1 lasts 10:10 -> 10:40 = 1,800 s; episode 2 300 s: the mean
// time to resolve is (1,800 + 300) / 2 = 1,050 s, the mean time to
// acknowledge 600 s over the one acknowledged. Uptime: the device was
// enrolled 300 minutes of the day by 15:00 (10:00 -> 15:00) and checked
// in during 150 of them (60 + 60 + 0 + 30 + 0): 0.5. The day before has
// no episodes and no device.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO, startServer } from './lib/server.mjs';
import { assertProblem, assertStatus } from './lib/util.mjs';
import { Monitor, disk } from './lib/monitor.mjs';

let srv, c, m;
const T = {};
const MIN = 60000;
const at = (hhmm) => Date.parse(`2027-05-03T${hhmm}:00Z`);
const uptime = (s) => ({ name: 'uptime.seconds', value: s });

before(async () => {
  srv = await startServer({ testClock: true });
  c = srv.client;
  for (const k of ['admin', 'acmeAdmin']) {
    const s = await c.session(DEMO[k], srv.password);
    T[k] = await c.token(s);
  }
  m = new Monitor(c, T.admin);
});
after(() => srv?.stop());

test('monitoring figures: alert episodes by check and severity, MTTA, MTTR, device uptime from the hourly rollups', async () => {
  await m.clockTo(at('09:00'));
  const client = await m.client();
  // Its default Offline check would fire in the silent hour (and after
  // 13:29); it is switched off so that the day holds the two episodes
  // worked out above (the heartbeat alerts have their own tests).
  const checks = assertStatus(await c.get(`/api/v1/checks?client_id=${client.id}`, { token: T.admin }), 200).items;
  const offline = checks.find((k) => k.name === 'Offline');
  assertStatus(await c.api('DELETE', `/api/v1/checks/${offline.id}`, { token: T.admin }), 204);
  await m.clockTo(at('10:00'));
  const dev = await m.device(client.id, 'ws-report-01');

  const full = (t) => (t >= at('10:10') && t < at('10:40')) || (t >= at('11:00') && t < at('11:05'));
  let alertId;
  const minute = async (t) => {
    await m.clockTo(t);
    await m.checkin(dev, [uptime((t - at('10:00')) / 1000), disk(full(t) ? 95 : 50)]);
    if (t === at('10:10'))
      alertId = (await m.alert(dev, 'Disk full')).id;
    if (t === at('10:20'))
      assertStatus(await c.post(`/api/v1/alerts/${alertId}/ack`, undefined, { token: T.admin }), 200);
  };
  for (let t = at('10:00'); t < at('12:00'); t += MIN)
    await minute(t);
  for (let t = at('13:00'); t < at('13:30'); t += MIN)
    await minute(t);
  await m.clockTo(at('15:00'));

  const events = assertStatus(await c.get(`/api/v1/alerts/${alertId}`, { token: T.admin }), 200).events;
  assert.deepEqual(events.map((e) => e.kind), ['fire', 'ack', 'resolve', 'fire', 'resolve']);
  const severity = events[0].severity;

  const review = assertStatus(await c.get(`/api/v1/reports/sla-review?client_id=${client.id}&from=2027-05-03&to=2027-05-04`,
    { token: T.admin }), 200);
  const mon = review.period.monitoring;
  assert.deepEqual(mon.alerts, {
    fired: 2, acknowledged: 1, resolved: 2, mtta_seconds: 600, mttr_seconds: 1050,
    by_check: [{ check: 'Disk full', severity, fired: 2, acknowledged: 1, resolved: 2, mtta_seconds: 600, mttr_seconds: 1050 }],
  });
  assert.deepEqual(mon.devices, {
    count: 1, uptime: 0.5,
    items: [{ device_id: dev.id, client_id: client.id, hostname: 'ws-report-01', minutes: 300, up_minutes: 150, uptime: 0.5 }],
  });
  assert.deepEqual(review.previous.monitoring, {
    alerts: { fired: 0, acknowledged: 0, resolved: 0, mtta_seconds: null, mttr_seconds: null, by_check: [] },
    devices: { count: 0, uptime: null, items: [] },
  });

  // The episode that fired at 11:00 alone: a period starting at 11:00 in
  // the client's days is not expressible, but the next day has none and
  // the device's uptime there is 0 of the minutes up to now (none: the
  // day has not started), so it is left out.
  const next = assertStatus(await c.get(`/api/v1/reports/sla-review?client_id=${client.id}&from=2027-05-04&to=2027-05-05`,
    { token: T.admin }), 200);
  assert.equal(next.period.monitoring.alerts.fired, 0);
  assert.equal(next.period.monitoring.devices.count, 0);

  // Another client's admin sees none of it.
  assertProblem(await c.get(`/api/v1/reports/sla-review?client_id=${client.id}&from=2027-05-03&to=2027-05-04`,
    { token: T.acmeAdmin }), 404);
  // All clients: the episodes are among them.
  const all = assertStatus(await c.get('/api/v1/reports/sla-review?from=2027-05-03&to=2027-05-04', { token: T.admin }), 200);
  assert.ok(all.period.monitoring.alerts.by_check.some((g) => g.check === 'Disk full' && g.fired >= 2));
  assert.ok(all.period.monitoring.devices.items.some((d) => d.device_id === dev.id && d.up_minutes === 150));
});
