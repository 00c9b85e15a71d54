// desk.test.mjs: the UI in a real browser (Debian's chromium): a Tier-1
// technician logs a phone call, replies, writes an internal note and
// escalates; a Tier-2 technician resolves; the client user sees the reply
// and not the note; another organisation cannot reach the ticket by URL;
// form errors appear next to their fields; the SLA badge follows the test
// clock. Screenshots go to build/e2e-screenshots/.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ACME, DEMO, startServer } from '../api/lib/server.mjs';
import { assertStatus, uniq } from '../api/lib/util.mjs';
import { launch, loginAs, shot } from './lib/browser.mjs';

let srv, b, admin;
const subject = uniq('Printer jammed on reception');

before(async () => {
  srv = await startServer({ testClock: true });
  b = await launch();
  admin = await srv.client.token(await srv.client.session(DEMO.admin, srv.password));
  // A weekday morning in New York: the demo's ACME calendar is open.
  const now = Date.parse(assertStatus(await srv.client.post('/api/v1/test/clock', { advance_seconds: 0 }, { token: admin }), 200).now);
  let d = Math.floor(now / 86400000) + 1;
  while ([0, 6].includes(new Date(d * 86400000).getUTCDay())) d++;
  await srv.client.post('/api/v1/test/clock', { now: new Date(d * 86400000 + 14 * 3600000).toISOString() }, { token: admin });
});
after(async () => {
  await b?.close();
  await srv?.stop();
});

describe('a ticket from phone call to resolution', () => {
  let tech, ticketUrl;

  test('the login page shows a wrong password in words, and nothing typed is lost', async () => {
    tech = await b.page(srv.url);
    await tech.goto('/');
    await tech.getByLabel('E-mail').fill(DEMO.tier1);
    await tech.getByLabel('Password').fill('not the password');
    await tech.getByRole('button', { name: 'Log in' }).click();
    await tech.locator('.alert').filter({ hasText: /./ }).waitFor();
    assert.equal(await tech.getByLabel('E-mail').inputValue(), DEMO.tier1);
    await shot(tech, 'login-error');
  });

  test('Tier 1 logs a phone call; a missing subject is shown next to the field', async () => {
    await loginAs(tech, DEMO.tier1, srv.password);
    await tech.getByRole('link', { name: 'Log a call' }).click();
    // The caller is found by a few digits of their number, across clients.
    await tech.getByLabel('Find the caller').fill('555 0102');
    await tech.getByRole('button', { name: /^Bob Reception — Acme Dental/ }).click();
    assert.equal(await tech.getByLabel('Client').locator('option:checked').textContent(), 'Acme Dental');
    assert.equal(await tech.getByLabel('Caller').locator('option:checked').textContent(), 'Bob Reception (+1 212 555 0102)');
    assert.equal(await tech.evaluate(() => document.activeElement.name), 'subject', 'on to the subject');
    await tech.getByLabel('What they said').fill('The reception printer shows error E-13.');
    await tech.getByRole('button', { name: 'Create ticket' }).click();
    const err = tech.locator('#f-subject + .field-error');
    await err.waitFor();
    assert.match(await err.textContent(), /required/);
    assert.equal(await tech.getByLabel('What they said').inputValue(), 'The reception printer shows error E-13.');
    await tech.getByLabel('Subject').fill(subject);
    await tech.getByRole('button', { name: 'Create ticket' }).click();
    await tech.getByRole('heading', { name: new RegExp(subject) }).waitFor();
    ticketUrl = tech.url();
    assert.match(ticketUrl, /#\/tickets\/\d+$/);
    await shot(tech, 'ticket-new');
  });

  test('a public reply and an internal note look different', async () => {
    await tech.getByLabel('Message').fill('We are sending someone with a new fuser.');
    await tech.getByRole('button', { name: 'Send' }).click();
    await tech.locator('article.msg.reply').waitFor();
    await tech.getByLabel('Internal note (staff only)').check();
    assert.ok(await tech.locator('form.reply.is-note').count() === 1, 'the form turns into a note');
    await tech.getByLabel('Message').fill('Fuser part number 4711, in the van.');
    await tech.getByRole('button', { name: 'Send' }).click();
    await tech.locator('article.msg.note').waitFor();
    const noteBg = await tech.locator('article.msg.note').evaluate((el) => getComputedStyle(el).backgroundColor);
    const replyBg = await tech.locator('article.msg.reply').evaluate((el) => getComputedStyle(el).backgroundColor);
    assert.notEqual(noteBg, replyBg);
    await tech.locator('#conv').waitFor();
    await shot(tech, 'ticket-conversation');
  });

  test('Tier 1 escalates to Tier 2 with a reason', async () => {
    await tech.getByLabel('To', { exact: true }).selectOption('tier:2');
    await tech.getByLabel('Reason').fill('needs a field engineer');
    await tech.getByRole('button', { name: 'Escalate' }).click();
    await tech.locator('.details dd').filter({ hasText: /^2$/ }).waitFor();
    await tech.locator('.timeline').getByText('needs a field engineer').waitFor();
  });

  test('Tier 2 finds it in the console and resolves it', async () => {
    const t2 = await b.page(srv.url);
    await loginAs(t2, DEMO.tier2, srv.password);
    await t2.goto('/#/tickets?tier=2&open=true');
    const row = t2.locator('table.tickets tr').filter({ hasText: subject });
    await row.waitFor();
    await shot(t2, 'console');
    await row.getByRole('link').click();
    await t2.getByRole('heading', { name: 'Change' }).waitFor();
    await t2.getByLabel('Status', { exact: true }).selectOption('resolved');
    await t2.getByRole('button', { name: 'Save' }).click();
    await t2.locator('.details dd').filter({ hasText: /^resolved$/ }).waitFor({ timeout: 30000 }).catch(async (e) => {
      await shot(t2, 'debug-resolve');
      throw new Error(`${e.message}; alerts: ${await t2.locator('.alert, .field-error').allTextContents()}`);
    });
    assert.deepEqual(t2.problems, []);
  });

  test('the client user sees the reply, not the note', async () => {
    const cu = await b.page(srv.url, { viewport: { width: 390, height: 800 } });
    await loginAs(cu, DEMO.acmeUser, srv.password);
    await cu.getByRole('link', { name: new RegExp(subject) }).click();
    await cu.locator('article.msg.reply').waitFor();
    assert.equal(await cu.locator('article.msg.note').count(), 0);
    assert.equal(await cu.getByText('Fuser part number').count(), 0);
    assert.equal(await cu.getByRole('heading', { name: 'Change' }).count(), 0);
    await shot(cu, 'portal-ticket-phone');
  });

  test('another organisation cannot reach the ticket by its URL', async () => {
    const other = await b.page(srv.url);
    await loginAs(other, DEMO.borealisUser, srv.password);
    await other.goto(`/${ticketUrl.slice(ticketUrl.indexOf('#'))}`);
    await other.locator('.alert').waitFor();
    assert.match(await other.locator('.alert').textContent(), /not found/i);
    assert.equal(await other.getByText(subject).count(), 0);
  });
});

describe('the client portal and the SLA badge', () => {
  test('a client user reports a problem; the technician\'s badge turns amber, then red, as the clock moves', async () => {
    const cu = await b.page(srv.url);
    await loginAs(cu, DEMO.acmeUser, srv.password);
    await cu.getByRole('link', { name: 'New ticket' }).click();
    await cu.getByRole('button', { name: 'Send' }).click();
    await cu.locator('#f-subject + .field-error').waitFor();
    const mine = uniq('Cannot print invoices');
    await cu.getByLabel('Subject').fill(mine);
    await cu.getByLabel('What happened').fill('Since this morning.');
    await cu.getByRole('button', { name: 'Send' }).click();
    await cu.getByRole('heading', { name: new RegExp(mine) }).waitFor();
    await shot(cu, 'portal-new-ticket');

    const tech = await b.page(srv.url);
    await loginAs(tech, DEMO.tier1, srv.password);
    await tech.goto(`/#/tickets?q=${encodeURIComponent(mine.split('-').at(-1))}`);
    const badge = tech.locator('table.tickets tr').filter({ hasText: mine }).locator('.badge');
    await badge.waitFor();
    assert.equal(await badge.getAttribute('data-sla'), 'ok');
    // The demo's Standard policy: P3 (medium x medium) responds in 4
    // business hours; 0.9 of it is 3 h 36 min.
    await srv.client.post('/api/v1/test/clock', { advance_seconds: 3 * 3600 + 40 * 60 }, { token: admin });
    await tech.reload();
    await badge.waitFor();
    assert.equal(await badge.getAttribute('data-sla'), 'warn');
    await srv.client.post('/api/v1/test/clock', { advance_seconds: 30 * 60 }, { token: admin });
    await tech.reload();
    await badge.waitFor();
    assert.equal(await badge.getAttribute('data-sla'), 'breach');
    // The due instant is also said in the SLA calendar's zone (Standard
    // counts on the New York office calendar).
    assert.match(await badge.getAttribute('aria-label'), /America\/New_York, the SLA calendar's zone/);
    // The queue counts say a ticket of its queue is breached; the queue's
    // link lists the queue.
    const t = (await srv.client.get(`/api/v1/tickets?q=${encodeURIComponent(mine.split('-').at(-1))}`, { token: admin })).body.items[0];
    const q = tech.getByRole('navigation', { name: 'Queues' }).getByRole('link', { name: new RegExp(`^${t.queue} \\d+`) });
    assert.match(await q.textContent(), /\d+ breached/);
    await shot(tech, 'console-breach');
    // Filter by client and sort by the SLA due instant.
    const bor = assertStatus(await srv.client.post('/api/v1/tickets', { client_id: 2, subject: uniq('Borealis scanner') }, { token: admin }), 201);
    const bor2 = assertStatus(await srv.client.post('/api/v1/tickets', { client_id: 2, subject: uniq('Borealis VPN'), impact: 'high', urgency: 'high' }, { token: admin }), 201);
    await tech.getByLabel('Search').fill('');
    await tech.getByLabel('Client', { exact: true }).selectOption({ label: 'Borealis Logistics' });
    await tech.getByLabel('Sort').selectOption({ label: 'SLA due first' });
    await tech.getByRole('button', { name: 'Filter' }).click();
    await tech.locator('table.tickets tr').filter({ hasText: bor.subject }).waitFor();
    const clients = await tech.locator('table.tickets tbody tr td:nth-child(3)').allTextContents();
    assert.ok(clients.length >= 2 && clients.every((c) => c === 'Borealis Logistics'), clients.join());
    const numbers = await tech.locator('table.tickets tbody tr td:first-child').allTextContents();
    assert.ok(numbers.indexOf(bor2.number) < numbers.indexOf(bor.number), 'the P1 is due first');
    // "open only" unticked shows resolved tickets too.
    assertStatus(await srv.client.patch(`/api/v1/tickets/${bor.id}`, { status: 'resolved' }, { token: admin }), 200);
    await tech.getByLabel('Status').selectOption('resolved');
    await tech.getByLabel('open only').uncheck();
    await tech.getByRole('button', { name: 'Filter' }).click();
    await tech.locator('table.tickets tr').filter({ hasText: bor.subject }).waitFor();
    assert.equal(await tech.getByLabel('open only').isChecked(), false);
    await q.click();
    await tech.getByRole('navigation', { name: 'Queues' }).locator('a[aria-current="true"]').waitFor();
    assert.equal(await tech.getByLabel('Queue', { exact: true }).inputValue(), t.queue);
  });
});
