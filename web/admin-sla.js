// admin-sla.js: calendars, SLA policies and contracts in the admin pages.
// Structured values are edited as text a person can read and type
// ("08:00-12:00, 13:00-17:00", "4h 30m") and turned into the API's JSON
// here; a value that does not read is said at its input before anything is
// sent, and the server's problems land at the member they name.
import { api, get, post, qs, Raw, session } from './api.js';
import { fetchItem, listPage, mayWrite } from './admin.js';
import { clearErrors, dur, field, h, mount, parseDur, select, showErrors, when } from './ui.js';

const DAYS = [['mon', 'Monday'], ['tue', 'Tuesday'], ['wed', 'Wednesday'], ['thu', 'Thursday'], ['fri', 'Friday'], ['sat', 'Saturday'], ['sun', 'Sunday']];
const PRIOS = ['P1', 'P2', 'P3', 'P4'];
const PAUSABLE = ['pending_customer', 'pending_vendor', 'on_hold'];
const ON = ['response_warning', 'response_breached', 'resolution_warning', 'resolution_breached', 'ola_breached'];
const DO = ['notify_dispatcher', 'raise_tier', 'raise_priority'];
const MODELS = ['per_seat', 'flat_fee', 'break_fix', 'block_hours'];

/* A client-side problem, shaped like the API's. */
class FormProblem {
  constructor() { this.fields = {}; this.message = ''; }
  add(f, msg) { this.fields[f] = msg; }
  get any() { return Object.keys(this.fields).length > 0; }
}

/* ---- spans and holidays as text ------------------------------------------- */

const SPAN = /^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$/;
const hhmm = (hh, mm) => `${hh.padStart(2, '0')}:${mm}`;

export function spansText(spans) {
  return (spans || []).map(([a, b]) => `${a}-${b}`).join(', ');
}

/* "08:00-12:00, 13:00-17:00" -> [["08:00","12:00"], ...]; null if unreadable. */
export function parseSpans(text) {
  const t = text.trim();
  if (!t)
    return [];
  const out = [];
  for (const part of t.split(/\s*,\s*/)) {
    const m = part.match(SPAN);
    if (!m)
      return null;
    out.push([hhmm(m[1], m[2]), hhmm(m[3], m[4])]);
  }
  return out;
}

export function holidaysText(list) {
  return (list || []).map((x) => [x.date, x.hours ? spansText(x.hours) : '', x.name || ''].filter(Boolean).join(' ')).join('\n');
}

/* One holiday per line: "2026-12-24 09:00-12:00 Christmas Eve" (hours
 * optional: without them the day is closed). Returns {items, lines} where
 * lines[i] is the line number of items[i], or {bad: lineNo}. */
export function parseHolidays(text) {
  const items = [], lines = [];
  const rows = text.split('\n');
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i].trim();
    if (!row)
      continue;
    const m = row.match(/^(\S+)(?:\s+(\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2}(?:\s*,\s*\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2})*))?(?:\s+(.+))?$/);
    if (!m)
      return { bad: i + 1 };
    const x = { date: m[1] };
    if (m[2])
      x.hours = parseSpans(m[2]);
    if (m[3])
      x.name = m[3];
    items.push(x);
    lines.push(i + 1);
  }
  return { items, lines };
}

/* ---- calendars ------------------------------------------------------------ */

export async function calendarList(root) {
  const items = (await get('/api/v1/calendars?limit=500')).items;
  listPage(root, {
    title: 'Business-hours calendars', noun: 'calendar', items, href: (c) => `#/admin/calendars/${c.id}`,
    newHref: mayWrite() ? '#/admin/calendars/new' : null,
    cols: [['Name', (c) => c.name], ['Time zone', (c) => c.timezone],
      ['Hours', (c) => (c['24x7'] ? '24x7' : DAYS.filter(([d]) => c.hours[d]?.length).map(([d]) => `${d} ${spansText(c.hours[d])}`).join('; '))],
      ['Holidays', (c) => String(c.holidays.length)]],
  });
}

export async function calendarEdit(root, id, go) {
  const loaded = id === null ? { item: null } : await fetchItem(`/api/v1/calendars/${id}`);
  const { item } = loaded;
  let etag = loaded.etag;
  const form = h('form', { class: 'card', novalidate: true },
    h('h2', {}, item ? item.name : 'New calendar'),
    h('p', { class: 'alert', role: 'alert', hidden: true }),
    h('p', { class: 'ok', role: 'status', hidden: true }),
    field('Name', h('input', { name: 'name', value: item?.name ?? '', required: true })),
    field('Time zone', h('input', { name: 'timezone', value: item?.timezone ?? '', list: 'tz-list', required: true, autocomplete: 'off' }), 'IANA name; business hours are its wall-clock time'),
    h('label', { class: 'check field' }, h('input', { type: 'checkbox', name: '24x7', checked: !!item?.['24x7'] }), 'Open around the clock (24x7): hours and holidays do not apply'),
    h('fieldset', { class: 'field week' }, h('legend', {}, 'Open hours per weekday'),
      h('small', {}, 'spans like 08:00-12:00, 13:00-17:00; a span may end at 24:00; empty: closed'),
      DAYS.map(([d, label]) => field(label, h('input', { name: `hours.${d}`, value: spansText(item?.hours?.[d]), placeholder: 'closed' })))),
    field('Holidays', h('textarea', { name: 'holidays', rows: 6 }, holidaysText(item?.holidays)),
      'one per line: 2026-12-25 Christmas Day, or with partial hours: 2026-12-24 09:00-12:00 Christmas Eve'),
    mayWrite() ? h('button', { type: 'submit' }, item ? 'Save' : 'Create') : null);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const bad = new FormProblem();
    const hours = {};
    for (const [d] of DAYS) {
      const s = parseSpans(form.elements.namedItem(`hours.${d}`).value);
      if (s === null)
        bad.add(`hours.${d}`, 'write spans as 08:00-12:00, 13:00-17:00');
      else if (s.length)
        hours[d] = s;
    }
    const hol = parseHolidays(form.holidays.value);
    if (hol.bad)
      bad.add('holidays', `line ${hol.bad}: write a date, optional hours and a name, e.g. 2026-12-24 09:00-12:00 Christmas Eve`);
    if (bad.any) {
      showErrors(form, bad);
      return;
    }
    const all = { name: form.name.value.trim(), timezone: form.timezone.value.trim(), '24x7': form['24x7'].checked, hours, holidays: hol.items };
    const body = {};
    for (const [k, v] of Object.entries(all))
      if (!item || JSON.stringify(v) !== JSON.stringify(item[k]))
        body[k] = v;
    try {
      const r = item ? await api('PATCH', `/api/v1/calendars/${item.id}`, body, { 'If-Match': etag }) : await api('POST', '/api/v1/calendars', body);
      if (!item) {
        go(`#/admin/calendars/${r.data.id}`);
        return;
      }
      etag = r.etag;
      Object.assign(item, r.data);
      const ok = form.querySelector('.ok');
      const n = r.headers.get('SLA-Recomputed');
      ok.textContent = `Saved${n ? `; the SLA of ${n} open tickets recomputed` : ''}.`;
      ok.hidden = false;
    } catch (err) {
      // holidays[3].date -> the holidays box, said by its line.
      for (const f of Object.keys(err.fields || {})) {
        const m = f.match(/^holidays\[(\d+)\](.*)$/);
        if (m) {
          err.fields.holidays = `line ${hol.lines[Number(m[1])] ?? '?'}${m[2] ? ` (${m[2].slice(1)})` : ''}: ${err.fields[f]}`;
          delete err.fields[f];
        }
      }
      showErrors(form, err);
    }
  });
  mount(root, h('p', {}, h('a', { href: '#/admin/calendars' }, '← calendars')), form,
    item && mayWrite() ? importForm(item, (r) => {
      // The imported days join what is in the box (unsaved edits stay).
      const have = new Set(parseHolidays(form.holidays.value).items?.map((x) => x.date) || []);
      const added = r.data.calendar.holidays.filter((x) => !have.has(x.date));
      form.holidays.value = [form.holidays.value.trim(), holidaysText(added)].filter(Boolean).join('\n');
      Object.assign(item, r.data.calendar);
      etag = r.etag || etag;
    }) : null,
    item ? calculator(item) : null);
}

/* Holidays from an iCalendar file (public-holiday feeds). */
function importForm(item, imported) {
  const form = h('form', { class: 'card', novalidate: true },
    h('h2', {}, 'Import holidays from an .ics file'),
    h('p', { class: 'alert', role: 'alert', hidden: true }),
    h('p', { class: 'ok', role: 'status', hidden: true }),
    field('iCalendar file', h('input', { type: 'file', name: 'file', accept: '.ics,text/calendar' })),
    field('From', h('input', { type: 'date', name: 'from' }), 'default: the start of this year'),
    field('To', h('input', { type: 'date', name: 'to' }), 'default: the end of next year'),
    h('button', { type: 'submit' }, 'Import'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const file = form.file.files[0];
    if (!file) {
      showErrors(form, { fields: { file: 'choose an .ics file' } });
      return;
    }
    try {
      const r = await api('POST', `/api/v1/calendars/${item.id}/holidays/import${qs({ from: form.from.value, to: form.to.value })}`,
        new Raw('text/calendar', await file.text()));
      const ok = form.querySelector('.ok');
      ok.textContent = `Imported: ${r.data.added} days added, ${r.data.already_listed} already listed, ${r.data.skipped_timed_events} timed events skipped.`;
      ok.hidden = false;
      imported(r);
    } catch (err) {
      showErrors(form, err);
    }
  });
  return form;
}

/* Business time between two instants, and an instant plus business time. */
function calculator(item) {
  const out = h('output', { class: 'calc-out', 'aria-live': 'polite' });
  const form = h('form', { class: 'card', novalidate: true },
    h('h2', {}, 'Calculator'),
    h('p', { class: 'alert', role: 'alert', hidden: true }),
    field('From (your time)', h('input', { type: 'datetime-local', name: 'from' })),
    field('To (your time)', h('input', { type: 'datetime-local', name: 'to' }), 'to count business time between the two'),
    field('Or add business time', h('input', { name: 'seconds', placeholder: '4h, 1d 2h' }), 'to find when it is reached'),
    h('button', { type: 'submit' }, 'Calculate'), out);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    out.textContent = '';
    const iso = (v) => (v ? new Date(v).toISOString() : '');
    const from = iso(form.from.value);
    try {
      if (form.seconds.value.trim()) {
        const s = parseDur(form.seconds.value);
        if (Number.isNaN(s)) {
          showErrors(form, { fields: { seconds: 'write a duration such as 4h or 1d 2h 30m' } });
          return;
        }
        const r = await get(`/api/v1/calendars/${item.id}/add${qs({ from, seconds: s })}`);
        out.textContent = `${dur(s)} of business time after ${when(from)} is reached at ${when(r.at)} (your time).`;
      } else {
        const r = await get(`/api/v1/calendars/${item.id}/business-time${qs({ from, to: iso(form.to.value) })}`);
        out.textContent = `${dur(r.seconds)} of business time (${r.seconds} s).`;
      }
    } catch (err) {
      showErrors(form, err);
    }
  });
  return form;
}

/* ---- SLA policies --------------------------------------------------------- */

export async function policyList(root) {
  const [items, cals] = await Promise.all([get('/api/v1/sla-policies?limit=500'), get('/api/v1/calendars?limit=500')]);
  const cname = new Map(cals.items.map((c) => [c.id, c.name]));
  listPage(root, {
    title: 'SLA policies', noun: 'SLA policy', items: items.items, href: (p) => `#/admin/sla-policies/${p.id}`,
    newHref: mayWrite() ? '#/admin/sla-policies/new' : null,
    cols: [['Name', (p) => p.name], ['Calendar', (p) => cname.get(p.calendar_id) || String(p.calendar_id)],
      ...PRIOS.map((pr) => [pr, (p) => (p.targets[pr] ? `${dur(p.targets[pr].response)} / ${dur(p.targets[pr].resolution)}` : '—')]),
      ['Default', (p) => (p.default ? 'yes' : '')]],
  });
}

function actionRow(a, i) {
  return h('div', { class: 'action-row' },
    select(`actions[${i}].on`, ON.map((x) => [x, x.replace(/_/g, ' ')]), a.on, { 'aria-label': `action ${i + 1}: when` }),
    h('input', { name: `actions[${i}].at`, value: a.at ?? '', size: 5, placeholder: 'at', 'aria-label': `action ${i + 1}: at which warning fraction` }),
    select(`actions[${i}].do`, DO.map((x) => [x, x.replace(/_/g, ' ')]), a.do, { 'aria-label': `action ${i + 1}: do` }),
    h('button', { type: 'button', class: 'secondary', 'data-remove': i }, 'Remove'));
}

export async function policyEdit(root, id, go) {
  const cals = (await get('/api/v1/calendars?limit=500')).items.map((c) => [c.id, c.name]);
  const loaded = id === null ? { item: null } : await fetchItem(`/api/v1/sla-policies/${id}`);
  const { item } = loaded;
  let etag = loaded.etag;
  const p = item || { targets: {}, calendars: {}, pause_statuses: ['pending_customer', 'pending_vendor'], warn_at: [0.75, 0.9], tier_targets: {}, actions: [] };
  let actions = p.actions.slice();
  const actionsBox = h('div', { class: 'actions-box' });
  const drawActions = () => mount(actionsBox, actions.map(actionRow));
  drawActions();
  actionsBox.addEventListener('click', (ev) => {
    const i = ev.target.dataset?.remove;
    if (i !== undefined) {
      actions = readActions(form);
      actions.splice(Number(i), 1);
      drawActions();
      form.querySelector('.add-action')?.focus();   // the row and its button are gone
    }
  });
  const form = h('form', { class: 'card', novalidate: true },
    h('h2', {}, item ? item.name : 'New SLA policy'),
    h('p', { class: 'alert', role: 'alert', hidden: true }),
    h('p', { class: 'ok', role: 'status', hidden: true }),
    field('Name', h('input', { name: 'name', value: p.name ?? '', required: true })),
    field('Calendar', select('calendar_id', [['', 'choose…'], ...cals], p.calendar_id)),
    h('label', { class: 'check field' }, h('input', { type: 'checkbox', name: 'default', checked: !!p.default }), 'The provider default (for clients without a contract)'),
    h('fieldset', { class: 'field' }, h('legend', {}, 'Targets in business time'),
      h('small', {}, 'durations like 30m, 4h, 2d (a day is 24 business hours); empty: no target'),
      h('table', { class: 'targets' },
        h('thead', {}, h('tr', {}, ['Priority', 'First response', 'Resolution', 'Calendar'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, PRIOS.map((pr) => h('tr', {}, h('th', { scope: 'row' }, pr),
          h('td', {}, h('input', { name: `targets.${pr}.response`, value: dur(p.targets[pr]?.response), size: 8, 'aria-label': `${pr} first response` })),
          h('td', {}, h('input', { name: `targets.${pr}.resolution`, value: dur(p.targets[pr]?.resolution), size: 8, 'aria-label': `${pr} resolution` })),
          h('td', {}, select(`calendars.${pr}`, [['', 'the policy\'s'], ...cals], p.calendars[pr], { 'aria-label': `${pr} calendar` }))))))),
    h('fieldset', { class: 'field' }, h('legend', {}, 'Statuses that pause the clock'),
      PAUSABLE.map((s) => h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'pause_statuses', value: s, checked: p.pause_statuses.includes(s) }), s.replace('_', ' ')))),
    field('Warn at', h('input', { name: 'warn_at', value: p.warn_at.join(', ') }), 'fractions of the target, e.g. 0.75, 0.9'),
    h('fieldset', { class: 'field' }, h('legend', {}, 'How long each tier may hold a ticket (OLA)'),
      ['1', '2', '3'].map((t) => field(`Tier ${t}`, h('input', { name: `tier_targets.${t}`, value: dur(p.tier_targets[t]), size: 8 })))),
    h('fieldset', { class: 'field' }, h('legend', {}, 'Escalation actions'), actionsBox,
      h('button', { type: 'button', class: 'secondary add-action', onclick: () => {
        actions = [...readActions(form), { on: 'resolution_breached', do: 'notify_dispatcher' }];
        drawActions();
        form.elements.namedItem(`actions[${actions.length - 1}].on`)?.focus();
      } }, 'Add an action')),
    mayWrite() ? h('button', { type: 'submit' }, item ? 'Save' : 'Create') : null);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const bad = new FormProblem();
    const readDur = (name) => {
      const v = parseDur(form.elements.namedItem(name).value);
      if (Number.isNaN(v))
        bad.add(name, 'write a duration such as 30m, 4h or 2d');
      return v;
    };
    const targets = {}, calendars = {}, tier_targets = {};
    for (const pr of PRIOS) {
      const r = readDur(`targets.${pr}.response`), s = readDur(`targets.${pr}.resolution`);
      if (r !== null || s !== null)
        targets[pr] = { ...(r !== null ? { response: r } : {}), ...(s !== null ? { resolution: s } : {}) };
      const c = form.elements.namedItem(`calendars.${pr}`).value;
      if (c)
        calendars[pr] = Number(c);
    }
    for (const t of ['1', '2', '3']) {
      const v = readDur(`tier_targets.${t}`);
      if (v !== null)
        tier_targets[t] = v;
    }
    const warn = form.warn_at.value.trim() ? form.warn_at.value.split(',').map((x) => Number(x.trim())) : [];
    if (warn.some(Number.isNaN))
      bad.add('warn_at', 'write fractions separated by commas, e.g. 0.75, 0.9');
    const acts = readActions(form);
    for (const [i, a] of acts.entries())
      if (a.at !== undefined && Number.isNaN(a.at))
        bad.add(`actions[${i}].at`, 'must be one of the warning fractions, e.g. 0.9');
    if (bad.any) {
      showErrors(form, bad);
      return;
    }
    const all = {
      name: form.name.value.trim(), calendar_id: form.calendar_id.value ? Number(form.calendar_id.value) : undefined,
      default: form.default.checked, targets, calendars,
      pause_statuses: [...form.querySelectorAll('[name=pause_statuses]:checked')].map((b) => b.value),
      warn_at: warn, tier_targets, actions: acts,
    };
    const body = {};
    for (const [k, v] of Object.entries(all))
      if (v !== undefined && (!item || JSON.stringify(v) !== JSON.stringify(item[k])))
        body[k] = v;
    try {
      const r = item ? await api('PATCH', `/api/v1/sla-policies/${item.id}`, body, { 'If-Match': etag }) : await api('POST', '/api/v1/sla-policies', body);
      if (!item) {
        go(`#/admin/sla-policies/${r.data.id}`);
        return;
      }
      etag = r.etag;
      Object.assign(item, r.data);
      const ok = form.querySelector('.ok');
      const n = r.headers.get('SLA-Recomputed');
      ok.textContent = `Saved${n ? `; the SLA of ${n} open tickets recomputed` : ''}.`;
      ok.hidden = false;
    } catch (err) {
      showErrors(form, err);
    }
  });
  mount(root, h('p', {}, h('a', { href: '#/admin/sla-policies' }, '← SLA policies')), form, item ? simulator(item) : null);
}

function readActions(form) {
  const out = [];
  for (let i = 0; form.elements.namedItem(`actions[${i}].on`); i++) {
    const a = { on: form.elements.namedItem(`actions[${i}].on`).value, do: form.elements.namedItem(`actions[${i}].do`).value };
    const at = form.elements.namedItem(`actions[${i}].at`).value.trim();
    if (at)
      a.at = Number(at);
    out.push(a);
  }
  return out;
}

/* What-if: a ticket opened at an instant with a priority, answered and
 * resolved when you say; the due instants and the clock segments. */
function simulator(item) {
  const out = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'card', novalidate: true },
    h('h2', {}, 'What if'),
    h('p', { class: 'alert', role: 'alert', hidden: true }),
    field('Opened at (your time)', h('input', { type: 'datetime-local', name: 'start', required: true })),
    field('Priority', select('priority', PRIOS.map((p) => [p, p]), 'P3')),
    field('First response at', h('input', { type: 'datetime-local', name: 'first_response' }), 'optional'),
    field('Resolved at', h('input', { type: 'datetime-local', name: 'resolved' }), 'optional'),
    field('Look at the clocks at', h('input', { type: 'datetime-local', name: 'until' }), 'optional; default: the resolution, else a week after the last event'),
    h('button', { type: 'submit' }, 'Simulate'), out);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    mount(out);
    const iso = (v) => new Date(v).toISOString();
    if (!form.start.value) {
      showErrors(form, { fields: { start: 'say when the ticket was opened' } });
      return;
    }
    const events = [];
    if (form.first_response.value)
      events.push({ at: iso(form.first_response.value), type: 'first_response' });
    if (form.resolved.value)
      events.push({ at: iso(form.resolved.value), type: 'resolved' });
    events.sort((a, b) => a.at.localeCompare(b.at));
    const last = events.length ? events[events.length - 1].at : iso(form.start.value);
    const until = form.until.value ? iso(form.until.value)
      : form.resolved.value ? undefined : new Date(Date.parse(last) + 7 * 86400 * 1000).toISOString();
    try {
      const r = await post(`/api/v1/sla-policies/${item.id}/simulate`, { start: iso(form.start.value), priority: form.priority.value, events, until });
      const clock = (name, c) => (c ? h('li', {}, `${name}: target ${dur(c.target_seconds)}, due ${when(c.due_at)}, ${c.breached ? 'breached' : 'not breached'}, ${dur(c.business_seconds)} used`) : h('li', {}, `${name}: no target`));
      mount(out, h('ul', {}, clock('First response', r.response), clock('Resolution', r.resolution)),
        h('table', { class: 'segments' },
          h('thead', {}, h('tr', {}, ['Clock', 'State', 'From', 'To', 'Business time'].map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', {}, r.segments.map((s) => h('tr', { class: `seg-${s.state}` }, h('td', {}, s.clock), h('td', {}, s.state.replace('_', ' ')),
            h('td', {}, when(s.from)), h('td', {}, when(s.to)), h('td', {}, dur(s.business_seconds)))))));
    } catch (err) {
      showErrors(form, err);
    }
  });
  return form;
}

/* ---- contracts ------------------------------------------------------------ */

export function contractFields(clients, policies) {
  const admin = session.user.role === 'admin';
  return [
    { name: 'client_id', label: 'Client', kind: 'select', num: true, options: [['', 'choose…'], ...clients], only: 'create' },
    { name: 'name', label: 'Name', kind: 'text' },
    { name: 'sla_policy_id', label: 'SLA policy', kind: 'select', num: true, nullable: true, options: [['', 'the provider default'], ...policies] },
    { name: 'model', label: 'Pricing model', kind: 'select', options: MODELS.map((m) => [m, m.replace('_', ' ')]) },
    { name: 'starts_on', label: 'Starts on', kind: 'date' },
    { name: 'ends_on', label: 'Ends on', kind: 'date', nullable: true, hint: 'empty: open-ended' },
    { name: 'notes', label: 'Notes', kind: 'textarea', nullable: true },
  ].map((f) => (admin ? f : { ...f, attrs: { disabled: true } }));
}

