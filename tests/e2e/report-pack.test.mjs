// report-pack.test.mjs: the printable SLA review pack (issue 9;
// docs/REPORTS.md "The printable pack") in a real browser. A month of
// Borealis tickets made through the API on the test clock (opened,
// answered, resolved; one left open past its SLA), then the pack opened
// with the session cookie as a user would from the Reports page: it
// renders under its own strict CSP without a console error or a blocked
// resource, its four charts are drawn, it fits the A4 and Letter widths,
// prints to PDF on both, and a client admin of another organisation
// cannot open it. A screenshot is kept with the others.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { BOREALIS, DEMO, startServer } from '../api/lib/server.mjs';
import { assertStatus, uniq } from '../api/lib/util.mjs';
import { launch, loginAs, shot } from './lib/browser.mjs';

let srv, b, T = {};
const HOUR = 3600;
const PACK = `/api/v1/reports/sla-review?client_id=${BOREALIS}&from=2027-03-01&to=2027-04-01&format=html`;

before(async () => {
  srv = await startServer({ testClock: true });
  b = await launch();
  for (const k of ['admin', 'dispatcher', 'tier1'])
    T[k] = await srv.client.token(await srv.client.session(DEMO[k], srv.password));
  const c = srv.client;
  const clock = async (body) => assertStatus(await c.post('/api/v1/test/clock', body, { token: T.admin }), 200);
  await clock({ now: '2027-03-01T08:00:00.000Z' });
  // Four weeks: each Monday three tickets, two answered and resolved the same day.
  for (let week = 0; week < 4; week++) {
    const made = [];
    for (const category of ['network', 'accounts', 'printing'])
      made.push(assertStatus(await c.post('/api/v1/tickets', { client_id: BOREALIS, subject: uniq('Pack'), category,
        type: category === 'accounts' ? 'service_request' : 'incident' }, { token: T.dispatcher }), 201));
    await clock({ advance_seconds: HOUR });
    for (const t of made.slice(0, 2)) {
      assertStatus(await c.post(`/api/v1/tickets/${t.id}/messages`, { kind: 'reply', body: 'On it' }, { token: T.tier1 }), 201);
      assertStatus(await c.patch(`/api/v1/tickets/${t.id}`, { status: 'resolved' }, { token: T.tier1 }), 200);
    }
    await clock({ advance_seconds: 7 * 24 * HOUR - HOUR });
  }
});
after(async () => {
  await b?.close();
  await srv?.stop();
});

test('the pack renders under its own CSP with four charts, fits A4 and Letter, prints to PDF; another organisation cannot open it', async () => {
  const page = await b.page(srv.url, { viewport: { width: 1100, height: 900 } });
  await loginAs(page, DEMO.admin, srv.password);
  // Requests that fail from here on are the pack's own (the app's page
  // before it may have a request cut short by the navigation).
  const blocked = [];
  page.on('requestfailed', (r) => { if (r.frame() === page.mainFrame() && !r.url().includes('/ui/')) blocked.push(r.url()); });
  const res = await page.goto(PACK);
  assert.equal(res.status(), 200);
  assert.match(res.headers()['content-security-policy'], /^default-src 'none'; style-src 'sha256-/);
  await page.getByRole('heading', { level: 1, name: /Service review: Borealis/ }).waitFor();
  // The stylesheet applied (its hash matched the CSP): the body is limited to 180 mm.
  const width = await page.evaluate(() => parseFloat(getComputedStyle(document.body).maxWidth));
  assert.ok(Math.abs(width - 180 * 96 / 25.4) < 1, `body max-width ${width}px`);
  // Four charts with bars or lines drawn, and each section there.
  const charts = page.locator('svg.chart');
  assert.equal(await charts.count(), 4);
  assert.ok(await charts.nth(0).locator('rect[height]').count() > 4, 'tickets per week has bars');
  assert.equal(await charts.nth(2).locator('polyline').count() >= 1, true, 'FCR per week has a line');
  for (const h of ['Volume', 'SLA attainment', 'First-contact resolution and escalation', 'Customer satisfaction', 'Monitoring', 'Hours logged'])
    await page.getByRole('heading', { level: 2, name: h }).waitFor();
  // The figures are the review's: 12 opened, 8 resolved.
  const kpi = async (label) => page.locator('.kpi', { hasText: label }).locator('b').textContent();
  assert.equal(await kpi('Tickets opened'), '12');
  assert.equal(await kpi('Tickets resolved'), '8');
  assert.deepEqual(page.problems, []);
  assert.deepEqual(blocked, []);
  await shot(page, 'report-pack');

  // Print: nothing wider than the page on A4 (210 mm) or Letter (8.5 in)
  // less the 14 mm margins, and a PDF of a few pages each.
  await page.emulateMedia({ media: 'print' });
  for (const [name, wmm] of [['A4', 210], ['Letter', 215.9]]) {
    await page.setViewportSize({ width: Math.floor((wmm - 28) * 96 / 25.4), height: 1000 });
    const over = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(over <= 0, `${name}: ${over}px wider than the page`);
    const pdf = await page.pdf({ format: name, printBackground: true });
    const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) || []).length;
    assert.ok(pages >= 2 && pages <= 8, `${name}: ${pages} pages`);
  }

  // Another organisation's admin: 404, and no figures.
  const other = await b.page(srv.url);
  await loginAs(other, DEMO.acmeAdmin, srv.password);
  const denied = await other.goto(PACK);
  assert.equal(denied.status(), 404);
  assert.equal(await other.locator('svg.chart').count(), 0);
});
