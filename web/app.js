// app.js: the itsup UI. A hash router (#/tickets/12) over views that speak
// only the public API. Staff get the console, client roles the portal.
import { api, ApiError, get, onUnauthorized, post, session } from './api.js';
import { consoleView, phoneView } from './console.js';
import { dispatchView } from './dispatch.js';
import { mfaView } from './mfa.js';
import { portalNewView, portalView } from './portal.js';
import { ticketView } from './ticket.js';
import { clearErrors, field, h, mount, showErrors } from './ui.js';

const app = document.getElementById('app');
const STAFF = new Set(['admin', 'dispatcher', 'technician']);
/* Roles with at least one admin section (admin.js SECTIONS). */
const ADMIN_ROLES = new Set([...STAFF, 'client_admin']);
export const isStaff = () => STAFF.has(session.user?.role);

/* Each view draws into the root it is given; route() shows it once ready. */
const routes = [
  [/^#\/login$/, (m, root) => loginView(root)],
  [/^#\/tickets\/(\d+)$/, (m, root) => ticketView(root, Number(m[1]))],
  [/^#\/tickets$/, (m, root) => (isStaff() ? consoleView(root) : portalView(root))],
  [/^#\/phone$/, (m, root) => phoneView(root)],
  [/^#\/new$/, (m, root) => portalNewView(root)],
  [/^#\/dispatch$/, (m, root) => dispatchView(root)],
  [/^#\/mfa$/, (m, root) => mfaView(root)],
  // Monitoring: loaded when first opened too.
  [/^#\/devices$/, async (m, root) => (await import('./devices.js')).devicesView(root)],
  [/^#\/devices\/(\d+)$/, async (m, root) => (await import('./devices.js')).deviceView(root, Number(m[1]))],
  [/^#\/alerts$/, async (m, root) => (await import('./alerts.js')).alertsView(root)],
  // The dashboard and the SLA review (not for client users): loaded when first opened.
  [/^#\/dashboard$/, async (m, root) => (await import('./reports.js')).dashboardView(root)],
  [/^#\/reports$/, async (m, root) => (await import('./reports.js')).reportsView(root)],
  // The admin pages are loaded when first opened (the console stays light).
  [/^#\/admin(?:\/([a-z-]+)(?:\/(\d+|new))?)?$/, async (m, root) => (await import('./admin.js')).adminView(root, m[1], m[2])],
];

let shown = 0;

async function route() {
  const hash = location.hash || '#/tickets';
  if (hash !== '#/login' && !session.user) {
    try {
      session.user = await get('/api/v1/me');
    } catch {
      sessionStorage.setItem('itsup.after', hash);
      location.hash = '#/login';
      return;
    }
  }
  // Staff who still have to enrol an authenticator may do nothing else.
  if (session.user?.mfa_enrollment_required && hash !== '#/mfa') {
    location.hash = '#/mfa';
    return;
  }
  renderBar();
  const path = hash.split('?')[0];   // a view reads its own query (filters)
  for (const [re, view] of routes) {
    const m = path.match(re);
    if (m) {
      // Views load in the background; only the newest navigation is shown
      // (a slow page never replaces the one clicked after it).
      const gen = ++shown;
      const root = h('div', { class: 'view' });
      try {
        await view(m, root);
      } catch (err) {
        if (err instanceof ApiError && err.status === 401)
          return;
        mount(root, h('h1', {}, err.status === 404 ? 'Not found' : 'Something went wrong'),
          h('p', { class: 'alert', role: 'alert' }, err.message));
      }
      if (gen !== shown)
        return;
      app.replaceChildren(root);
      (root.querySelector('[data-autofocus]') || app).focus();
      return;
    }
  }
  location.hash = '#/tickets';
}

function renderBar() {
  const bar = document.getElementById('bar');
  const u = session.user;
  bar.hidden = !u;
  if (!u)
    return;
  const links = isStaff()
    ? [['#/tickets', 'Tickets'], ['#/dispatch', 'Dispatch'], ['#/phone', 'Log a call'], ['#/devices', 'Devices'], ['#/alerts', 'Alerts']]
    : [['#/tickets', 'My tickets'], ['#/new', 'New ticket'], ['#/devices', 'Devices']];
  // The dashboard and reports: staff, client admins and client IT (the
  // routes refuse client users).
  if (u.role !== 'client_user')
    links.push(['#/dashboard', 'Dashboard'], ['#/reports', 'Reports']);
  if (ADMIN_ROLES.has(u.role))
    links.push(['#/admin', u.role === 'client_admin' ? 'People' : 'Admin']);
  mount(document.getElementById('nav'), links.map(([href, text]) =>
    h('a', { href, 'aria-current': location.hash.startsWith(href) ? 'page' : null }, text)));
  document.getElementById('who').textContent = `${u.name} (${u.role})`;
}

function loginView(root) {
  session.user = null;
  renderBar();
  const form = h('form', { class: 'card narrow', novalidate: true },
    h('h1', {}, 'Log in'),
    h('p', { class: 'alert', role: 'alert', hidden: true }),
    field('E-mail', h('input', { name: 'email', type: 'email', autocomplete: 'username', required: true })),
    field('Password', h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
    h('div', { class: 'field totp', hidden: true },
      h('label', { for: 'f-totp' }, 'Authenticator code'),
      h('input', { id: 'f-totp', name: 'totp', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}' })),
    h('button', { type: 'submit' }, 'Log in'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const body = { email: form.email.value, password: form.password.value };
    if (form.totp.value)
      body.totp = form.totp.value;
    try {
      const r = await post('/api/v1/auth/login', body);
      session.csrf = r.csrf_token;
      session.user = { ...r.user, mfa_enrollment_required: r.mfa_enrollment_required };
      const after = sessionStorage.getItem('itsup.after');
      sessionStorage.removeItem('itsup.after');
      location.hash = after && after !== '#/login' ? after : '#/tickets';
    } catch (err) {
      if (err.problem?.type?.endsWith('/mfa-required')) {
        form.querySelector('.totp').hidden = false;
        form.totp.focus();
      }
      showErrors(form, err);
    }
  });
  mount(root, form);
  form.email.dataset.autofocus = '';
}

document.getElementById('logout').addEventListener('click', async () => {
  try { await api('POST', '/api/v1/auth/logout'); } catch { /* gone already */ }
  session.csrf = null;
  session.user = null;
  location.hash = '#/login';
});

// A session that ends mid-work returns to the login page; what was typed
// stays in the drafts (ui.js keepDraft) and the page comes back after.
onUnauthorized(() => {
  sessionStorage.setItem('itsup.after', location.hash);
  session.user = null;
  location.hash = '#/login';
});

window.addEventListener('hashchange', route);
route();
