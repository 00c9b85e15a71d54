// outbox.test.mjs: notifications through a real SMTP server (issue 8;
// docs/MAIL.md "Notifications", "Templates", "The outbox"): what the
// requester and the staff receive and how it is threaded, the templates
// an admin may change, and deliveries through an SMTP server that is
// down, refuses a recipient, or is not configured at all.
//
// smtp-sink.py (tests/api/lib) is the SMTP server: each message it
// accepts becomes a file. itsup runs with --test-clock, ITSUP_SMTP_URL at
// the sink and ITSUP_MAIL_FROM 'Acme Desk <desk@msp.test>'. The
// dispatcher only runs inside POST /api/v1/test/clock, which answers after
// it has sent (so the sink has the message by then; the tests still poll
// the sink's directory with a timeout rather than trusting that). Messages
// are matched to tests by their Message-ID, which GET /api/v1/deliveries
// gives for every e-mail delivery.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ACME, DEMO, startServer } from './lib/server.mjs';
import { assertProblem, assertStatus, uniq } from './lib/util.mjs';
import { SmtpSink, b64word, idOf, inbound, mail, newMid } from './lib/mail.mjs';

const PUBLIC = 'https://desk.msp.test';
let srv, c, sink;
const T = {};
const U = {};

before(async () => {
  sink = await SmtpSink.start();
  srv = await startServer({
    testClock: true,
    env: { ITSUP_SMTP_URL: sink.url, ITSUP_MAIL_FROM: 'Acme Desk <desk@msp.test>', ITSUP_PUBLIC_URL: PUBLIC },
  });
  c = srv.client;
  await Promise.all(['admin', 'dispatcher', 'tier1', 'acmeAdmin'].map(async (k) => {
    const s = await c.session(DEMO[k], srv.password);
    U[k] = s.user.id;
    T[k] = await c.token(s);
  }));
});
after(async () => {
  await srv?.stop();
  await sink?.cleanup();
});

const tick = async (s = 0) => assertStatus(await c.post('/api/v1/test/clock', { advance_seconds: s }, { token: T.admin }), 200);
const now = async () => Date.parse((await tick(0)).now);
const ticket = async (id) => assertStatus(await c.get(`/api/v1/tickets/${id}`, { token: T.admin }), 200);
const messages = async (id) => assertStatus(await c.get(`/api/v1/tickets/${id}/messages`, { token: T.admin }), 200).items;
const ticketDeliveries = async (id) => assertStatus(await c.get(`/api/v1/tickets/${id}/deliveries`, { token: T.admin }), 200).items;
const delivery = async (id) => assertStatus(await c.get(`/api/v1/deliveries/${id}`, { token: T.admin }), 200);
const newContact = async (email, name = 'Test Contact') =>
  assertStatus(await c.post(`/api/v1/clients/${ACME}/contacts`, { name, email }, { token: T.admin }), 201);
const apiTicket = async (contactId, subject = uniq('Outbox')) =>
  assertStatus(await c.post('/api/v1/tickets', { client_id: ACME, subject, requester_contact_id: contactId }, { token: T.admin }), 201);

/* A ticket opened by mail from alice@: {t, mid (the requester's Message-ID)}. */
async function byMail(subject = uniq('Printer')) {
  const mid = newMid('mail.acme-dental.example');
  const r = assertStatus(await inbound(c, T.dispatcher, mail({ from: 'Dr. Alice Molar <alice@acme-dental.example>', subject, messageId: mid })), 201);
  return { t: await ticket(r.ticket_id), mid };
}

/* The e-mail deliveries of ticket t with template tmpl. */
const mailsOf = async (t, tmpl) => (await ticketDeliveries(t.id)).filter((d) => d.channel === 'email' && (!tmpl || d.template === tmpl));

/* The message the sink got with this Message-ID (waits for it). */
async function received(messageId) {
  const list = await sink.waitFor(0, { pred: (l) => l.some((m) => idOf(m.header('message-id')) === messageId) });
  const hits = list.filter((m) => idOf(m.header('message-id')) === messageId);
  assert.equal(hits.length, 1, `${messageId} arrived once`);
  return hits[0];
}

describe('notifications', () => {
  test('a ticket opened by mail: the requester gets requester.created, threaded to their message, auto-generated, with the number in the subject', async () => {
    const { t, mid } = await byMail('Printer jammed');
    const ran = (await tick(0)).ran.outbox;
    assert.ok(ran.expanded >= 1 && ran.sent >= 1, JSON.stringify(ran));
    const [d] = await mailsOf(t, 'requester.created');
    assert.ok(d, 'a delivery for the requester');
    assert.deepEqual([d.state, d.attempts, d.target, d.event, d.last_error], ['sent', 1, 'alice@acme-dental.example', 'ticket.created', null]);
    assert.ok(d.sent_at);
    assert.match(d.message_id, /^[^<>\s]+@msp\.test$/);

    const m = await received(d.message_id);
    assert.equal(m.from, 'desk@msp.test', 'the envelope sender is mail_from');
    assert.deepEqual(m.to, ['alice@acme-dental.example']);
    assert.equal(m.header('subject'), `We received your request [${t.number}]: Printer jammed`);
    assert.equal(m.header('subject'), d.subject);
    assert.match(m.header('from'), /Acme Desk <desk@msp\.test>/);
    assert.match(m.header('to'), /alice@acme-dental\.example/);
    assert.equal(m.header('auto-submitted'), 'auto-generated');
    assert.equal(idOf(m.header('in-reply-to')), mid, 'In-Reply-To: the requester\'s own message');
    assert.match(m.header('references') || '', new RegExp(`<ticket-${t.id}@msp\\.test>`));
    assert.equal(m.header('x-itsup-ticket'), t.number);
    assert.ok(m.header('date'));
    assert.match(m.body, new RegExp(`opened ticket ${t.number}`));
    assert.match(m.body, new RegExp(`${PUBLIC.replace(/\./g, '\\.')}/#/tickets/${t.id}`));
    // The delivery's own view carries the whole message that was sent.
    const full = await delivery(d.id);
    assert.match(full.body, new RegExp(`Message-Id: <${d.message_id}>`, 'i'));
  });

  test('a staff public reply goes to the requester; answering THAT mail (In-Reply-To, no tag in the subject) threads back into the ticket', async () => {
    const { t } = await byMail();
    await tick(0);
    assertStatus(await c.post(`/api/v1/tickets/${t.id}/messages`, { kind: 'reply', body: 'Please restart the printer.\nThen try again.' }, { token: T.tier1 }), 201);
    assertStatus(await c.post(`/api/v1/tickets/${t.id}/messages`, { kind: 'note', body: 'INTERNAL: vendor is slow' }, { token: T.tier1 }), 201);
    await tick(0);
    const replies = await mailsOf(t, 'requester.reply');
    assert.equal(replies.length, 1, 'the note sends nothing');
    const d = replies[0];
    assert.equal(d.state, 'sent');
    const m = await received(d.message_id);
    assert.match(m.body, /Please restart the printer\.\nThen try again\./);
    assert.ok(!m.body.includes('INTERNAL'));
    assert.match(m.header('subject'), new RegExp(`\\[${t.number}\\]`));
    assert.match(m.header('references') || '', new RegExp(`<ticket-${t.id}@msp\\.test>`));
    assert.equal(m.header('auto-submitted'), 'auto-generated');

    // Alice answers from her mail program: no tag, only In-Reply-To/References.
    const r = assertStatus(await inbound(c, T.dispatcher, mail({
      subject: 'Re: your answer', inReplyTo: d.message_id, references: [d.message_id], body: 'Restarted, it works.\n',
    })), 200);
    assert.deepEqual([r.action, r.ticket_id], ['appended', t.id]);
    const last = (await messages(t.id)).at(-1);
    assert.deepEqual([last.kind, last.source, last.author_contact_id], ['reply', 'email', 1]);
    assert.match(last.body, /Restarted, it works\./);
  });

  test('resolving sends requester.resolved with the CSAT link on public_url, and the link works', async () => {
    const { t } = await byMail();
    await tick(0);
    assertStatus(await c.patch(`/api/v1/tickets/${t.id}`, { status: 'resolved' }, { token: T.tier1 }), 200);
    await tick(0);
    const [d] = await mailsOf(t, 'requester.resolved');
    assert.ok(d);
    assert.equal(d.state, 'sent');
    const m = await received(d.message_id);
    assert.match(m.header('subject'), new RegExp(`^Resolved: .*\\[${t.number}\\]$`));
    const link = new RegExp(`${PUBLIC.replace(/\./g, '\\.')}(/api/v1/csat/${t.id}\\?expires=\\d+&sig=[0-9a-f]+)`).exec(m.body);
    assert.ok(link, m.body);
    const csat = await c.get(link[1]);
    assert.equal(csat.status, 200, csat.text);
  });

  test('assigning a ticket mails the assignee staff.assigned; deliveries list it as sent after one attempt', async () => {
    const { t } = await byMail();
    await tick(0);
    assertStatus(await c.patch(`/api/v1/tickets/${t.id}`, { assignee_id: U.tier1 }, { token: T.dispatcher }), 200);
    await tick(0);
    const [d] = await mailsOf(t, 'staff.assigned');
    assert.ok(d);
    assert.deepEqual([d.target, d.state, d.attempts, d.event], [DEMO.tier1, 'sent', 1, 'ticket.assigned']);
    const m = await received(d.message_id);
    assert.deepEqual(m.to, [DEMO.tier1]);
    assert.match(m.header('subject'), new RegExp(`^Assigned to you: .*\\[${t.number}\\]$`));
    assert.match(m.body, new RegExp(`Ticket ${t.number} has been assigned to you`));

    const all = assertStatus(await c.get('/api/v1/deliveries?channel=email&state=sent', { token: T.admin }), 200).items;
    assert.ok(all.some((x) => x.id === d.id));
    assert.ok(all.every((x) => x.state === 'sent' && x.channel === 'email'));
    const mine = assertStatus(await c.get(`/api/v1/deliveries?ticket_id=${t.id}`, { token: T.admin }), 200).items;
    assert.deepEqual(mine.map((x) => x.template).sort(), ['requester.created', 'staff.assigned']);
    assert.deepEqual((await ticketDeliveries(t.id)).map((x) => x.id), mine.map((x) => x.id), 'the ticket\'s own list is the same');
    assert.ok(mine.every((x) => x.attempts === 1 && x.state === 'sent'));
    // Technicians see what was sent about a ticket; only admins see every delivery.
    assertStatus(await c.get(`/api/v1/tickets/${t.id}/deliveries`, { token: T.tier1 }), 200);
    assertProblem(await c.get('/api/v1/deliveries', { token: T.tier1 }), 403);
    assertProblem(await c.get(`/api/v1/tickets/${t.id}/deliveries`, { token: T.acmeAdmin }), 403);
    assertProblem(await c.get('/api/v1/deliveries?state=lost', { token: T.admin }), 400, { field: 'state' });
  });

  test('a customer\'s reply by mail to an assigned ticket mails the assignee staff.customer_reply with the text; the requester gets nothing for it', async () => {
    const { t } = await byMail();
    assertStatus(await c.patch(`/api/v1/tickets/${t.id}`, { assignee_id: U.tier1 }, { token: T.dispatcher }), 200);
    await tick(0);
    const before = (await mailsOf(t)).length;
    assertStatus(await inbound(c, T.dispatcher, mail({ subject: `Re: [${t.number}]`, body: 'It is smoking now.\n' })), 200);
    await tick(0);
    const fresh = (await mailsOf(t)).slice(0, (await mailsOf(t)).length - before);
    assert.deepEqual(fresh.map((d) => [d.template, d.target]), [['staff.customer_reply', DEMO.tier1]]);
    const m = await received(fresh[0].message_id);
    assert.match(m.header('subject'), new RegExp(`^Customer replied: .*\\[${t.number}\\]$`));
    assert.match(m.body, /It is smoking now\./);
  });

  test('escalating an unassigned ticket mails the dispatchers staff.escalated', async () => {
    const { t } = await byMail();
    await tick(0);
    assertStatus(await c.post(`/api/v1/tickets/${t.id}/escalate`, { to_tier: 2, reason: 'needs AD rights' }, { token: T.tier1 }), 200);
    await tick(0);
    const ds = await mailsOf(t, 'staff.escalated');
    assert.ok(ds.some((d) => d.target === DEMO.dispatcher), JSON.stringify(ds.map((d) => d.target)));
    const d = ds.find((x) => x.target === DEMO.dispatcher);
    const m = await received(d.message_id);
    assert.match(m.header('subject'), new RegExp(`^Escalated to tier 2: .*\\[${t.number}\\]$`));
  });

  test('a CR/LF typed into the subject (an encoded word) adds no header: no Bcc, one Subject, one recipient', async () => {
    const { t } = await byMail(`Hello ${b64word('\r\nBcc: evil@attacker.example\r\n')} there`);
    await tick(0);
    const [d] = await mailsOf(t, 'requester.created');
    const m = await received(d.message_id);
    assert.deepEqual(m.to, ['alice@acme-dental.example']);
    assert.equal(m.headers.bcc, undefined);
    assert.ok(!m.headerLines.some((l) => /^bcc\s*:/i.test(l)), m.headerLines.join('\n'));
    assert.equal(m.headers.subject.length, 1);
    assert.match(m.header('subject'), /Hello\s+Bcc: evil@attacker\.example\s+there/);
  });
});

describe('templates', () => {
  const templates = async () => assertStatus(await c.get('/api/v1/mail/templates', { token: T.admin }), 200);
  const byKey = async (key) => (await templates()).items.find((x) => x.key === key);
  const put = (id, body, headers) => c.api('PUT', `/api/v1/mail/templates/${id}`, { token: T.admin, body, headers });

  test('GET lists every template with its key, text, placeholders; admin only', async () => {
    const l = await templates();
    const keys = l.items.map((x) => x.key);
    for (const k of ['requester.created', 'requester.reply', 'requester.resolved', 'staff.assigned', 'staff.escalated',
      'staff.customer_reply', 'staff.sla_warning', 'staff.sla_breached', 'staff.dispatcher', 'client.sla_review'])
      assert.ok(keys.includes(k), k);
    for (const x of l.items) {
      assert.equal(typeof x.id, 'number');
      assert.equal(typeof x.description, 'string');
      assert.equal(x.customized, false);
      // Ticket mail threads by its number; the review pack (no ticket) names its period.
      assert.ok(x.subject.includes(x.key === 'client.sla_review' ? '{{report.period}}' : '{{ticket.number}}'), x.key);
    }
    for (const p of ['ticket.number', 'ticket.subject', 'ticket.url', 'csat.url', 'message.body', 'desk.name', 'requester.name', 'assignee.name'])
      assert.ok(l.placeholders.includes(p), p);
    const one = assertStatus(await c.get(`/api/v1/mail/templates/${l.items[0].id}`, { token: T.admin }), 200);
    assert.equal(one.key, l.items[0].key);
    assertProblem(await c.get('/api/v1/mail/templates/999', { token: T.admin }), 404);
    for (const who of ['dispatcher', 'tier1', 'acmeAdmin'])
      assertProblem(await c.get('/api/v1/mail/templates', { token: T[who] }), 403);
  });

  test('PUT a custom subject and body: the next mail uses it; DELETE restores the built-in text', async () => {
    const tpl = await byKey('requester.created');
    try {
      const r = assertStatus(await put(tpl.id, {
        subject: '[{{ticket.number}}] Got it, {{ requester.name }}: {{ticket.subject}}',
        body: 'Dear {{requester.name}},\nticket {{ticket.number}} for {{client.name}} ({{ticket.priority}}).\n{{ticket.url}}\n{{desk.name}}\n',
      }), 200);
      assert.equal(r.customized, true);
      assert.equal(r.default_subject, tpl.subject);
      const { t } = await byMail('Custom please');
      await tick(0);
      const [d] = await mailsOf(t, 'requester.created');
      const m = await received(d.message_id);
      assert.equal(m.header('subject'), `[${t.number}] Got it, Dr. Alice Molar: Custom please`);
      assert.match(m.body, new RegExp(`^Dear Dr\\. Alice Molar,\nticket ${t.number} for Acme Dental \\(P3\\)\\.\n${PUBLIC.replace(/\./g, '\\.')}/#/tickets/${t.id}\nAcme Desk\n?$`));
      // A stale version is refused; the current one is fine.
      assertProblem(await put(tpl.id, { subject: 'x [{{ticket.number}}]', body: 'y' }, { 'If-Match': '"v999"' }), 412);
      assertStatus(await put(tpl.id, { subject: 'v2 [{{ticket.number}}]', body: 'y' }, { 'If-Match': `"v${r.version}"` }), 200);

      const del = assertStatus(await c.api('DELETE', `/api/v1/mail/templates/${tpl.id}`, { token: T.admin }), 200);
      assert.equal(del.customized, false);
      assert.equal(del.subject, tpl.subject);
      const again = await byMail('Default again');
      await tick(0);
      const [d2] = await mailsOf(again.t, 'requester.created');
      assert.equal((await received(d2.message_id)).header('subject'), `We received your request [${again.t.number}]: Default again`);
    } finally {
      await c.api('DELETE', `/api/v1/mail/templates/${tpl.id}`, { token: T.admin });
    }
  });

  test('an unknown placeholder, an unterminated one or a line break in the subject is a 400 naming the field; nothing is saved', async () => {
    const tpl = await byKey('requester.reply');
    const ok = { subject: 'Re: {{ticket.subject}} [{{ticket.number}}]', body: '{{message.body}}' };
    const cases = [
      [{ ...ok, subject: 'Hi {{unknown}}' }, 'subject'],
      [{ ...ok, body: 'Hi {{requester.password}}' }, 'body'],
      [{ ...ok, body: 'Hi {{ticket.number' }, 'body'],
      [{ ...ok, subject: 'Line one\nBcc: x@y.example' }, 'subject'],
      [{ ...ok, subject: 'Line one\r\nLine two' }, 'subject'],
      [{ ...ok, subject: '' }, 'subject'],
      [{ body: ok.body }, 'subject'],
      [{ subject: ok.subject }, 'body'],
    ];
    for (const [body, field] of cases)
      assertProblem(await put(tpl.id, body), 400, { field });
    assert.equal((await byKey('requester.reply')).customized, false);
    assertProblem(await put(999, ok), 404);
    assertProblem(await c.api('PUT', `/api/v1/mail/templates/${tpl.id}`, { token: T.dispatcher, body: ok }), 403);
  });

  test('a placeholder typed by the requester stays text (one pass)', async () => {
    const { t } = await byMail('Value {{csat.url}} and {{ticket.number}}');
    await tick(0);
    const [d] = await mailsOf(t, 'requester.created');
    const m = await received(d.message_id);
    assert.equal(m.header('subject'), `We received your request [${t.number}]: Value {{csat.url}} and {{ticket.number}}`);
  });
});

describe('delivery failures', () => {
  test('the SMTP server is down: deliveries wait (attempts, last_error, ~30 s then ~60 s backoff); once it is back every message arrives exactly once', async () => {
    await tick(0); // nothing of earlier tests left pending
    const port = sink.port;
    await sink.stop();
    let sinkUp = false;
    try {
      const contact = await newContact(`${uniq('down')}@acme-dental.example`, 'Dana Down');
      const tickets = [await apiTicket(contact.id), await apiTicket(contact.id), await apiTicket(contact.id)];
      const first = await tick(0);
      const t0 = Date.parse(first.now);
      let ran = first.ran.outbox;
      assert.equal(ran.sent, 0);
      assert.ok(ran.retried >= 3, JSON.stringify(ran));
      let ds = (await Promise.all(tickets.map((t) => mailsOf(t, 'requester.created')))).flat();
      assert.equal(ds.length, 3);
      for (const d of ds) {
        assert.deepEqual([d.state, d.attempts], ['pending', 1], JSON.stringify(d));
        assert.ok(d.last_error && d.last_error.length > 0, 'last_error says why');
        const wait = Date.parse(d.next_attempt_at) - t0;
        assert.ok(wait >= 29000 && wait <= 31000, `first retry ${wait} ms later`);
      }
      // Not due yet: no attempt spent.
      ran = (await tick(10)).ran.outbox;
      assert.equal(ran.retried, 0, JSON.stringify(ran));
      // Past the backoff, still down: a second attempt, the next one a minute on.
      const t1 = Date.parse((await tick(25)).now);
      ds = (await Promise.all(tickets.map((t) => mailsOf(t, 'requester.created')))).flat();
      for (const d of ds) {
        assert.deepEqual([d.state, d.attempts], ['pending', 2], JSON.stringify(d));
        const wait = Date.parse(d.next_attempt_at) - t1;
        assert.ok(wait >= 59000 && wait <= 61000, `second retry ${wait} ms later`);
      }
      const before = (await sink.messages()).length;

      await sink.restart();
      sinkUp = true;
      assert.equal(sink.port, port, 'the same port');
      ran = (await tick(61)).ran.outbox;
      assert.ok(ran.sent >= 3, JSON.stringify(ran));
      ds = (await Promise.all(tickets.map((t) => mailsOf(t, 'requester.created')))).flat();
      for (const d of ds)
        assert.deepEqual([d.state, d.attempts, d.next_attempt_at], ['sent', 3, null], JSON.stringify(d));
      const mids = ds.map((d) => d.message_id);
      assert.equal(new Set(mids).size, 3, 'three different Message-IDs');
      const list = await sink.waitFor(before + 3);
      for (const mid of mids)
        assert.equal(list.filter((m) => idOf(m.header('message-id')) === mid).length, 1, `${mid} exactly once`);
      // Nothing more later.
      await tick(7200);
      const all = await sink.messages();
      const ids = all.map((m) => idOf(m.header('message-id')));
      assert.equal(new Set(ids).size, ids.length, 'no Message-ID arrived twice in this whole file');
    } finally {
      if (!sinkUp)
        await sink.restart();
    }
  });

  test('a recipient the server refuses for good (550) fails at once; retry makes it pending and it fails again; 451 is retried', async () => {
    const rej = await newContact(`reject-${uniq('x')}@acme-dental.example`, 'Rita Reject');
    const later = await newContact(`later-${uniq('x')}@acme-dental.example`, 'Larry Later');
    const tr = await apiTicket(rej.id);
    const tl = await apiTicket(later.id);
    const ran = (await tick(0)).ran.outbox;
    assert.ok(ran.failed >= 1 && ran.retried >= 1, JSON.stringify(ran));
    let [d] = await mailsOf(tr, 'requester.created');
    assert.deepEqual([d.state, d.attempts, d.next_attempt_at], ['failed', 1, null]);
    assert.match(d.last_error, /550/);
    const [dl] = await mailsOf(tl, 'requester.created');
    assert.deepEqual([dl.state, dl.attempts], ['pending', 1]);
    assert.match(dl.last_error, /451/);

    d = assertStatus(await c.post(`/api/v1/deliveries/${d.id}/retry`, undefined, { token: T.admin }), 200);
    assert.equal(d.state, 'pending');
    assert.ok(Date.parse(d.next_attempt_at) <= await now(), 'due now');
    assertProblem(await c.post(`/api/v1/deliveries/${d.id}/retry`, undefined, { token: T.tier1 }), 403);
    await tick(0);
    d = await delivery(d.id);
    assert.equal(d.state, 'failed');
    assert.equal(d.attempts, 2);
    assert.match(d.last_error, /550/);
    assertProblem(await c.post('/api/v1/deliveries/99999999/retry', undefined, { token: T.admin }), 404);
  });

  test('without smtp_url e-mail waits: deliveries are made but stay pending with no attempt spent', async () => {
    const other = await startServer({ testClock: true, env: { ITSUP_MAIL_FROM: 'Acme Desk <desk@msp.test>' } });
    try {
      const oc = other.client;
      const tok = await oc.token(await oc.session(DEMO.admin, other.password));
      const t = assertStatus(await oc.post('/api/v1/tickets', { client_id: ACME, subject: 'waits', requester_contact_id: 1 }, { token: tok }), 201);
      for (const s of [0, 3600]) {
        const ran = assertStatus(await oc.post('/api/v1/test/clock', { advance_seconds: s }, { token: tok }), 200).ran.outbox;
        assert.deepEqual([ran.sent, ran.retried, ran.failed], [0, 0, 0]);
      }
      const ds = assertStatus(await oc.get(`/api/v1/tickets/${t.id}/deliveries`, { token: tok }), 200).items;
      assert.equal(ds.length, 1);
      assert.deepEqual([ds[0].state, ds[0].attempts, ds[0].last_error, ds[0].template], ['pending', 0, null, 'requester.created']);
    } finally {
      await other.stop();
    }
  });
});
