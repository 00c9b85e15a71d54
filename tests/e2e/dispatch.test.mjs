// dispatch.test.mjs: the dispatcher's board (bulk assign), a session that
// ends mid-reply (back to the login page, nothing typed lost), the client's
// rating of a resolved ticket, and a staff member's first login under the
// MFA policy (enrol an authenticator before anything else).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ACME, DEMO, SESSION_COOKIE, startServer } from '../api/lib/server.mjs';
import { assertStatus, totp, uniq } from '../api/lib/util.mjs';
import { launch, loginAs, shot } from './lib/browser.mjs';

let srv, b, admin;

before(async () => {
  srv = await startServer();
  b = await launch();
  admin = await srv.client.token(await srv.client.session(DEMO.admin, srv.password));
});
after(async () => {
  await b?.close();
  await srv?.stop();
});

const ticket = async (body) => assertStatus(await srv.client.post('/api/v1/tickets',
  { client_id: ACME, subject: uniq('Board'), ...body }, { token: admin }), 201);

describe('dispatch', () => {
  test('the dispatcher selects two unassigned tickets and assigns them to Tier 2 at once', async () => {
    const t1 = await ticket(), t2 = await ticket();
    const page = await b.page(srv.url);
    await loginAs(page, DEMO.dispatcher, srv.password);
    await page.getByRole('link', { name: 'Dispatch' }).click();
    const board = page.locator('form.board').first();
    await board.getByLabel(`select ${t1.number}`).check();
    await board.getByLabel(`select ${t2.number}`).check();
    await board.getByLabel('Assign to').selectOption({ label: 'Tess Tier-Two (tier 2)' });
    await shot(page, 'dispatch');
    await board.getByRole('button', { name: 'Assign selected' }).click();
    await page.locator('form.board').first().getByText(t1.number).waitFor({ state: 'detached' });
    const tier2 = (await srv.client.get('/api/v1/users?role=technician', { token: admin })).body.items.find((u) => u.tier === 2);
    for (const t of [t1, t2])
      assert.equal((await srv.client.get(`/api/v1/tickets/${t.id}`, { token: admin })).body.assignee_id, tier2.id);
    assert.deepEqual(page.problems, []);
  });
});

describe('a session that ends mid-reply', () => {
  test('the reply comes back after logging in again', async () => {
    const t = await ticket();
    const page = await b.page(srv.url);
    await loginAs(page, DEMO.tier1, srv.password);
    await page.goto(`/#/tickets/${t.id}`);
    await page.getByLabel('Message').fill('A long answer typed while the session ran out.');
    await page.context().clearCookies();   // the session is gone
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await page.getByLabel('E-mail').fill(DEMO.tier1);
    await page.getByLabel('Password').fill(srv.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: new RegExp(t.subject) }).waitFor();
    assert.equal(await page.getByLabel('Message').inputValue(), 'A long answer typed while the session ran out.');
    const msgs = (await srv.client.get(`/api/v1/tickets/${t.id}/messages`, { token: admin })).body.items;
    assert.equal(msgs.length, 0, 'nothing was sent without a session');
  });
});

describe('rating', () => {
  test('the client user rates a resolved ticket', async () => {
    const cuApi = await srv.client.session(DEMO.acmeUser, srv.password);
    const mine = assertStatus(await srv.client.post('/api/v1/tickets', { subject: uniq('Rate me') }, { session: cuApi }), 201);
    assertStatus(await srv.client.patch(`/api/v1/tickets/${mine.id}`, { status: 'resolved' }, { token: admin }), 200);
    const page = await b.page(srv.url, { viewport: { width: 390, height: 800 } });
    await loginAs(page, DEMO.acmeUser, srv.password);
    await page.goto(`/#/tickets/${mine.id}`);
    await page.getByRole('button', { name: 'Rate' }).click();
    await page.locator('form.rating .field-error').waitFor();
    await page.getByLabel('4').check();
    await page.getByLabel('Comment').fill('Quick and friendly.');
    await page.getByRole('button', { name: 'Rate' }).click();
    await page.getByText('Thank you for your rating.').waitFor();
    await shot(page, 'portal-rating');
  });
});

describe('MFA enrolment', () => {
  test('with the MFA policy on, a technician without an authenticator must enrol first', async () => {
    assertStatus(await srv.client.patch('/api/v1/settings', { mfa_required_for_staff: true }, { token: admin }), 200);
    const page = await b.page(srv.url);
    await page.goto('/#/login');
    await page.getByLabel('E-mail').fill(DEMO.tier3);
    await page.getByLabel('Password').fill(srv.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Set up your authenticator' }).waitFor();
    const secret = (await page.locator('code.secret').textContent()).trim();
    // Anything else leads back here (with a new key: the enrolment starts over).
    await page.goto('/#/tickets');
    await page.waitForFunction((prev) => {
      const el = document.querySelector('code.secret');
      return el && el.textContent.trim() !== prev;
    }, secret);
    const secret2 = (await page.locator('code.secret').textContent()).trim();
    await page.getByLabel('Code').fill('000000');
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.locator('.field-error').waitFor();
    await page.getByLabel('Code').fill(totp(secret2));
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('heading', { name: 'Tickets' }).waitFor({ timeout: 30000 }).catch(async (e) => {
      await shot(page, 'debug-mfa');
      throw new Error(`${e.message}: ${await page.locator('.alert, .field-error').allTextContents()} ${page.problems}`);
    });
    assert.ok(secret.length >= 16);
    assertStatus(await srv.client.patch('/api/v1/settings', { mfa_required_for_staff: false }, { token: admin }), 200);
  });
});
