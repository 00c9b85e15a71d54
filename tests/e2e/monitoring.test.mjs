// monitoring.test.mjs: the monitoring pages in a real browser. A device of
// Acme Dental enrolled and checked in through the API (a day and more of
// readings, then its disk at 95 %: "Disk full" fires and opens a ticket),
// another enrolled that never checked in. A technician sees the first
// online with its readings and the other offline, opens the device (charts
// drawn by the server load as images with the session cookie; 24 hours / 7
// days), acknowledges the alert on the Alerts page and follows it to its
// ticket. The client's user sees the device read-only; another
// organisation cannot open it. Then the accessibility audit of the pages
// with data on them, on a laptop and a phone.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ACME, DEMO, startServer } from '../api/lib/server.mjs';
import { assertStatus } from '../api/lib/util.mjs';
import { audit } from './lib/a11y.mjs';
import { launch, loginAs, shot } from './lib/browser.mjs';

let srv, b, admin, dev, quiet, checkin;
const HOST = 'reception-pc';

const INVENTORY = {
  hostname: HOST, os: 'Debian GNU/Linux 12 (bookworm)', kernel: '6.1.0-18-amd64',
  cpu_model: 'Intel(R) Core(TM) i5-8500 CPU @ 3.00GHz', cpu_count: 6, memory_bytes: 16663040000,
  agent_version: '0.1.0', disks: [{ mount: '/', free_bytes: 25769803776 }, { mount: '/boot', free_bytes: 358612992 }],
  addresses: ['192.168.10.23', 'fe80::5054:ff:fe12:3456'],
};

/* A check-in's readings, as the agent sends them: every series each time. */
const NOW = (boot = 31) => [
  { name: 'cpu.percent', value: 23 }, { name: 'mem.used_percent', value: 61 }, { name: 'load.1', value: 0.4 },
  { name: 'disk.used_percent', value: 95, labels: { mount: '/' } },
  { name: 'disk.used_percent', value: boot, labels: { mount: '/boot' } },
  { name: 'mem.available_bytes', value: 6.4e9 }, { name: 'uptime.seconds', value: 3 * 86400 + 7200 },
  { name: 'process.running', value: 1, labels: { name: 'sshd' } },
];

const enroll = async (token, hostname, extra = {}) =>
  assertStatus(await srv.client.post('/api/v1/agent/enroll', { enroll_token: token, hostname, ...extra }), 201);

before(async () => {
  srv = await startServer({ testClock: true });
  b = await launch();
  admin = await srv.client.token(await srv.client.session(DEMO.admin, srv.password));
  const { token } = assertStatus(await srv.client.post(`/api/v1/clients/${ACME}/enroll-tokens`, { name: 'e2e' }, { token: admin }), 201);
  dev = await enroll(token, HOST, { os: INVENTORY.os, inventory: INVENTORY });
  quiet = await enroll(token, 'xray-workstation', { os: 'Windows 11 Pro' });   // never checks in
  const now = Date.parse(assertStatus(await srv.client.post('/api/v1/test/clock', { advance_seconds: 0 }, { token: admin }), 200).now);
  // Eight days of readings every 30 minutes, oldest first, in batches.
  const samples = [];
  for (let t = now - 8 * 86400000; t < now - 60000; t += 1800000) {
    const at = new Date(t).toISOString(), x = (t / 3600000) % 24;
    samples.push({ name: 'cpu.percent', value: 8 + 30 * Math.max(0, Math.sin((x - 7) / 10 * Math.PI)), at },
      { name: 'mem.used_percent', value: 52 + 10 * Math.sin(x / 4), at },
      { name: 'disk.used_percent', value: 70 + 15 * (t - now + 8 * 86400000) / (8 * 86400000), labels: { mount: '/' }, at },
      { name: 'load.1', value: 0.2 + Math.abs(Math.sin(x)), at });
  }
  let batch = 1;
  checkin = async (body) => assertStatus(await srv.client.post('/api/v1/agent/checkin',
    { batch_id: batch++, ...body }, { token: dev.device_token }), 200);
  for (let i = 0; i < samples.length; i += 900)
    await checkin({ metrics: samples.slice(i, i + 900) });
  await checkin({ inventory: INVENTORY, metrics: NOW() });
  // The scheduler's pass opens the alert's ticket; 2 minutes on, the newest
  // readings' minute is over (the charts show full minutes).
  assertStatus(await srv.client.post('/api/v1/test/clock', { advance_seconds: 120 }, { token: admin }), 200);
});
after(async () => {
  await b?.close();
  await srv?.stop();
});

/* Every chart image on the page drawn (an error answer would not decode). */
async function chartsLoaded(page, min) {
  await page.waitForFunction((n) => {
    const imgs = [...document.querySelectorAll('figure.chart img')];
    return imgs.length >= n && imgs.every((i) => i.complete && i.naturalWidth > 0);
  }, min, { timeout: 10000 }).catch(async (e) => {
    const figs = await page.locator('figure.chart').evaluateAll((fs) => fs.map((f) => f.textContent + ' ' + (f.querySelector('img')?.getAttribute('src') || '')));
    throw new Error(`${e.message}: charts ${JSON.stringify(figs)}`);
  });
}

describe('monitoring pages', () => {
  let page;

  test('Devices: the device online with its latest readings, the silent one offline; filter by status', async () => {
    page = await b.page(srv.url);
    await loginAs(page, DEMO.tier1, srv.password);
    await page.getByRole('link', { name: 'Devices' }).click();
    await page.getByRole('heading', { name: 'Devices' }).waitFor();
    const row = page.locator('table.devices tbody tr', { hasText: HOST });
    const cells = await row.locator('td').allTextContents();
    assert.deepEqual(cells, [HOST, 'Acme Dental', INVENTORY.os, 'online', '2 min ago', '23 %', '61 %', '95 % /', '1 open']);
    assert.equal(await row.locator('.lvl-bad').textContent(), '95 % /', 'a full disk is red');
    const other = page.locator('table.devices tbody tr', { hasText: 'xray-workstation' });
    assert.deepEqual((await other.locator('td').allTextContents()).slice(3, 9), ['offline', 'never', '—', '—', '—', 'none']);
    await shot(page, 'devices');
    await page.getByLabel('Status').selectOption('offline');
    await page.getByRole('button', { name: 'Filter' }).click();
    await row.waitFor({ state: 'detached' });
    assert.match(page.url(), /#\/devices\?status=offline$/);
    assert.equal(await page.locator('table.devices tbody tr').count(), 1);
    await page.getByLabel('Status').selectOption('');
    await page.getByLabel('Host name').fill('recep');
    await page.getByRole('button', { name: 'Filter' }).click();
    await row.waitFor();
    assert.equal(await page.locator('table.devices tbody tr').count(), 1);
    assert.deepEqual(page.problems, []);
  });

  test('the device: details, its open alert, charts from the server (24 hours, 7 days), readings, inventory', async () => {
    await page.getByRole('link', { name: HOST }).click();
    await page.getByRole('heading', { name: HOST }).waitFor();
    assert.match(await page.locator('h1').textContent(), /online/);
    await page.locator('table.alerts', { hasText: 'Disk full' }).waitFor();
    // cpu, memory, load and two disks: each an <img> of chart.svg, with the cookie.
    await chartsLoaded(page, 5);
    const charts = await page.locator('figure.chart img').evaluateAll((imgs) => imgs.map((i) => ({ alt: i.alt, src: i.getAttribute('src'), w: i.naturalWidth })));
    assert.deepEqual(charts.map((c) => c.alt), ['CPU over the last 24 hours', 'Memory used over the last 24 hours',
      'Load (1 min) over the last 24 hours', 'Disk used / over the last 24 hours', 'Disk used /boot over the last 24 hours']);
    assert.ok(charts.every((c) => /\/api\/v1\/devices\/\d+\/chart\.svg\?metric=[a-z.1]+.*&range=24h$/.test(c.src) && c.w === 640), JSON.stringify(charts));
    assert.match(charts[3].src, /labels=%7B%22mount%22%3A%22%2F%22%7D/);
    // The readings in their units.
    const reading = async (name, of = '') => page.locator('table.readings tbody tr')
      .filter({ has: page.locator('td:nth-child(1)', { hasText: name }) })
      .filter({ has: page.locator('td:nth-child(2)', { hasText: new RegExp(`^${of.replace('/', '\\/')}$`) }) })
      .locator('td:nth-child(3)').textContent();
    assert.equal(await reading('Disk used', '/'), '95 %');
    assert.equal(await reading('Uptime'), '3 d 2 h');
    assert.equal(await reading('Memory available'), '6.0 GiB');
    assert.equal(await reading('Process', 'sshd'), 'running');
    // The inventory, drawn (disks as a table), and as JSON when asked.
    const inv = page.locator('details.inventory');
    await inv.locator('dd', { hasText: INVENTORY.cpu_model }).waitFor();
    assert.equal(await inv.locator('dt', { hasText: /^Memory$/ }).locator('+ dd').textContent(), '15.5 GiB');
    assert.equal(await inv.locator('dt', { hasText: /^CPU model$/ }).locator('+ dd').textContent(), INVENTORY.cpu_model);
    assert.deepEqual(await inv.locator('table.inv-table tbody tr').first().locator('td').allTextContents(), ['/', '24.0 GiB']);
    assert.equal(await inv.locator('details.raw pre').isVisible(), false);
    await inv.getByText('As JSON').click();
    assert.deepEqual(JSON.parse(await inv.locator('details.raw pre').textContent()), INVENTORY);
    await shot(page, 'device');
    // 7 days: the same charts from the hourly rollups, and the address keeps it.
    await page.getByRole('button', { name: '7 days' }).click();
    assert.equal(await page.getByRole('button', { name: '7 days' }).getAttribute('aria-pressed'), 'true');
    await page.waitForFunction(() => [...document.querySelectorAll('figure.chart img')].every((i) => i.src.endsWith('range=7d')));
    await chartsLoaded(page, 5);
    assert.match(page.url(), /#\/devices\/\d+\?range=7d$/);
    await page.reload();
    await chartsLoaded(page, 5);
    assert.equal(await page.getByRole('button', { name: '7 days' }).getAttribute('aria-pressed'), 'true');
    assert.match(await page.locator('figure.chart img').first().getAttribute('alt'), /last 7 days/);
    await shot(page, 'device-7d');
    assert.deepEqual(page.problems, []);
  });

  test('Alerts: the technician acknowledges the firing alert and follows it to its ticket', async () => {
    await page.getByRole('link', { name: 'Alerts', exact: true }).click();
    // The device page has an alert table too: wait for this page's own
    // (its heading, and the Client column only it has).
    await page.getByRole('heading', { name: 'Alerts', level: 1 }).waitFor();
    await page.locator('table.alerts thead th', { hasText: 'Client' }).waitFor();
    const row = page.locator('table.alerts tbody tr', { hasText: 'Disk full' });
    const cells = await row.locator('td').allTextContents();
    assert.deepEqual(cells.slice(0, 6), ['firing', 'critical', 'Acme Dental', HOST, 'Disk full /', '95 % > 90 %']);
    assert.deepEqual(cells.slice(7, 10), ['no', 'Acknowledge', 'Ticket']);
    await shot(page, 'alerts');
    await row.getByRole('button', { name: `Acknowledge Disk full on ${HOST}` }).click();
    await page.getByRole('status').filter({ hasText: `Acknowledged: Disk full on ${HOST}.` }).waitFor();
    assert.equal(await row.locator('td.ack').textContent(), 'acknowledged');
    assert.equal(await row.getByRole('button').count(), 0);
    const id = Number(await row.getAttribute('data-alert'));
    const a = assertStatus(await srv.client.get(`/api/v1/alerts/${id}`, { token: admin }), 200);
    const me = (await srv.client.get('/api/v1/users?role=technician', { token: admin })).body.items.find((u) => u.email === DEMO.tier1);
    assert.equal(a.acked, true);
    assert.equal(a.acked_by, me.id);
    // Still acknowledged after a reload; the device's page says so too.
    await page.reload();
    await page.locator('table.alerts tbody tr', { hasText: 'Disk full' }).locator('td.ack', { hasText: 'acknowledged' }).waitFor();
    // Nothing resolved yet.
    await page.getByLabel('Show').selectOption('resolved');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByText('No alerts match.').waitFor();
    await page.goBack();
    await page.getByRole('link', { name: `Ticket of Disk full on ${HOST}` }).click();
    await page.getByRole('heading', { name: `[critical] Disk full on ${HOST}` }).waitFor();
    assert.deepEqual(page.problems, []);
  });

  test('an Acknowledge someone else was quicker with is refused in words', async () => {
    await checkin({ metrics: NOW(97) });
    await page.goto('/#/alerts');
    const row = page.locator('table.alerts tbody tr', { hasText: 'Disk full /boot' });
    await row.getByRole('button', { name: `Acknowledge Disk full on ${HOST}` }).waitFor();
    const id = Number(await row.getAttribute('data-alert'));
    assertStatus(await srv.client.post(`/api/v1/alerts/${id}/ack`, undefined, { token: admin }), 200);
    await row.getByRole('button', { name: `Acknowledge Disk full on ${HOST}` }).click();
    const said = page.locator('main .alert[role="alert"]').filter({ hasText: /./ });
    await said.waitFor();
    assert.match(await said.textContent(), new RegExp(`^Disk full on ${HOST} was not acknowledged: .+ Reload`));
    await page.reload();
    await row.locator('td.ack', { hasText: 'acknowledged' }).waitFor();
    assert.deepEqual(page.problems.filter((p) => !/409/.test(p)), []);
  });

  test('the client\'s user sees the device read-only; another organisation gets "Not found"', async () => {
    const client = await b.page(srv.url);
    await loginAs(client, DEMO.acmeUser, srv.password);
    await client.getByRole('link', { name: 'Devices' }).click();
    await client.getByRole('link', { name: HOST }).click();
    await client.getByRole('heading', { name: HOST }).waitFor();
    await chartsLoaded(client, 5);
    await client.locator('table.alerts', { hasText: 'Disk full' }).waitFor();
    assert.equal(await client.getByRole('button', { name: /Acknowledge/ }).count(), 0);
    assert.equal(await client.locator('th', { hasText: 'Client' }).count(), 0, 'no client column for a client');
    assert.deepEqual(client.problems, []);
    const other = await b.page(srv.url);
    await loginAs(other, DEMO.borealisIT, srv.password);
    await other.goto(`/#/devices/${dev.device_id}`);
    await other.getByRole('heading', { name: 'Not found' }).waitFor();
    await other.goto('/#/devices');
    await other.getByText('No devices yet.').waitFor();
  });
});

describe('monitoring pages, accessibility', () => {
  for (const [label, viewport] of [['laptop', { width: 1280, height: 800 }], ['phone', { width: 375, height: 740 }]]) {
    test(`on a ${label}: labelled controls, unique ids, one h1, contrast, nothing off-screen`, async () => {
      const faults = [];
      for (const [who, pages] of [[DEMO.tier1, ['#/devices', `#/devices/${dev.device_id}`, '#/alerts', '#/alerts?status=all', `#/devices/${quiet.device_id}`]],
        [DEMO.acmeAdmin, ['#/devices', `#/devices/${dev.device_id}`]]]) {
        const page = await b.page(srv.url, { viewport });
        await loginAs(page, who, srv.password);
        for (const hash of pages) {
          await page.goto(`/${hash}`);
          await page.locator('main h1').first().waitFor();
          await page.waitForLoadState('networkidle');
          for (const f of await page.evaluate(audit))
            faults.push(`${who} ${hash}: ${f}`);
        }
        if (label === 'phone' && who === DEMO.tier1) {
          await page.goto(`/#/devices/${dev.device_id}`);
          await chartsLoaded(page, 5);
          await shot(page, 'phone-device');
        }
        assert.deepEqual(page.problems, []);
      }
      assert.deepEqual(faults, []);
    });
  }
});
