// admin.js: the admin pages (#/admin/SECTION[/ID]). Each section is a row
// of SECTIONS: its API path, who may open it, the columns of its list and
// the fields of its form. Simple resources (clients, contacts, users,
// contracts) are drawn from their field table by resourcePage(); the ones
// with structured values (calendars, SLA policies, triage rules) have their
// own editors in admin-sla.js and admin-rules.js but the same shape: a list,
// an edit form that sends only what changed (with If-Match), problems shown
// at the member they name. The mail pages (intake, templates, webhooks, the
// outbox) are admin-mail.js, loaded when one of them is first opened; the
// report schedules likewise admin-reports.js.
import { api, get, session } from './api.js';
import { calendarEdit, calendarList, contractFields, policyEdit, policyList } from './admin-sla.js';
import { ruleEdit, ruleList } from './admin-rules.js';
import { clearErrors, field, h, mount, partOfPage, select, showErrors, when } from './ui.js';

const ROLES = ['admin', 'dispatcher', 'technician', 'client_admin', 'client_user', 'client_it'];
const CLIENT_ROLES = ['client_admin', 'client_user', 'client_it'];
const LEVELS = ['low', 'medium', 'high'];
const PRIOS = ['P1', 'P2', 'P3', 'P4'];

/* Options for pickers, loaded once per page. */
export async function clientOptions() {
  return (await get('/api/v1/clients?limit=500')).items.map((c) => [c.id, c.name]);
}

const clientFields = () => [
  { name: 'name', label: 'Name', kind: 'text', required: true },
  { name: 'timezone', label: 'Time zone', kind: 'tz', hint: 'IANA name, e.g. America/New_York' },
  { name: 'email_domain', label: 'E-mail domain', kind: 'text', nullable: true, hint: 'mail from this domain belongs to this client' },
  { name: 'auto_close_days', label: 'Close resolved tickets after (days)', kind: 'number' },
  { name: 'portal_org_visibility', label: 'Client users see their whole organisation\'s tickets', kind: 'bool' },
  { name: 'active', label: 'Active', kind: 'bool', only: 'edit' },
  { name: 'priority_matrix', label: 'Priority matrix (impact × urgency)', kind: 'matrix' },
  { name: 'notes', label: 'Notes', kind: 'textarea', nullable: true },
];

const contactFields = () => [
  { name: 'name', label: 'Name', kind: 'text', required: true },
  { name: 'email', label: 'E-mail', kind: 'email', nullable: true },
  { name: 'phone', label: 'Phone', kind: 'text', nullable: true },
  { name: 'title', label: 'Title', kind: 'text', nullable: true },
];

const userFields = (clients) => {
  const roles = session.user.role === 'admin' ? ROLES : CLIENT_ROLES;
  return [
    { name: 'name', label: 'Name', kind: 'text', required: true },
    { name: 'email', label: 'E-mail', kind: 'email', required: true },
    { name: 'role', label: 'Role', kind: 'select', options: roles.map((r) => [r, r.replace('_', ' ')]) },
    { name: 'tier', label: 'Tier (technicians)', kind: 'select', num: true, nullable: true, options: [['', '—'], [1, '1'], [2, '2'], [3, '3']] },
    { name: 'client_id', label: 'Client (client roles)', kind: 'select', num: true, nullable: true, options: [['', '— provider staff —'], ...clients] },
    { name: 'password', label: 'Password', kind: 'password', hint: 'at least 12 characters; leave empty to keep it' },
    { name: 'active', label: 'Active', kind: 'bool', only: 'edit' },
    { name: 'mfa_reset', label: 'Reset their authenticator (they enrol again)', kind: 'bool', only: 'edit', action: true },
  ];
};

/* ---- fields: a value into an input, an input back into JSON --------------- */

function tzList() {
  let zones = [];
  try { zones = Intl.supportedValuesOf('timeZone'); } catch { /* older browsers: free text */ }
  return h('datalist', { id: 'tz-list' }, zones.map((z) => h('option', { value: z })));
}

function matrixInput(f, v) {
  const custom = !!v;
  const table = h('table', { class: 'matrix', 'aria-label': f.label },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'impact \\ urgency'), LEVELS.slice().reverse().map((u) => h('th', { scope: 'col' }, u)))),
    h('tbody', {}, LEVELS.slice().reverse().map((i) => h('tr', {}, h('th', { scope: 'row' }, i),
      LEVELS.slice().reverse().map((u) => h('td', {}, select(`${f.name}.${i}.${u}`, PRIOS.map((p) => [p, p]),
        v?.[i]?.[u] ?? defaultPriority(i, u), { 'aria-label': `impact ${i}, urgency ${u}`, disabled: !custom })))))));
  const box = h('input', { type: 'checkbox', name: f.name, checked: custom });
  box.addEventListener('change', () => table.querySelectorAll('select').forEach((s) => { s.disabled = !box.checked; }));
  return h('fieldset', { class: 'field' }, h('legend', {}, f.label),
    h('label', { class: 'check' }, box, 'this client has its own matrix (else the standard one)'), table);
}

function defaultPriority(impact, urgency) {
  const score = LEVELS.indexOf(impact) + LEVELS.indexOf(urgency);
  return ['P4', 'P4', 'P3', 'P2', 'P1'][score];
}

export function renderField(f, v) {
  const attrs = { name: f.name, required: f.required, ...(f.attrs || {}) };
  switch (f.kind) {
    case 'bool':
      return h('label', { class: 'check field' }, h('input', { type: 'checkbox', ...attrs, checked: f.action ? false : !!v }), f.label);
    case 'select':
      return field(f.label, select(f.name, f.options, v ?? '', attrs), f.hint);
    case 'textarea':
      return field(f.label, h('textarea', { ...attrs, rows: f.rows || 3 }, v ?? ''), f.hint);
    case 'matrix':
      return matrixInput(f, v);
    case 'tz':
      return field(f.label, h('input', { ...attrs, value: v ?? '', list: 'tz-list', autocomplete: 'off' }), f.hint);
    case 'password':
      return field(f.label, h('input', { ...attrs, type: 'password', autocomplete: 'new-password' }), f.hint);
    default:
      return field(f.label, h('input', { ...attrs, type: f.kind === 'number' ? 'number' : f.kind === 'email' ? 'email' : f.kind === 'date' ? 'date' : 'text', value: v ?? '' }), f.hint);
  }
}

/* The JSON value of a field's input; undefined when it says nothing. */
export function readField(form, f) {
  const el = form.elements.namedItem(f.name);
  if (f.kind === 'bool')
    return el.checked;
  if (f.kind === 'matrix') {
    if (!el.checked)
      return null;
    const m = {};
    for (const i of LEVELS) {
      m[i] = {};
      for (const u of LEVELS)
        m[i][u] = form.elements.namedItem(`${f.name}.${i}.${u}`).value;
    }
    return m;
  }
  const raw = f.kind === 'password' ? el.value : el.value.trim();
  if (raw === '')
    return f.nullable ? null : undefined;
  return f.kind === 'number' || f.num ? Number(raw) : raw;
}

/* The body to send: on create every field that says something; on edit
 * only what differs from the item (so a PATCH touches nothing else). */
export function bodyOf(form, fields, item) {
  const body = {};
  for (const f of fields) {
    if (f.only && f.only !== (item ? 'edit' : 'create'))
      continue;
    const v = readField(form, f);
    if (v === undefined || (f.action && v === false))
      continue;
    if (!item) {
      if (v !== null && !(f.kind === 'bool' && v === false && !f.keepFalse))
        body[f.name] = v;
    } else if (JSON.stringify(v) !== JSON.stringify(item[f.name] ?? null) || f.action)
      body[f.name] = v;
  }
  return body;
}

/* A form for a resource: POST to create or PATCH with the ETag it was read
 * with; then after(saved), or (no after) "Saved." and stay. */
export function resourceForm({ title, fields, item, etag, createPath, itemPath, after, extra = {} }) {
  const form = h('form', { class: 'card', novalidate: true },
    h('h2', {}, title),
    h('p', { class: 'alert', role: 'alert', hidden: true }),
    h('p', { class: 'ok', role: 'status', hidden: true }),
    fields.filter((f) => !f.only || f.only === (item ? 'edit' : 'create')).map((f) => renderField(f, item?.[f.name])),
    h('button', { type: 'submit' }, item ? 'Save' : 'Create'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const ok = form.querySelector('.ok');
    ok.hidden = true;
    const body = { ...extra, ...bodyOf(form, fields, item) };
    if (item && !Object.keys(body).length) {
      ok.textContent = 'Nothing changed.';
      ok.hidden = false;
      return;
    }
    try {
      const r = item ? await api('PATCH', itemPath(item.id), body, { 'If-Match': etag }) : await api('POST', createPath, body);
      if (after) {
        after(r.data);
        return;
      }
      // Stays on the page: the next save is against what was just saved.
      Object.assign(item, r.data);
      etag = r.etag;
      ok.textContent = 'Saved.';
      ok.hidden = false;
    } catch (err) {
      showErrors(form, err);
    }
  });
  return form;
}

/* ---- the sections --------------------------------------------------------- */

const STAFF_WRITE = ['admin', 'dispatcher'];
/* A view of admin-mail.js, loaded when first called. */
const mailView = (name) => async (...args) => (await import('./admin-mail.js'))[name](...args);
/* ... and of admin-reports.js (report schedules). */
const reportView = (name) => async (...args) => (await import('./admin-reports.js'))[name](...args);
const SECTIONS = [
  { key: 'clients', title: 'Clients', who: ['admin', 'dispatcher', 'technician'], list: clientList, edit: clientEdit },
  { key: 'users', title: 'Users and roles', who: ['admin', 'client_admin'], list: userList, edit: userEdit },
  { key: 'calendars', title: 'Calendars', who: ['admin', 'dispatcher', 'technician'], list: calendarList, edit: calendarEdit },
  { key: 'sla-policies', title: 'SLA policies', who: ['admin', 'dispatcher', 'technician'], list: policyList, edit: policyEdit },
  { key: 'contracts', title: 'Contracts', who: ['admin', 'dispatcher'], list: contractList, edit: contractEdit },
  { key: 'triage-rules', title: 'Triage rules', who: ['admin', 'dispatcher', 'technician'], list: ruleList, edit: ruleEdit },
  { key: 'security', title: 'Security', who: ['admin'], list: securityPage },
  // Mail: the intake log and held mail are the dispatchers' too (routes.c:
  // P_DISPATCH); the intake settings, routes, templates, webhooks and the
  // outbox are admin-only (P_ADMIN).
  { key: 'mail', title: 'Mail', who: ['admin', 'dispatcher'], list: mailView('mailPage') },
  { key: 'templates', title: 'Templates', who: ['admin'], list: mailView('templateList'), edit: mailView('templateEdit') },
  { key: 'webhooks', title: 'Webhooks', who: ['admin'], list: mailView('webhookList'), edit: mailView('webhookEdit') },
  { key: 'outbox', title: 'Outbox', who: ['admin'], list: mailView('outboxPage') },
  // The SLA review mailed by itself (routes.c: P_ADMIN).
  { key: 'report-schedules', title: 'Report schedules', who: ['admin'], list: reportView('scheduleList'), edit: reportView('scheduleEdit') },
  { key: 'contacts', hidden: true, who: ['admin', 'dispatcher', 'technician', 'client_admin'], edit: contactEdit },
];

export const mayWrite = (roles = STAFF_WRITE) => roles.includes(session.user?.role);
export const adminSections = () => SECTIONS.filter((s) => !s.hidden && s.who.includes(session.user?.role));

export async function adminView(app, section, id) {
  const sections = adminSections();
  const s = SECTIONS.find((x) => x.key === section) || sections[0];
  if (!s || !s.who.includes(session.user?.role)) {
    mount(app, h('h1', {}, 'Admin'), h('p', { class: 'alert', role: 'alert' }, 'Your role cannot open this page.'));
    return;
  }
  const tabs = h('nav', { class: 'tabs', 'aria-label': 'Admin sections' }, sections.map((x) =>
    h('a', { href: `#/admin/${x.key}`, 'aria-current': x === s ? 'page' : null }, x.title)));
  const body = h('div', {});
  mount(app, h('h1', {}, 'Admin'), tabs, body, tzList());
  const go = (path) => { location.hash = path; };
  if (id !== undefined && s.edit)
    await s.edit(body, id === 'new' ? null : Number(id), go);
  else
    await s.list(body, go);
}

/* A list page: a table of items, each linking to its page, and "New". */
export function listPage(root, { title, noun, items, cols, href, newHref, empty = 'None yet.' }) {
  mount(root, h('div', { class: 'list-head' }, h('h2', {}, title),
    newHref ? h('a', { class: 'button', href: newHref }, `New ${noun}`) : null),
  items.length ? h('table', { class: 'admin-list' },
    h('thead', {}, h('tr', {}, cols.map(([c]) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, items.map((it) => h('tr', {}, cols.map(([, fn], i) =>
      h('td', {}, i === 0 ? h('a', { href: href(it) }, String(fn(it))) : fn(it)))))))
    : h('p', { class: 'empty' }, empty));
}

/* GET an item with its ETag. */
export async function fetchItem(path) {
  const r = await api('GET', path);
  return { item: r.data, etag: r.etag };
}

async function clientList(root) {
  const items = (await get('/api/v1/clients?limit=500')).items;
  listPage(root, {
    title: 'Clients', noun: 'client', items, href: (c) => `#/admin/clients/${c.id}`,
    newHref: mayWrite() ? '#/admin/clients/new' : null,
    cols: [['Name', (c) => c.name], ['Time zone', (c) => c.timezone], ['Domain', (c) => c.email_domain || '—'],
      ['Active', (c) => (c.active ? 'yes' : 'no')]],
  });
}

async function clientEdit(root, id, go) {
  if (id === null) {
    mount(root, resourceForm({ title: 'New client', fields: clientFields(), createPath: '/api/v1/clients',
      after: (c) => go(`#/admin/clients/${c.id}`) }));
    return;
  }
  const { item, etag } = await fetchItem(`/api/v1/clients/${id}`);
  const contacts = (await get(`/api/v1/clients/${id}/contacts?limit=500`)).items;
  mount(root,
    mayWrite() ? resourceForm({ title: item.name, fields: clientFields(), item, etag, itemPath: (i) => `/api/v1/clients/${i}` })
      : h('div', { class: 'card' }, h('h2', {}, item.name), h('p', {}, `${item.timezone}; ${item.email_domain || 'no domain'}`)),
    contactsSection(id, contacts));
}

/* The client's contacts and "Add a contact". A new contact redraws this
 * section only: the client form above keeps what is typed in it. */
function contactsSection(clientId, contacts) {
  const section = h('section', { class: 'card', 'aria-label': 'Contacts' },
    h('h2', {}, `Contacts (${contacts.length})`),
    contacts.length ? h('table', { class: 'admin-list' },
      h('thead', {}, h('tr', {}, ['Name', 'E-mail', 'Phone', 'Title'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, contacts.map((c) => h('tr', {},
        h('td', {}, h('a', { href: `#/admin/contacts/${c.id}` }, c.name)), h('td', {}, c.email || '—'),
        h('td', {}, c.phone || '—'), h('td', {}, c.title || '—')))))
      : h('p', { class: 'empty' }, 'No contacts yet.'),
    resourceForm({ title: 'Add a contact', fields: contactFields(), createPath: `/api/v1/clients/${clientId}/contacts`,
      after: async () => {
        const now = (await get(`/api/v1/clients/${clientId}/contacts?limit=500`)).items;
        const next = partOfPage(() => contactsSection(clientId, now));
        section.replaceWith(next);
        next.querySelector('input[name="name"]')?.focus();   // ready for the next one
      } }));
  return section;
}

async function contactEdit(root, id, go) {
  const { item, etag } = await fetchItem(`/api/v1/contacts/${id}`);
  mount(root, h('p', {}, h('a', { href: `#/admin/clients/${item.client_id}` }, '← the client')),
    resourceForm({ title: item.name, fields: contactFields(), item, etag, itemPath: (i) => `/api/v1/contacts/${i}`,
      after: () => go(`#/admin/clients/${item.client_id}`) }));
}

async function userList(root) {
  const [users, clients] = await Promise.all([get('/api/v1/users?limit=500'), clientOptions()]);
  const cname = new Map(clients);
  listPage(root, {
    title: 'Users', noun: 'user', items: users.items, href: (u) => `#/admin/users/${u.id}`, newHref: '#/admin/users/new',
    cols: [['Name', (u) => u.name], ['E-mail', (u) => u.email], ['Role', (u) => u.role.replace('_', ' ')],
      ['Tier', (u) => (u.tier ? String(u.tier) : '—')], ['Client', (u) => (u.client_id ? cname.get(u.client_id) || String(u.client_id) : '—')],
      ['MFA', (u) => (u.mfa_enabled ? 'on' : 'off')], ['Active', (u) => (u.active ? 'yes' : 'no')]],
  });
}

async function userEdit(root, id, go) {
  const clients = await clientOptions();
  const fields = userFields(clients);
  if (id === null) {
    mount(root, resourceForm({ title: 'New user', fields, createPath: '/api/v1/users', after: (u) => go(`#/admin/users/${u.id}`) }));
    return;
  }
  const { item, etag } = await fetchItem(`/api/v1/users/${id}`);
  mount(root, resourceForm({ title: `${item.name} (${item.email})`, fields, item, etag,
    itemPath: (i) => `/api/v1/users/${i}`, after: () => go('#/admin/users') }),
  h('p', { class: 'muted' }, `Created ${when(item.created_at)}; authenticator ${item.mfa_enabled ? 'enrolled' : 'not enrolled'}.`));
}

async function contractList(root) {
  const [list, clients] = await Promise.all([get('/api/v1/contracts?limit=500'), clientOptions()]);
  const cname = new Map(clients);
  listPage(root, {
    title: 'Contracts', noun: 'contract', items: list.items, href: (c) => `#/admin/contracts/${c.id}`,
    newHref: session.user.role === 'admin' ? '#/admin/contracts/new' : null,
    cols: [['Name', (c) => c.name], ['Client', (c) => cname.get(c.client_id) || String(c.client_id)],
      ['Model', (c) => c.model.replace('_', ' ')], ['SLA policy', (c) => (c.sla_policy_id ? String(c.sla_policy_id) : 'provider default')],
      ['From', (c) => c.starts_on], ['Until', (c) => c.ends_on || 'open-ended']],
  });
}

async function contractEdit(root, id, go) {
  const [clients, policies] = await Promise.all([clientOptions(), get('/api/v1/sla-policies?limit=500')]);
  const fields = contractFields(clients, policies.items.map((p) => [p.id, p.name]));
  if (id === null) {
    mount(root, resourceForm({ title: 'New contract', fields, createPath: '/api/v1/contracts', after: () => go('#/admin/contracts') }));
    return;
  }
  const { item, etag } = await fetchItem(`/api/v1/contracts/${id}`);
  mount(root, resourceForm({ title: item.name, fields, item, etag, itemPath: (i) => `/api/v1/contracts/${i}`, after: () => go('#/admin/contracts') }));
}

/* Security: whether staff must use an authenticator. */
async function securityPage(root) {
  const s = await get('/api/v1/settings');
  const form = h('form', { class: 'card', novalidate: true },
    h('h2', {}, 'Security'),
    h('p', { class: 'alert', role: 'alert', hidden: true }),
    h('p', { class: 'ok', role: 'status', hidden: true }),
    h('label', { class: 'check field' }, h('input', { type: 'checkbox', name: 'mfa_required_for_staff', checked: s.mfa_required_for_staff }),
      'Provider staff must use an authenticator (TOTP); those without one enrol at their next login'),
    h('button', { type: 'submit' }, 'Save'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    try {
      const r = await api('PATCH', '/api/v1/settings', { mfa_required_for_staff: form.mfa_required_for_staff.checked });
      const ok = form.querySelector('.ok');
      ok.textContent = `Saved: authenticators ${r.data.mfa_required_for_staff ? 'required' : 'optional'} for staff.`;
      ok.hidden = false;
    } catch (err) {
      showErrors(form, err);
    }
  });
  mount(root, form);
}

