// alerts.js: monitoring's alerts (#/alerts?status=open|resolved|all, and
// client_id=, device_id=):
// status, severity, device, check, value, since when, flapping,
// acknowledged, and the ticket each opened; staff acknowledge a firing
// alert (POST /api/v1/alerts/ID/ack). Also what the device pages share
// (devices.js): the alert table, values in their units, "5 min ago".
// Loaded when first opened, like the admin pages.
import { get, post, qs, serverNow } from './api.js';
import { isStaff } from './app.js';
import { clientName, clientNames, field, h, loadClientNames, mount, select, showErrors, span, values, when } from './ui.js';

/* The hash's query (#/alerts?status=all) as an object. */
export function hashQuery() {
  const i = location.hash.indexOf('?');
  return Object.fromEntries(new URLSearchParams(i < 0 ? '' : location.hash.slice(i + 1)));
}

/* "5 min ago" on the server's clock, the instant itself in the title. */
export function ago(iso) {
  if (!iso)
    return h('span', { class: 'muted' }, 'never');
  const ms = serverNow() - Date.parse(iso);
  return h('time', { datetime: iso, title: when(iso) }, ms < 60000 ? 'just now' : `${span(ms)} ago`);
}

/* Metric names in words (the agent's; others are shown as they are). */
const METRICS = {
  'cpu.percent': 'CPU', 'load.1': 'Load (1 min)', 'load.5': 'Load (5 min)', 'load.15': 'Load (15 min)',
  'processes.count': 'Processes', 'mem.used_percent': 'Memory used', 'mem.available_bytes': 'Memory available',
  'swap.used_percent': 'Swap used', 'uptime.seconds': 'Uptime', 'net.rx_bytes': 'Network received',
  'net.tx_bytes': 'Network sent', 'disk.used_percent': 'Disk used', 'disk.free_bytes': 'Disk free',
  'disk.inodes_used_percent': 'Inodes used', 'process.running': 'Process', 'heartbeat.age_seconds': 'Since last check-in',
};
export const metricName = (name) => METRICS[name] || name;

/* Labels as words: a mount or process name alone, else k=v. */
export function labelText(labels) {
  return Object.entries(labels || {}).map(([k, v]) => (k === 'mount' || k === 'name' ? v : `${k}=${v}`)).join(', ');
}

function bytes(v) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  for (; Math.abs(v) >= 1024 && i < units.length - 1; i++)
    v /= 1024;
  return `${v.toFixed(i && Math.abs(v) < 100 ? 1 : 0)} ${units[i]}`;
}

const num = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });

/* A reading in its unit, from the metric's name. */
export function metricValue(name, v) {
  if (v === null || v === undefined || Number.isNaN(Number(v)))
    return '—';
  v = Number(v);
  if (name === 'process.running')
    return v ? 'running' : 'not running';
  if (/[._]percent$/.test(name))
    return `${v.toFixed(Math.abs(v) < 10 ? 1 : 0)} %`;
  if (/bytes$/.test(name))
    return bytes(v);
  if (/[._]seconds$/.test(name))
    return v < 60 ? `${Math.round(v)} s` : span(v * 1000);
  return num.format(v);
}

/* The checks (for an alert's metric and threshold), cached a few minutes. */
let checks = new Map(), checksAt = 0;
export async function loadChecks() {
  if (Date.now() - checksAt < 5 * 60 * 1000)
    return;
  try {
    checks = new Map((await get('/api/v1/checks?limit=500')).items.map((c) => [c.id, c]));
  } catch { /* values are shown without their unit */ }
  checksAt = Date.now();
}

const STATUS_WORDS = { firing: 'firing', pending: 'pending', resolved: 'resolved', inactive: 'inactive' };

function since(a) {
  if (a.status === 'resolved')
    return [h('span', { class: 'muted' }, 'resolved '), ago(a.resolved_at)];
  return ago(a.status === 'pending' ? a.pending_since || a.created_at : a.firing_since || a.created_at);
}

function valueCell(a) {
  const c = checks.get(a.check_id);
  if (a.value === null || a.value === undefined)
    return '—';
  if (!c)
    return metricValue('', a.value);
  const limit = a.severity === 'critical' ? c.crit : c.warn;
  return [metricValue(c.metric, a.value),
    limit !== null && limit !== undefined ? h('small', { class: 'muted' }, ` ${c.op} ${metricValue(c.metric, limit)}`) : null];
}

function alertRow(a, opts) {
  const who = a.hostname || (a.device_id ? `device ${a.device_id}` : '');
  const what = labelText(Object.fromEntries(Object.entries(a.labels || {}).filter(([k]) => !['alertname', 'severity'].includes(k))));
  const ackCell = h('td', { class: 'ack' });
  if (a.acked)
    ackCell.append(h('span', { class: 'badge acked', title: a.acked_at ? `acknowledged ${when(a.acked_at)}` : null }, 'acknowledged'));
  else if (opts.staff && a.status === 'firing')
    ackCell.append(h('button', {
      type: 'button', class: 'secondary small', 'aria-label': `Acknowledge ${a.name}${who ? ` on ${who}` : ''}`,
      onclick: (ev) => opts.ack(a, ev.currentTarget),
    }, 'Acknowledge'));
  else
    ackCell.append(h('span', { class: 'muted' }, a.status === 'firing' ? 'not yet' : '—'));
  return h('tr', { 'data-alert': a.id, class: `al-${a.status}`, tabindex: -1 },
    h('td', {}, h('span', { class: `badge st-${a.status}` }, STATUS_WORDS[a.status] || a.status),
      a.in_maintenance ? [' ', h('span', { class: 'badge maint', title: 'in a maintenance window: no ticket' }, 'maintenance')] : null),
    h('td', {}, h('span', { class: `badge sev-${a.severity}` }, a.severity)),
    opts.client ? h('td', {}, clientName(a.client_id)) : null,
    opts.device ? h('td', {}, a.device_id ? h('a', { href: `#/devices/${a.device_id}` }, who) : h('span', { class: 'muted' }, who || '—')) : null,
    h('td', {}, h('strong', {}, a.name), what ? h('span', { class: 'muted' }, ` ${what}`) : null,
      a.summary ? h('div', { class: 'al-summary' }, a.summary) : null),
    h('td', { class: 'num' }, valueCell(a)),
    h('td', {}, since(a)),
    h('td', {}, a.flapping ? h('span', { class: 'badge flapping', title: 'changing state often: tickets wait until it settles' }, 'flapping') : h('span', { class: 'muted' }, 'no')),
    ackCell,
    h('td', {}, a.ticket_id ? h('a', { href: `#/tickets/${a.ticket_id}`, 'aria-label': `Ticket of ${a.name}${who ? ` on ${who}` : ''}` }, 'Ticket') : h('span', { class: 'muted' }, '—')));
}

/* The alerts as a table. opts: {client, device: show those columns;
 * label: the table's name; onChange(alert): after an acknowledgement}.
 * Problems (409: no longer firing) go to the element given as status. */
export function alertTable(items, opts = {}) {
  const staff = isStaff();
  const status = opts.status || h('p', { class: 'sr', role: 'status', 'aria-live': 'polite' });
  const row = (a) => alertRow(a, { ...opts, staff, ack });
  async function ack(a, button) {
    button.disabled = true;
    try {
      const done = await post(`/api/v1/alerts/${a.id}/ack`);
      const tr = row(done);
      button.closest('tr').replaceWith(tr);
      tr.focus();
      status.hidden = false;
      status.className = 'ok';
      status.setAttribute('role', 'status');
      status.textContent = `Acknowledged: ${done.name}${done.hostname ? ` on ${done.hostname}` : ''}.`;
      opts.onChange?.(done);
    } catch (err) {
      if (err.status === 401)
        return;
      button.disabled = false;
      status.hidden = false;
      status.className = 'alert';
      status.setAttribute('role', 'alert');
      status.textContent = `${a.name}${a.hostname ? ` on ${a.hostname}` : ''} was not acknowledged: ${err.message}`
        + (err.status === 409 ? ' Reload to see its state now.' : '');
    }
  }
  const cols = ['Status', 'Severity', opts.client && 'Client', opts.device && 'Device', 'Check', 'Value', 'Since',
    'Flapping', 'Acknowledged', 'Ticket'].filter(Boolean);
  const table = h('table', { class: 'alerts', 'aria-label': opts.label || 'Alerts' },
    h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, items.map(row)));
  return { table, status };
}

/* Runs fn every ms while root is shown and the tab is visible; stops once
 * root has gone (another page) or was never shown. */
export function every(root, ms, fn) {
  let waited = 0;
  const t = setInterval(() => {
    if (!root.isConnected) {
      if (root.dataset.shown || ++waited > 2)
        clearInterval(t);   // gone, or never shown (a newer page won)
      return;
    }
    root.dataset.shown = '1';
    if (!document.hidden)
      fn();
  }, ms);
}

const FILTERS = [['open', 'open (firing or pending)'], ['firing', 'firing'], ['pending', 'pending'], ['resolved', 'resolved'], ['all', 'all']];
const SEVERITY = { critical: 0, warning: 1 };

export async function alertsView(app) {
  const f = hashQuery();
  const staff = isStaff();
  const st = f.status || 'open';
  const query = () => get(`/api/v1/alerts${qs({ status: st, client_id: f.client_id, device_id: f.device_id, limit: 500 })}`);
  let list = null, failed = null;
  await Promise.all([query().then((x) => { list = x; }, (err) => { failed = err; }),
    staff ? loadClientNames() : null, loadChecks()]);
  const form = h('form', { class: 'filters', role: 'search' },
    field('Show', select('status', FILTERS, st)),
    staff ? field('Client', select('client_id', [['', 'any'], ...clientNames()], f.client_id)) : null,
    f.device_id ? h('input', { type: 'hidden', name: 'device_id', value: f.device_id }) : null,
    h('button', { type: 'submit' }, 'Filter'),
    f.device_id ? h('p', { class: 'only' }, 'One device only. ', h('a', { href: `#/alerts${qs({ status: st })}` }, 'Show every device')) : null,
    h('p', { class: 'alert', role: 'alert', hidden: true }));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    location.hash = `#/alerts${qs(values(form))}`;
  });
  if (failed) {
    if (failed.status === 401)
      throw failed;
    showErrors(form, failed);
    mount(app, h('h1', {}, 'Alerts'), form);
    return;
  }
  const status = h('p', { class: 'ok', role: 'status', hidden: true });
  const results = h('div', { class: 'results' });
  const draw = (l) => {
    // Open alerts: what needs someone first (firing, critical, not
    // acknowledged), then the newest.
    const items = st === 'resolved' || st === 'all' ? l.items : l.items.slice().sort((a, b) =>
      (a.status !== 'firing') - (b.status !== 'firing') || SEVERITY[a.severity] - SEVERITY[b.severity]
      || a.acked - b.acked || Date.parse(b.firing_since || b.created_at) - Date.parse(a.firing_since || a.created_at));
    const firing = items.filter((a) => a.status === 'firing');
    const { table } = alertTable(items, { client: staff, device: true, status, label: 'Alerts' });
    mount(results,
      h('p', { class: 'muted' }, `${items.length} alert${items.length === 1 ? '' : 's'}`,
        firing.length ? `; ${firing.length} firing, ${firing.filter((a) => !a.acked).length} not acknowledged` : '',
        l.next_cursor ? ' (the first 500 shown)' : ''),
      items.length ? table : h('p', { class: 'empty' }, st === 'open' ? 'Nothing is firing.' : 'No alerts match.'));
  };
  draw(list);
  mount(app, h('h1', {}, 'Alerts'), form, status, results);
  // Kept current while shown, unless someone is working in the list.
  every(app, 60000, async () => {
    if (results.contains(document.activeElement) && document.activeElement !== results)
      return;
    try { draw(await query()); } catch { /* the next round tries again */ }
  });
}
