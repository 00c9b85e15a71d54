// admin-mail.js: the mail pages of the admin section (docs/MAIL.md), loaded
// when one is first opened.
//   Mail       (#/admin/mail?action=)  the intake log, held messages filed
//              under a client (admins and dispatchers: P_DISPATCH); for
//              admins also the intake policy and the recipient routes.
//   Templates  (#/admin/templates[/ID])  the notification texts: subject and
//              body with their placeholders; saved with If-Match "vN" once
//              customized, reset to the built-in text.
//   Webhooks   (#/admin/webhooks[/ID|new])  subscriptions: create, enable /
//              disable, rotate the secret (shown once), delete, history.
//   Outbox     (#/admin/outbox?state=&channel=)  every delivery; a failed
//              one can be retried.
// Templates, webhooks and the outbox are admin-only, like their routes.
import { api, del, get, post, session } from './api.js';
import { clientOptions, fetchItem, listPage } from './admin.js';
import { clearErrors, field, h, mount, partOfPage, select, showErrors, values, when } from './ui.js';

const ACTIONS = ['created', 'appended', 'duplicate', 'held', 'rate_limited', 'auto_reply', 'bounce', 'ignored', 'released'];
export const EVENTS = ['ticket.created', 'ticket.updated', 'ticket.resolved', 'sla.warning', 'sla.breach', 'alert.firing', 'alert.resolved'];
const isAdmin = () => session.user?.role === 'admin';
const words = (s) => String(s).replace(/_/g, ' ');

/* The page's own query (#/admin/outbox?state=failed). */
function hashQuery() {
  const i = location.hash.indexOf('?');
  return Object.fromEntries(new URLSearchParams(i < 0 ? '' : location.hash.slice(i + 1)));
}

/* path with more query parameters (empty ones left out). */
function withQuery(path, o) {
  const [base, q] = path.split('?');
  const p = new URLSearchParams(q || '');
  for (const [k, v] of Object.entries(o))
    if (v !== undefined && v !== null && v !== '')
      p.set(k, String(v));
  const s = p.toString();
  return s ? `${base}?${s}` : base;
}

const alertBox = () => h('p', { class: 'alert', role: 'alert', hidden: true });
const okBox = () => h('p', { class: 'ok', role: 'status', hidden: true });
function say(el, text) {
  el.textContent = text;
  el.hidden = !text;
}

/* A button that acts on the second click ("Really ...? Click again"). */
export function twoClick(text, again, attrs, act) {
  const btn = h('button', { type: 'button', class: 'danger', ...attrs }, text);
  btn.addEventListener('click', async () => {
    if (btn.dataset.armed !== '1') {
      btn.dataset.armed = '1';
      btn.textContent = again;
      if (attrs?.['aria-label'])
        btn.setAttribute('aria-label', `${again} (${attrs['aria-label']})`);
      return;
    }
    btn.disabled = true;
    try {
      await act();
    } finally {
      // Back to the first click (the button may be shown again later).
      btn.disabled = false;
      delete btn.dataset.armed;
      btn.textContent = text;
      if (attrs?.['aria-label'])
        btn.setAttribute('aria-label', attrs['aria-label']);
    }
  });
  return btn;
}

/* ---- Mail: intake policy, routes, the intake log ------------------------------------------- */

export async function mailPage(root) {
  const f = hashQuery();
  const admin = isAdmin();
  const [clients, settings, routes, log] = await Promise.all([
    clientOptions(),
    admin ? get('/api/v1/mail/settings') : null,
    admin ? get('/api/v1/mail/routes') : null,
    get(withQuery('/api/v1/mail/inbound', { action: f.action, limit: 50 })),
  ]);
  mount(root, admin ? settingsForm(settings) : null, admin ? routesSection(routes.items, clients) : null,
    intakeLog(f, log, clients));
}

function settingsForm(s) {
  const ok = okBox();
  const form = h('form', { class: 'card', novalidate: true, 'aria-label': 'Intake policy' },
    h('h2', {}, 'Intake policy'),
    alertBox(), ok,
    field('New mail from an unknown sender', select('unknown_sender', [
      ['create_contact', 'opens a ticket; the sender becomes a contact of the client'],
      ['hold', 'is held until a dispatcher files it']], s.unknown_sender),
    'unknown: neither a contact nor a login; the client comes from the recipient route or the sender\'s domain'),
    field('Messages per sender per hour', h('input', { name: 'rate_per_hour', type: 'number', min: 0, max: 100000, inputmode: 'numeric', value: s.rate_per_hour }),
      'more from one address within an hour are logged, not filed (the end of auto-reply loops); 0: no limit'),
    h('button', { type: 'submit' }, 'Save'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    say(ok, '');
    const body = {};
    if (form.unknown_sender.value !== s.unknown_sender)
      body.unknown_sender = form.unknown_sender.value;
    const rate = form.rate_per_hour.value.trim();
    if (!/^\d+$/.test(rate)) {
      showErrors(form, { fields: { rate_per_hour: 'a whole number, 0 for no limit' } });
      return;
    }
    if (Number(rate) !== s.rate_per_hour)
      body.rate_per_hour = Number(rate);
    if (!Object.keys(body).length) {
      say(ok, 'Nothing changed.');
      return;
    }
    try {
      Object.assign(s, (await api('PATCH', '/api/v1/mail/settings', body)).data);
      say(ok, 'Saved.');
    } catch (err) {
      showErrors(form, err);
    }
  });
  return form;
}

/* The recipient routes and "Add a route"; a change redraws this part only. */
function routesSection(items, clients) {
  const cname = new Map(clients);
  const msg = alertBox();
  const redraw = async (focus) => {
    const now = (await get('/api/v1/mail/routes')).items;
    const next = partOfPage(() => routesSection(now, clients));
    section.replaceWith(next);
    if (focus)
      next.querySelector('input[name="address"]')?.focus();
  };
  const form = h('form', { class: 'filters', novalidate: true, 'aria-label': 'Add a route' },
    field('Address', h('input', { name: 'address', type: 'email', placeholder: 'acme@support.example', required: true })),
    field('Client', select('client_id', [['', '— from the sender —'], ...clients], '')),
    field('Queue', h('input', { name: 'queue', placeholder: 'general' })),
    h('button', { type: 'submit' }, 'Add route'),
    alertBox());
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const v = values(form);
    const body = { address: v.address || '' };
    if (v.client_id)
      body.client_id = Number(v.client_id);
    if (v.queue)
      body.queue = v.queue;
    try {
      await post('/api/v1/mail/routes', body);
      await redraw(true);
    } catch (err) {
      showErrors(form, err);
    }
  });
  const section = h('section', { class: 'card', 'aria-label': 'Recipient routes' },
    h('h2', {}, `Recipient routes (${items.length})`),
    h('p', { class: 'muted' }, 'Mail to one of these addresses belongs to that client and goes to that queue.'),
    msg,
    items.length ? h('table', { class: 'admin-list compact' },
      h('thead', {}, h('tr', {}, ['Address', 'Client', 'Queue', 'Added', ''].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, items.map((rt) => h('tr', {},
        h('td', {}, rt.address), h('td', {}, rt.client_id ? cname.get(rt.client_id) || String(rt.client_id) : '—'),
        h('td', {}, rt.queue || '—'), h('td', {}, when(rt.created_at)),
        h('td', {}, twoClick('Delete', 'Really delete? Click again', { class: 'danger small', 'aria-label': `Delete the route ${rt.address}` }, async () => {
          try {
            await del(`/api/v1/mail/routes/${rt.id}`);
            await redraw(false);
          } catch (err) {
            say(msg, err.message);
          }
        }))))))
      : h('p', { class: 'empty' }, 'No routes: the client of new mail comes from its sender.'),
    form);
  return section;
}

/* Every message the intake received and what became of it; held ones can
 * be filed under a client here. */
function intakeLog(f, first, clients) {
  const cname = new Map(clients);
  const filter = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter the intake log' },
    field('Outcome', select('action', [['', 'any'], ...ACTIONS.map((a) => [a, words(a)])], f.action)),
    h('button', { type: 'submit' }, 'Show'));
  filter.addEventListener('submit', (ev) => {
    ev.preventDefault();
    location.hash = withQuery('#/admin/mail', values(filter));
  });
  const tbody = h('tbody', {});
  const row = (l) => {
    const outcome = h('td', {}, h('span', { class: `badge in-${l.action}` }, words(l.action)),
      l.reason ? h('small', { class: 'muted block' }, l.reason) : null);
    const ticket = h('td', {}, l.ticket_id ? h('a', { href: `#/tickets/${l.ticket_id}` }, `#${l.ticket_id}`) : '—');
    const client = h('td', {}, l.client_id ? cname.get(l.client_id) || String(l.client_id) : '—');
    const tr = h('tr', { 'data-action': l.action, 'data-id': l.id },
      h('td', {}, when(l.received_at)), h('td', { class: 'wrap' }, l.sender || '—'), h('td', { class: 'wrap' }, l.recipient || '—'),
      h('td', { class: 'wrap' }, l.subject || '(no subject)'), outcome,
      client, ticket,
      // Every held message can be filed (raw_kept is not said in lists).
      h('td', {}, l.action === 'held' ? fileForm(l, clients, (r, clientId) => {
        tr.dataset.action = 'released';
        client.textContent = cname.get(clientId) || String(clientId);
        outcome.replaceChildren(h('span', { class: 'badge in-released' }, 'released'), h('small', { class: 'muted block' }, `filed: ${words(r.action)}`));
        ticket.replaceChildren(r.ticket_id ? h('a', { href: `#/tickets/${r.ticket_id}` }, r.number || `#${r.ticket_id}`) : '—');
      }) : null));
    return tr;
  };
  tbody.append(...first.items.map(row));
  let cursor = first.next_cursor;
  const msg = alertBox();
  const more = h('button', { type: 'button', class: 'secondary', hidden: !cursor }, 'Show more');
  more.addEventListener('click', async () => {
    try {
      const next = await get(withQuery('/api/v1/mail/inbound', { action: f.action, limit: 50, cursor }));
      tbody.append(...partOfPage(() => next.items.map(row)));
      cursor = next.next_cursor;
      more.hidden = !cursor;
    } catch (err) {
      say(msg, err.message);
    }
  });
  return h('section', { class: 'intake', 'aria-label': 'Intake log' },
    h('h2', {}, 'Intake log'),
    h('p', { class: 'muted' }, 'Every message that came in and what became of it. A held message has no client yet: pick one and file it; it goes through the rules again with that client.'),
    filter, msg,
    first.items.length ? h('table', { class: 'admin-list compact' },
      h('thead', {}, h('tr', {}, ['Received', 'From', 'To', 'Subject', 'Outcome', 'Client', 'Ticket', ''].map((c) => h('th', { scope: 'col' }, c)))),
      tbody)
      : h('p', { class: 'empty' }, f.action ? `No messages ${words(f.action)}.` : 'No mail has come in yet.'),
    more);
}

function fileForm(l, clients, filed) {
  const form = h('form', { class: 'file-held', novalidate: true, 'aria-label': `File the message from ${l.sender}` },
    select('client_id', [['', 'choose a client'], ...clients], '', { 'aria-label': `Client to file the message from ${l.sender || 'an unknown sender'} under` }),
    h('button', { type: 'submit', class: 'small' }, 'File'),
    h('span', { class: 'alert', role: 'alert', hidden: true }));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    if (!form.client_id.value) {
      showErrors(form, { fields: { client_id: 'choose a client' } });
      return;
    }
    try {
      const clientId = Number(form.client_id.value);
      const r = await post(`/api/v1/mail/inbound/${l.id}/file`, { client_id: clientId });
      filed(r, clientId);
      form.replaceWith(h('span', { class: 'ok', role: 'status' }, 'Filed.'));
    } catch (err) {
      showErrors(form, err);
    }
  });
  return form;
}

/* ---- Templates ------------------------------------------------------------------------------- */

export async function templateList(root) {
  const r = await get('/api/v1/mail/templates');
  listPage(root, {
    title: 'Notification templates', noun: 'template', items: r.items, href: (t) => `#/admin/templates/${t.id}`,
    cols: [['Template', (t) => t.key], ['Sent', (t) => t.description], ['Subject', (t) => t.subject],
      ['Text', (t) => (t.customized ? `customized ${when(t.updated_at)}` : 'built-in')]],
  });
}

export async function templateEdit(root, id) {
  if (id === null) {
    mount(root, h('p', { class: 'alert', role: 'alert' }, 'Templates are fixed; edit one of the list.'));
    return;
  }
  const [item, all] = await Promise.all([get(`/api/v1/mail/templates/${id}`), get('/api/v1/mail/templates')]);
  let version = item.version;
  const ok = okBox();
  const subject = h('input', { name: 'subject', value: item.subject, required: true, maxlength: 998 });
  const body = h('textarea', { name: 'body', rows: 14, required: true }, item.body);
  let target = body;
  subject.addEventListener('focus', () => { target = subject; });
  body.addEventListener('focus', () => { target = body; });
  const reset = twoClick('Reset to the built-in text', 'Really reset? Click again', { class: 'secondary', hidden: !item.customized }, async () => {
    clearErrors(form);
    try {
      const r = await api('DELETE', `/api/v1/mail/templates/${id}`);
      subject.value = r.data.subject;
      body.value = r.data.body;
      version = r.data.version;
      reset.hidden = !r.data.customized;
      say(ok, 'Back to the built-in text.');
    } catch (err) {
      showErrors(form, err);
    }
  });
  const form = h('form', { class: 'card template', novalidate: true },
    h('h2', {}, item.key),
    h('p', { class: 'muted' }, item.description),
    alertBox(), ok,
    field('Subject', subject, 'one line; the ticket number [T-…] is added when it is missing'),
    field('Body', body, 'plain text'),
    h('div', { class: 'placeholders' },
      h('p', { id: 'ph-h' }, 'Placeholders (a click puts one at the cursor):'),
      h('ul', { 'aria-labelledby': 'ph-h' }, (all.placeholders || []).map((name) => h('li', {},
        h('button', { type: 'button', class: 'secondary small code', onclick: () => insert(target, `{{${name}}}`) }, `{{${name}}}`))))),
    h('div', { class: 'buttons' }, h('button', { type: 'submit' }, 'Save'), reset),
    h('details', { class: 'builtin' }, h('summary', {}, 'The built-in text'),
      h('pre', {}, `Subject: ${item.default_subject}\n\n${item.default_body}`)));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    say(ok, '');
    try {
      // Once customized, the save is against the version read (If-Match,
      // as ETags are "vN"); the built-in text has no version to match.
      const r = await api('PUT', `/api/v1/mail/templates/${id}`, { subject: subject.value, body: body.value },
        version > 0 ? { 'If-Match': `"v${version}"` } : {});
      version = r.data.version;
      reset.hidden = !r.data.customized;
      say(ok, 'Saved.');
    } catch (err) {
      showErrors(form, err);
    }
  });
  mount(root, h('p', {}, h('a', { href: '#/admin/templates' }, '← templates')), form);
}

function insert(el, text) {
  const at = el.selectionStart ?? el.value.length, end = el.selectionEnd ?? at;
  el.setRangeText(text, at, end, 'end');
  el.focus();
  el.dispatchEvent(new Event('input', { bubbles: true }));
}

/* ---- Webhooks ------------------------------------------------------------------------------- */

/* A secret shown once (after create or rotate), with how to copy it. */
function secretBox({ name, secret, rotated }) {
  const input = h('input', { readonly: true, value: secret, class: 'secret-value', 'aria-label': 'Signing secret', spellcheck: 'false', autocomplete: 'off' });
  const said = h('span', { role: 'status', class: 'muted' });
  const copy = h('button', { type: 'button', class: 'secondary' }, 'Copy');
  copy.addEventListener('click', async () => {
    input.select();
    try {
      await navigator.clipboard.writeText(secret);
      said.textContent = 'Copied.';
    } catch {
      said.textContent = 'Selected: press Ctrl+C (⌘C on a Mac) to copy.';
    }
  });
  input.addEventListener('focus', () => input.select());
  return h('section', { class: 'card secret', 'aria-label': 'Signing secret', 'data-secret': '' },
    h('h2', {}, rotated ? `New signing secret of ${name}` : `${name}: its signing secret`),
    h('p', {}, h('strong', {}, 'Copy it now: it is shown only this once.'),
      ' Give it to the receiver, which checks each delivery\'s X-Itsup-Signature with it. Lost? Rotate it for a new one.'),
    h('div', { class: 'secret-row' }, input, copy, said));
}

function eventChecks(chosen) {
  const on = new Set(chosen || []);
  return h('fieldset', { class: 'field', name: 'events' }, h('legend', {}, 'Events'),
    h('div', { class: 'checks' }, EVENTS.map((e) =>
      h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'events', value: e, checked: on.has(e) || on.has('*') }), e))));
}

function webhookFields(form) {
  const v = values(form);
  return {
    name: (v.name || '').trim(), url: (v.url || '').trim(),
    events: [...form.querySelectorAll('input[name="events"]:checked')].map((x) => x.value),
    client_id: v.client_id ? Number(v.client_id) : null,
  };
}

function webhookForm(item, clients) {
  return [
    field('Name', h('input', { name: 'name', value: item?.name ?? '', required: true })),
    field('URL', h('input', { name: 'url', type: 'url', value: item?.url ?? '', placeholder: 'https://psa.example/hook', required: true }),
      'http or https; loopback and private addresses are refused unless the server allows them (webhook_allow)'),
    eventChecks(item?.events),
    field('Client', select('client_id', [['', 'all clients'], ...clients], item?.client_id ?? ''), 'only this client\'s events'),
  ];
}

export async function webhookList(root) {
  const [list, clients] = await Promise.all([get('/api/v1/webhooks'), clientOptions()]);
  const cname = new Map(clients);
  const msg = alertBox();
  const row = (w) => {
    const toggle = h('button', { type: 'button', class: 'secondary small', 'aria-label': `${w.active ? 'Disable' : 'Enable'} ${w.name}` }, w.active ? 'Disable' : 'Enable');
    toggle.addEventListener('click', async () => {
      say(msg, '');
      try {
        const r = await api('PATCH', `/api/v1/webhooks/${w.id}`, { active: !w.active }, { 'If-Match': `"v${w.version}"` });
        tr.replaceWith(partOfPage(() => row(r.data)));
      } catch (err) {
        say(msg, `${w.name}: ${err.message}`);
      }
    });
    const tr = h('tr', { 'data-id': w.id },
      h('td', {}, h('a', { href: `#/admin/webhooks/${w.id}` }, w.name)), h('td', { class: 'wrap' }, w.url),
      h('td', {}, (w.events || []).join(', ')), h('td', {}, w.client_id ? cname.get(w.client_id) || String(w.client_id) : 'all'),
      h('td', {}, h('span', { class: `badge ${w.active ? 'wh-on' : 'wh-off'}` }, w.active ? 'active' : 'disabled')),
      h('td', {}, toggle));
    return tr;
  };
  mount(root, h('div', { class: 'list-head' }, h('h2', {}, 'Webhooks'), h('a', { class: 'button', href: '#/admin/webhooks/new' }, 'New webhook')),
    h('p', { class: 'muted' }, 'Other systems told of tickets, SLA events and alerts: a signed POST of JSON for each event, retried until it is taken.'),
    msg,
    list.items.length ? h('table', { class: 'admin-list' },
      h('thead', {}, h('tr', {}, ['Name', 'URL', 'Events', 'Client', 'State', ''].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, list.items.map(row)))
      : h('p', { class: 'empty' }, 'No webhooks yet.'));
}

export async function webhookEdit(root, id, go, reveal = null) {
  const clients = await clientOptions();
  if (id === null) {
    const form = h('form', { class: 'card', novalidate: true },
      h('h2', {}, 'New webhook'), alertBox(), webhookForm(null, clients), h('button', { type: 'submit' }, 'Create'));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      const body = webhookFields(form);
      if (body.client_id === null)
        delete body.client_id;
      try {
        const r = await post('/api/v1/webhooks', body);
        // The secret is in this answer only: the webhook's page shows it
        // (the address changes without drawing the page again).
        history.replaceState(null, '', `#/admin/webhooks/${r.id}`);
        await webhookEdit(root, r.id, go, { name: r.name, secret: r.secret });
      } catch (err) {
        showErrors(form, err);
      }
    });
    mount(root, h('p', {}, h('a', { href: '#/admin/webhooks' }, '← webhooks')), form);
    return;
  }
  const loaded = await fetchItem(`/api/v1/webhooks/${id}`);
  const item = loaded.item;
  let etag = loaded.etag || `"v${item.version}"`;
  const ok = okBox();
  const form = h('form', { class: 'card', novalidate: true },
    h('h2', {}, item.name), alertBox(), ok,
    webhookForm(item, clients),
    h('label', { class: 'check field' }, h('input', { type: 'checkbox', name: 'active', checked: item.active }), 'Active (deliveries are made)'),
    h('button', { type: 'submit' }, 'Save'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    say(ok, '');
    const all = { ...webhookFields(form), active: form.active.checked };
    const body = {};
    for (const [k, v] of Object.entries(all))
      if (JSON.stringify(v) !== JSON.stringify(item[k] ?? null))
        body[k] = v;
    if (!Object.keys(body).length) {
      say(ok, 'Nothing changed.');
      return;
    }
    try {
      const r = await api('PATCH', `/api/v1/webhooks/${id}`, body, { 'If-Match': etag });
      Object.assign(item, r.data);
      etag = r.etag || `"v${r.data.version}"`;
      say(ok, 'Saved.');
    } catch (err) {
      showErrors(form, err);
    }
  });
  const msg = alertBox();
  const rotate = twoClick('Rotate the secret', 'Really? The old secret stops working. Click again', { class: 'secondary' }, async () => {
    try {
      const r = await api('PATCH', `/api/v1/webhooks/${id}`, { rotate_secret: true }, { 'If-Match': etag });
      await webhookEdit(root, id, go, { name: r.data.name, secret: r.data.secret, rotated: true });
      root.querySelector('[data-secret] input')?.focus();
    } catch (err) {
      say(msg, err.message);
    }
  });
  const remove = twoClick('Delete this webhook', 'Really delete? Click again', {}, async () => {
    try {
      await del(`/api/v1/webhooks/${id}`);
      go('#/admin/webhooks');
    } catch (err) {
      say(msg, err.message);
    }
  });
  mount(root, h('p', {}, h('a', { href: '#/admin/webhooks' }, '← webhooks')),
    reveal ? secretBox(reveal) : null,
    form,
    h('div', { class: 'card buttons' }, msg, rotate, remove),
    h('section', { 'aria-label': 'Deliveries' }, h('h2', {}, 'Deliveries'),
      await deliveryTable(`/api/v1/webhooks/${id}/deliveries`, { webhook: true })));
}

/* ---- Deliveries (the outbox, a webhook's history) -------------------------------------------- */

async function deliveryTable(path, { webhook = false } = {}) {
  const first = await get(withQuery(path, { limit: 50 }));
  const msg = alertBox();
  const tbody = h('tbody', {});
  const row = (d) => {
    const retry = d.state === 'failed' ? h('button', { type: 'button', class: 'small', 'aria-label': `Retry delivery ${d.id}` }, 'Retry') : null;
    const tr = h('tr', { 'data-id': d.id, 'data-state': d.state },
      h('td', {}, when(d.created_at)), h('td', {}, d.event), webhook ? null : h('td', {}, d.channel),
      webhook ? null : h('td', { class: 'wrap' }, d.target), h('td', { class: 'wrap' }, d.template || d.subject || '—'),
      h('td', {}, h('span', { class: `badge dl-${d.state}` }, d.state)),
      h('td', { class: 'num' }, String(d.attempts)),
      h('td', { class: 'wrap' }, d.last_error ? `${d.last_error}${d.last_status ? ` (${d.last_status})` : ''}` : '—'),
      h('td', {}, d.state === 'sent' ? when(d.sent_at) : d.state === 'pending' ? `next ${when(d.next_attempt_at)}` : '—'),
      h('td', {}, d.ticket_id ? h('a', { href: `#/tickets/${d.ticket_id}` }, `#${d.ticket_id}`) : '—'),
      h('td', {}, retry));
    // Retried: the row is drawn again from the answer (pending, due now).
    retry?.addEventListener('click', async () => {
      say(msg, '');
      retry.disabled = true;
      try {
        const r = await post(`/api/v1/deliveries/${d.id}/retry`);
        tr.replaceWith(row(r));
      } catch (err) {
        retry.disabled = false;
        say(msg, `Delivery ${d.id}: ${err.message}`);
      }
    });
    return tr;
  };
  tbody.append(...first.items.map(row));
  let cursor = first.next_cursor;
  const more = h('button', { type: 'button', class: 'secondary', hidden: !cursor }, 'Show more');
  more.addEventListener('click', async () => {
    try {
      const next = await get(withQuery(path, { limit: 50, cursor }));
      tbody.append(...next.items.map(row));
      cursor = next.next_cursor;
      more.hidden = !cursor;
    } catch (err) {
      say(msg, err.message);
    }
  });
  const cols = ['Made', 'Event', !webhook && 'Channel', !webhook && 'To', 'Template', 'State', 'Attempts', 'Last error', 'Sent / next try', 'Ticket', ''].filter((c) => c !== false);
  return h('div', { class: 'outbox' }, msg,
    first.items.length ? h('table', { class: 'admin-list compact' },
      h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col' }, c)))), tbody)
      : h('p', { class: 'empty' }, 'No deliveries.'),
    more);
}

export async function outboxPage(root) {
  const f = hashQuery();
  const filter = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter the outbox' },
    field('State', select('state', [['', 'any'], ['pending', 'pending'], ['sent', 'sent'], ['failed', 'failed']], f.state)),
    field('Channel', select('channel', [['', 'any'], ['email', 'e-mail'], ['webhook', 'webhook']], f.channel)),
    h('button', { type: 'submit' }, 'Filter'));
  filter.addEventListener('submit', (ev) => {
    ev.preventDefault();
    location.hash = withQuery('#/admin/outbox', values(filter));
  });
  const table = await deliveryTable(withQuery('/api/v1/deliveries', { state: f.state, channel: f.channel, ticket_id: f.ticket_id }));
  mount(root, h('h2', {}, 'Outbox'),
    h('p', { class: 'muted' }, 'Every notification and webhook delivery, newest first. A failed attempt is retried (30 s, 1 min, 2 min, … at most an hour apart) until it succeeds or fails for good; a failed one can be tried again here.'),
    filter, table);
}
