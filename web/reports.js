// reports.js: the dashboard (#/dashboard) and the SLA review
// (#/reports?client_id=&period=&from=&until=), issue 9; docs/REPORTS.md
// defines every figure, the API computes them all (GET /api/v1/dashboard,
// GET /api/v1/reports/sla-review): this page only lays them out.
//
// The dashboard: open tickets now (unassigned, P1, SLA breached), alerts
// firing, each a link to the list it counts where the console has that
// filter, and this month's FCR against its 70 % target, volume and SLA
// attainment. Refreshed every minute while shown.
//
// The review: a client (staff: any or all; client roles: their own, as
// the API decides) and a period (this / last month or quarter, or days
// typed), kept in the address; the period's figures beside the previous
// period's with the change as an arrow, coloured when up or down is
// better or worse; the breached tickets with links; the same review as
// CSV (format=csv) and as the printable pack (format=html, a new tab).
//
// Staff and client admins / client IT only: client users have neither
// (the routes answer 403), nor the links to them (app.js).
// Loaded when first opened, like the admin pages.
import { get, qs, serverNow, session } from './api.js';
import { isStaff } from './app.js';
import { every, hashQuery } from './alerts.js';
import { clientName, clientNames, field, h, loadClientNames, mount, select, showErrors, values, when } from './ui.js';

/* Who may open these pages: everyone but client users (api_reports.c). */
export const mayReport = () => !!session.user && session.user.role !== 'client_user';

function refused(app, title) {
  mount(app, h('h1', {}, title), h('p', { class: 'alert', role: 'alert' }, 'Your role cannot open this page.'));
}

/* ---- figures as text -------------------------------------------------------- */

const num1 = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const num2 = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2, minimumFractionDigits: 2 });
const isNum = (v) => typeof v === 'number' && Number.isFinite(v);

/* A ratio (0..1) as "83.3 %"; none as "—". */
export const pct = (v) => (isNum(v) ? `${num1.format(v * 100)} %` : '—');

/* Seconds as hours and minutes: "3 h 05 m", "15 m", "40 s", "0 m". */
export function hm(sec) {
  if (!isNum(sec))
    return '—';
  const s = Math.round(Math.abs(sec));
  if (s < 60)
    return s ? `${s} s` : '0 m';
  const hh = Math.floor(s / 3600), mm = Math.floor((s % 3600) / 60);
  return hh ? `${hh} h ${String(mm).padStart(2, '0')} m` : `${mm} m`;
}
const minutes = (m) => (isNum(m) ? hm(m * 60) : '—');
const count = (n) => (isNum(n) ? String(n) : '—');

/* "1 Mar 2027" of a "YYYY-MM-DD" day (a date, in no zone). */
const dayFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' });
const dayText = (d) => dayFmt.format(new Date(`${d}T00:00:00Z`));

/* Days as "YYYY-MM-DD" <-> day numbers since the epoch (UTC arithmetic). */
const dayNum = (d) => Date.parse(`${d}T00:00:00Z`) / 86400000;
const dayStr = (n) => new Date(n * 86400000).toISOString().slice(0, 10);
/* The first day of month m (1-12; may run over: Date.UTC wraps) of year y. */
const first = (y, m) => dayStr(Date.UTC(y, m - 1, 1) / 86400000);
const isDay = (d) => /^\d{4}-\d{2}-\d{2}$/.test(d || '') && !Number.isNaN(dayNum(d)) && dayStr(dayNum(d)) === d;

/* [from, to) as "1 Mar 2027 – 31 Mar 2027" (to is exclusive). */
export const periodText = (from, to) => `${dayText(from)} – ${dayText(dayStr(dayNum(to) - 1))}`;

/* The change from prev to cur, as an arrow and the difference; better:
 * 'up' or 'down' (which way is good) or null (neither). diff formats the
 * difference. */
function trend(cur, prev, better, diff) {
  if (!isNum(cur) || !isNum(prev))
    return h('span', { class: 'trend t-none' }, h('span', { 'aria-hidden': 'true' }, '—'), h('span', { class: 'sr' }, 'no comparison'));
  const d = cur - prev;
  if (Math.abs(d) < 1e-9)
    return h('span', { class: 'trend t-same' }, h('span', { 'aria-hidden': 'true' }, '= '), 'no change');
  const up = d > 0;
  const cls = !better ? 't-neutral' : (better === 'up') === up ? 't-good' : 't-bad';
  const verdict = !better ? '' : cls === 't-good' ? ', better' : ', worse';
  return h('span', { class: `trend ${cls}`, 'data-trend': up ? 'up' : 'down' },
    h('span', { 'aria-hidden': 'true' }, up ? '▲ ' : '▼ '),
    h('span', { class: 'sr' }, up ? 'up ' : 'down '), `${up ? '+' : '−'}${diff(Math.abs(d))}`,
    h('span', { class: 'sr' }, verdict));
}

/* The difference of two ratios in percentage points. */
const points = (d) => `${num1.format(d * 100)} pp`;

/* A table of figures: this period, the previous one, the change. rows:
 * [label, cur, prev, format, better, diff (default format)]; format(v, i)
 * gets i 0 for this period's value, 1 for the previous one's. */
function compare(label, rows, heads = ['This period', 'Previous period']) {
  return h('table', { class: 'figures', 'aria-label': label },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Figure'),
      heads.map((c) => h('th', { scope: 'col', class: 'num' }, c)), h('th', { scope: 'col' }, 'Change'))),
    h('tbody', {}, rows.filter(Boolean).map(([name, cur, prev, fmt = count, better = null, diff = fmt]) =>
      h('tr', {}, h('th', { scope: 'row' }, name),
        h('td', { class: 'num' }, fmt(cur, 0)), h('td', { class: 'num' }, fmt(prev, 1)),
        h('td', {}, trend(cur, prev, better, diff))))));
}

const section = (id, title, ...body) =>
  h('section', { class: 'rsection', 'aria-labelledby': id }, h('h2', { id }, title), ...body);

/* FCR against its target: the rate, a meter and whether it meets it. */
function fcrLine(fcr) {
  const target = isNum(fcr?.target) ? fcr.target : 0.7;
  if (!isNum(fcr?.rate))
    return h('p', { class: 'fcr' }, h('strong', {}, 'No verdict yet'), h('span', { class: 'muted' }, ` (target ${pct(target)})`));
  const ok = fcr.rate >= target;
  return h('p', { class: 'fcr' },
    h('strong', { class: 'fcr-rate' }, pct(fcr.rate)), ' ',
    h('meter', { min: 0, max: 1, low: target, optimum: 1, value: fcr.rate, 'aria-label': `first-contact resolution ${pct(fcr.rate)}, target ${pct(target)}` }),
    ' ', h('span', { class: `badge ${ok ? 'target-met' : 'target-missed'}` }, ok ? `meets the ${pct(target)} target` : `below the ${pct(target)} target`),
    h('span', { class: 'muted' }, ` ${fcr.first_contact} of ${fcr.decided} resolved at first contact`));
}

/* ---- the dashboard ---------------------------------------------------------- */

/* A figure as a tile, a link to its list when there is one. */
function tile(n, what, href, bad) {
  const body = [h('span', { class: 'n' }, count(n)), h('span', { class: 'what' }, what)];
  const cls = `tile${bad && n > 0 ? ' bad' : ''}`;
  return href ? h('a', { class: cls, href, 'data-figure': what }, body) : h('div', { class: cls, 'data-figure': what }, body);
}

function dashboard(d) {
  const staff = isStaff();
  const t = d.tickets, m = d.month;
  // The console's filters (staff); client roles have their list only.
  const list = (f) => (staff ? `#/tickets${qs({ open: 'true', ...f })}` : null);
  const sla = m.sla || {};
  const [y, mo] = m.from.split('-').map(Number);
  return [
    section('now', 'Now',
      h('div', { class: 'tiles' },
        tile(t.open, 'open tickets', staff ? list({}) : '#/tickets'),
        tile(t.unassigned, 'unassigned', list({ assignee_id: 'none' })),
        tile(t.p1, 'P1', list({ priority: 'P1' }), true),
        tile(t.sla_breached, 'SLA breached', list({ breaching: 'true', sort: 'due' }), true),
        tile(d.alerts.firing, 'alerts firing', '#/alerts?status=firing', true)),
      t.truncated ? h('p', { class: 'muted' }, 'There are more queues than are counted here: the ticket figures are of the first 1,000 queues.') : null,
      staff ? h('p', { class: 'muted small' }, 'SLA breached leads to the tickets breaching or about to, overdue first.') : null),
    section('month', `This month so far (since ${dayText(m.from)}, UTC days)`,
      h('h3', {}, 'First-contact resolution'), fcrLine(m.fcr),
      h('h3', {}, 'Volume'),
      h('dl', { class: 'details month-volume' },
        [['Opened', m.volume.opened], ['Resolved', m.volume.resolved], ['Closed', m.volume.closed], ['Reopened', m.volume.reopened],
          ['Backlog at the start', m.volume.backlog_start], ['Not resolved yet', m.volume.backlog_end]]
          .map(([k, v]) => [h('dt', {}, k), h('dd', { 'data-figure': k }, count(v))])),
      h('h3', {}, 'SLA attainment'),
      h('table', { class: 'figures', 'aria-label': 'SLA attainment this month' },
        h('thead', {}, h('tr', {}, ['Clock', 'Met', 'Breached', 'Pending', 'Attainment'].map((c, i) => h('th', { scope: 'col', class: i ? 'num' : null }, c)))),
        h('tbody', {}, ['response', 'resolution'].map((k) => h('tr', { 'data-clock': k }, h('th', { scope: 'row' }, k === 'response' ? 'Response' : 'Resolution'),
          h('td', { class: 'num' }, count(sla[k]?.met)), h('td', { class: 'num' }, count(sla[k]?.breached)),
          h('td', { class: 'num' }, count(sla[k]?.pending)), h('td', { class: 'num' }, pct(sla[k]?.attainment)))))),
      h('p', {}, h('a', { href: `#/reports${qs({ period: 'custom', from: m.from, until: dayStr(dayNum(first(y, mo + 1)) - 1) })}` }, 'The whole review of this month'))),
  ];
}

export async function dashboardView(app) {
  if (!mayReport()) {
    refused(app, 'Dashboard');
    return;
  }
  const d = await get('/api/v1/dashboard');
  const body = h('div', { class: 'dashboard' }, dashboard(d));
  const stamp = h('p', { class: 'muted small', 'aria-live': 'off' }, `As of ${when(new Date(serverNow()).toISOString())}; kept current every minute.`);
  mount(app, h('h1', {}, 'Dashboard'), stamp, body);
  every(app, 60000, async () => {
    if (body.contains(document.activeElement))
      return;   // someone is on a link: nothing moves under them
    try {
      const now = await get('/api/v1/dashboard');
      mount(body, dashboard(now));
      stamp.textContent = `As of ${when(new Date(serverNow()).toISOString())}; kept current every minute.`;
    } catch { /* the next round tries again */ }
  });
}

/* ---- the SLA review ---------------------------------------------------------- */

/* Today on the server's clock, in the viewer's calendar: [y, m (1-12)]. */
function today() {
  const [y, m, d] = new Intl.DateTimeFormat('en-CA').format(new Date(serverNow())).split('-').map(Number);
  return [y, m, d];
}

/* The periods on offer: key -> [label, from, to (exclusive)]. */
export function periods([y, m] = today()) {
  const q = Math.floor((m - 1) / 3) * 3 + 1;   // the quarter's first month
  const monthName = (yy, mm) => new Intl.DateTimeFormat(undefined, { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(new Date(Date.UTC(yy, mm - 1, 1)));
  const quarter = (yy, mm) => { const d = new Date(Date.UTC(yy, mm - 1, 1)); return `Q${Math.floor(d.getUTCMonth() / 3) + 1} ${d.getUTCFullYear()}`; };
  return {
    'this-month': [`This month (${monthName(y, m)})`, first(y, m), first(y, m + 1)],
    'last-month': [`Last month (${monthName(y, m - 1)})`, first(y, m - 1), first(y, m)],
    'this-quarter': [`This quarter (${quarter(y, q)})`, first(y, q), first(y, q + 3)],
    'last-quarter': [`Last quarter (${quarter(y, q - 3)})`, first(y, q - 3), first(y, q)],
  };
}

/* The address's choice as the API's parameters {client_id, from, to} and
 * the form's values; problems with typed days by field. */
function choice(f) {
  const ps = periods();
  const period = f.period === 'custom' || ps[f.period] ? f.period : 'last-month';
  const out = { period, client_id: f.client_id || '', from: f.from || '', until: f.until || '' };
  if (period !== 'custom') {
    [, out.from, out.to] = ps[period];
    out.until = dayStr(dayNum(out.to) - 1);
  } else {
    out.to = isDay(out.until) ? dayStr(dayNum(out.until) + 1) : out.until;
  }
  return out;
}

/* The review's address with a format (json, csv, html). */
const reviewUrl = (c, format) => `/api/v1/reports/sla-review${qs({ client_id: c.client_id, from: c.from, to: c.to, format })}`;

function reviewForm(c, staff, ownName) {
  const ps = periods();
  const custom = c.period === 'custom';
  const days = [
    field('From', h('input', { name: 'from', type: 'date', value: c.from, required: true })),
    field('To (the last day, included)', h('input', { name: 'until', type: 'date', value: c.until, required: true }))];
  for (const d of days)
    d.hidden = !custom;
  const form = h('form', { class: 'filters review-form', novalidate: true, 'aria-label': 'Which review' },
    staff ? field('Client', select('client_id', [['', 'All clients'], ...clientNames()], c.client_id))
      : h('p', { class: 'fixed-client' }, 'Client: ', h('strong', {}, ownName)),
    field('Period', select('period', [...Object.entries(ps).map(([k, [label]]) => [k, label]), ['custom', 'Days of my choice']], c.period)),
    days,
    h('button', { type: 'submit' }, 'Show'),
    h('p', { class: 'alert', role: 'alert', hidden: true }));
  form.period.addEventListener('change', () => {
    const on = form.period.value === 'custom';
    for (const d of days)
      d.hidden = !on;
    if (on && !form.from.value) {
      // Start from the period that was shown.
      form.from.value = c.from;
      form.until.value = c.until;
    }
  });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = values(form);
    if (v.period !== 'custom') {
      delete v.from;
      delete v.until;
    }
    location.hash = `#/reports${qs(v)}`;
  });
  return form;
}

const PRIOS = ['P1', 'P2', 'P3', 'P4', 'all'];
const CLOCKS = [['response', 'Response'], ['resolution', 'Resolution']];

function slaTable(p, q) {
  return h('table', { class: 'figures sla-table', 'aria-label': 'SLA attainment by priority' },
    h('thead', {}, h('tr', {}, ['Priority', 'Clock', 'Met', 'Breached', 'Pending', 'Attainment', 'Previous period', 'Change']
      .map((c, i) => h('th', { scope: 'col', class: i >= 2 && i <= 6 ? 'num' : null }, c)))),
    h('tbody', {}, PRIOS.flatMap((pr) => CLOCKS.map(([k, label], i) => {
      const a = p.sla[pr]?.[k] || {}, b = q.sla[pr]?.[k] || {};
      return h('tr', { 'data-prio': pr, 'data-clock': k, class: pr === 'all' ? 'total' : null },
        i === 0 ? h('th', { scope: 'rowgroup', rowspan: 2 }, pr === 'all' ? 'All' : pr) : null,
        h('th', { scope: 'row' }, label),
        h('td', { class: 'num' }, count(a.met)), h('td', { class: `num${a.breached ? ' lvl-bad' : ''}` }, count(a.breached)),
        h('td', { class: 'num' }, count(a.pending)), h('td', { class: 'num' }, pct(a.attainment)),
        h('td', { class: 'num' }, pct(b.attainment)), h('td', {}, trend(a.attainment, b.attainment, 'up', points)));
    }))));
}

function breachedTable(list) {
  if (!list?.length)
    return h('p', { class: 'empty' }, 'No ticket opened in the period breached its SLA.');
  return h('table', { class: 'figures breached', 'aria-label': 'Breached tickets' },
    h('thead', {}, h('tr', {}, ['Ticket', 'Priority', 'Breached', 'Held longest by', 'Vendor', 'Paused'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, list.map((b) => h('tr', { 'data-ticket': b.ticket_id },
      h('td', {}, h('a', { href: `#/tickets/${b.ticket_id}` }, b.number)),
      h('td', {}, h('span', { class: `prio prio-${b.priority}` }, b.priority)),
      h('td', {}, [b.response && 'response', b.resolution && 'resolution'].filter(Boolean).join(', ')),
      h('td', {}, `tier ${b.held_by_tier}`),
      h('td', {}, b.vendor ? 'yes' : 'no'),
      h('td', { class: 'num' }, hm(b.paused_seconds))))));
}

function volume(p, q) {
  const v = p.volume, w = q.volume;
  const split = (key, names) => names.map(([k, label]) => [label, v[key]?.[k] ?? 0, w[key]?.[k] ?? 0]);
  const cats = [...new Set([...Object.keys(v.by_category || {}), ...Object.keys(w.by_category || {})])]
    .sort((a, b) => (v.by_category?.[b] ?? 0) - (v.by_category?.[a] ?? 0) || (a < b ? -1 : a > b ? 1 : 0));
  return section('volume', 'Volume',
    compare('Volume', [
      ['Opened', v.opened, w.opened], ['Resolved', v.resolved, w.resolved], ['Closed', v.closed, w.closed],
      ['Reopened (resolved again)', v.reopened, w.reopened, count, 'down'],
      ['Backlog at the start', v.backlog_start, w.backlog_start, count, 'down'],
      ['Backlog at the end', v.backlog_end, w.backlog_end, count, 'down']]),
    h('details', { class: 'split' }, h('summary', {}, 'Opened tickets by priority, type, channel and category'),
      compare('Opened by priority', split('by_priority', ['P1', 'P2', 'P3', 'P4'].map((x) => [x, x]))),
      compare('Opened by type', split('by_type', [['incident', 'Incident'], ['service_request', 'Service request'], ['problem', 'Problem'], ['change', 'Change']])),
      compare('Opened by channel', split('by_channel', [['portal', 'Portal'], ['api', 'API'], ['email', 'E-mail'], ['phone', 'Phone'], ['monitoring', 'Monitoring']])),
      cats.length ? compare('Opened by category', cats.map((k) => [k === '' ? '(none)' : k, v.by_category?.[k] ?? 0, w.by_category?.[k] ?? 0])) : null),
    weekly(p));
}

function times(p, q) {
  const rows = [];
  for (const [k, label] of CLOCKS) {
    const a = p.business_time[k], b = q.business_time[k];
    const none = (t) => (t.count ? null : NaN);   // no values: no median either
    rows.push([`${label}: tickets counted`, a.count, b.count],
      [`${label}: median`, none(a) ?? a.median_seconds, none(b) ?? b.median_seconds, hm, 'down'],
      [`${label}: 90th percentile`, none(a) ?? a.p90_seconds, none(b) ?? b.p90_seconds, hm, 'down'],
      [`${label}: mean`, none(a) ?? a.mean_seconds, none(b) ?? b.mean_seconds, hm, 'down']);
  }
  return section('times', 'Times in business hours',
    h('p', { class: 'muted' }, 'Response: tickets opened in the period that were answered; resolution: those resolved. Business time, as the SLA clock counts it.'),
    compare('Times in business hours', rows));
}

function fcrEscalation(p, q) {
  const e = p.escalation, f = q.escalation;
  // A rate with its count: "2 (25 %)".
  const withRate = (key) => (r, i) => {
    const n = (i ? f : e)[key];
    return isNum(n) ? `${n}${isNum(r) ? ` (${pct(r)})` : ''}` : '—';
  };
  return [
    section('fcr', 'First-contact resolution', fcrLine(p.fcr),
      compare('First-contact resolution', [
        ['FCR rate', p.fcr.rate, q.fcr.rate, pct, 'up', points],
        ['Resolved with a verdict', p.fcr.decided, q.fcr.decided],
        ['Resolved at first contact', p.fcr.first_contact, q.fcr.first_contact, count, 'up']])),
    section('escalation', 'Escalation',
      compare('Escalation', [
        ['Reached tier 2', e.rate_tier2, f.rate_tier2, withRate('tier2'), 'down', points],
        ['Reached tier 3', e.rate_tier3, f.rate_tier3, withRate('tier3'), 'down', points],
        ['Went to a vendor', e.rate_vendor, f.rate_vendor, withRate('vendor'), 'down', points],
        ['Tier changes', e.tier_changes, f.tier_changes, count, 'down'],
        ['Tier changes per opened ticket', e.tier_changes_mean, f.tier_changes_mean, (x) => (isNum(x) ? num2.format(x) : '—'), 'down', (x) => num2.format(x)],
        ['Reassignments', e.reassignments, f.reassignments, count, 'down'],
        ['Reassigned at least once', e.rate_reassigned, f.rate_reassigned, withRate('reassigned'), 'down', points]])),
  ];
}

function csat(p, q) {
  const c = p.csat, d = q.csat;
  if (!c)
    return null;
  const avg = (x) => (isNum(x) ? num2.format(x) : '—');
  const stars = [5, 4, 3, 2, 1];
  return section('csat', 'Customer satisfaction',
    compare('Customer satisfaction', [
      ['Answers', c.responses, d?.responses],
      ['Average rating (1-5)', c.average, d?.average, avg, 'up', avg]]),
    h('table', { class: 'figures csat-dist', 'aria-label': 'Ratings given' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Rating'), h('th', { scope: 'col', class: 'num' }, 'This period'),
        h('th', { scope: 'col' }, 'Share'), h('th', { scope: 'col', class: 'num' }, 'Previous period'))),
      h('tbody', {}, stars.map((s) => h('tr', { 'data-rating': s }, h('th', { scope: 'row' }, `${s} of 5`),
        h('td', { class: 'num' }, count(c.distribution?.[s] ?? 0)),
        h('td', {}, c.responses ? h('meter', { min: 0, max: c.responses, value: c.distribution?.[s] ?? 0, 'aria-label': `${s} of 5: ${c.distribution?.[s] ?? 0} of ${c.responses}` }) : h('span', { class: 'muted' }, '—')),
        h('td', { class: 'num' }, count(d?.distribution?.[s] ?? 0)))))),
    h('h3', {}, 'Comments'),
    c.comments?.length ? h('ul', { class: 'comments plain' }, c.comments.map((x) => h('li', {},
      h('a', { href: `#/tickets/${x.ticket_id}` }, x.number), ` · ${x.rating} of 5 · `, h('time', { datetime: x.at }, when(x.at)),
      h('blockquote', {}, x.comment))))
      : h('p', { class: 'empty' }, 'No comments in the period.'));
}

function hours(p, q) {
  const a = p.hours, b = q.hours;
  if (!a)
    return null;
  const tiers = [['tier1', 'Tier 1'], ['tier2', 'Tier 2'], ['tier3', 'Tier 3'], ['other', 'Others (no tier)']];
  return section('hours', 'Hours',
    compare('Hours', [
      ['Billable', a.billable_minutes, b?.billable_minutes, minutes],
      ['Not billable', a.non_billable_minutes, b?.non_billable_minutes, minutes],
      ...tiers.flatMap(([k, label]) => [
        [`${label}, billable`, a.by_tier?.[k]?.billable_minutes, b?.by_tier?.[k]?.billable_minutes, minutes],
        [`${label}, not billable`, a.by_tier?.[k]?.non_billable_minutes, b?.by_tier?.[k]?.non_billable_minutes, minutes]])]));
}

/* ---- monitoring ---------------------------------------------------------------- */

const pct2 = (v) => (isNum(v) ? `${num2.format(v * 100)} %` : '—');

/* Alert episodes by check and severity, MTTA / MTTR, device uptime
 * (docs/REPORTS.md "Monitoring"); drawn when the review has them. */
function monitoring(p, q, allClients) {
  const m = p.monitoring, n = q.monitoring || {};
  if (!m)
    return null;
  const a = m.alerts || {}, b = n.alerts || {};
  const dv = m.devices || {}, dw = n.devices || {};
  const staff = isStaff();
  return section('monitoring', 'Monitoring',
    compare('Alerts', [
      ['Alerts fired', a.fired, b.fired, count, 'down'],
      ['Acknowledged', a.acknowledged, b.acknowledged],
      ['Resolved', a.resolved, b.resolved],
      ['Mean time to acknowledge (MTTA)', a.mtta_seconds, b.mtta_seconds, hm, 'down'],
      ['Mean time to resolve (MTTR)', a.mttr_seconds, b.mttr_seconds, hm, 'down'],
      ['Devices', dv.count, dw.count],
      ['Device uptime', dv.uptime, dw.uptime, pct2, 'up', (d) => `${num2.format(d * 100)} pp`]]),
    h('h3', {}, 'Alerts by check and severity'),
    a.by_check?.length ? h('table', { class: 'figures', 'aria-label': 'Alerts by check and severity' },
      h('thead', {}, h('tr', {}, ['Check', 'Severity', 'Fired', 'Acknowledged', 'Resolved', 'MTTA', 'MTTR']
        .map((c, i) => h('th', { scope: 'col', class: i >= 2 ? 'num' : null }, c)))),
      h('tbody', {}, a.by_check.map((g) => h('tr', {},
        h('th', { scope: 'row' }, g.check), h('td', {}, h('span', { class: `badge sev-${g.severity}` }, g.severity)),
        h('td', { class: 'num' }, count(g.fired)), h('td', { class: 'num' }, count(g.acknowledged)),
        h('td', { class: 'num' }, count(g.resolved)), h('td', { class: 'num' }, hm(g.mtta_seconds)),
        h('td', { class: 'num' }, hm(g.mttr_seconds))))))
      : h('p', { class: 'empty' }, 'No alert fired in the period.'),
    h('h3', {}, 'Device uptime'),
    dv.items?.length ? h('table', { class: 'figures', 'aria-label': 'Device uptime' },
      h('thead', {}, h('tr', {}, ['Device', staff && allClients ? 'Client' : null, 'Uptime', 'Checked in', 'Of']
        .filter(Boolean).map((c, i) => h('th', { scope: 'col', class: i && c !== 'Client' ? 'num' : null }, c)))),
      h('tbody', {}, dv.items.map((d) => h('tr', {},
        h('th', { scope: 'row' }, h('a', { href: `#/devices/${d.device_id}` }, d.hostname || `device ${d.device_id}`)),
        staff && allClients ? h('td', {}, clientName(d.client_id)) : null,
        h('td', { class: `num${isNum(d.uptime) && d.uptime < 0.99 ? ' lvl-warn' : ''}` }, pct2(d.uptime)),
        h('td', { class: 'num' }, minutes(d.up_minutes)), h('td', { class: 'num' }, minutes(d.minutes))))))
      : h('p', { class: 'empty' }, 'No device in the period.'));
}

/* The period week by week (7 of the client's days from its first). */
function weekly(p) {
  if (!p.weekly?.length)
    return null;
  return h('details', { class: 'split' }, h('summary', {}, 'Week by week'),
    h('table', { class: 'figures', 'aria-label': 'Week by week' },
      h('thead', {}, h('tr', {}, ['Week from', 'Opened', 'Resolved', 'FCR'].map((c, i) => h('th', { scope: 'col', class: i ? 'num' : null }, c)))),
      h('tbody', {}, p.weekly.map((w) => h('tr', {}, h('th', { scope: 'row' }, dayText(w.from)),
        h('td', { class: 'num' }, count(w.opened)), h('td', { class: 'num' }, count(w.resolved)),
        h('td', { class: 'num' }, w.fcr_decided ? `${pct(w.fcr_rate)} of ${w.fcr_decided}` : '—'))))));
}

export async function reportsView(app) {
  if (!mayReport()) {
    refused(app, 'SLA review');
    return;
  }
  const staff = isStaff();
  const c = choice(hashQuery());
  let doc = null, failed = null;
  const ask = isDay(c.from) && isDay(c.to) ? get(reviewUrl(c, 'json')) : Promise.reject(Object.assign(new Error('Type the first and the last day.'), {
    fields: { ...(isDay(c.from) ? {} : { from: 'type a day' }), ...(isDay(c.until) ? {} : { until: 'type a day' }) } }));
  await Promise.all([ask.then((x) => { doc = x; }, (err) => { failed = err; }), loadClientNames()]);
  const ownName = staff ? '' : clientNames()[0]?.[1] || (session.user?.client_id ? clientName(session.user.client_id) : 'your organisation');
  const form = reviewForm(c, staff, ownName);
  if (failed) {
    if (failed.status === 401)
      throw failed;
    // The API says "to"; the form's field is the last day included.
    if (failed.fields?.to) {
      failed.fields.until = failed.fields.to;
      delete failed.fields.to;
    }
    mount(app, h('h1', {}, 'SLA review'), form);
    showErrors(form, failed);
    return;
  }
  const p = doc.period, q = doc.previous;
  const who = doc.client_id ? doc.client_name || clientName(doc.client_id) : 'All clients';
  const links = h('div', { class: 'buttons report-actions' },
    h('a', { class: 'button', href: reviewUrl(c, 'csv'), download: `sla-review-${c.from}-${c.to}.csv` }, 'Download CSV'),
    h('a', { class: 'button', href: reviewUrl(c, 'html'), target: '_blank', rel: 'noopener' }, 'Printable pack',
      h('span', { class: 'sr' }, ' (opens in a new tab)')));
  mount(app, h('h1', {}, 'SLA review'), form,
    h('div', { class: 'review', 'data-client': doc.client_id ?? 'all', 'data-from': p.from, 'data-to': p.to },
      h('p', { class: 'review-head' }, h('strong', {}, who), `: ${periodText(p.from, p.to)}`,
        h('span', { class: 'muted' }, `, beside the previous period ${periodText(q.from, q.to)}; days in ${doc.timezone}${doc.client_id ? '' : ' (every client)'}.`)),
      links,
      volume(p, q),
      section('sla', 'SLA attainment',
        h('p', { class: 'muted' }, 'Tickets opened in the period with an SLA policy. Attainment is met / (met + breached); pending tickets may still be met.'),
        slaTable(p, q)),
      times(p, q),
      fcrEscalation(p, q),
      csat(p, q),
      hours(p, q),
      monitoring(p, q, !doc.client_id),
      section('breached', `Breached tickets (${p.breached_tickets.length})`, breachedTable(p.breached_tickets))));
}
