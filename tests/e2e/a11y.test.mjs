// a11y.test.mjs: every main page, for each kind of user, on a laptop and a
// phone-width screen: one h1; every form control has a name a screen reader
// reads (a label, aria-label); ids are unique; every button and link says
// what it does; text contrast at least 4.5:1; nothing is wider than the
// screen (no sideways scrolling);
// and the keyboard reaches the controls in order with a visible focus ring.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO, startServer } from '../api/lib/server.mjs';
import { assertStatus, uniq } from '../api/lib/util.mjs';
import { launch, loginAs, shot } from './lib/browser.mjs';

let srv, b, ticketId;

before(async () => {
  srv = await startServer();
  b = await launch();
  // A ticket of the client user's own, so both kinds of user can open it.
  const user = await srv.client.token(await srv.client.session(DEMO.acmeUser, srv.password));
  ticketId = assertStatus(await srv.client.post('/api/v1/tickets',
    { subject: uniq('A11y'), description: 'Checked by the accessibility test.' }, { token: user }), 201).id;
});
after(async () => {
  await b?.close();
  await srv?.stop();
});

/* The page's faults, found in the page itself. */
function audit() {
  const faults = [];
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const named = (el) => (el.labels && [...el.labels].some((l) => l.textContent.trim()))
    || el.getAttribute('aria-label')?.trim() || el.getAttribute('aria-labelledby')
    || (el.type === 'submit' || el.tagName === 'BUTTON') && el.textContent.trim();
  const where = (el) => `${el.tagName.toLowerCase()}[name=${el.getAttribute('name') || ''}]`;
  const h1 = [...document.querySelectorAll('h1')].filter(visible);
  if (h1.length !== 1)
    faults.push(`${h1.length} visible h1`);
  for (const el of document.querySelectorAll('input, select, textarea, button'))
    if (visible(el) && el.type !== 'hidden' && !named(el))
      faults.push(`unnamed ${where(el)}`);
  for (const a of document.querySelectorAll('a[href]'))
    if (visible(a) && !a.textContent.trim() && !a.getAttribute('aria-label'))
      faults.push(`empty link ${a.getAttribute('href')}`);
  const ids = new Map();
  for (const el of document.querySelectorAll('[id]'))
    ids.set(el.id, (ids.get(el.id) || 0) + 1);
  for (const [id, n] of ids)
    if (n > 1)
      faults.push(`id ${id} used ${n} times`);
  // Text contrast (WCAG 2 relative luminance) against the first opaque
  // background behind it: at least 4.5:1 for every piece of text.
  const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
  const lum = ([r, g, b_]) => [r, g, b_].map((v) => v / 255)
    .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4))
    .reduce((a, v, i) => a + v * [0.2126, 0.7152, 0.0722][i], 0);
  const bg = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || c[3] === 1)
        return c;
    }
    return [255, 255, 255];
  };
  for (const el of document.querySelectorAll('main *, header *')) {
    if (!visible(el) || ![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()))
      continue;
    if (el.disabled || el.closest('[disabled]'))
      continue;   // disabled controls are exempt (WCAG 1.4.3)
    const [a, c] = [lum(rgb(getComputedStyle(el).color)), lum(bg(el))];
    const ratio = (Math.max(a, c) + 0.05) / (Math.min(a, c) + 0.05);
    if (ratio < 4.5)
      faults.push(`contrast ${ratio.toFixed(2)}:1 for "${el.textContent.trim().slice(0, 30)}"`);
  }
  if (document.documentElement.scrollWidth > window.innerWidth + 1)
    faults.push(`page ${document.documentElement.scrollWidth}px wide on a ${window.innerWidth}px screen`);
  return faults;
}

const PAGES = {
  [DEMO.admin]: ['#/tickets', () => `#/tickets/${ticketId}`, '#/phone', '#/dispatch', '#/admin/clients', '#/admin/clients/1',
    '#/admin/users', '#/admin/users/new', '#/admin/calendars', '#/admin/calendars/1', '#/admin/sla-policies',
    '#/admin/sla-policies/1', '#/admin/contracts', '#/admin/contracts/new', '#/admin/triage-rules',
    '#/admin/triage-rules/new', '#/admin/security'],
  [DEMO.acmeUser]: ['#/tickets', '#/new', () => `#/tickets/${ticketId}`],
};

for (const [label, viewport] of [['laptop', { width: 1280, height: 800 }], ['phone', { width: 375, height: 740 }]]) {
  describe(`on a ${label}`, () => {
    for (const [who, pages] of Object.entries(PAGES)) {
      test(`${who}: labelled controls, unique ids, one h1, nothing off-screen`, async () => {
        const page = await b.page(srv.url, { viewport });
        await loginAs(page, who, srv.password);
        const faults = [];
        for (const p of pages) {
          const hash = typeof p === 'function' ? p() : p;
          await page.goto(`/${hash}`);
          await page.locator('main h1').first().waitFor();
          await page.locator('main').getByText('Loading…').waitFor({ state: 'detached' });
          await page.waitForLoadState('networkidle');
          for (const f of await page.evaluate(audit))
            faults.push(`${hash}: ${f}`);
        }
        if (label === 'phone' && who === DEMO.admin) {
          await page.goto('/#/tickets');
          await page.locator('main h1').first().waitFor();
          await shot(page, 'phone-console');
        }
        assert.deepEqual(faults, []);
        assert.deepEqual(page.problems, []);
      });
    }
  });
}

describe('keyboard', () => {
  test('a new page puts the focus on its content; Tab goes on from there with a visible focus ring; Enter follows', async () => {
    const page = await b.page(srv.url);
    await loginAs(page, DEMO.tier1, srv.password);
    await page.goto('/#/admin/clients');
    await page.getByRole('heading', { name: 'Clients', exact: true }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.id), 'app', 'focus on the content, for screen readers');
    await page.keyboard.press('Tab');
    const ring = await page.evaluate(() => {
      const el = document.activeElement;
      const s = getComputedStyle(el);
      return { text: el.textContent, outline: s.outlineStyle, width: parseFloat(s.outlineWidth) };
    });
    assert.equal(ring.text, 'Clients');
    assert.equal(ring.outline, 'solid');
    assert.ok(ring.width >= 2, `focus outline ${ring.width}px`);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Business-hours calendars' }).waitFor();
    assert.deepEqual(page.problems, []);
  });
});
