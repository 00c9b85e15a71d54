// devices.js: monitoring's devices. The list (#/devices?client_id=&status=)
// with each device's client, OS, online / offline, last check-in and its
// key readings (CPU, memory, the fullest disk) and open alerts; a device
// (#/devices/ID?range=24h|7d): details, open alerts, charts of the main
// metrics (SVG drawn by the server, GET .../chart.svg, as images: same
// origin, so the session cookie goes along), the latest readings and the
// inventory. Client roles see their own devices, read-only (the API's
// scope). Loaded when first opened.
import { get, qs } from './api.js';
import { isStaff } from './app.js';
import { ago, alertTable, every, hashQuery, labelText, loadChecks, metricName, metricValue } from './alerts.js';
import { clientName, clientNames, field, h, loadClientNames, mount, select, showErrors, values, when } from './ui.js';

const statusBadge = (d) => h('span', { class: `badge dev-${d.status}` }, d.active === false ? 'retired' : d.status);

const latest = (d, name, labels) => (d.metrics || []).find((m) => m.name === name
  && (!labels || Object.entries(labels).every(([k, v]) => m.labels?.[k] === v)));

/* A percentage cell, amber from 80, red from 90. */
function pct(m, extra) {
  if (!m)
    return h('span', { class: 'muted' }, '—');
  const v = Number(m.value);
  return h('span', { class: v >= 90 ? 'lvl-bad' : v >= 80 ? 'lvl-warn' : null, title: `at ${when(m.at)}` },
    metricValue(m.name, v), extra ? h('small', { class: 'muted' }, ` ${extra}`) : null);
}

/* The fullest disk, with its mount. */
function disk(d) {
  const ds = (d.metrics || []).filter((m) => m.name === 'disk.used_percent');
  if (!ds.length)
    return pct(null);
  const m = ds.reduce((a, b) => (Number(b.value) > Number(a.value) ? b : a));
  return pct(m, m.labels?.mount);
}

function alertBadge(list) {
  if (!list?.length)
    return h('span', { class: 'muted' }, 'none');
  const crit = list.some((a) => a.severity === 'critical' && a.status === 'firing');
  return h('span', { class: `badge sev-${crit ? 'critical' : 'warning'}` }, `${list.length} open`);
}

export async function devicesView(app) {
  const f = hashQuery();
  const staff = isStaff();
  const query = () => Promise.all([
    get(`/api/v1/devices${qs({ client_id: f.client_id, status: f.status, limit: 500 })}`),
    get(`/api/v1/alerts${qs({ status: 'open', client_id: f.client_id, limit: 500 })}`).catch(() => ({ items: [] }))]);
  let data = null, failed = null;
  await Promise.all([query().then((x) => { data = x; }, (err) => { failed = err; }), staff ? loadClientNames() : null]);
  const form = h('form', { class: 'filters', role: 'search' },
    field('Host name', h('input', { name: 'q', type: 'search', value: f.q || '', placeholder: 'part of the name or OS' })),
    staff ? field('Client', select('client_id', [['', 'any'], ...clientNames()], f.client_id)) : null,
    field('Status', select('status', [['', 'any'], ['online', 'online'], ['offline', 'offline']], f.status)),
    h('button', { type: 'submit' }, 'Filter'),
    h('p', { class: 'alert', role: 'alert', hidden: true }));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    location.hash = `#/devices${qs(values(form))}`;
  });
  if (failed) {
    if (failed.status === 401)
      throw failed;
    showErrors(form, failed);
    mount(app, h('h1', {}, 'Devices'), form);
    return;
  }
  const results = h('div', { class: 'results' });
  const draw = ([list, alerts]) => {
    const q = (f.q || '').trim().toLowerCase();
    const items = list.items.filter((d) => !q || `${d.hostname} ${d.os || ''}`.toLowerCase().includes(q))
      .sort((a, b) => (a.status === 'offline') - (b.status === 'offline') || a.hostname.localeCompare(b.hostname));
    const open = new Map();
    for (const a of alerts.items)
      if (a.device_id)
        open.set(a.device_id, [...(open.get(a.device_id) || []), a]);
    const offline = items.filter((d) => d.status === 'offline').length;
    const table = h('table', { class: 'devices', 'aria-label': 'Devices' },
      h('thead', {}, h('tr', {}, ['Device', staff && 'Client', 'OS', 'Status', 'Last seen', 'CPU', 'Memory', 'Disk', 'Alerts']
        .filter(Boolean).map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, items.map((d) => h('tr', { 'data-device': d.id },
        h('td', {}, h('a', { href: `#/devices/${d.id}` }, d.hostname || `device ${d.id}`)),
        staff ? h('td', {}, clientName(d.client_id)) : null,
        h('td', {}, d.os || h('span', { class: 'muted' }, '—')),
        h('td', {}, statusBadge(d)),
        h('td', {}, ago(d.last_seen_at)),
        h('td', { class: 'num' }, pct(latest(d, 'cpu.percent'))),
        h('td', { class: 'num' }, pct(latest(d, 'mem.used_percent'))),
        h('td', { class: 'num' }, disk(d)),
        h('td', {}, alertBadge(open.get(d.id)))))));
    mount(results,
      h('p', { class: 'muted' }, `${items.length} device${items.length === 1 ? '' : 's'}`,
        offline ? `, ${offline} offline` : '', open.size ? `, ${open.size} with open alerts` : '',
        list.next_cursor ? ' (the first 500 shown)' : ''),
      items.length ? table : h('p', { class: 'empty' }, list.items.length || q ? 'No devices match.'
        : staff ? 'No devices yet. Install itsup-agent with an enrolment token of the client (docs/OPERATIONS.md).'
          : 'No devices yet.'));
  };
  draw(data);
  mount(app, h('h1', {}, 'Devices'), form, results);
  every(app, 60000, async () => {
    if (results.contains(document.activeElement))
      return;
    try { draw(await query()); } catch { /* the next round tries again */ }
  });
}

/* ---- one device ------------------------------------------------------------ */

/* The charts a device gets: these metrics, when it reports them (a disk
 * chart for every mount). */
const CHARTS = ['cpu.percent', 'mem.used_percent', 'swap.used_percent', 'load.1', 'disk.used_percent'];
const RANGES = { '24h': 'the last 24 hours', '7d': 'the last 7 days' };

function chartUrl(id, m, range) {
  const labels = Object.keys(m.labels || {}).length ? JSON.stringify(m.labels) : '';
  return `/api/v1/devices/${id}/chart.svg${qs({ metric: m.name, labels, range })}`;
}

function charts(d, range) {
  const series = CHARTS.flatMap((name) => (d.metrics || []).filter((m) => m.name === name)
    .sort((a, b) => labelText(a.labels).localeCompare(labelText(b.labels))));
  const figures = series.map((m) => {
    const title = `${metricName(m.name)}${labelText(m.labels) ? ` ${labelText(m.labels)}` : ''}`;
    const img = h('img', { src: chartUrl(d.id, m, range), width: 640, height: 180, alt: `${title} over ${RANGES[range]}` });
    img.addEventListener('error', () => img.replaceWith(h('p', { class: 'empty' }, 'The chart could not be loaded.')));
    return { m, title, img, fig: h('figure', { class: 'chart' }, h('figcaption', {}, title), img) };
  });
  const buttons = Object.keys(RANGES).map((r) => h('button', {
    type: 'button', class: 'secondary', 'aria-pressed': String(r === range), 'data-range': r,
    onclick: () => {
      range = r;
      for (const b of buttons)
        b.setAttribute('aria-pressed', String(b.dataset.range === r));
      for (const x of figures) {
        x.img.src = chartUrl(d.id, x.m, r);
        x.img.alt = `${x.title} over ${RANGES[r]}`;
      }
      // The address keeps the choice (no new page: replaceState).
      history.replaceState(null, '', `#/devices/${d.id}${r === '24h' ? '' : `?range=${r}`}`);
    },
  }, r === '24h' ? '24 hours' : '7 days'));
  return h('section', { 'aria-labelledby': 'charts' },
    h('div', { class: 'list-head' }, h('h2', { id: 'charts' }, 'Charts'),
      series.length ? h('div', { class: 'range', role: 'group', 'aria-label': 'Time range' }, buttons) : null),
    series.length ? h('p', { class: 'muted' }, 'The average per minute (24 hours) or per hour (7 days) up to the last full one, '
      + 'the band from the lowest to the highest reading; the time axis in UTC.') : null,
    series.length ? h('div', { class: 'charts' }, figures.map((x) => x.fig))
      : h('p', { class: 'empty' }, 'No readings yet.'));
}

function readings(d) {
  const ms = (d.metrics || []).slice().sort((a, b) => a.name.localeCompare(b.name)
    || labelText(a.labels).localeCompare(labelText(b.labels)));
  return h('section', { 'aria-labelledby': 'readings' },
    h('h2', { id: 'readings' }, 'Latest readings'),
    ms.length ? h('table', { class: 'readings', 'aria-label': 'Latest readings' },
      h('thead', {}, h('tr', {}, ['Metric', 'Of', 'Value', 'At'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, ms.map((m) => h('tr', {},
        h('td', {}, metricName(m.name), metricName(m.name) !== m.name ? h('small', { class: 'muted' }, ` ${m.name}`) : null),
        h('td', {}, labelText(m.labels)),
        h('td', { class: 'num' }, metricValue(m.name, m.value)),
        h('td', {}, ago(m.at))))))
      : h('p', { class: 'empty' }, 'No readings yet.'));
}

/* ---- the inventory: any JSON, drawn as lists and tables ---------------------- */

/* A key in words: "cpu_model" -> "CPU model", "memory_bytes" -> "Memory"
 * (its value says the unit). */
const ACRONYMS = /\b(os|cpu|ip|mac|id|uuid|bios|dns|url|ram)\b/g;
const words = (k) => (k.replace(/_bytes$/, '').replace(/_/g, ' ').replace(ACRONYMS, (w) => w.toUpperCase())
  .replace(/^./, (c) => c.toUpperCase())) || k;

function leaf(key, v) {
  if (v === null || v === undefined || v === '')
    return h('span', { class: 'muted' }, '—');
  if (typeof v === 'boolean')
    return v ? 'yes' : 'no';
  if (typeof v === 'number')
    return /bytes$/.test(key) ? metricValue(key, v) : String(v);
  return String(v);
}

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

function pretty(key, v) {
  if (Array.isArray(v)) {
    if (!v.length)
      return h('span', { class: 'muted' }, 'none');
    if (v.every(isObj)) {
      const cols = [...new Set(v.flatMap((o) => Object.keys(o)))];
      return h('details', { open: true }, h('summary', {}, `${v.length} ${v.length === 1 ? 'entry' : 'entries'}`),
        h('table', { class: 'inv-table', 'aria-label': words(key) },
          h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col' }, words(c))))),
          h('tbody', {}, v.map((o) => h('tr', {}, cols.map((c) => h('td', {}, pretty(c, o[c]))))))));
    }
    if (v.length > 8)
      return h('details', {}, h('summary', {}, `${v.length} entries`),
        h('ul', { class: 'inv-list' }, v.map((x) => h('li', {}, pretty(key, x)))));
    return h('ul', { class: 'inv-list' }, v.map((x) => h('li', {}, pretty(key, x))));
  }
  if (isObj(v)) {
    const keys = Object.keys(v);
    if (!keys.length)
      return h('span', { class: 'muted' }, 'none');
    return h('details', { open: keys.length <= 8 }, h('summary', {}, `${keys.length} field${keys.length === 1 ? '' : 's'}`), dl(v));
  }
  return leaf(key, v);
}

const dl = (o) => h('dl', { class: 'details inv' }, Object.entries(o).map(([k, v]) => [h('dt', {}, words(k)), h('dd', {}, pretty(k, v))]));

function inventory(d) {
  const inv = d.inventory;
  return h('section', { 'aria-labelledby': 'inv' },
    h('h2', { id: 'inv' }, 'Inventory'),
    isObj(inv) && Object.keys(inv).length
      ? h('details', { class: 'inventory', open: true },
        h('summary', {}, d.inventory_at ? `As the agent reported it ${when(d.inventory_at)}` : 'As the agent reported it'),
        dl(inv),
        h('details', { class: 'raw' }, h('summary', {}, 'As JSON'), h('pre', {}, JSON.stringify(inv, null, 2))))
      : h('p', { class: 'empty' }, 'The agent has not sent an inventory yet.'));
}

export async function deviceView(app, id) {
  const range = hashQuery().range === '7d' ? '7d' : '24h';
  const staff = isStaff();
  const [d] = await Promise.all([get(`/api/v1/devices/${id}`), staff ? loadClientNames() : null, loadChecks()]);
  const status = h('p', { class: 'ok', role: 'status', hidden: true });
  const { table } = alertTable(d.alerts || [], { status, label: 'Open alerts of this device' });
  mount(app,
    h('p', {}, h('a', { href: '#/devices' }, '← Devices')),
    h('h1', {}, d.hostname || `Device ${d.id}`, ' ', statusBadge(d)),
    h('dl', { class: 'details' },
      staff ? [h('dt', {}, 'Client'), h('dd', {}, clientName(d.client_id))] : null,
      h('dt', {}, 'Operating system'), h('dd', {}, d.os || '—'),
      h('dt', {}, 'Status'), h('dd', {}, d.active === false ? 'retired (its agent is refused)' : d.status),
      h('dt', {}, 'Last seen'), h('dd', {}, ago(d.last_seen_at), d.last_seen_at ? ` (${when(d.last_seen_at)})` : ''),
      h('dt', {}, 'Enrolled'), h('dd', {}, when(d.created_at))),
    h('section', { 'aria-labelledby': 'open-alerts' },
      h('h2', { id: 'open-alerts' }, 'Open alerts'),
      status,
      d.alerts?.length ? table : h('p', { class: 'empty' }, 'Nothing is firing on this device.'),
      h('p', {}, h('a', { href: `#/alerts${qs({ status: 'all', device_id: d.id })}` }, 'Every alert of this device, resolved ones too'))),
    charts(d, range),
    readings(d),
    inventory(d));
}
