// admin.test.mjs: the admin pages in a real browser: clients and contacts,
// users and roles (a client admin's "People"), calendars (hours and
// holidays as text, problems at the member, the calculator), SLA policies
// (targets as durations, what-if), contracts, triage rules with the dry
// run, and the MFA policy. Every check reads the API afterwards.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO, startServer } from '../api/lib/server.mjs';
import { assertStatus, uniq } from '../api/lib/util.mjs';
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

const apiGet = async (path) => assertStatus(await srv.client.get(path, { token: admin }), 200);
/* Console errors other than the 400s a test provoked on purpose. */
const unexpected = (page) => page.problems.filter((p) => !/status of 400/.test(p));
const heading = (page, name) => page.getByRole('heading', { name, exact: true }).waitFor();

async function adminPage(who = DEMO.admin) {
  const page = await b.page(srv.url);
  await loginAs(page, who, srv.password);
  return page;
}

describe('clients and contacts', () => {
  test('an admin creates a client, is told at the field what is wrong, and adds a contact', async () => {
    const page = await adminPage();
    await page.getByRole('link', { name: 'Admin' }).click();
    await heading(page, 'Clients');
    await page.getByRole('link', { name: 'New client' }).click();
    await heading(page, 'New client');
    const name = uniq('Client');
    await page.getByLabel('Name', { exact: true }).fill(name);
    await page.getByLabel('Time zone').fill('Mars/Olympus');
    await page.getByRole('button', { name: 'Create' }).click();
    const err = page.locator('.field-error');
    await err.first().waitFor();
    assert.match(await err.first().textContent(), /IANA/);
    assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), name, 'nothing typed is lost');
    await page.getByLabel('Time zone').fill('Europe/Vienna');
    await page.getByLabel('E-mail domain').fill('vienna-clinic.example');
    await page.getByRole('button', { name: 'Create' }).click();
    await heading(page, name);
    const c = (await apiGet('/api/v1/clients?limit=500')).items.find((x) => x.name === name);
    assert.equal(c.timezone, 'Europe/Vienna');
    assert.equal(c.email_domain, 'vienna-clinic.example');
    // An edit sends only what changed.
    await page.getByLabel('Close resolved tickets after (days)').fill('3');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('.ok').filter({ hasText: 'Saved.' }).waitFor();
    // Something typed in the client form, not saved, survives adding a contact.
    await page.getByLabel('Notes').fill('Typed, not saved yet.');
    const contact = page.locator('form').filter({ has: page.getByRole('heading', { name: 'Add a contact' }) });
    await contact.getByLabel('Name').fill('Vera Vienna');
    await contact.getByLabel('E-mail').fill('vera@vienna-clinic.example');
    await contact.getByLabel('Phone').fill('+43 1 234 5678');
    await contact.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { name: 'Contacts (1)' }).waitFor();
    assert.equal(await page.getByLabel('Notes').inputValue(), 'Typed, not saved yet.');
    assert.equal(await page.evaluate(() => new Set([...document.querySelectorAll('[id]')].map((e) => e.id)).size
      === document.querySelectorAll('[id]').length), true, 'ids stay unique');
    assert.equal((await apiGet(`/api/v1/clients/${c.id}`)).auto_close_days, 3);
    const cs = (await apiGet(`/api/v1/clients/${c.id}/contacts`)).items;
    assert.deepEqual(cs.map((x) => [x.name, x.phone]), [['Vera Vienna', '+43 1 234 5678']]);
    await shot(page, 'admin-client');
    assert.deepEqual(unexpected(page), []);
  });
});

describe('users and roles', () => {
  test('an admin adds a tier-2 technician; a client admin can only add people of their own organisation', async () => {
    const page = await adminPage();
    await page.goto('/#/admin/users/new');
    await heading(page, 'New user');
    const email = `${uniq('tech').toLowerCase()}@demo.itsup.test`;
    await page.getByLabel('Name').fill('Nia New');
    await page.getByLabel('E-mail').fill(email);
    await page.getByLabel('Role', { exact: true }).selectOption('technician');
    await page.getByLabel('Tier (technicians)').selectOption('2');
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.locator('.field-error').first().waitFor();
    assert.equal(await page.getByLabel('E-mail').inputValue(), email);
    await page.getByLabel('Password').fill('a long enough passphrase 42');
    await page.getByRole('button', { name: 'Create' }).click();
    await heading(page, `Nia New (${email})`);
    const u = (await apiGet('/api/v1/users?limit=500')).items.find((x) => x.email === email);
    assert.equal(u.role, 'technician');
    assert.equal(u.tier, 2);
    await page.getByLabel('Active').uncheck();
    await page.getByRole('button', { name: 'Save' }).click();
    await heading(page, 'Users');
    assert.equal((await apiGet(`/api/v1/users/${u.id}`)).active, false);
    await shot(page, 'admin-users');

    const ca = await adminPage(DEMO.acmeAdmin);
    await ca.getByRole('link', { name: 'People' }).click();
    await heading(ca, 'Users');
    await ca.getByRole('link', { name: 'New user' }).click();
    await heading(ca, 'New user');
    const roles = await ca.getByLabel('Role', { exact: true }).locator('option').allTextContents();
    assert.deepEqual(roles, ['client admin', 'client user', 'client it']);
    const clients = await ca.getByLabel('Client (client roles)').locator('option').allTextContents();
    assert.equal(clients.length, 2, 'only their own organisation (and the empty choice)');
    assert.deepEqual(ca.problems, []);
  });
});

describe('calendars', () => {
  test('hours and holidays are typed as text; problems point at the weekday and the line', async () => {
    const page = await adminPage(DEMO.dispatcher);
    await page.goto('/#/admin/calendars/new');
    await heading(page, 'New calendar');
    const name = uniq('Cal');
    await page.getByLabel('Name').fill(name);
    await page.getByLabel('Time zone').fill('Europe/Berlin');
    await page.getByLabel('Monday').fill('8-17');
    await page.getByRole('button', { name: 'Create' }).click();
    assert.match(await page.locator('#err-f-hours_mon').textContent(), /08:00-12:00/);
    await page.getByLabel('Monday').fill('08:00-12:00, 13:00-25:00');
    await page.getByLabel('Tuesday').fill('09:00-17:00');
    await page.getByLabel('Holidays', { exact: true }).fill('2026-12-24 09:00-12:00 Christmas Eve\n2026-12-25 Christmas Day\n2026-13-01 Nonsense');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.locator('#err-f-hours_mon').waitFor();
    assert.match(await page.locator('#err-f-hours_mon').textContent(), /\[1\]/, 'the server names the second span');
    await page.getByLabel('Monday').fill('08:00-12:00, 13:00-17:00');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.locator('#err-f-holidays').waitFor();
    assert.match(await page.locator('#err-f-holidays').textContent(), /line 3/);
    await page.getByLabel('Holidays', { exact: true }).fill('2026-12-24 09:00-12:00 Christmas Eve\n\n2026-12-25 Christmas Day');
    await page.getByRole('button', { name: 'Create' }).click();
    await heading(page, name);
    const cal = (await apiGet('/api/v1/calendars?limit=500')).items.find((x) => x.name === name);
    assert.deepEqual(cal.hours, { mon: [['08:00', '12:00'], ['13:00', '17:00']], tue: [['09:00', '17:00']] });
    assert.deepEqual(cal.holidays.map((x) => [x.date, x.hours ?? null, x.name]),
      [['2026-12-24', [['09:00', '12:00']], 'Christmas Eve'], ['2026-12-25', null, 'Christmas Day']]);
    // Calculator: Monday 2026-11-23 07:00 to 18:00 Berlin is 8 business hours.
    const calc = page.locator('form').filter({ has: page.getByRole('heading', { name: 'Calculator' }) });
    await calc.getByLabel('From (your time)').fill('2026-11-23T07:00');
    await calc.getByLabel('To (your time)').fill('2026-11-23T18:00');
    await calc.getByRole('button', { name: 'Calculate' }).click();
    await calc.locator('output').filter({ hasText: '8h' }).waitFor();
    assert.match(await calc.locator('output').textContent(), /28800 s/);
    // An edit: Wednesday opens; the page says it saved.
    await page.getByLabel('Wednesday').fill('10:00-14:00');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('.ok').first().filter({ hasText: 'Saved' }).waitFor();
    assert.deepEqual((await apiGet(`/api/v1/calendars/${cal.id}`)).hours.wed, [['10:00', '14:00']]);
    await shot(page, 'admin-calendar');
    assert.deepEqual(unexpected(page), []);
  });
});

describe('SLA policies and contracts', () => {
  test('targets are durations; a bad one is said at its cell; the what-if shows the due instants', async () => {
    const page = await adminPage();
    const pol = (await apiGet('/api/v1/sla-policies')).items.find((p) => p.default);
    await page.goto(`/#/admin/sla-policies/${pol.id}`);
    await heading(page, pol.name);
    await page.getByLabel('P4 resolution').fill('five days');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#err-targets_P4_resolution').waitFor();
    await page.getByLabel('P4 resolution').fill('5d');
    await page.getByLabel('Warn at').fill('0.5, 0.9');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('.ok').first().filter({ hasText: 'Saved' }).waitFor();
    const after = await apiGet(`/api/v1/sla-policies/${pol.id}`);
    assert.equal(after.targets.P4.resolution, 5 * 86400);
    assert.deepEqual(after.warn_at, [0.5, 0.9]);
    assert.deepEqual(after.targets.P1, pol.targets.P1, 'what was not touched stays');
    const sim = page.locator('form').filter({ has: page.getByRole('heading', { name: 'What if' }) });
    await sim.getByLabel('Opened at (your time)').fill('2026-11-23T10:00');
    await sim.getByLabel('Priority').selectOption('P4');
    await sim.getByRole('button', { name: 'Simulate' }).click();
    await sim.getByText(/Resolution: target 5d/).waitFor();
    await shot(page, 'admin-sla-policy');

    await page.goto('/#/admin/contracts/new');
    await heading(page, 'New contract');
    await page.getByLabel('Client').selectOption({ label: 'Borealis Logistics' });
    await page.getByLabel('Pricing model').selectOption('block_hours');
    await page.getByLabel('Starts on').fill('2026-12-01');
    await page.getByLabel('SLA policy').selectOption(String(pol.id));
    await page.getByRole('button', { name: 'Create' }).click();
    await heading(page, 'Contracts');
    const con = (await apiGet('/api/v1/contracts?limit=500')).items.find((x) => x.starts_on === '2026-12-01' && x.model === 'block_hours');
    assert.equal(con.sla_policy_id, pol.id);
    assert.deepEqual(page.problems, []);
  });
});

describe('triage rules', () => {
  test('a dispatcher writes a rule, tries the draft, saves it, and the dry run and a real ticket agree', async () => {
    const word = uniq('toner').toLowerCase().replace(/[^a-z0-9]/g, '');
    const page = await adminPage(DEMO.dispatcher);
    await page.goto('/#/admin/triage-rules/new');
    await heading(page, 'New triage rule');
    await page.getByLabel('Name').fill(`printers ${word}`);
    await page.getByRole('button', { name: 'Add a condition' }).click();
    await page.getByLabel('condition 1: value').fill(word);
    await page.getByLabel('Queue').fill(`q-${word}`);
    await page.getByLabel('Tags').fill('printer, onsite');
    const tryit = page.locator('form.dry-run');
    await tryit.getByLabel('Subject').fill(`The ${word} is empty`);
    await tryit.getByRole('button', { name: 'Try the draft' }).click();
    await tryit.getByRole('heading', { name: '1 rule match' }).waitFor();
    assert.match(await tryit.locator('.result').textContent(), new RegExp(`q-${word}`));
    // A condition that cannot be: the server's problem lands at the row.
    // Changing the field redraws the row and the keyboard stays on it.
    await page.getByLabel('condition 1: field').selectOption('client_id');
    assert.equal(await page.evaluate(() => document.activeElement.name), 'conditions[0].field');
    await page.getByLabel('condition 1: value').fill('not-an-id');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.locator('.field-error').first().waitFor();
    assert.match(await page.locator('.field-error').first().textContent(), /id/);
    await page.getByLabel('condition 1: field').selectOption('text');
    await page.getByLabel('condition 1: value').fill(word);
    await page.getByRole('button', { name: 'Create' }).click();
    await heading(page, 'Triage rules (run in this order)');
    await page.getByRole('link', { name: `printers ${word}` }).waitFor();
    const dry = page.locator('form.dry-run');
    await dry.getByLabel('Client').selectOption({ label: 'Borealis Logistics' });
    await dry.getByLabel('Subject').fill(`${word} again`);
    await dry.getByRole('button', { name: 'Dry run' }).click();
    await dry.locator('tr.hit').filter({ hasText: `printers ${word}` }).waitFor();
    await shot(page, 'admin-triage');
    const t = assertStatus(await srv.client.post('/api/v1/tickets', { client_id: 2, subject: `Out of ${word}` }, { token: admin }), 201);
    assert.equal(t.queue, `q-${word}`);
    assert.deepEqual(t.tags, ['printer', 'onsite']);
    // Delete (two clicks).
    const rule = (await apiGet('/api/v1/triage-rules')).items.find((r) => r.name === `printers ${word}`);
    await page.goto(`/#/admin/triage-rules/${rule.id}`);
    await heading(page, rule.name);
    await page.getByRole('button', { name: 'Delete this rule' }).click();
    await page.getByRole('button', { name: 'Really delete? Click again' }).click();
    await heading(page, 'Triage rules (run in this order)');
    assert.equal((await apiGet('/api/v1/triage-rules')).items.some((r) => r.id === rule.id), false);
    // The refused create is the one failed request the console saw.
    assert.deepEqual(unexpected(page), []);
  });
});

describe('security', () => {
  test('an admin turns the MFA policy on and off; a technician has no such page', async () => {
    const page = await adminPage();
    await page.goto('/#/admin/security');
    await heading(page, 'Security');
    await page.getByLabel(/must use an authenticator/).check();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('authenticators required').waitFor();
    assert.equal((await apiGet('/api/v1/settings')).mfa_required_for_staff, true);
    await page.getByLabel(/must use an authenticator/).uncheck();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('authenticators optional').waitFor();
    assert.equal((await apiGet('/api/v1/settings')).mfa_required_for_staff, false);

    const tech = await adminPage(DEMO.tier1);
    await tech.goto('/#/admin/security');
    await tech.getByText('Your role cannot open this page.').waitFor();
    const tabs = await tech.getByRole('navigation', { name: 'Admin sections' }).or(tech.locator('nav.tabs')).count();
    assert.equal(tabs, 0);
    await tech.goto('/#/admin/clients');
    await heading(tech, 'Clients');
    assert.equal(await tech.getByRole('link', { name: 'New client' }).count(), 0, 'read-only for technicians');
    assert.deepEqual(tech.problems, []);
  });
});
