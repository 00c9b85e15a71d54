// mail.test.mjs: the mail intake (issue 8; docs/MAIL.md "Taking mail in")
// from the outside: POST /api/v1/mail/inbound with messages built here,
// and what each becomes: a new ticket, a reply or a note on one, a
// duplicate, an automatic reply or bounce that never opens a ticket, a
// rate-limited or held message; recipient routes and the unknown-sender
// policy; attachments and who may download them; hostile input; roles.
//
// One server with --test-clock, ITSUP_MAIL_FROM set and no SMTP server:
// notifications are still made into deliveries (docs/MAIL.md: without
// smtp_url e-mail waits, no attempt spent), so a test can read the
// Message-ID itsup gave its own mail (for threading and bounces) from
// GET /api/v1/deliveries after POST /api/v1/test/clock ran the dispatcher.
// The demo clients: Acme Dental (1, acme-dental.example; contacts alice@,
// frontdesk@ (also the client user Uma)) and Borealis (2,
// borealis.example; britta@, jonas@). Tests run in order and each checks
// "nothing was created" against the newest ticket id before it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { ACME, BOREALIS, DEMO, startServer } from './lib/server.mjs';
import { assertProblem, assertStatus, uniq } from './lib/util.mjs';
import { b64word, inbound, mail, newMid, parseMessage } from './lib/mail.mjs';

let srv, c;
const T = {};   // API tokens by DEMO key
const U = {};   // user ids by DEMO key
let defaults;   // GET /mail/settings before any test changed it

before(async () => {
  srv = await startServer({
    testClock: true,
    env: { ITSUP_MAIL_FROM: 'Acme Desk <desk@msp.test>', ITSUP_PUBLIC_URL: 'https://desk.msp.test' },
  });
  c = srv.client;
  await Promise.all(['admin', 'dispatcher', 'tier1', 'acmeAdmin', 'acmeUser', 'borealisIT', 'borealisUser'].map(async (k) => {
    const s = await c.session(DEMO[k], srv.password);
    U[k] = s.user.id;
    T[k] = await c.token(s);
  }));
  defaults = assertStatus(await c.get('/api/v1/mail/settings', { token: T.admin }), 200);
  // Many messages come from alice@ here: no hourly limit but in its own test.
  assertStatus(await c.patch('/api/v1/mail/settings', { rate_per_hour: 0 }, { token: T.admin }), 200);
});
after(() => srv?.stop());

const post = (raw, who = 'dispatcher') => inbound(c, T[who], raw);
/* Posts raw and asserts the status; returns the answer. */
async function take(raw, status, who = 'dispatcher') {
  const r = await post(raw, who);
  return assertStatus(r, status);
}
const ticket = async (id, who = 'admin') => assertStatus(await c.get(`/api/v1/tickets/${id}`, { token: T[who] }), 200);
const messages = async (id, who = 'admin') => assertStatus(await c.get(`/api/v1/tickets/${id}/messages`, { token: T[who] }), 200).items;
const patch = async (id, body) => assertStatus(await c.patch(`/api/v1/tickets/${id}`, body, { token: T.tier1 }), 200);
const lastTicketId = async () => assertStatus(await c.get('/api/v1/tickets?limit=1', { token: T.admin }), 200).items[0]?.id ?? 0;
/* The whole intake log (oldest first, page by page), optionally of one action. */
async function inboundAll(action) {
  const out = [];
  for (let cursor = null; ;) {
    const q = new URLSearchParams({ limit: '500', ...(action ? { action } : {}), ...(cursor ? { cursor: String(cursor) } : {}) });
    const page = assertStatus(await c.get(`/api/v1/mail/inbound?${q}`, { token: T.dispatcher }), 200);
    out.push(...page.items);
    if (!page.next_cursor)
      return out;
    cursor = page.next_cursor;
  }
}
const lastInboundId = async () => Math.max(0, ...(await inboundAll()).map((l) => l.id));
const inboundRow = async (id) => assertStatus(await c.get(`/api/v1/mail/inbound/${id}`, { token: T.dispatcher }), 200);
const tick = async (s = 0) => assertStatus(await c.post('/api/v1/test/clock', { advance_seconds: s }, { token: T.admin }), 200).ran.outbox;
const ticketDeliveries = async (id) => assertStatus(await c.get(`/api/v1/tickets/${id}/deliveries`, { token: T.admin }), 200).items;
const contactsOf = async (clientId) => assertStatus(await c.get(`/api/v1/clients/${clientId}/contacts`, { token: T.admin }), 200).items;
const settings = async (body) => assertStatus(await c.patch('/api/v1/mail/settings', body, { token: T.admin }), 200);
const bytesOf = (s) => Buffer.byteLength(s, 'utf8');

/* A new ticket opened by mail from alice@ (or from): {answer, mid, t}. */
async function opened(opts = {}) {
  const mid = newMid();
  const answer = await take(mail({ subject: uniq('Printer'), ...opts, messageId: mid }), 201);
  assert.equal(answer.action, 'created');
  return { answer, mid, t: await ticket(answer.ticket_id) };
}

/* Downloads an attachment as bytes (fetch, not the text client). */
async function download(id, who) {
  const res = await fetch(`${srv.url}/api/v1/attachments/${id}`, { headers: { Authorization: `Bearer ${T[who]}` } });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

/* ---- new mail --------------------------------------------------------------------------------- */

describe('new mail', () => {
  test('a message from a known contact opens a ticket: 201 created, channel email, the contact the requester, the text the description, logged', async () => {
    const before = await lastTicketId();
    const mid = newMid('mail.acme-dental.example');
    const subject = uniq('Printer on floor 2');
    const r = await post(mail({ from: 'Dr. Alice Molar <alice@acme-dental.example>', subject, messageId: mid,
      body: 'The printer on floor 2 prints blank pages.\n' }));
    const a = assertStatus(r, 201);
    assert.equal(a.action, 'created');
    assert.equal(typeof a.ticket_id, 'number');
    assert.ok(a.ticket_id > before);
    assert.match(a.number, /^T-\d{6}$/);
    assert.equal(a.message_id, mid);
    assert.equal(typeof a.inbound_id, 'number');

    const t = await ticket(a.ticket_id);
    assert.equal(t.number, a.number);
    assert.equal(t.channel, 'email');
    assert.equal(t.client_id, ACME);
    assert.equal(t.requester_contact_id, 1);
    assert.equal(t.subject, subject);
    assert.equal(t.description.trim(), 'The printer on floor 2 prints blank pages.');
    assert.equal(t.status, 'new');
    assert.equal(t.queue, 'general');

    const log = await inboundRow(a.inbound_id);
    assert.deepEqual([log.action, log.ticket_id, log.client_id, log.sender, log.message_id, log.subject],
      ['created', t.id, ACME, 'alice@acme-dental.example', mid, subject]);
    // The client's own admin sees it in the portal.
    assert.equal((await ticket(t.id, 'acmeAdmin')).id, t.id);
  });

  test('a client user\'s mail is requested by that user; the sender address is matched case-insensitively', async () => {
    const { t } = await opened({ from: 'Uma User <FrontDesk@ACME-Dental.example>' });
    assert.equal(t.client_id, ACME);
    assert.equal(t.requester_user_id, U.acmeUser);
    assert.equal((await ticket(t.id, 'acmeUser')).id, t.id);
  });

  test('the subject\'s RFC 2047 encoded words are decoded (B and Q, UTF-8 and Latin-1; blanks between adjacent words dropped, RFC 2047 6.2)', async () => {
    const { t } = await opened({ subject: `Re: ${b64word('Drucker defekt – ')}=?ISO-8859-1?Q?dringend_=FCberall?= ${b64word('✓')} (2. Stock)` });
    assert.equal(t.subject, 'Re: Drucker defekt – dringend überall✓ (2. Stock)');
  });

  test('an HTML-only body is reduced to text: no tags, scripts or styles reach the ticket; entities decoded', async () => {
    const html = '<html><head><title>x</title><style>p{color:red}</style></head><body>' +
      '<script>alert(1)</script><p>Hello&nbsp;team &amp; friends</p><div>Line two &lt;b&gt;</div>' +
      '<!-- hidden --><p onclick="evil()">Caf&#233; <img src=x onerror=alert(2)></p></body></html>';
    const { t } = await opened({ contentType: 'text/html; charset=utf-8', body: html + '\n' });
    const d = t.description;
    assert.match(d, /Hello\s+team & friends/);
    assert.match(d, /Line two <b>/, 'an escaped tag is text');
    assert.match(d, /Café/);
    for (const bad of ['<script', 'alert(1)', 'color:red', '<p', '<img', 'onerror', 'onclick', 'hidden', '<html', '&amp;', '&nbsp;'])
      assert.ok(!d.includes(bad), `${bad} is not in ${JSON.stringify(d)}`);
  });

  test('text/plain wins over HTML in multipart/alternative; a Latin-1 quoted-printable part is converted to UTF-8', async () => {
    const body = [
      '--alt', 'Content-Type: text/plain; charset=iso-8859-1', 'Content-Transfer-Encoding: quoted-printable', '',
      'Je n\'arrive pas =E0 me connecter. Probl=E8me r=E9seau.', '',
      '--alt', 'Content-Type: text/html; charset=iso-8859-1', '', '<p>HTML version</p>', '--alt--', '',
    ].join('\n');
    const { t } = await opened({ subject: '=?ISO-8859-1?Q?Probl=E8me_de_connexion?=', contentType: 'multipart/alternative; boundary="alt"', body });
    assert.equal(t.subject, 'Problème de connexion');
    assert.match(t.description, /Je n'arrive pas à me connecter\. Problème réseau\./);
    assert.ok(!t.description.includes('HTML version'));
  });

  test('a windows-1252 body in base64 is converted too', async () => {
    const text = Buffer.from('Gr\xfc\xdfe \x93quoted\x94 \x80 5', 'latin1').toString('base64');
    const { t } = await opened({ contentType: 'text/plain; charset=windows-1252', headers: ['Content-Transfer-Encoding: base64'], body: text + '\n' });
    assert.match(t.description, /Grüße “quoted” € 5/);
  });

  test('attachments and inline images are stored, listed and downloaded byte for byte, always as downloads', async () => {
    const pdf = randomBytes(3000);
    const png = randomBytes(700);
    const body = [
      '--mix', 'Content-Type: text/plain; charset=utf-8', '', 'See the attached report.', '',
      '--mix', 'Content-Type: application/pdf; name="report.pdf"', 'Content-Disposition: attachment; filename="report.pdf"',
      'Content-Transfer-Encoding: base64', '', pdf.toString('base64').replace(/.{76}/g, '$&\n'), '',
      '--mix', 'Content-Type: image/png', 'Content-ID: <img1@acme-dental.example>', 'Content-Disposition: inline; filename="shot.png"',
      'Content-Transfer-Encoding: base64', '', png.toString('base64'), '',
      '--mix', 'Content-Type: text/html; name="evil\\".html"', 'Content-Disposition: attachment; filename="evil\\";x.html"', '',
      '<script>alert(document.cookie)</script>', '',
      '--mix--', '',
    ].join('\n');
    const { t } = await opened({ contentType: 'multipart/mixed; boundary="mix"', body });
    assert.match(t.description, /See the attached report\./);
    const list = assertStatus(await c.get(`/api/v1/tickets/${t.id}/attachments`, { token: T.admin }), 200).items;
    assert.equal(list.length, 3, JSON.stringify(list));
    const byName = Object.fromEntries(list.map((a) => [a.filename, a]));
    const rep = byName['report.pdf'];
    assert.ok(rep, JSON.stringify(list.map((a) => a.filename)));
    assert.deepEqual([rep.ticket_id, rep.content_type, rep.size, rep.inline, rep.sha256],
      [t.id, 'application/pdf', pdf.length, false, createHash('sha256').update(pdf).digest('hex')]);
    assert.equal(rep.url, `/api/v1/attachments/${rep.id}`);
    const img = byName['shot.png'];
    assert.ok(img);
    assert.deepEqual([img.content_type, img.size, img.inline, img.content_id], ['image/png', png.length, true, 'img1@acme-dental.example']);

    const d = await download(rep.id, 'admin');
    assert.equal(d.status, 200);
    assert.equal(d.headers.get('content-type'), 'application/octet-stream');
    assert.equal(d.headers.get('content-disposition'), 'attachment; filename="report.pdf"');
    assert.equal(d.headers.get('x-content-type-options'), 'nosniff');
    assert.match(d.headers.get('content-security-policy') || '', /sandbox/);
    assert.ok(d.bytes.equals(pdf), 'the exact bytes');
    assert.equal(createHash('sha256').update(d.bytes).digest('hex'), rep.sha256);
    assert.ok((await download(img.id, 'admin')).bytes.equals(png));

    // A hostile HTML file: still a download, its name made safe for the header.
    const evil = list.find((a) => a.content_type === 'text/html');
    const e = await download(evil.id, 'admin');
    assert.equal(e.headers.get('content-type'), 'application/octet-stream');
    assert.match(e.headers.get('content-disposition'), /^attachment; filename="[^"\\\r\n]*"$/);

    // The client's admin may; another client's users may not (404, not 403: no probing).
    assert.equal((await download(rep.id, 'acmeAdmin')).status, 200);
    assert.equal(assertStatus(await c.get(`/api/v1/tickets/${t.id}/attachments`, { token: T.acmeAdmin }), 200).items.length, 3);
    for (const who of ['borealisUser', 'borealisIT']) {
      const other = await download(rep.id, who);
      assert.equal(other.status, 404);
      assert.ok(!other.bytes.equals(pdf));
      assertProblem(await c.get(`/api/v1/tickets/${t.id}/attachments`, { token: T[who] }), 404);
    }
    assertProblem(await c.get('/api/v1/attachments/99999999', { token: T.admin }), 404);
  });

  test('a message without a text part: the ticket says so; attachments only', async () => {
    const body = ['--m', 'Content-Type: application/zip; name="logs.zip"', 'Content-Transfer-Encoding: base64', '',
      randomBytes(64).toString('base64'), '--m--', ''].join('\n');
    const { t } = await opened({ contentType: 'multipart/mixed; boundary="m"', body });
    assert.ok(t.description.length > 0);
    const list = assertStatus(await c.get(`/api/v1/tickets/${t.id}/attachments`, { token: T.admin }), 200).items;
    assert.deepEqual(list.map((a) => [a.filename, a.size]), [['logs.zip', 64]]);
  });

  test('a message without a Message-ID is identified by its bytes: the same bytes twice are one ticket', async () => {
    const raw = mail({ messageId: null, subject: uniq('No id') });
    const a = await take(raw, 201);
    assert.match(a.message_id, /^[0-9a-f]{64}@/);
    const b = await take(raw, 200);
    assert.equal(b.action, 'duplicate');
    assert.equal(await lastTicketId(), a.ticket_id);
  });
});

/* ---- duplicates ------------------------------------------------------------------------------------ */

describe('duplicates', () => {
  test('the same Message-ID posted again is a duplicate: 200, logged, one ticket only', async () => {
    const mid = newMid();
    const raw = mail({ messageId: mid, subject: uniq('Twice') });
    const a = await take(raw, 201);
    const b = await take(raw, 200);
    assert.equal(b.action, 'duplicate');
    assert.equal(b.message_id, mid);
    assert.equal(await lastTicketId(), a.ticket_id);
    // A different message with the same id (another mailbox's copy) too.
    const c2 = await take(mail({ messageId: mid, subject: 'other copy', from: 'britta@borealis.example' }), 200);
    assert.equal(c2.action, 'duplicate');
    assert.equal(await lastTicketId(), a.ticket_id);
    const log = assertStatus(await c.get('/api/v1/mail/inbound?action=duplicate', { token: T.admin }), 200).items.filter((l) => l.message_id === mid);
    assert.ok(log.length >= 1);
    assert.equal((await messages(a.ticket_id)).length, 0);
  });

  test('the same message posted 6 times at once: exactly one ticket, the others duplicate', async () => {
    const mid = newMid();
    const raw = mail({ messageId: mid, subject: uniq('Race') });
    const before = await lastTicketId();
    const rs = await Promise.all(Array.from({ length: 6 }, () => post(raw)));
    const created = rs.filter((r) => r.status === 201);
    assert.equal(created.length, 1, rs.map((r) => `${r.status} ${r.text}`).join('\n'));
    assert.ok(rs.every((r) => r.status === 201 || (r.status === 200 && r.body.action === 'duplicate')), rs.map((r) => r.text).join('\n'));
    const newest = await lastTicketId();
    assert.equal(newest, created[0].body.ticket_id);
    const mine = assertStatus(await c.get(`/api/v1/tickets?limit=50`, { token: T.admin }), 200).items.filter((t) => t.id > before);
    assert.equal(mine.length, 1);
  });
});

/* ---- replies ------------------------------------------------------------------------------------ */

describe('replies', () => {
  test('a reply with [T-n] in the subject from the requester is appended: a reply with source email, quoted text marked; pending_customer -> open', async () => {
    const { t } = await opened();
    await patch(t.id, { status: 'open' });
    await patch(t.id, { status: 'pending_customer' });
    const text = 'Thanks, it works again.\n\nOn Mon, Nov 23, 2026 at 10:00 AM Support <desk@msp.test> wrote:\n> Please restart the printer.\n>\n> Regards\n';
    const a = await take(mail({ subject: `Re: [${t.number}] ${t.subject}`, body: text }), 200);
    assert.deepEqual([a.action, a.ticket_id, a.number], ['appended', t.id, t.number]);
    const ms = await messages(t.id);
    assert.equal(ms.length, 1);
    const m = ms[0];
    assert.deepEqual([m.kind, m.source, m.author_contact_id], ['reply', 'email', 1]);
    assert.ok(m.body.startsWith('Thanks, it works again.'));
    assert.equal(typeof m.quote_at, 'number');
    assert.ok(Buffer.from(m.body).subarray(m.quote_at).toString().startsWith('On Mon, Nov 23, 2026'), `quote_at ${m.quote_at}`);
    const now = await ticket(t.id);
    assert.equal(now.status, 'open');
    assert.equal(now.reopens, 0);
    // The customer's own side sees it.
    assert.equal((await messages(t.id, 'acmeAdmin')).length, 1);
  });

  test('Outlook\'s quoted header block is marked too; a reply without quoted text has quote_at null', async () => {
    const { t } = await opened();
    await take(mail({ subject: `RE: [${t.number}]`, body: 'Still slow.\n\nFrom: Support <desk@msp.test>\nSent: Monday, November 23, 2026 10:00 AM\nTo: Alice\nSubject: x\n\nPlease update.\n' }), 200);
    await take(mail({ subject: `RE: [${t.number}]`, body: 'No quote at all.\n' }), 200);
    const [outlook, plain] = await messages(t.id);
    assert.ok(Buffer.from(outlook.body).subarray(outlook.quote_at).toString().startsWith('From: Support'), JSON.stringify(outlook));
    assert.equal(plain.quote_at, null);
  });

  test('a reply to a resolved ticket reopens it; to a closed one, opens a new ticket linked to it', async () => {
    const { t } = await opened();
    await patch(t.id, { status: 'resolved' });
    await take(mail({ subject: `Re: [${t.number}]`, body: 'It broke again.\n' }), 200);
    let now = await ticket(t.id);
    assert.equal(now.status, 'open');
    assert.equal(now.reopens, 1);

    await patch(t.id, { status: 'resolved' });
    await patch(t.id, { status: 'closed' });
    const closed = await ticket(t.id);
    const a = await take(mail({ subject: `Re: [${t.number}]`, body: 'And again, weeks later.\n' }), 201);
    assert.notEqual(a.ticket_id, t.id);
    const n = await ticket(a.ticket_id);
    assert.equal(n.parent_id, t.id);
    assert.equal(n.client_id, ACME);
    assert.equal(n.channel, 'email');
    assert.equal(n.requester_contact_id, 1);
    assert.match(n.description, /And again, weeks later/);
    now = await ticket(t.id);
    assert.deepEqual(now, closed, 'the closed ticket is untouched');
  });

  test('a reply found only by In-Reply-To (an earlier inbound Message-ID of the ticket) is appended; so is one by References', async () => {
    const { t, mid } = await opened();
    const a = await take(mail({ subject: 'Re: that thing', inReplyTo: mid, body: 'More details.\n' }), 200);
    assert.deepEqual([a.action, a.ticket_id], ['appended', t.id]);
    const b = await take(mail({ subject: 'Re: that thing', references: [newMid(), mid, newMid()], body: 'Even more.\n' }), 200);
    assert.deepEqual([b.action, b.ticket_id], ['appended', t.id]);
    assert.deepEqual((await messages(t.id)).map((m) => [m.kind, m.source, m.body.trim()]),
      [['reply', 'email', 'More details.'], ['reply', 'email', 'Even more.']]);
  });

  test('a provider staff member\'s mail in the ticket\'s thread (a Message-ID) is a public reply, sent on to the requester', async () => {
    const { t, mid } = await opened();
    const a = await take(mail({ from: DEMO.tier1, subject: `Re: [${t.number}]`, inReplyTo: mid, body: 'Please restart it.\n' }), 200);
    assert.equal(a.action, 'appended');
    const [m] = await messages(t.id);
    assert.deepEqual([m.kind, m.author_user_id, m.source], ['reply', U.tier1, 'email']);
    assert.equal((await ticket(t.id)).status, 'open');
    await tick(0);
    const ds = await ticketDeliveries(t.id);
    assert.ok(ds.some((d) => d.template === 'requester.reply' && d.target === 'alice@acme-dental.example'), JSON.stringify(ds));
  });

  test('staff mail by the [T-n] tag alone (a From is easily forged) is an internal note, sent to no one', async () => {
    const { t } = await opened();
    const before = await ticket(t.id);
    const a = await take(mail({ from: DEMO.tier1, subject: `Re: [${t.number}]`, body: 'Here is the new password.\n' }), 200);
    assert.equal(a.action, 'appended');
    const [m] = await messages(t.id);
    assert.deepEqual([m.kind, m.source], ['note', 'email']);
    assert.equal((await ticket(t.id)).status, before.status);
    await tick(0);
    const ds = await ticketDeliveries(t.id);
    assert.ok(!ds.some((d) => d.template === 'requester.reply'), JSON.stringify(ds));
  });

  test('a colleague of the requester (same client) with only a guessed [T-n] tag is not added to that ticket', async () => {
    const { t } = await opened();
    const before = await ticket(t.id);
    const a = await take(mail({ from: 'frontdesk@acme-dental.example', subject: `Re: [${t.number}] reset it`, body: 'Do it.\n' }), 201);
    assert.equal(a.action, 'created');
    assert.notEqual(a.ticket_id, t.id);
    assert.deepEqual(await messages(t.id), []);
    assert.deepEqual(await ticket(t.id), before);
  });

  test('an unknown sender with only a guessed [T-n] tag is not added to that ticket (treated as new mail)', async () => {
    const { t } = await opened();
    const before = await ticket(t.id);
    // Another client's contact: a new ticket of their own client.
    const a = await take(mail({ from: 'britta@borealis.example', subject: `[${t.number}] give me the data` }), 201);
    assert.equal(a.action, 'created');
    assert.notEqual(a.ticket_id, t.id);
    assert.equal((await ticket(a.ticket_id)).client_id, BOREALIS);
    // Nobody at all: held, not added.
    const b = assertStatus(await post(mail({ from: 'guess@nowhere.example', subject: `Re: [${t.number}]` })), 200);
    assert.equal(b.action, 'held');
    assert.deepEqual(await messages(t.id), []);
    assert.deepEqual(await ticket(t.id), before);
  });

  test('an unknown sender in the thread by Message-ID (a vendor on Cc) is an internal note; client users do not see it; nothing else changes', async () => {
    const { t, mid } = await opened();
    await patch(t.id, { status: 'open' });
    const before = await ticket(t.id);
    const lastContact = (await contactsOf(ACME)).length;
    const a = await take(mail({ from: 'Vera Vendor <support@vendor.example>', subject: 'Re: case 4711', inReplyTo: mid, body: 'Firmware 2.1 fixes it.\n' }), 200);
    assert.deepEqual([a.action, a.ticket_id], ['appended', t.id]);
    const [m] = await messages(t.id);
    assert.equal(m.kind, 'note');
    assert.equal(m.source, 'email');
    assert.match(m.body, /support@vendor\.example/);
    assert.match(m.body, /Firmware 2\.1 fixes it\./);
    assert.deepEqual(await messages(t.id, 'acmeAdmin'), []);
    const now = await ticket(t.id);
    assert.equal(now.status, before.status);
    assert.equal((await contactsOf(ACME)).length, lastContact, 'the vendor did not become a contact');
  });

  test('the attachments of an internal note are staff-only', async () => {
    const { t, mid } = await opened();
    const secret = randomBytes(100);
    const body = ['--n', 'Content-Type: text/plain', '', 'internal diagnostics', '--n',
      'Content-Type: application/octet-stream; name="diag.bin"', 'Content-Disposition: attachment; filename="diag.bin"',
      'Content-Transfer-Encoding: base64', '', secret.toString('base64'), '--n--', ''].join('\n');
    await take(mail({ from: 'tech@vendor.example', inReplyTo: mid, subject: 'Re: diag', contentType: 'multipart/mixed; boundary="n"', body }), 200);
    const staff = assertStatus(await c.get(`/api/v1/tickets/${t.id}/attachments`, { token: T.admin }), 200).items;
    const diag = staff.find((a) => a.filename === 'diag.bin');
    assert.ok(diag);
    assert.ok((await download(diag.id, 'tier1')).bytes.equals(secret));
    const client = assertStatus(await c.get(`/api/v1/tickets/${t.id}/attachments`, { token: T.acmeAdmin }), 200).items;
    assert.ok(!client.some((a) => a.id === diag.id));
    assert.equal((await download(diag.id, 'acmeAdmin')).status, 404);
  });

  test('X-Itsup-Ticket on incoming mail is never read: without a tag or a known Message-ID it is new mail', async () => {
    const { t } = await opened();
    const a = await take(mail({ subject: uniq('Unrelated'), headers: [`X-Itsup-Ticket: ${t.number}`] }), 201);
    assert.equal(a.action, 'created');
    assert.notEqual(a.ticket_id, t.id);
    assert.deepEqual(await messages(t.id), []);
  });
});

/* ---- automatic mail and bounces ---------------------------------------------------------------------- */

describe('automatic replies and bounces', () => {
  test('an auto-reply to a ticket is an internal note: no status change, no notification', async () => {
    const { t } = await opened();
    await patch(t.id, { status: 'open' });
    await patch(t.id, { status: 'pending_customer' });
    await tick(0);
    const deliveriesBefore = (await ticketDeliveries(t.id)).map((d) => d.id);
    const a = await take(mail({ subject: `Out of office: [${t.number}] ${t.subject}`, headers: ['Auto-Submitted: auto-replied'], body: 'I am away until Monday.\n' }), 200);
    assert.deepEqual([a.action, a.ticket_id], ['auto_reply', t.id]);
    const [m] = await messages(t.id);
    assert.equal(m.kind, 'note');
    assert.match(m.body, /I am away until Monday/);
    assert.equal((await ticket(t.id)).status, 'pending_customer', 'an auto-reply is not the customer answering');
    const ran = await tick(0);
    assert.equal(ran.expanded, 0, JSON.stringify(ran));
    assert.deepEqual((await ticketDeliveries(t.id)).map((d) => d.id), deliveriesBefore);
  });

  test('an automatic reply from outside the ticket\'s client with only a guessed [T-n] tag is not filed on that ticket', async () => {
      const { t } = await opened();
      for (const [from, headers] of [['britta@borealis.example', ['Auto-Submitted: auto-replied']], [`${uniq('spam')}@nowhere.example`, ['Precedence: bulk']]]) {
        const a = await take(mail({ from, subject: `Out of office: [${t.number}]`, headers, body: 'INJECTED\n' }), 200);
        assert.equal(a.action, 'auto_reply');
        assert.notEqual(a.ticket_id, t.id);
      }
      assert.deepEqual(await messages(t.id), []);
    });

  test('every kind of automatic or bulk mail with no thread is only logged (auto_reply): no ticket, no contact', async () => {
    const before = await lastTicketId();
    const contacts = (await contactsOf(ACME)).length;
    const kinds = [
      ['Auto-Submitted: auto-replied'], ['Auto-Submitted: auto-generated'], ['X-Autoreply: yes'], ['X-Autorespond: on'],
      ['Precedence: bulk'], ['Precedence: junk'], ['Precedence: list'], ['Return-Path: <>'],
    ];
    for (const headers of kinds) {
      const a = await take(mail({ from: `newsletter-${uniq('x')}@acme-dental.example`, subject: 'Out of office', headers }), 200);
      assert.equal(a.action, 'auto_reply', headers[0]);
      assert.equal(a.ticket_id, null);
      assert.equal((await inboundRow(a.inbound_id)).action, 'auto_reply');
    }
    assert.equal(await lastTicketId(), before);
    assert.equal((await contactsOf(ACME)).length, contacts);
    // Auto-Submitted: no is a person.
    const p = await take(mail({ subject: uniq('Real person'), headers: ['Auto-Submitted: no'] }), 201);
    assert.equal(p.action, 'created');
  });

  test('a bounce (multipart/report) of a notification itsup sent is an internal note on that ticket; never a ticket', async () => {
    const { t } = await opened();
    await tick(0);
    const [d] = (await ticketDeliveries(t.id)).filter((x) => x.channel === 'email');
    assert.ok(d?.message_id, 'the requester notification was made (mail_from set, no SMTP: pending)');
    assert.equal(d.state, 'pending');
    assert.equal(d.attempts, 0);
    const before = await lastTicketId();
    const dsn = (reported) => [
      '--dsn', 'Content-Type: text/plain; charset=us-ascii', '', 'This is the mail system. Your message could not be delivered.', '',
      '--dsn', 'Content-Type: message/delivery-status', '', 'Reporting-MTA: dns; mx.acme-dental.example', '',
      'Final-Recipient: rfc822; alice@acme-dental.example', 'Action: failed', 'Status: 5.1.1', '',
      '--dsn', 'Content-Type: text/rfc822-headers', '', 'From: Acme Desk <desk@msp.test>', 'To: alice@acme-dental.example',
      `Subject: We received your request [${t.number}]`, `Message-ID: <${reported}>`, '',
      '--dsn--', '',
    ].join('\n');
    const bounce = (reported) => mail({
      from: 'Mail Delivery System <MAILER-DAEMON@acme-dental.example>', subject: 'Undelivered Mail Returned to Sender',
      headers: ['Auto-Submitted: auto-replied'], contentType: 'multipart/report; report-type=delivery-status; boundary="dsn"', body: dsn(reported),
    });
    const a = await take(bounce(d.message_id), 200);
    assert.deepEqual([a.action, a.ticket_id], ['bounce', t.id]);
    const [m] = await messages(t.id);
    assert.equal(m.kind, 'note');
    assert.match(m.body, /could not be delivered/);
    assert.deepEqual(await messages(t.id, 'acmeAdmin'), []);
    // The same with the whole returned message (message/rfc822) instead of its headers.
    const whole = mail({
      from: 'MAILER-DAEMON@acme-dental.example', subject: 'Delivery Status Notification (Failure)', headers: ['Return-Path: <>'],
      contentType: 'multipart/report; report-type=delivery-status; boundary="r2"',
      body: ['--r2', 'Content-Type: text/plain', '', 'Mailbox full.', '', '--r2', 'Content-Type: message/delivery-status', '',
        'Reporting-MTA: dns; mx.acme-dental.example', '', 'Final-Recipient: rfc822; alice@acme-dental.example', 'Action: failed', 'Status: 5.2.2', '',
        '--r2', 'Content-Type: message/rfc822', '', 'From: Acme Desk <desk@msp.test>', 'To: alice@acme-dental.example', 'Subject: hi',
        `Message-ID: <${d.message_id}>`, '', 'the original text', '', '--r2--', ''].join('\n'),
    });
    const w = await take(whole, 200);
    assert.deepEqual([w.action, w.ticket_id], ['bounce', t.id]);
    assert.equal((await messages(t.id)).length, 2);
    // A bounce about a message nobody knows: only logged.
    const b = await take(bounce(newMid('msp.test')), 200);
    assert.deepEqual([b.action, b.ticket_id], ['bounce', null]);
    assert.equal(await lastTicketId(), before);
    const ran = await tick(0);
    assert.equal(ran.expanded, 0, 'a bounce sends nothing');
  });
});

/* ---- rate limit, policy, routes ---------------------------------------------------------------------- */

describe('rate limit, unknown senders and routes', () => {
  test('settings: defaults create_contact and 30 per hour; PATCH validates', async () => {
    assert.deepEqual(defaults, { unknown_sender: 'create_contact', rate_per_hour: 30 });
    assertProblem(await c.patch('/api/v1/mail/settings', { unknown_sender: 'bounce' }, { token: T.admin }), 400, { field: 'unknown_sender' });
    assertProblem(await c.patch('/api/v1/mail/settings', { rate_per_hour: -1 }, { token: T.admin }), 400, { field: 'rate_per_hour' });
    assertProblem(await c.patch('/api/v1/mail/settings', { rate_per_hour: 'many' }, { token: T.admin }), 400, { field: 'rate_per_hour' });
    assertProblem(await c.get('/api/v1/mail/settings', { token: T.dispatcher }), 403);
    assertProblem(await c.patch('/api/v1/mail/settings', { rate_per_hour: 5 }, { token: T.dispatcher }), 403);
    assert.deepEqual(assertStatus(await c.get('/api/v1/mail/settings', { token: T.admin }), 200), { unknown_sender: 'create_contact', rate_per_hour: 0 });
  });

  test('more than rate_per_hour messages from one sender in an hour: rate_limited, nothing filed; an hour later it is fine again', async () => {
    await settings({ rate_per_hour: 3 });
    try {
      const sender = `${uniq('loop')}@acme-dental.example`;
      for (let i = 0; i < 3; i++)
        assert.equal((await take(mail({ from: sender, subject: uniq('msg') }), 201)).action, 'created');
      const before = await lastTicketId();
      const a = await take(mail({ from: sender, subject: uniq('one too many') }), 200);
      assert.equal(a.action, 'rate_limited');
      assert.equal(a.ticket_id, null);
      assert.equal((await inboundRow(a.inbound_id)).action, 'rate_limited');
      // Not even a reply to its own ticket.
      assert.equal((await take(mail({ from: sender, subject: `Re: [T-${String(before).padStart(6, '0')}]` }), 200)).action, 'rate_limited');
      assert.equal(await lastTicketId(), before);
      assert.deepEqual(await messages(before), []);
      // Another sender is not affected.
      assert.equal((await take(mail({ from: `${uniq('other')}@acme-dental.example`, subject: uniq('other') }), 201)).action, 'created');
      // An hour on, the window has passed.
      await tick(3601);
      assert.equal((await take(mail({ from: sender, subject: uniq('later') }), 201)).action, 'created');
    } finally {
      await settings({ rate_per_hour: 0 });
    }
  });

  test('an unknown sender of a client\'s e-mail domain: a ticket, and the sender becomes a contact (create_contact)', async () => {
    const email = `${uniq('newbie')}@acme-dental.example`;
    const a = await take(mail({ from: `Nora Newbie <${email}>`, subject: uniq('First mail') }), 201);
    assert.equal(a.action, 'created');
    const t = await ticket(a.ticket_id);
    assert.equal(t.client_id, ACME);
    const contact = (await contactsOf(ACME)).find((x) => x.email === email);
    assert.ok(contact, 'the contact was made');
    assert.equal(contact.name, 'Nora Newbie');
    assert.equal(t.requester_contact_id, contact.id);
    // The domain matches case-insensitively.
    const b = await take(mail({ from: `${uniq('upper')}@ACME-DENTAL.EXAMPLE`, subject: uniq('Caps') }), 201);
    assert.equal((await ticket(b.ticket_id)).client_id, ACME);
  });

  test('policy hold: the unknown sender is held (raw kept), listed with ?action=held, filed under a client by a dispatcher (released); twice is 409', async () => {
    await settings({ unknown_sender: 'hold' });
    let held;
    const email = `${uniq('stranger')}@acme-dental.example`;
    const mid = newMid();
    try {
      const before = await lastTicketId();
      held = await take(mail({ from: `Sam Stranger <${email}>`, subject: 'Who handles this?', messageId: mid }), 200);
      assert.deepEqual([held.action, held.ticket_id], ['held', null]);
      assert.equal(await lastTicketId(), before);
      assert.ok(!(await contactsOf(ACME)).some((x) => x.email === email));
      // A known contact is not held.
      assert.equal((await take(mail({ subject: uniq('known') }), 201)).action, 'created');
    } finally {
      await settings({ unknown_sender: 'create_contact' });
    }
    const list = await inboundAll('held');
    const row = list.find((l) => l.id === held.inbound_id);
    assert.ok(row, JSON.stringify(list));
    assert.ok(list.every((l) => l.action === 'held'));
    assert.deepEqual([row.sender, row.message_id, row.client_id, row.reason.length > 0], [email, mid, ACME, true]);
    assert.equal((await inboundRow(held.inbound_id)).raw_kept, true, 'a held message keeps its bytes');
    assertProblem(await c.get('/api/v1/mail/inbound?action=lost', { token: T.dispatcher }), 400, { field: 'action' });

    // The same message delivered again meanwhile: a duplicate, not a second held copy.
    assert.equal((await take(mail({ from: email, subject: 'Who handles this?', messageId: mid }), 200)).action, 'duplicate');

    const f = await c.post(`/api/v1/mail/inbound/${held.inbound_id}/file`, { client_id: ACME }, { token: T.dispatcher });
    assert.ok([200, 201].includes(f.status), f.text);
    assert.ok(['created', 'released'].includes(f.body.action), f.text);
    const t = await ticket(f.body.ticket_id);
    assert.deepEqual([t.client_id, t.channel, t.subject], [ACME, 'email', 'Who handles this?']);
    const contact = (await contactsOf(ACME)).find((x) => x.email === email);
    assert.ok(contact);
    assert.equal(t.requester_contact_id, contact.id);
    const log = await inboundRow(held.inbound_id);
    assert.deepEqual([log.action, log.ticket_id, log.raw_kept], ['released', t.id, false]);
    assert.ok(!(await inboundAll('held')).some((l) => l.id === held.inbound_id));

    assertProblem(await c.post(`/api/v1/mail/inbound/${held.inbound_id}/file`, { client_id: ACME }, { token: T.dispatcher }), 409);
    // Replies to it now thread to the ticket.
    assert.equal((await take(mail({ from: email, subject: 'Re: Who handles this?', inReplyTo: mid }), 200)).ticket_id, t.id);
  });

  test('the intake log\'s list says raw_kept as GET /mail/inbound/{id} does', async () => {
      const held = await take(mail({ from: `${uniq('nobody')}@nowhere.example`, subject: uniq('kept?') }), 200);
      assert.equal(held.action, 'held');
      assert.equal((await inboundRow(held.inbound_id)).raw_kept, true);
      const row = (await inboundAll('held')).find((l) => l.id === held.inbound_id);
      assert.equal(row.raw_kept, true);
    });

  test('a sender with no client at all is held; filing needs a client_id that exists; filed under Borealis, the sender becomes its contact', async () => {
    const email = `${uniq('nobody')}@nowhere.example`;
    const before = await lastTicketId();
    const held = await take(mail({ from: email, subject: uniq('Lost soul') }), 200);
    assert.deepEqual([held.action, held.ticket_id], ['held', null]);
    const row = await inboundRow(held.inbound_id);
    assert.deepEqual([row.action, row.client_id, row.raw_kept], ['held', null, true]);
    assert.equal(await lastTicketId(), before);
    assertProblem(await c.post(`/api/v1/mail/inbound/${held.inbound_id}/file`, {}, { token: T.dispatcher }), 400, { field: 'client_id' });
    assertProblem(await c.post(`/api/v1/mail/inbound/${held.inbound_id}/file`, { client_id: 999999 }, { token: T.dispatcher }), 400, { field: 'client_id' });
    assertProblem(await c.post(`/api/v1/mail/inbound/${held.inbound_id}/file`, { client_id: BOREALIS }, { token: T.tier1 }), 403);
    assertProblem(await c.post('/api/v1/mail/inbound/99999999/file', { client_id: BOREALIS }, { token: T.dispatcher }), 404);
    const f = await c.post(`/api/v1/mail/inbound/${held.inbound_id}/file`, { client_id: BOREALIS }, { token: T.dispatcher });
    assert.ok([200, 201].includes(f.status), f.text);
    assert.equal((await ticket(f.body.ticket_id)).client_id, BOREALIS);
    assert.ok((await contactsOf(BOREALIS)).some((x) => x.email === email));
    // A row that was not held cannot be filed.
    const created = await take(mail({ subject: uniq('normal') }), 201);
    assertProblem(await c.post(`/api/v1/mail/inbound/${created.inbound_id}/file`, { client_id: ACME }, { token: T.dispatcher }), 409);
  });

  test('a recipient route picks the client and the queue (even for a sender nobody knows)', async () => {
    const address = `${uniq('borealis')}@support.msp.test`;
    const rt = assertStatus(await c.post('/api/v1/mail/routes', { address: address.toUpperCase(), client_id: BOREALIS, queue: 'logistics' }, { token: T.admin }), 201);
    assert.deepEqual([rt.address, rt.client_id, rt.queue], [address, BOREALIS, 'logistics']);
    assert.ok(assertStatus(await c.get('/api/v1/mail/routes', { token: T.admin }), 200).items.some((x) => x.id === rt.id));

    const email = `${uniq('driver')}@nowhere.example`;
    const a = await take(mail({ from: email, to: `Borealis Support <${address}>`, subject: uniq('Truck') }), 201);
    const t = await ticket(a.ticket_id);
    assert.deepEqual([t.client_id, t.queue], [BOREALIS, 'logistics']);
    assert.ok((await contactsOf(BOREALIS)).some((x) => x.email === email));
    assert.equal((await inboundRow(a.inbound_id)).recipient, address);
    // By Cc as well.
    const b = await take(mail({ from: 'jonas@borealis.example', to: 'someone@else.example', headers: [`Cc: ${address}`], subject: uniq('cc') }), 201);
    assert.equal((await ticket(b.ticket_id)).queue, 'logistics');

    // A route with only a queue: the client still comes from the sender.
    const qonly = `${uniq('urgent')}@support.msp.test`;
    assertStatus(await c.post('/api/v1/mail/routes', { address: qonly, queue: 'urgent' }, { token: T.admin }), 201);
    const q = await ticket((await take(mail({ to: qonly, subject: uniq('hot') }), 201)).ticket_id);
    assert.deepEqual([q.client_id, q.queue], [ACME, 'urgent']);

    assertStatus(await c.api('DELETE', `/api/v1/mail/routes/${rt.id}`, { token: T.admin }), 204);
    assert.ok(!assertStatus(await c.get('/api/v1/mail/routes', { token: T.admin }), 200).items.some((x) => x.id === rt.id));
    const after = await take(mail({ from: `${uniq('driver')}@nowhere.example`, to: address, subject: uniq('after') }), 200);
    assert.equal(after.action, 'held');
  });

  test('route validation: a bad address is 400 naming address; the same address twice is 409; a route names a client or a queue; admin only', async () => {
    for (const address of ['not-an-address', 'two@@x.example', '@x.example', 'a@', 'a b@x.example', 'a@x.example, b@y.example', '<a@x.example>', ''])
      assertProblem(await c.post('/api/v1/mail/routes', { address, client_id: ACME }, { token: T.admin }), 400, { field: 'address' });
    assertProblem(await c.post('/api/v1/mail/routes', { client_id: ACME }, { token: T.admin }), 400, { field: 'address' });
    const address = `${uniq('dup')}@support.msp.test`;
    assertStatus(await c.post('/api/v1/mail/routes', { address, client_id: ACME }, { token: T.admin }), 201);
    assertProblem(await c.post('/api/v1/mail/routes', { address, client_id: BOREALIS }, { token: T.admin }), 409);
    assertProblem(await c.post('/api/v1/mail/routes', { address: address.toUpperCase(), queue: 'x' }, { token: T.admin }), 409);
    assertProblem(await c.post('/api/v1/mail/routes', { address: `${uniq('none')}@support.msp.test` }, { token: T.admin }), 400);
    const bad = await c.post('/api/v1/mail/routes', { address: `${uniq('ghost')}@support.msp.test`, client_id: 999999 }, { token: T.admin });
    assertProblem(bad, 400, { field: 'client_id' });
    for (const who of ['dispatcher', 'tier1', 'acmeAdmin']) {
      assertProblem(await c.post('/api/v1/mail/routes', { address: `${uniq('r')}@support.msp.test`, client_id: ACME }, { token: T[who] }), 403);
      assertProblem(await c.get('/api/v1/mail/routes', { token: T[who] }), 403);
    }
    assertProblem(await c.api('DELETE', '/api/v1/mail/routes/99999999', { token: T.admin }), 404);
  });
});

/* ---- hostile input and limits ---------------------------------------------------------------------- */

describe('hostile input', () => {
  test('not a message, 200 levels of multipart nesting, an empty body: 400 naming message; nothing changes', async () => {
    const tBefore = await lastTicketId();
    const lBefore = await lastInboundId();
    let deep = 'From: alice@acme-dental.example\r\nSubject: deep\r\nMessage-ID: <deep@x>\r\nMIME-Version: 1.0\r\n';
    for (let i = 0; i < 200; i++)
      deep += `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n`;
    deep += 'Content-Type: text/plain\r\n\r\nhi\r\n';
    const many = 'From: alice@acme-dental.example\r\nSubject: parts\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="p"\r\n\r\n' +
      Array.from({ length: 1000 }, (_, i) => `--p\r\nContent-Type: text/plain\r\n\r\npart ${i}\r\n`).join('') + '--p--\r\n';
    for (const raw of ['hello world, this is not mail', '\x00\x01\x02\x03binary', '', deep, many]) {
      const r = await post(raw);
      assertProblem(r, 400, { field: 'message' });
    }
    assert.equal(await lastTicketId(), tBefore);
    assert.equal(await lastInboundId(), lBefore);
  });

  test('a 200 kB header line of no interest (X-Padding) does not hurt: refused with 400 (message) or taken normally', async () => {
    const r = await post(mail({ subject: uniq('Padded'), headers: [`X-Padding: ${'a'.repeat(200 * 1024)}`] }));
    if (r.status === 400) {
      assertProblem(r, 400, { field: 'message' });
    } else {
      assertStatus(r, 201);
      const t = await ticket(r.body.ticket_id);
      assert.ok(!t.description.includes('aaaaaaaaaa'));
    }
    assert.equal((await c.get('/healthz')).status, 200);
  });

  test('a 200 kB Subject or From line: refused (400, message), or the ticket and contact keep their usual limits (subject <= 300 bytes, e-mail <= 254)', async () => {
      const r = await post(mail({ subject: 'S'.repeat(200 * 1024) }));
      if (r.status === 400) {
        assertProblem(r, 400, { field: 'message' });
      } else {
        assertStatus(r, 201);
        assert.ok(bytesOf((await ticket(r.body.ticket_id)).subject) <= 300);
      }
      const email = `${'x'.repeat(200 * 1024)}@acme-dental.example`;
      const f = await post(mail({ from: email, subject: uniq('long from') }));
      if (f.status === 400) {
        assertProblem(f, 400, { field: 'message' });
      } else {
        assert.ok(!(await contactsOf(ACME)).some((x) => x.email.length > 254), 'no contact with an impossible address');
      }
    });

  test('wrong Content-Type: 415', async () => {
    for (const ct of ['text/plain', 'application/json', 'multipart/form-data; boundary=x'])
      assertProblem(await inbound(c, T.dispatcher, mail({}), ct), 415);
    const noCt = await fetch(`${srv.url}/api/v1/mail/inbound`, { method: 'POST', headers: { Authorization: `Bearer ${T.dispatcher}` }, body: Buffer.from(mail({})) });
    assert.equal(noCt.status, 415);
  });

  test('a message over mail_max_bytes is 413 (a server with ITSUP_MAIL_MAX_BYTES=65536); one under it is taken', async () => {
    const small = await startServer({ env: { ITSUP_MAIL_MAX_BYTES: '65536' } });
    try {
      const tok = await small.client.token(await small.client.session(DEMO.dispatcher, small.password));
      const big = mail({ subject: 'big', body: 'x'.repeat(70 * 1024) + '\n' });
      const r = await inbound(small.client, tok, big);
      assertProblem(r, 413);
      const ok = await inbound(small.client, tok, mail({ subject: 'fits', body: 'y'.repeat(60 * 1024) + '\n' }));
      assertStatus(ok, 201);
      assert.equal(assertStatus(await small.client.get('/api/v1/mail/inbound', { token: tok }), 200).items.length, 1);
    } finally {
      await small.stop();
    }
  });

  test('a CR/LF in an encoded-word subject cannot add a header to the notification', async () => {
    const { t } = await opened({ subject: `Hello ${b64word('\r\nBcc: evil@x.example\r\n')} there` });
    assert.match(t.subject, /Hello\s+Bcc: evil@x\.example\s+there/);
    await tick(0);
    const [d] = (await ticketDeliveries(t.id)).filter((x) => x.template === 'requester.created');
    assert.ok(d);
    assert.ok(!/[\r\n]/.test(d.subject), JSON.stringify(d.subject));
    const full = assertStatus(await c.get(`/api/v1/deliveries/${d.id}`, { token: T.admin }), 200);
    const msg = parseMessage(full.body);
    assert.equal(msg.headers.bcc, undefined, full.body.slice(0, 800));
    assert.ok(!msg.headerLines.some((l) => /^bcc:/i.test(l)));
    assert.equal(msg.headers.subject.length, 1);
    assert.match(msg.header('subject'), /Hello\s+Bcc: evil@x\.example\s+there/);
  });

  test('the ticket subject from a CR/LF encoded word is one line (no control characters), as every other way in requires', async () => {
      const { t } = await opened({ subject: `Hello ${b64word('\r\nBcc: evil@x.example\r\n')} there` });
      assert.ok(!/[\x00-\x1f\x7f]/.test(t.subject), JSON.stringify(t.subject));
    });
});

/* ---- who may post --------------------------------------------------------------------------------- */

describe('roles', () => {
  test('admin and dispatcher may post mail and read the log; technicians and client roles are 403; no token is 401', async () => {
    assert.equal((await take(mail({ subject: uniq('by admin') }), 201, 'admin')).action, 'created');
    const before = await lastTicketId();
    for (const who of ['tier1', 'acmeAdmin', 'acmeUser', 'borealisIT', 'borealisUser']) {
      assertProblem(await post(mail({ subject: uniq('nope') }), who), 403);
      assertProblem(await c.get('/api/v1/mail/inbound', { token: T[who] }), 403);
    }
    const anon = await fetch(`${srv.url}/api/v1/mail/inbound`, { method: 'POST', headers: { 'Content-Type': 'message/rfc822' }, body: mail({}) });
    assert.equal(anon.status, 401);
    assert.equal(await lastTicketId(), before);
    assertStatus(await c.get('/api/v1/mail/inbound', { token: T.dispatcher }), 200);
    assertProblem(await c.get('/api/v1/mail/inbound/99999999', { token: T.dispatcher }), 404);
  });
});
