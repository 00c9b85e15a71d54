// browser.mjs: Debian's chromium driven by playwright-core, for the UI
// tests. Headless, --no-sandbox, an empty profile per context.
//
//   const b = await launch();
//   const page = await b.page(srv.url);       // a fresh context
//   await loginAs(page, DEMO.tier1, srv.password);
//   await shot(page, 'console');               // build/e2e-screenshots/console.png
import { chromium } from 'playwright-core';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const SHOTS = process.env.ITSUP_SHOTS
  || new URL('../../../build/e2e-screenshots/', import.meta.url).pathname;

export async function launch() {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
  const contexts = [];
  return {
    browser,
    /* A page in its own context (own cookies and storage), with console
     * errors and CSP violations collected in page.problems. */
    async page(baseURL, { viewport = { width: 1280, height: 800 } } = {}) {
      const ctx = await browser.newContext({ baseURL, viewport, timezoneId: 'Europe/Berlin', locale: 'en-GB' });
      contexts.push(ctx);
      const page = await ctx.newPage();
      page.problems = [];
      page.on('console', (m) => { if (m.type() === 'error') page.problems.push(m.text()); });
      page.on('pageerror', (e) => page.problems.push(String(e)));
      return page;
    },
    async close() {
      for (const c of contexts)
        await c.close().catch(() => {});
      await browser.close();
    },
  };
}

export async function loginAs(page, email, password) {
  await page.goto('/#/login');
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('#who').filter({ hasText: '(' }).waitFor();
}

export async function shot(page, name) {
  await mkdir(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}
