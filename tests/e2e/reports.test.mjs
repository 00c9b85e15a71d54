// reports.test.mjs: the dashboard and the SLA review in a real browser
// (issue 9). On a test clock: one Acme Dental ticket in February (the
// previous period), four in March (a P1 answered late, two resolved at
// first contact, one escalated to tier 2 and resolved there, one left
// open; a CSAT answer with a comment; tier 2's time), a Borealis ticket
// beside them, and in April a device whose full disk fires an alert. The
// dashboard shows what GET /api/v1/dashboard says, for staff (every
// client) and a client admin (their own), each figure a link to its list;
// the review of March shows the figures worked out by hand and those of
// the API, beside February's, with the change, and April's alert; a
// custom period, a period the server refuses (said at the field), the CSV
// download, the printable pack in a new tab; a client user has neither
// page nor link. A provider admin's report schedule made, edited, sent
// now and deleted. Then the accessibility audit of the pages and the
// keyboard.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { ACME, BOREALIS, DEMO, startServer } from '../api/lib/server.mjs';
import { assertProblem, assertStatus, uniq } from '../api/lib/util.mjs';
import { audit } from './lib/a11y.mjs';
import { launch, loginAs, shot } from './lib/browser.mjs';

let srv, b;
const T = {};
const seeded = {};

const c = () => srv.client;
const clock = async (body) => assertStatus(await c().post('/api/v1/test/clock', body, { token: T.admin }), 200);
const create = async (client, body = {}) => assertStatus(await c().post('/api/v1/tickets',
  { client_id: client, subject: uniq('Review'), ...body }, { token: T.dispatcher }), 201);
const reply = async (id, who = 'tier1') => assertStatus(await c().post(`/api/v1/tickets/${id}/messages`,
  { kind: 'reply', body: 'On it' }, { token: T[who] }), 201);
const resolve = async (id, who = 'tier1') => assertStatus(await c().patch(`/api/v1/tickets/${id}`, { status: 'resolved' }, { token: T[who] }), 200);
const apiGet = async (path, who = 'admin') => assertStatus(await c().get(path, { token: T[who] }), 200);
const HOUR = 3600;

before(async () => {
  srv = await startServer({ testClock: true });
  b = await launch();
  for (const k of ['admin', 'dispatcher', 'tier1', 'tier2', 'acmeAdmin', 'acmeUser'])
    T[k] = await c().token(await c().session(DEMO[k], srv.password));
  // February 15 2027 (a Monday, 10:00 in New York): the previous period's
  // ticket, answered and resolved by tier 1 (first contact).
  await clock({ now: '2027-02-15T15:00:00.000Z' });
  seeded.feb = await create(ACME, { impact: 'medium', urgency: 'medium' });
  await clock({ advance_seconds: HOUR });
  await reply(seeded.feb.id);
  await resolve(seeded.feb.id);
  // March 1 2027, 09:00 in New York.
  await clock({ now: '2027-03-01T14:00:00.000Z' });
  const p1 = await create(ACME, { impact: 'high', urgency: 'high', category: 'network' });
  const quick = await create(ACME, { impact: 'medium', urgency: 'medium', category: 'printer' });
  const escalated = await create(ACME, { impact: 'low', urgency: 'low', category: 'printer' });
  const open = await create(ACME, { impact: 'medium', urgency: 'medium' });
  await create(BOREALIS);
  assert.equal(p1.priority, 'P1');
  await clock({ advance_seconds: HOUR });   // the P1's 15-minute response is long gone
  for (const t of [p1, quick, escalated])
    await reply(t.id);
  assertStatus(await c().post(`/api/v1/tickets/${escalated.id}/escalate`, { to_tier: 2, reason: 'needs AD rights' }, { token: T.tier1 }), 200);
  await clock({ advance_seconds: HOUR });
  await resolve(p1.id);
  await resolve(quick.id);
  assertStatus(await c().post(`/api/v1/tickets/${escalated.id}/time-entries`, { minutes: 45 }, { token: T.tier2 }), 201);
  await resolve(escalated.id, 'tier2');
  const rated = await apiGet(`/api/v1/tickets/${quick.id}`, 'acmeAdmin');
  const r = await c().post(rated.csat_url, { rating: 4, comment: 'Quick and friendly' });
  assert.ok(r.status < 300, `${r.status} ${r.text}`);
  Object.assign(seeded, { p1, quick, escalated, open });
  // April 5 2027: a device of Acme's whose disk is full (an alert fires)
  // and a new ticket nobody has taken yet.
  await clock({ now: '2027-04-05T14:00:00.000Z' });
  const { token } = assertStatus(await c().post(`/api/v1/clients/${ACME}/enroll-tokens`, { name: 'e2e' }, { token: T.admin }), 201);
  const dev = assertStatus(await c().post('/api/v1/agent/enroll', { enroll_token: token, hostname: 'front-desk-pc' }), 201);
  assertStatus(await c().post('/api/v1/agent/checkin', { batch_id: 1, metrics: [{ name: 'disk.used_percent', value: 96, labels: { mount: '/' } }, { name: 'uptime.seconds', value: 86400 }] },
    { token: dev.device_token }), 200);
  await clock({ advance_seconds: 60 });
  seeded.april = await create(ACME, { impact: 'high', urgency: 'high' });
});
after(async () => {
  await b?.close();
  await srv?.stop();
});

/* Console errors other than the 400 a test provoked on purpose. */
const unexpected = (page) => page.problems.filter((p) => !/status of 400/.test(p));

async function as(who, viewport) {
  const page = await b.page(srv.url, viewport ? { viewport } : undefined);
  await loginAs(page, DEMO[who], srv.password);
  return page;
}

/* The dashboard's tiles: {label: [number, href or null]}. */
const tiles = (page) => page.locator('.tiles .tile').evaluateAll((ts) => Object.fromEntries(ts.map((t) =>
  [t.querySelector('.what').textContent, [Number(t.querySelector('.n').textContent), t.getAttribute('href')]])));

/* A figures table's rows as {row header: [cells...]} (folded ones too). */
const rows = (page, label) => page.locator(`table[aria-label="${label}"]`).locator('tbody tr').evaluateAll((trs) =>
  Object.fromEntries(trs.map((tr) => [tr.querySelector('th').textContent, [...tr.querySelectorAll('td')].map((td) => td.textContent)])));

const pct = (v) => (v === null ? '—' : `${Math.round(v * 1000) / 10} %`);

describe('the dashboard', () => {
  test('staff: the figures of GET /api/v1/dashboard, each a link to the list it counts', async () => {
    const page = await as('dispatcher');
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
    const d = await apiGet('/api/v1/dashboard', 'dispatcher');
    assert.ok(d.tickets.unassigned >= 1 && d.tickets.p1 >= 1 && d.alerts.firing === 1, JSON.stringify(d));
    assert.deepEqual(await tiles(page), {
      'open tickets': [d.tickets.open, '#/tickets?open=true'],
      unassigned: [d.tickets.unassigned, '#/tickets?open=true&assignee_id=none'],
      P1: [d.tickets.p1, '#/tickets?open=true&priority=P1'],
      'SLA breached': [d.tickets.sla_breached, '#/tickets?open=true&breaching=true&sort=due'],
      'alerts firing': [1, '#/alerts?status=firing'],
    });
    // This month (April): the new ticket; nothing resolved, so no FCR verdict.
    assert.equal(d.month.from, '2027-04-01');
    assert.match(await page.getByRole('heading', { name: /^This month so far/ }).textContent(), /1 Apr 2027/);
    assert.equal(await page.locator('dd[data-figure="Opened"]').textContent(), String(d.month.volume.opened));
    assert.equal(await page.locator('dd[data-figure="Resolved"]').textContent(), String(d.month.volume.resolved));
    assert.equal(await page.locator('p.fcr').textContent(), 'No verdict yet (target 70 %)');
    assert.deepEqual(await rows(page, 'SLA attainment this month'), {
      Response: [d.month.sla.response.met, d.month.sla.response.breached, d.month.sla.response.pending].map(String).concat(pct(d.month.sla.response.attainment)),
      Resolution: [d.month.sla.resolution.met, d.month.sla.resolution.breached, d.month.sla.resolution.pending].map(String).concat(pct(d.month.sla.resolution.attainment)),
    });
    await shot(page, 'dashboard');
    // The links lead to the lists they count: the console shows as many.
    await page.locator('a.tile', { hasText: 'unassigned' }).click();
    await page.waitForURL(/assignee_id=none/);
    await page.locator('table.tickets tbody tr').first().waitFor();
    assert.equal(await page.locator('table.tickets tbody tr').count(), d.tickets.unassigned);
    await page.goBack();
    await page.locator('a.tile', { hasText: 'P1' }).click();
    await page.waitForURL(/priority=P1/);
    await page.locator('table.tickets tbody tr').first().waitFor();
    assert.equal(await page.locator('table.tickets tbody tr').count(), d.tickets.p1);
    await page.goBack();
    await page.locator('a.tile', { hasText: 'alerts firing' }).click();
    await page.locator('table.alerts tbody tr', { hasText: 'front-desk-pc' }).waitFor();
    assert.equal(await page.locator('table.alerts tbody tr').count(), 1);
    assert.deepEqual(page.problems, []);
  });

  test('a client admin sees their organisation\'s figures only', async () => {
    const page = await as('acmeAdmin');
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
    const own = await apiGet('/api/v1/dashboard', 'acmeAdmin');
    const all = await apiGet('/api/v1/dashboard');
    assert.ok(own.tickets.open < all.tickets.open, 'Borealis\' tickets are not counted');
    const t = await tiles(page);
    assert.deepEqual(t['open tickets'], [own.tickets.open, '#/tickets']);
    // No console filters in the portal: the other ticket figures are not links.
    assert.deepEqual([t.unassigned, t.P1, t['SLA breached']],
      [[own.tickets.unassigned, null], [own.tickets.p1, null], [own.tickets.sla_breached, null]]);
    assert.deepEqual(t['alerts firing'], [own.alerts.firing, '#/alerts?status=firing']);
    assert.equal(await page.locator('dd[data-figure="Opened"]').textContent(), String(own.month.volume.opened));
    assert.deepEqual(page.problems, []);
  });

  test('a client user has no dashboard or reports link, and is refused both', async () => {
    const page = await as('acmeUser');
    assert.deepEqual(await page.locator('#nav a').allTextContents(), ['My tickets', 'New ticket', 'Devices']);
    for (const [hash, title] of [['#/dashboard', 'Dashboard'], ['#/reports', 'SLA review']]) {
      await page.goto(`/${hash}`);
      await page.getByRole('heading', { name: title, level: 1 }).waitFor();
      assert.equal(await page.locator('main .alert').textContent(), 'Your role cannot open this page.');
    }
    assertProblem(await c().get('/api/v1/dashboard', { token: T.acmeUser }), 403);
    assertProblem(await c().get('/api/v1/reports/sla-review?from=2027-03-01&to=2027-04-01', { token: T.acmeUser }), 403);
    assert.deepEqual(page.problems, []);
  });
});

describe('the SLA review', () => {
  let page;

  test('last month for Acme Dental: the figures by hand and as the API gives them, beside February\'s', async () => {
    page = await as('dispatcher');
    await page.getByRole('link', { name: 'Reports' }).click();
    await page.getByRole('heading', { name: 'SLA review', level: 1 }).waitFor();
    // Last month on the server's clock (April 5 2027) is March.
    assert.equal(await page.getByLabel('Period').locator('option:checked').textContent(), 'Last month (March 2027)');
    await page.getByLabel('Client').selectOption({ label: 'Acme Dental' });
    await page.getByRole('button', { name: 'Show' }).click();
    await page.locator('.review[data-client="1"]').waitFor();
    assert.match(page.url(), /#\/reports\?client_id=1&period=last-month$/);
    const api = await apiGet(`/api/v1/reports/sla-review?client_id=${ACME}&from=2027-03-01&to=2027-04-01`);
    const p = api.period, q = api.previous;
    assert.match(await page.locator('.review-head').textContent(),
      /^Acme Dental: 1 Mar 2027 – 31 Mar 2027, beside the previous period 29 Jan 2027 – 28 Feb 2027; days in America\/New_York\.$/);

    // Volume: four opened in March, three resolved; one in February.
    const vol = await rows(page, 'Volume');
    assert.deepEqual(vol.Opened.slice(0, 2), ['4', '1']);
    assert.deepEqual(vol.Resolved.slice(0, 2), ['3', '1']);
    assert.equal(vol.Opened[2], '▲ up +3');
    assert.deepEqual([vol['Backlog at the start'][0], vol['Backlog at the end'][0]], [String(p.volume.backlog_start), String(p.volume.backlog_end)]);
    assert.equal(p.volume.backlog_end - p.volume.backlog_start, 1, 'the open one is added');
    assert.deepEqual((await rows(page, 'Opened by category')).printer.slice(0, 2), ['2', '0']);

    // SLA: the P1 answered an hour late; per priority as the API counts.
    const sla = await page.getByRole('table', { name: 'SLA attainment by priority' }).locator('tbody tr').evaluateAll((trs) =>
      trs.map((tr) => [tr.dataset.prio, tr.dataset.clock, ...[...tr.querySelectorAll('td')].map((td) => td.textContent)]));
    assert.equal(sla.length, 10);
    for (const [prio, clk, met, breached, pending, att, prevAtt] of sla) {
      const a = p.sla[prio][clk];
      assert.deepEqual([met, breached, pending, att, prevAtt], [String(a.met), String(a.breached), String(a.pending), pct(a.attainment),
        pct(q.sla[prio][clk].attainment)], `${prio} ${clk}`);
    }
    assert.equal(p.sla.P1.response.breached, 1);

    // Times in business hours, as hours and minutes.
    const hmText = (s) => (s === 0 ? '0 m' : s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)} m` : `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} m`);
    const times = await rows(page, 'Times in business hours');
    assert.deepEqual(times['Resolution: tickets counted'].slice(0, 2), ['3', '1']);
    assert.equal(times['Response: median'][0], hmText(p.business_time.response.median_seconds));
    assert.equal(times['Resolution: 90th percentile'][0], hmText(p.business_time.resolution.p90_seconds));
    assert.equal(times['Resolution: mean'][1], hmText(q.business_time.resolution.mean_seconds));

    // FCR: two of three at first contact (the escalated one not): below
    // the 70 % target, down from February's one of one.
    assert.equal(await page.locator('#fcr ~ p.fcr .fcr-rate').textContent(), '66.7 %');
    assert.match(await page.locator('#fcr ~ p.fcr').textContent(), /below the 70 % target 2 of 3 resolved at first contact/);
    assert.equal(await page.locator('#fcr ~ p.fcr meter').evaluate((m) => m.value), p.fcr.rate);
    const fcr = await rows(page, 'First-contact resolution');
    assert.deepEqual(fcr['FCR rate'], ['66.7 %', '100 %', '▼ down −33.3 pp, worse']);
    assert.equal(await page.getByRole('table', { name: 'First-contact resolution' }).locator('tr', { hasText: 'FCR rate' }).locator('.trend').getAttribute('class'), 'trend t-bad');
    const esc = await rows(page, 'Escalation');
    assert.deepEqual(esc['Reached tier 2'].slice(0, 2), ['1 (25 %)', '0 (0 %)']);
    // Reassignments as the API counts them, with their share of opened tickets.
    assert.deepEqual(esc['Reassignments'].slice(0, 2), [String(p.escalation.reassignments), String(q.escalation.reassignments)]);
    assert.equal(esc['Reassigned at least once'][0], `${p.escalation.reassigned} (${Math.round(p.escalation.rate_reassigned * 1000) / 10} %)`);

    // CSAT and hours.
    const csat = await rows(page, 'Customer satisfaction');
    assert.deepEqual(csat['Average rating (1-5)'].slice(0, 2), ['4.00', '—']);
    assert.deepEqual((await rows(page, 'Ratings given'))['4 of 5'].filter(Boolean), ['1', '0']);
    const comment = page.locator('ul.comments li');
    assert.match(await comment.textContent(), new RegExp(`^${seeded.quick.number} · 4 of 5 · .+Quick and friendly$`));
    const hrs = await rows(page, 'Hours');
    assert.deepEqual(hrs['Tier 2, billable'].slice(0, 2), ['45 m', '0 m']);

    // The breached tickets, each a link to its ticket.
    const breached = page.getByRole('table', { name: 'Breached tickets' }).locator('tbody tr');
    assert.equal(await breached.count(), p.breached_tickets.length);
    const row = breached.filter({ hasText: seeded.p1.number });
    assert.deepEqual(await row.locator('td').allTextContents(), [seeded.p1.number, 'P1', 'response', 'tier 1', 'no', '0 m']);
    // Monitoring: nothing fired in March (the alert is April's).
    assert.deepEqual((await rows(page, 'Alerts'))['Alerts fired'].slice(0, 2), ['0', '0']);
    assert.equal(await page.locator('#monitoring ~ p.empty', { hasText: 'No alert fired in the period.' }).count(), 1);
    await shot(page, 'sla-review');
    await row.getByRole('link', { name: seeded.p1.number }).click();
    await page.getByRole('heading', { name: new RegExp(seeded.p1.subject) }).waitFor();
    assert.deepEqual(page.problems, []);
  });

  test('this month: the alert that fired, by check and severity, and the device\'s uptime', async () => {
    await page.goto(`/#/reports?client_id=${ACME}&period=this-month`);
    await page.locator('.review[data-from="2027-04-01"]').waitFor();
    const m = (await apiGet(`/api/v1/reports/sla-review?client_id=${ACME}&from=2027-04-01&to=2027-05-01`)).period.monitoring;
    assert.equal(m.alerts.fired, 1);
    const alerts = await rows(page, 'Alerts');
    assert.deepEqual(alerts['Alerts fired'], ['1', '0', '▲ up +1, worse']);
    assert.deepEqual(alerts.Devices.slice(0, 2), [String(m.devices.count), '0']);
    assert.deepEqual(await rows(page, 'Alerts by check and severity'), { 'Disk full': ['critical', '1', '0', '0', '—', '—'] });
    const up = await rows(page, 'Device uptime');
    assert.deepEqual(Object.keys(up), ['front-desk-pc']);
    const d = m.devices.items[0];
    assert.equal(up['front-desk-pc'][0], `${(d.uptime * 100).toFixed(2)} %`);
    await page.getByRole('link', { name: 'front-desk-pc' }).click();
    await page.getByRole('heading', { name: /front-desk-pc/ }).waitFor();
    assert.deepEqual(page.problems, []);
  });

  test('all clients; days of one\'s choice; a period the server refuses is said at the field', async () => {
    await page.goto('/#/reports');
    await page.locator('.review[data-client="all"]').waitFor();
    const all = await apiGet('/api/v1/reports/sla-review?from=2027-03-01&to=2027-04-01');
    assert.equal((await rows(page, 'Volume')).Opened[0], String(all.period.volume.opened));
    assert.equal(all.period.volume.opened, 5);
    // The same March typed as days (the last one included).
    await page.getByLabel('Period').selectOption('custom');
    assert.equal(await page.getByLabel('From').inputValue(), '2027-03-01');
    await page.getByLabel('From').fill('2027-03-01');
    await page.getByLabel('To (the last day, included)').fill('2027-03-14');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.locator('.review[data-to="2027-03-15"]').waitFor();
    assert.match(page.url(), /period=custom&from=2027-03-01&until=2027-03-14$/);
    assert.match(await page.locator('.review-head').textContent(), /^All clients: 1 Mar 2027 – 14 Mar 2027, beside the previous period 15 Feb 2027 – 28 Feb 2027/);
    const half = await apiGet('/api/v1/reports/sla-review?from=2027-03-01&to=2027-03-15');
    assert.deepEqual((await rows(page, 'Volume')).Opened.slice(0, 2), [String(half.period.volume.opened), String(half.previous.volume.opened)]);
    // The last day before the first: the server's problem, at the field.
    await page.getByLabel('To (the last day, included)').fill('2027-02-01');
    await page.getByRole('button', { name: 'Show' }).click();
    const err = page.locator('#f-until + .field-error');
    await err.waitFor();
    assert.match(await err.textContent(), /after from/);
    assert.equal(await page.getByLabel('To (the last day, included)').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByLabel('From').inputValue(), '2027-03-01', 'nothing typed is lost');
    assert.equal(await page.locator('.review').count(), 0);
    assert.deepEqual(unexpected(page), []);
  });

  test('Download CSV gives the rows behind the figures; the printable pack opens in a new tab', async () => {
    await page.goto(`/#/reports?client_id=${ACME}&period=last-month`);
    await page.locator('.review[data-client="1"]').waitFor();
    const link = page.getByRole('link', { name: 'Download CSV' });
    assert.equal(await link.getAttribute('href'), `/api/v1/reports/sla-review?client_id=${ACME}&from=2027-03-01&to=2027-04-01&format=csv`);
    const [dl] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const text = await readFile(await dl.path(), 'utf8');
    const lines = text.trimEnd().split('\r\n');
    assert.match(lines[0], /^number,ticket_id,client_id,/);
    const api = await c().get(`/api/v1/reports/sla-review?client_id=${ACME}&from=2027-03-01&to=2027-04-01&format=csv`, { token: T.admin });
    assert.equal(text, api.text);
    const head = lines[0].split(',');
    const opened = lines.slice(1).map((l) => l.split(',')).filter((r) => r[head.indexOf('opened_in_period')] === '1').map((r) => r[0]);
    assert.deepEqual(opened.sort(), [seeded.p1, seeded.quick, seeded.escalated, seeded.open].map((t) => t.number).sort());
    const pack = page.getByRole('link', { name: /^Printable pack/ });
    assert.equal(await pack.getAttribute('href'), `/api/v1/reports/sla-review?client_id=${ACME}&from=2027-03-01&to=2027-04-01&format=html`);
    assert.equal(await pack.getAttribute('target'), '_blank');
    assert.equal(await pack.getAttribute('rel'), 'noopener');
    // The pack opens beside the review (the server draws it: format=html).
    const [tab] = await Promise.all([page.context().waitForEvent('page'), pack.click()]);
    await tab.waitForLoadState();
    assert.match(tab.url(), /format=html$/);
    await tab.getByRole('heading', { name: /^Service review: Acme Dental/, level: 1 }).waitFor();
    await shot(tab, 'sla-review-pack');
    await tab.close();
    assert.deepEqual(unexpected(page), []);
  });

  test('a client admin\'s review is their organisation\'s, with no client to choose', async () => {
    const admin = await as('acmeAdmin');
    await admin.getByRole('link', { name: 'Reports' }).click();
    await admin.locator('.review[data-client="1"]').waitFor();
    assert.equal(await admin.getByLabel('Client').count(), 0);
    assert.equal(await admin.locator('.fixed-client').textContent(), 'Client: Acme Dental');
    assert.deepEqual((await rows(admin, 'Volume')).Opened.slice(0, 2), ['4', '1']);
    // Another organisation's id in the address: the API's "not found".
    await admin.goto(`/#/reports?client_id=${BOREALIS}&period=last-month`);
    await admin.locator('main .alert').filter({ hasText: /not found/ }).waitFor();
    assert.equal(await admin.locator('.review').count(), 0);
    assert.deepEqual(admin.problems.filter((x) => !/status of 404/.test(x)), []);
  });
});

describe('report schedules (provider admins)', () => {
  let page, id;

  test('an admin creates a schedule; a bad address is said at its line; nothing else sees the section', async () => {
    page = await as('admin');
    await page.goto('/#/admin/report-schedules');
    await page.getByRole('heading', { name: 'Report schedules' }).waitFor();
    await page.getByText('No review is sent by itself yet.').waitFor();
    await page.getByRole('link', { name: 'New schedule' }).click();
    await page.getByLabel('Client').selectOption({ label: 'Acme Dental' });
    await page.getByLabel('How often').selectOption('quarterly');
    await page.getByLabel('Hour').selectOption('8');
    await page.getByLabel('Recipients').fill('it-lead@acme-dental.example\nnot-an-address');
    await page.getByRole('button', { name: 'Create' }).click();
    const err = page.locator('#f-recipients + .field-error');
    await err.waitFor();
    // The line and the entry from the page, the reason as the server words it.
    assert.match(await err.textContent(), /^line 2 \(not-an-address\): is not an e-mail address/);
    assert.equal(await page.getByLabel('How often').inputValue(), 'quarterly', 'nothing typed is lost');
    await page.getByLabel('Recipients').fill('it-lead@acme-dental.example, Owner@Acme-Dental.example');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { name: 'SLA review of Acme Dental' }).waitFor();
    id = Number(/report-schedules\/(\d+)$/.exec(page.url())[1]);
    const s = await apiGet(`/api/v1/reports/schedules/${id}`);
    assert.deepEqual([s.client_id, s.cadence, s.hour, s.enabled, s.formats, s.recipients],
      [ACME, 'quarterly', 8, true, ['html'], ['it-lead@acme-dental.example', 'owner@acme-dental.example']]);
    // Next: the quarter that ends first, sent at 08:00 on the client's clock.
    assert.equal(s.next_period.from, '2027-04-01');
    assert.match(await page.locator('[data-next]').textContent(),
      new RegExp(`^Next: the pack of ${s.next_period.label}, sent 1 Jul 2027, 14:00 \\(08:00 America/New_York\\)\\. Last sent: never\\.$`));
    await shot(page, 'report-schedule');
    // The list says the same.
    await page.getByRole('link', { name: '← report schedules' }).click();
    const row = page.locator('table.admin-list tbody tr', { hasText: 'Acme Dental' });
    assert.deepEqual((await row.locator('td').allTextContents()).slice(0, 5),
      ['Acme Dental', 'every quarter', '08:00 America/New_York', 'it-lead@acme-dental.example, owner@acme-dental.example', 'no']);
    // Not for dispatchers (the routes are the admins').
    const disp = await as('dispatcher');
    await disp.goto('/#/admin');
    await disp.getByRole('navigation', { name: 'Admin sections' }).waitFor();
    assert.equal(await disp.getByRole('link', { name: 'Report schedules' }).count(), 0);
    assertProblem(await c().get('/api/v1/reports/schedules', { token: T.dispatcher }), 403);
    assert.deepEqual(unexpected(page), []);
  });

  test('edit (only what changed, with If-Match), send the latest period now, delete with two clicks', async () => {
    await page.goto(`/#/admin/report-schedules/${id}`);
    await page.getByRole('heading', { name: 'SLA review of Acme Dental' }).waitFor();
    await page.getByLabel('How often').selectOption('monthly');
    await page.getByLabel('Attach the CSV of the tickets too (the printable pack always goes)').check();
    const [req] = await Promise.all([page.waitForRequest((r) => r.method() === 'PATCH'), page.getByRole('button', { name: 'Save' }).click()]);
    assert.deepEqual(req.postDataJSON(), { cadence: 'monthly', formats: ['html', 'csv'] });
    assert.match(req.headers()['if-match'], /^"v\d+"$/);
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    const s = await apiGet(`/api/v1/reports/schedules/${id}`);
    assert.deepEqual([s.cadence, s.formats, s.hour], ['monthly', ['html', 'csv'], 8]);
    // Send now: the latest complete month (March), queued in the outbox.
    const [res] = await Promise.all([page.waitForResponse((r) => r.url().endsWith(`/schedules/${id}/send`)),
      page.getByRole('button', { name: 'Send the latest period now' }).click()]);
    const sent = await res.json();
    assert.equal(res.status(), 202);
    assert.deepEqual([sent.period.from, sent.period.to], ['2027-03-01', '2027-04-01']);
    const said = page.getByRole('status').filter({ hasText: 'Queued' });
    await said.waitFor();
    assert.equal(await said.textContent(), `Queued: the pack of ${sent.period.label} (2027-03-01 to 2027-04-01, the last day not included) to it-lead@acme-dental.example, owner@acme-dental.example. The outbox has it.`);
    // Delete: the first click asks, the second does it.
    await page.getByRole('button', { name: 'Delete this schedule' }).click();
    await page.getByRole('button', { name: 'Really delete? Click again' }).click();
    await page.getByText('No review is sent by itself yet.').waitFor();
    assertProblem(await c().get(`/api/v1/reports/schedules/${id}`, { token: T.admin }), 404);
    assert.deepEqual(unexpected(page), []);
  });
});

describe('accessibility and the keyboard', () => {
  let sid;
  before(async () => {
    sid = assertStatus(await c().post('/api/v1/reports/schedules', { client_id: BOREALIS, cadence: 'monthly', recipients: ['sysadmin@borealis.example'] },
      { token: T.admin }), 201).id;
  });

  for (const [label, viewport] of [['laptop', { width: 1280, height: 800 }], ['phone', { width: 375, height: 740 }]]) {
    test(`on a ${label}: labelled controls, unique ids, one h1, contrast, nothing off-screen`, async () => {
      const faults = [];
      for (const [who, pages] of [['admin', ['#/dashboard', '#/reports', `#/reports?client_id=${ACME}&period=last-month`, '#/reports?period=custom&from=2027-03-01&until=2027-03-31',
        '#/admin/report-schedules', '#/admin/report-schedules/new', () => `#/admin/report-schedules/${sid}`]],
        ['acmeAdmin', ['#/dashboard', '#/reports']]]) {
        const page = await as(who, viewport);
        for (const p of pages) {
          const hash = typeof p === 'function' ? p() : p;
          await page.goto(`/${hash}`);
          await page.locator('main h1').first().waitFor();
          await page.locator('main').getByText('Loading…').waitFor({ state: 'detached' });
          await page.waitForLoadState('networkidle');
          for (const f of await page.evaluate(audit))
            faults.push(`${who} ${hash}: ${f}`);
        }
        if (label === 'phone' && who === 'admin') {
          await page.goto(`/#/reports?client_id=${ACME}&period=last-month`);
          await page.locator('.review').waitFor();
          await shot(page, 'phone-sla-review');
          await page.goto('/#/dashboard');
          await page.locator('.tiles').waitFor();
          await shot(page, 'phone-dashboard');
        }
        assert.deepEqual(page.problems, []);
      }
      assert.deepEqual(faults, []);
    });
  }

  test('the dashboard: focus on its content, Tab to the first figure with a focus ring, Enter follows it', async () => {
    const page = await as('dispatcher');
    await page.goto('/#/dashboard');
    await page.locator('.tiles').waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.id), 'app');
    await page.keyboard.press('Tab');
    const ring = await page.evaluate(() => {
      const el = document.activeElement;
      const s = getComputedStyle(el);
      return { href: el.getAttribute('href'), outline: s.outlineStyle, width: parseFloat(s.outlineWidth) };
    });
    assert.deepEqual(ring, { href: '#/tickets?open=true', outline: 'solid', width: 3 });
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Tickets', level: 1 }).waitFor();
    assert.match(page.url(), /#\/tickets\?open=true$/);
  });

  test('the review: Tab goes from the content through the form in order', async () => {
    const page = await as('dispatcher');
    await page.goto('/#/reports');
    await page.locator('.review').waitFor();
    const order = [];
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Tab');
      order.push(await page.evaluate(() => document.activeElement.name || document.activeElement.textContent));
    }
    assert.deepEqual(order, ['client_id', 'period', 'Show', 'Download CSV']);
  });
});
