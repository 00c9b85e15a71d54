// mail.test.mjs: the mail pages in a real browser (issue 8; docs/MAIL.md).
// Mail comes in through the API as the mail gateway posts it (message/rfc822
// with a dispatcher's token): a new ticket from a client's contact, then her
// reply, which quotes the earlier mail and carries a PDF. The ticket page
// folds the quoted text away (at a UTF-8 byte offset, after multi-byte
// characters), marks the message "by e-mail", offers the PDF as a download
// and lists what was sent. A dispatcher files a held message under a client
// on the Mail page; an admin is told of an unknown placeholder at the
// template's subject, creates a webhook and sees its secret once, disables
// it, and retries a failed delivery from the Outbox. Then the accessibility
// audit of these pages.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { ACME, DEMO, startServer } from '../api/lib/server.mjs';
import { assertStatus, uniq } from '../api/lib/util.mjs';
import { audit } from './lib/a11y.mjs';
import { launch, loginAs, shot } from './lib/browser.mjs';

let srv, b, admin, mailgate, gone, goneUrl, ticket, hookHits = 0;

const crlf = (s) => s.replace(/\r?\n/g, '\r\n');
const OWN = 'Still jammed — Grüße aus der Praxis, café ☕.';
const QUOTE = 'On Mon, Nov 23, 2026 at 10:00 AM Support <support@msp.example> wrote:';

const FIRST = crlf(`From: "Dr. Alice Molar" <alice@acme-dental.example>
To: support@msp.example
Subject: Printer jams at the front desk
Message-ID: <e2e-first@acme-dental.example>
Date: Mon, 23 Nov 2026 09:00:00 +0000
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8

The front desk printer jams on every second page.
`);

const reply = (number) => crlf(`From: "Dr. Alice Molar" <alice@acme-dental.example>
To: support@msp.example
Subject: Re: [${number}] Printer jams at the front desk
Message-ID: <e2e-reply@acme-dental.example>
In-Reply-To: <e2e-first@acme-dental.example>
References: <e2e-first@acme-dental.example>
Date: Mon, 23 Nov 2026 11:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit

${OWN}

${QUOTE}
> Please restart the printer.
> Regards
--b1
Content-Type: application/pdf; name="jam report.pdf"
Content-Disposition: attachment; filename="jam report.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQgdGVzdA==
--b1--
`);

const HELD = crlf(`From: Stranger <someone@nowhere.example>
To: support@msp.example
Subject: Our server room is flooded
Message-ID: <e2e-held@nowhere.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8

Please call me back.
`);

const inbound = async (raw) => assertStatus(await srv.client.post('/api/v1/mail/inbound', raw,
  { token: mailgate, headers: { 'Content-Type': 'message/rfc822' } }), raw === FIRST ? 201 : 200);
const apiGet = async (path) => assertStatus(await srv.client.get(path, { token: admin }), 200);
/* Console errors other than the 400s a test provoked on purpose. */
const unexpected = (page) => page.problems.filter((p) => !/status of 400/.test(p));
const heading = (page, name) => page.getByRole('heading', { name, exact: true }).waitFor();

async function until(what, fn, ms = 8000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v)
      return v;
    if (Date.now() > end)
      throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function pageAs(who) {
  const page = await b.page(srv.url);
  await loginAs(page, who, srv.password);
  return page;
}

/* The admin's page, logged in once and shared by the tests (a login costs
 * a password hash). */
let adminTab;
const adminPage = async () => (adminTab ??= await pageAs(DEMO.admin));

before(async () => {
  // A webhook receiver that is gone for good (410: the delivery fails at once).
  gone = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      hookHits++;
      res.writeHead(410).end();
    });
  });
  await new Promise((r) => gone.listen(0, '127.0.0.1', r));
  goneUrl = `http://127.0.0.1:${gone.address().port}/hook`;
  // E-mail notices are made (no SMTP server: they wait, pending); webhooks
  // may reach this receiver on the loopback address.
  srv = await startServer({ env: { ITSUP_MAIL_FROM: 'Support <support@desk.example>', ITSUP_WEBHOOK_ALLOW: '127.0.0.1/32' } });
  b = await launch();
  admin = await srv.client.token(await srv.client.session(DEMO.admin, srv.password));
  mailgate = await srv.client.token(await srv.client.session(DEMO.dispatcher, srv.password), 'mailgate');
  assertStatus(await srv.client.post('/api/v1/webhooks', { name: 'Old PSA', url: goneUrl, events: ['ticket.created'] }, { token: admin }), 201);
  const created = await inbound(FIRST);
  assert.equal(created.action, 'created');
  ticket = created.ticket_id;
  assert.equal((await inbound(reply(created.number))).action, 'appended');
  assert.equal((await inbound(HELD)).action, 'held');
});
after(async () => {
  await b?.close();
  await srv?.stop();
  gone?.close();
});

describe('a ticket that came by e-mail', () => {
  test('the quoted text is folded away, the message is marked "by e-mail", the PDF is a download', async () => {
    const msgs = await apiGet(`/api/v1/tickets/${ticket}/messages`);
    const m = msgs.items.find((x) => x.source === 'email');
    assert.ok(m && m.quote_at > m.body.indexOf(QUOTE), 'quote_at counts UTF-8 bytes, past the UTF-16 index');
    // The outbox rows become deliveries on the notifier's next tick.
    await until('the requester\'s notice', async () => (await apiGet(`/api/v1/tickets/${ticket}/deliveries`)).items
      .some((d) => d.template === 'requester.created'));
    const page = await adminPage();
    await page.goto(`/#/tickets/${ticket}`);
    const msg = page.locator('article.msg[data-source="email"]');
    await msg.waitFor();
    assert.equal(await msg.locator('.by-mail').textContent(), 'by e-mail');
    // The own words whole (no character cut), the quote in a closed <details>.
    assert.equal(await msg.locator(':scope > p.body').textContent(), OWN);
    const quoted = msg.locator('details.quoted');
    assert.equal(await quoted.evaluate((d) => d.open), false);
    assert.equal(await quoted.locator('summary').textContent(), 'Show quoted text');
    assert.equal(await quoted.locator('p.body').isVisible(), false);
    await quoted.locator('summary').click();
    await quoted.locator('p.body').waitFor();
    assert.match(await quoted.locator('p.body').textContent(), /^On Mon[\s\S]*> Please restart the printer\./);
    // The attachment: a download link with its name and size.
    const link = msg.getByRole('link', { name: 'jam report.pdf' });
    const href = await link.getAttribute('href');
    assert.match(href, /^\/api\/v1\/attachments\/\d+$/);
    assert.equal(await link.getAttribute('download'), 'jam report.pdf');
    assert.match(await msg.locator('ul.files li').textContent(), /jam report\.pdf \(13 bytes\)/);
    const file = await page.request.get(href);
    assert.equal(file.status(), 200);
    assert.match(file.headers()['content-disposition'], /^attachment; filename="jam report\.pdf"/);
    assert.equal(file.headers()['content-type'], 'application/octet-stream');
    // What was sent about the ticket: folded; the requester's notice, waiting for SMTP.
    const sent = page.locator('details.deliveries');
    assert.equal(await sent.evaluate((d) => d.open), false);
    await sent.locator('summary').click();
    await sent.locator('tr').filter({ hasText: 'requester.created' }).filter({ hasText: 'alice@acme-dental.example' }).waitFor();
    await shot(page, 'mail-ticket');
    assert.deepEqual(page.problems, []);
  });
});

describe('the Mail page', () => {
  test('a dispatcher sees the intake log and files the held message under a client', async () => {
    const page = await pageAs(DEMO.dispatcher);
    await page.goto('/#/admin/mail');
    await heading(page, 'Intake log');
    const tabs = await page.locator('nav.tabs a').allTextContents();
    assert.ok(tabs.includes('Mail'), tabs.join());
    for (const t of ['Templates', 'Webhooks', 'Outbox'])
      assert.ok(!tabs.includes(t), `${t} is admin-only`);
    assert.equal(await page.getByRole('heading', { name: 'Intake policy' }).count(), 0, 'the policy is admin-only');
    await page.getByLabel('Outcome').selectOption('held');
    await page.getByRole('button', { name: 'Show', exact: true }).click();
    await until('the filter is in the address', async () => /action=held/.test(page.url()));
    // Drawn again with the filter: only the held message.
    await until('only held messages listed', async () => (await page.locator('tr[data-action]').evaluateAll((trs) =>
      trs.map((t) => t.dataset.action))).join() === 'held');
    const row = page.locator('tr[data-action]').filter({ hasText: 'someone@nowhere.example' });
    await row.getByRole('button', { name: 'File' }).click();
    await row.locator('.field-error').waitFor();
    await row.getByRole('combobox').selectOption({ label: 'Acme Dental' });
    await row.getByRole('button', { name: 'File' }).click();
    await row.locator('[data-action="released"], .ok').first().waitFor();
    assert.equal(await row.getAttribute('data-action'), 'released');
    const link = row.getByRole('link', { name: /^T-\d+$/ });
    const tid = Number((await link.getAttribute('href')).split('/').pop());
    const t = await apiGet(`/api/v1/tickets/${tid}`);
    assert.equal(t.client_id, ACME);
    assert.equal(t.subject, 'Our server room is flooded');
    assert.equal(t.channel, 'email');
    await shot(page, 'mail-intake');
    assert.deepEqual(unexpected(page), []);
  });

  test('an admin changes the intake policy and adds a recipient route', async () => {
    const page = await adminPage();
    await page.goto('/#/admin/mail');
    await heading(page, 'Intake policy');
    await page.getByLabel('New mail from an unknown sender').selectOption('hold');
    await page.getByLabel('Messages per sender per hour').fill('12');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('.ok').filter({ hasText: 'Saved.' }).waitFor();
    assert.deepEqual(await apiGet('/api/v1/mail/settings'), { unknown_sender: 'hold', rate_per_hour: 12 });
    const routes = page.getByRole('region', { name: 'Recipient routes' });
    await routes.getByLabel('Address').fill('not an address');
    await routes.getByRole('button', { name: 'Add route' }).click();
    await routes.locator('.field-error').first().waitFor();
    await routes.getByLabel('Address').fill('acme@support.example');
    await routes.getByLabel('Client').selectOption({ label: 'Acme Dental' });
    await routes.getByLabel('Queue').fill('acme');
    await routes.getByRole('button', { name: 'Add route' }).click();
    await page.getByRole('heading', { name: 'Recipient routes (1)' }).waitFor();
    const [rt] = (await apiGet('/api/v1/mail/routes')).items;
    assert.deepEqual([rt.address, rt.client_id, rt.queue], ['acme@support.example', ACME, 'acme']);
    assert.deepEqual(unexpected(page), []);
  });
});

describe('templates, webhooks and the outbox', () => {
  test('a template with an unknown placeholder is refused at its subject; saved, saved again, reset', async () => {
    const page = await adminPage();
    await page.goto('/#/admin/templates');
    await heading(page, 'Notification templates');
    await page.getByRole('link', { name: 'requester.created' }).click();
    await heading(page, 'requester.created');
    assert.ok(await page.getByRole('button', { name: '{{ticket.number}}' }).isVisible(), 'the placeholders are listed');
    const subject = page.getByLabel('Subject');
    await subject.fill('Got it: {{nope}}');
    await page.getByRole('button', { name: 'Save' }).click();
    const err = page.locator('#f-subject + .field-error');
    await err.waitFor();
    assert.match(await err.textContent(), /unknown placeholder.*nope/);
    assert.equal(await subject.inputValue(), 'Got it: {{nope}}', 'nothing typed is lost');
    await subject.fill('Got it: ');
    await page.getByRole('button', { name: '{{ticket.subject}}' }).click();
    assert.equal(await subject.inputValue(), 'Got it: {{ticket.subject}}');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('.ok').filter({ hasText: 'Saved.' }).waitFor();
    let tpl = await apiGet('/api/v1/mail/templates/1');
    assert.deepEqual([tpl.subject, tpl.customized, tpl.version], ['Got it: {{ticket.subject}}', true, 1]);
    // The second save matches the version it saved (If-Match "v1").
    await subject.fill('Received: {{ticket.subject}}');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('.ok').filter({ hasText: 'Saved.' }).waitFor();
    assert.equal((await apiGet('/api/v1/mail/templates/1')).version, 2);
    await page.getByRole('button', { name: 'Reset to the built-in text' }).click();
    await page.getByRole('button', { name: /Really reset/ }).click();
    await page.locator('.ok').filter({ hasText: 'Back to the built-in text.' }).waitFor();
    tpl = await apiGet('/api/v1/mail/templates/1');
    assert.equal(tpl.customized, false);
    assert.equal(await subject.inputValue(), tpl.default_subject);
    assert.deepEqual(unexpected(page), []);
  });

  test('an admin creates a webhook, sees its secret once, disables it and rotates the secret', async () => {
    const page = await adminPage();
    await page.goto('/#/admin/webhooks');
    await heading(page, 'Webhooks');
    await page.getByRole('link', { name: 'New webhook' }).click();
    await heading(page, 'New webhook');
    const name = uniq('PSA');
    await page.getByLabel('Name').fill(name);
    await page.getByLabel('URL').fill('http://10.1.2.3/hook');
    await page.getByLabel('alert.firing').check();
    await page.getByLabel('alert.resolved').check();
    await page.getByRole('button', { name: 'Create' }).click();
    const err = page.locator('#f-url + .field-error');
    await err.waitFor();
    assert.ok((await err.textContent()).length > 0, 'a private address is refused at the URL');
    await page.getByLabel('URL').fill(goneUrl);
    await page.getByRole('button', { name: 'Create' }).click();
    const box = page.locator('[data-secret]');
    await box.waitFor();
    const secret = await box.getByLabel('Signing secret').inputValue();
    assert.match(secret, /^whsec_[0-9a-f]{64}$/);
    assert.match(await box.textContent(), /shown only this once/);
    await until('the address names the new webhook', async () => /#\/admin\/webhooks\/\d+$/.test(page.url()));
    const id = Number(page.url().split('/').pop());
    const hook = await apiGet(`/api/v1/webhooks/${id}`);
    assert.deepEqual([hook.name, hook.url, hook.events, hook.active], [name, goneUrl, ['alert.firing', 'alert.resolved'], true]);
    assert.equal(hook.secret, undefined);
    await shot(page, 'mail-webhook-secret');
    // Opened again: no secret anywhere.
    await page.goto('/#/admin/webhooks');
    await heading(page, 'Webhooks');
    await page.goto(`/#/admin/webhooks/${id}`);
    await heading(page, name);
    assert.equal(await page.locator('[data-secret]').count(), 0);
    assert.ok(!(await page.content()).includes(secret));
    // Disabled from the list (If-Match the version it shows).
    await page.goto('/#/admin/webhooks');
    const row = page.locator(`tr[data-id="${id}"]`);
    await row.getByRole('button', { name: `Disable ${name}` }).click();
    await row.getByRole('button', { name: `Enable ${name}` }).waitFor();
    assert.equal(await row.locator('.badge').textContent(), 'disabled');
    assert.equal((await apiGet(`/api/v1/webhooks/${id}`)).active, false);
    // A new secret, shown once, different.
    await page.goto(`/#/admin/webhooks/${id}`);
    await heading(page, name);
    await page.getByRole('button', { name: 'Rotate the secret' }).click();
    await page.getByRole('button', { name: /Really\? The old secret/ }).click();
    await page.locator('[data-secret]').waitFor();
    const fresh = await page.locator('[data-secret]').getByLabel('Signing secret').inputValue();
    assert.match(fresh, /^whsec_/);
    assert.notEqual(fresh, secret);
    assert.deepEqual(unexpected(page), []);
  });

  test('the Outbox lists deliveries by state and channel; a failed one is retried', async () => {
    // The old PSA's receiver answered 410: that delivery failed at once.
    const failed = await until('the webhook delivery failed', async () =>
      (await apiGet('/api/v1/deliveries?state=failed&channel=webhook')).items[0]);
    const page = await adminPage();
    await page.goto('/#/admin/outbox');
    await heading(page, 'Outbox');
    await page.locator('tr[data-id]').filter({ hasText: 'requester.created' }).first().waitFor();
    const all = await apiGet('/api/v1/deliveries?limit=500');
    assert.equal(await page.locator('tr[data-id]').count(), all.items.length);
    await page.getByLabel('State').selectOption('failed');
    await page.getByLabel('Channel').selectOption('webhook');
    await page.getByRole('button', { name: 'Filter' }).click();
    await until('the filter is in the address', async () => /state=failed&channel=webhook/.test(page.url()));
    // Drawn again with the filter: the old PSA's failed deliveries only (the
    // mail's ticket and the filed one's).
    const want = (await apiGet('/api/v1/deliveries?state=failed&channel=webhook')).items.map((d) => String(d.id));
    await until('only failed webhook deliveries listed', async () => (await page.locator('tr[data-id]').evaluateAll((trs) =>
      trs.map((t) => t.dataset.id))).join() === want.join());
    const row = page.locator(`tr[data-id="${failed.id}"]`);
    assert.match(await row.textContent(), /410/);
    const hits = hookHits;
    await row.getByRole('button', { name: `Retry delivery ${failed.id}` }).click();
    await until('the retry reached the receiver', async () => hookHits > hits);
    const again = await until('tried once more', async () => {
      const d = await apiGet(`/api/v1/deliveries/${failed.id}`);
      return d.attempts > failed.attempts && d;
    });
    assert.equal(again.state === 'failed' || again.state === 'pending', true);
    await shot(page, 'mail-outbox');
    assert.deepEqual(unexpected(page), []);
  });
});

describe('mail pages, accessibility', () => {
  for (const [label, viewport] of [['laptop', { width: 1280, height: 800 }], ['phone', { width: 375, height: 740 }]]) {
    test(`on a ${label}: labelled controls, unique ids, one h1, contrast, nothing off-screen`, async () => {
      const faults = [];
      const page = await adminPage();
      await page.setViewportSize(viewport);
      const hook = (await apiGet('/api/v1/webhooks')).items[0];
      for (const hash of [`#/tickets/${ticket}`, '#/admin/mail', '#/admin/templates', '#/admin/templates/2',
        '#/admin/webhooks', `#/admin/webhooks/${hook.id}`, '#/admin/outbox']) {
        // The page drawn for this address (not the one before it).
        await page.evaluate(() => document.querySelector('#app > .view')?.setAttribute('data-old', ''));
        await page.goto(`/${hash}`);
        await page.locator('#app > .view:not([data-old]) h1').waitFor();
        await page.waitForLoadState('networkidle');
        // Folded parts too (quoted text, notifications, the built-in text).
        await page.evaluate(() => document.querySelectorAll('details').forEach((d) => { d.open = true; }));
        for (const f of await page.evaluate(audit))
          faults.push(`${hash}: ${f}`);
      }
      assert.deepEqual(faults, []);
      assert.deepEqual(unexpected(page), []);
    });
  }
});
