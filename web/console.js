// console.js: the technician's and dispatcher's views: the ticket list
// with filters, search, SLA badges and keyboard navigation (j/k, Enter),
// and "log a phone call".
import { get, post, qs, serverNow, session } from './api.js';
import { clearErrors, clientName, clientNames, field, h, keepDraft, loadClientNames, loadSlaZones, mount, select, showErrors, slaBadge, slaState, values, when } from './ui.js';

const STATUSES = ['new', 'open', 'pending_customer', 'pending_vendor', 'on_hold', 'resolved', 'closed'];
const label = (s) => s.replace('_', ' ');

/* The filters live in the hash's query (#/tickets?status=open), so a view
 * can be bookmarked and comes back after a login. */
function filters() {
  const i = location.hash.indexOf('?');
  return Object.fromEntries(new URLSearchParams(i < 0 ? '' : location.hash.slice(i + 1)));
}

/* Sorts of the loaded page (the API lists newest first). */
const SORTS = {
  '': null,
  due: (a, b) => dueMs(a) - dueMs(b),
  priority: (a, b) => a.priority.localeCompare(b.priority) || dueMs(a) - dueMs(b),
  updated: (a, b) => Date.parse(b.updated_at) - Date.parse(a.updated_at),
};
function dueMs(t) {
  const st = slaState(t);
  return st?.due && !['met', 'paused'].includes(st.state) ? Date.parse(st.due) : Infinity;
}

export async function consoleView(app) {
  // Open tickets unless the address says otherwise (a submitted form
  // always says: an unchecked box sends open=false).
  const given = filters();
  const f = Object.keys(given).length ? given : { open: 'true' };
  const { breaching, sort, ...apiFilters } = f;
  // Everything the page needs, asked at once; a refused list is said at
  // the filters.
  let list = null, queues = { items: [] }, failed = null;
  await Promise.all([
    get(`/api/v1/tickets${qs({ ...apiFilters, limit: 200 })}`).then((x) => { list = x; }, (err) => { failed = err; }),
    get('/api/v1/queues').then((x) => { queues = x; }, () => {}),
    loadSlaZones(), loadClientNames()]);
  const form = h('form', { class: 'filters', role: 'search' },
    field('Search', h('input', { name: 'q', type: 'search', value: f.q || '', placeholder: 'words in subject, description, messages' })),
    field('Status', select('status', [['', 'any'], ...STATUSES.map((s) => [s, label(s)])], f.status)),
    field('Priority', select('priority', [['', 'any'], ['P1', 'P1'], ['P2', 'P2'], ['P3', 'P3'], ['P4', 'P4']], f.priority)),
    field('Queue', h('input', { name: 'queue', value: f.queue || '', size: 10 })),
    field('Tier', select('tier', [['', 'any'], ['1', '1'], ['2', '2'], ['3', '3']], f.tier)),
    field('Client', select('client_id', [['', 'any'], ...clientNames()], f.client_id)),
    field('Assignee', select('assignee_id', [['', 'anyone'], ['me', 'me'], ['none', 'unassigned']], f.assignee_id)),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'open', value: 'true', checked: f.open === 'true' }), 'open only'),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'breaching', value: 'true', checked: f.breaching === 'true' }), 'breaching soon'),
    field('Sort', select('sort', [['', 'newest'], ['due', 'SLA due first'], ['priority', 'priority, then due'], ['updated', 'last updated']], f.sort)),
    h('button', { type: 'submit' }, 'Filter'),
    h('p', { class: 'alert', role: 'alert', hidden: true }));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    location.hash = `#/tickets${qs({ ...values(form), open: form.open.checked ? 'true' : 'false' })}`;
  });
  if (failed) {
    if (failed.status === 401)
      throw failed;
    showErrors(form, failed);
    mount(app, h('h1', {}, 'Tickets'), form);
    return;
  }
  let items = list.items;
  if (breaching === 'true') {
    // Breaching soon: overdue, warned, or due within the next 2 hours.
    const soon = serverNow() + 2 * 3600 * 1000;
    items = items.filter((t) => {
      const st = slaState(t);
      return st && (st.state === 'breach' || st.state === 'warn' || (st.due && Date.parse(st.due) < soon));
    });
  }
  if (SORTS[sort])
    items = items.slice().sort(SORTS[sort]);
  const rows = items.map((t) => h('tr', { 'data-id': t.id, tabindex: -1 },
    h('td', {}, h('a', { href: `#/tickets/${t.id}` }, t.number)),
    h('td', {}, t.subject),
    h('td', {}, clientName(t.client_id)),
    h('td', {}, h('span', { class: `prio prio-${t.priority}` }, t.priority)),
    h('td', {}, label(t.status)),
    h('td', {}, `T${t.tier}`),
    h('td', {}, t.assignee_id === session.user?.id ? 'me' : t.assignee_id ? String(t.assignee_id) : '—'),
    h('td', {}, slaBadge(t)),
    h('td', {}, when(t.updated_at))));
  const table = h('table', { class: 'tickets', 'aria-label': 'Tickets' },
    h('thead', {}, h('tr', {}, ['Ticket', 'Subject', 'Client', 'Priority', 'Status', 'Tier', 'Assignee', 'SLA', 'Updated'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows));
  mount(app, h('h1', {}, 'Tickets'), queueNav(queues.items, f.queue), form,
    h('p', { class: 'muted', 'aria-live': 'polite' }, `${items.length} ticket${items.length === 1 ? '' : 's'}; j / k to move, Enter to open`),
    items.length ? table : h('p', { class: 'empty' }, 'No tickets match.'));
  keyboard(rows);
}

/* The queues with their open tickets: each a link to its list, with how
 * many are unassigned, P1 and breached. */
function queueNav(items, current) {
  if (!items.length)
    return null;
  return h('nav', { class: 'queues', 'aria-label': 'Queues' }, h('ul', { class: 'plain' }, items.map((q) => {
    const name = q.queue || '(no queue)';
    const extra = [q.unassigned && `${q.unassigned} unassigned`, q.p1 && `${q.p1} P1`, q.breached && `${q.breached} breached`].filter(Boolean);
    return h('li', {}, h('a', {
      href: `#/tickets${qs({ queue: q.queue, open: 'true' })}`,
      'aria-current': current === q.queue ? 'true' : null,
    }, h('span', { class: 'q-name' }, name), ' ', h('span', { class: 'q-count' }, String(q.open)),
    extra.length ? h('span', { class: `q-extra${q.breached ? ' q-bad' : ''}` }, ` ${extra.join(', ')}`) : null));
  })));
}

function keyboard(rows) {
  let at = -1;
  const move = (d) => {
    if (!rows.length)
      return;
    at = Math.max(0, Math.min(rows.length - 1, at + d));
    rows.forEach((r, i) => r.classList.toggle('current', i === at));
    rows[at].focus();
  };
  const onKey = (ev) => {
    if (!rows.length || !rows[0].isConnected)
      return;   // a view that lost the race to be shown, or has gone
    if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.target.closest('input, select, textarea, button, a'))
      return;
    if (ev.key === 'j') move(1);
    else if (ev.key === 'k') move(-1);
    else if (ev.key === 'Enter' && at >= 0) location.hash = `#/tickets/${rows[at].dataset.id}`;
  };
  document.addEventListener('keydown', onKey);
  window.addEventListener('hashchange', () => document.removeEventListener('keydown', onKey), { once: true });
}

/* Log a phone call: find the caller by client, pick the contact, a
 * subject, and the ticket is open with channel phone. */
export async function phoneView(app) {
  const clients = (await get('/api/v1/clients?limit=500')).items;
  const contactSel = select('requester_contact_id', [['', 'choose the client first']], '');
  const finder = h('input', { id: 'f-find', type: 'search', autocomplete: 'off', placeholder: 'name, e-mail or phone number', 'aria-controls': 'found' });
  const found = h('ul', { id: 'found', class: 'found plain', 'aria-live': 'polite' });
  const form = h('form', { class: 'card', novalidate: true },
    h('h1', {}, 'Log a phone call'),
    h('p', { class: 'alert', role: 'alert', hidden: true }),
    h('div', { class: 'field' }, h('label', { for: 'f-find' }, 'Find the caller'), finder,
      h('small', {}, 'type a few letters or digits; pick with Tab and Enter'), found),
    field('Client', select('client_id', [['', 'choose…'], ...clients.map((c) => [c.id, c.name])], '', { required: true })),
    field('Caller', contactSel),
    field('Subject', h('input', { name: 'subject', required: true, maxlength: 300 })),
    field('What they said', h('textarea', { name: 'description', rows: 5 })),
    field('Impact', select('impact', [['low', 'low'], ['medium', 'medium'], ['high', 'high']], 'medium')),
    field('Urgency', select('urgency', [['low', 'low'], ['medium', 'medium'], ['high', 'high']], 'medium')),
    h('button', { type: 'submit' }, 'Create ticket'));
  let draftCaller = '';
  try { draftCaller = JSON.parse(sessionStorage.getItem('itsup.draft.phone') || '{}').requester_contact_id || ''; } catch { /* none */ }
  const dropDraft = keepDraft(form, 'phone');
  let loading = 0;
  const loadContacts = async () => {
    const id = form.client_id.value, mine = ++loading;
    const cs = id ? (await get(`/api/v1/clients/${id}/contacts?limit=500`)).items : [];
    if (mine !== loading)
      return;   // the client changed again meanwhile
    mount(contactSel, [['', cs.length ? 'choose…' : '—'], ...cs.map((c) => [c.id, `${c.name}${c.phone ? ` (${c.phone})` : ''}`])]
      .map(([v, t]) => h('option', { value: v }, t)));
  };
  form.client_id.addEventListener('change', loadContacts);
  await loadContacts();
  if (draftCaller)
    form.requester_contact_id.value = draftCaller;   // its option exists only now
  // The caller found across clients: picking one fills client and caller.
  let timer = 0, asked = '';
  const pick = async (c) => {
    form.client_id.value = String(c.client_id);
    await loadContacts();
    form.requester_contact_id.value = String(c.id);
    form.dispatchEvent(new Event('input'));   // the draft keeps it
    mount(found);
    finder.value = '';
    form.subject.focus();
  };
  finder.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const q = finder.value.trim();
      asked = q;
      if (q.length < 2) {
        mount(found);
        return;
      }
      let items = [];
      try {
        items = (await get(`/api/v1/contacts${qs({ q, limit: 8 })}`)).items;
      } catch (err) {
        showErrors(form, err);
      }
      if (q !== asked)
        return;   // a newer search is on its way
      mount(found, items.length ? items.map((c) => h('li', {}, h('button', { type: 'button', class: 'secondary', onclick: () => pick(c) },
        `${c.name} — ${c.client_name || clients.find((x) => x.id === c.client_id)?.name || c.client_id}${c.phone ? ` · ${c.phone}` : ''}${c.email ? ` · ${c.email}` : ''}`)))
        : h('li', { class: 'muted' }, 'Nobody found.'));
    }, 150);
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const v = values(form);
    const body = { ...v, channel: 'phone' };
    if (body.client_id) body.client_id = Number(body.client_id);
    if (body.requester_contact_id) body.requester_contact_id = Number(body.requester_contact_id);
    try {
      const t = await post('/api/v1/tickets', body);
      dropDraft();
      location.hash = `#/tickets/${t.id}`;
    } catch (err) {
      showErrors(form, err);
    }
  });
  mount(app, form);
  finder.dataset.autofocus = '';
}
