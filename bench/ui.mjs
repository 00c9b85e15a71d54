// ui.mjs: the console's first render with 1,000 open tickets in a queue,
// in Debian's chromium (headless), and the page weight.
//
//   node bench/ui.mjs            (make bench runs it; needs build/itsup)
//
// Prints: the bytes of HTML+CSS+JS the console loads (target under 150 KB
// uncompressed), and, over 10 cold loads, the time from navigation to the
// ticket table on screen (median, max), against the time of the same
// list request made from the page (the API's share) in the same run.
import { startServer, DEMO, ACME } from '../tests/api/lib/server.mjs';
import { launch, loginAs } from '../tests/e2e/lib/browser.mjs';

const N = Number(process.env.UI_BENCH_TICKETS || 1000);
const RUNS = 10;
const srv = await startServer();
const b = await launch();
try {
  const c = srv.client;
  const admin = await c.token(await c.session(DEMO.admin, srv.password));
  for (let i = 0; i < N; i += 50)
    await Promise.all(Array.from({ length: Math.min(50, N - i) }, (_, k) => c.post('/api/v1/tickets',
      { client_id: ACME, subject: `Bench ticket ${i + k}`, queue: 'general' }, { token: admin })));

  const page = await b.page(srv.url);
  await loginAs(page, DEMO.tier1, srv.password);
  const hash = '#/tickets?queue=general&open=true';
  const loads = [], apis = [];
  let bytes = 0;
  for (let r = 0; r < RUNS; r++) {
    await page.goto('about:blank');
    await page.goto(`/${hash}`);
    await page.locator('table.tickets tbody tr').first().waitFor();
    const t = await page.evaluate(() => performance.now());
    loads.push(t);
    if (r === 0)
      bytes = await page.evaluate(() => performance.getEntriesByType('resource')
        .filter((e) => /\/ui\//.test(e.name)).reduce((s, e) => s + e.decodedBodySize, 0)
        + performance.getEntriesByType('navigation')[0].decodedBodySize);
    apis.push(await page.evaluate(async () => {
      const t0 = performance.now();
      await (await fetch('/api/v1/tickets?queue=general&open=true&limit=200')).json();
      return performance.now() - t0;
    }));
  }
  // The admin pages are loaded on first use, not with the console.
  const adminPage = await b.page(srv.url);
  await loginAs(adminPage, DEMO.admin, srv.password);
  await adminPage.goto("/#/admin/sla-policies/1");
  await adminPage.getByRole("heading", { name: "What if" }).waitFor();
  const adminBytes = await adminPage.evaluate(() => performance.getEntriesByType('resource')
    .filter((e) => /\/ui\/admin/.test(e.name)).reduce((s, e) => s + e.decodedBodySize, 0));
  const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const rows = await page.locator('table.tickets tbody tr').count();
  console.log(`page weight (HTML+CSS+JS, uncompressed): ${(bytes / 1024).toFixed(1)} KB ${bytes < 150 * 1024 ? '(target < 150 KB: PASS)' : '(target < 150 KB: MISS)'}`);
  console.log(`admin pages, loaded when first opened: ${(adminBytes / 1024).toFixed(1)} KB more`);
  console.log(`console with ${N} open tickets in the queue (${rows} rows shown), ${RUNS} loads:`);
  console.log(`  navigation -> table on screen: median ${med(loads).toFixed(0)} ms, max ${Math.max(...loads).toFixed(0)} ms`);
  console.log(`  the list request alone (baseline): median ${med(apis).toFixed(0)} ms -> render x${(med(loads) / med(apis)).toFixed(1)} of it`);
} finally {
  await b.close();
  await srv.stop();
}
