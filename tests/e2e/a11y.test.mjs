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
import { audit } from './lib/a11y.mjs';
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

const PAGES = {
  [DEMO.admin]: ['#/tickets', () => `#/tickets/${ticketId}`, '#/phone', '#/dispatch', '#/admin/clients', '#/admin/clients/1',
    '#/admin/users', '#/admin/users/new', '#/admin/calendars', '#/admin/calendars/1', '#/admin/sla-policies',
    '#/admin/sla-policies/1', '#/admin/contracts', '#/admin/contracts/new', '#/admin/triage-rules',
    '#/admin/triage-rules/new', '#/admin/security', '#/devices', '#/alerts', '#/dashboard', '#/reports',
    '#/admin/report-schedules', '#/admin/report-schedules/new'],
  [DEMO.acmeUser]: ['#/tickets', '#/new', () => `#/tickets/${ticketId}`, '#/devices'],
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
