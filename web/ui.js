// ui.js: small DOM helpers. Every text goes in as text (textContent or
// text nodes), never as HTML; no inline styles (the CSP forbids them).
import { get, serverNow } from './api.js';

/* h('p', {class: 'x', onclick: fn}, 'text', child...) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false)
      continue;
    if (k.startsWith('on') && typeof v === 'function')
      el.addEventListener(k.slice(2), v);
    else if (k === 'class')
      el.className = v;
    else if (v === true)
      el.setAttribute(k, '');
    else
      el.setAttribute(k, String(v));
  }
  for (const c of children.flat(Infinity))
    if (c !== undefined && c !== null && c !== false)
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

/* Ids field() handed out since the last mount(). */
const idsGiven = new Set();

/* Builds part of a page that is already shown (build() returns it): the
 * ids it gets do not repeat the page's. */
export function partOfPage(build) {
  for (const el of document.querySelectorAll('[id]'))
    idsGiven.add(el.id);
  try {
    return build();
  } finally {
    idsGiven.clear();
  }
}

export function mount(root, ...children) {
  root.replaceChildren(...children.flat(Infinity).filter(Boolean));
  idsGiven.clear();
}

/* An instant in the viewer's zone. */
const fmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
export function when(iso) {
  return iso ? fmt.format(new Date(iso)) : '';
}

/* "2 h 05 min" for a duration in ms (absolute). */
export function span(ms) {
  const m = Math.round(Math.abs(ms) / 60000);
  if (m < 60)
    return `${m} min`;
  const hh = Math.floor(m / 60), mm = m % 60;
  if (hh < 48)
    return `${hh} h ${String(mm).padStart(2, '0')} min`;
  return `${Math.floor(hh / 24)} d ${hh % 24} h`;
}

/* The SLA badge of a ticket: the clock that matters now (response until
 * the first reply, then resolution), time left or overdue, and its state:
 * ok, warn (a warning was announced), breach, paused, met. */
export function slaState(t, now = serverNow()) {
  const s = t.sla;
  if (!s)
    return null;
  const responding = !t.first_response_at && !t.resolved_at;
  const clock = responding ? 'response' : 'resolution';
  const due = responding ? s.response_due_at : s.resolution_due_at;
  const breached = responding ? s.response_breached : s.resolution_breached;
  const warned = responding ? s.response_warned : s.resolution_warned;
  if (t.resolved_at)
    return { clock, state: s.resolution_breached ? 'breach' : 'met', text: s.resolution_breached ? 'resolved late' : 'met' };
  if (s.paused)
    return { clock, state: 'paused', text: 'paused' };
  if (!due)
    return { clock, state: 'none', text: '' };
  const left = Date.parse(due) - now;
  if (breached || left < 0)
    return { clock, state: 'breach', text: `${clock} overdue ${span(left)}`, due };
  return { clock, state: warned ? 'warn' : 'ok', text: `${clock} in ${span(left)}`, due };
}

/* An instant in a given zone: "16:00 America/New_York" (the date too
 * when it is not the viewer's date). */
const viewerZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
const zoneFmts = new Map();   /* zone -> formatters (costly to make: made once) */
function fmtsOf(zone) {
  let f = zoneFmts.get(zone);
  if (!f) {
    f = {
      day: new Intl.DateTimeFormat('en-CA', { timeZone: zone }),
      time: new Intl.DateTimeFormat(undefined, { timeZone: zone, timeStyle: 'short' }),
      both: new Intl.DateTimeFormat(undefined, { timeZone: zone, dateStyle: 'medium', timeStyle: 'short' }),
    };
    zoneFmts.set(zone, f);
  }
  return f;
}
export function whenIn(iso, zone) {
  if (!iso || !zone)
    return '';
  const d = new Date(iso);
  const f = fmtsOf(zone);
  const here = fmtsOf(viewerZone);
  return `${(f.day.format(d) === here.day.format(d) ? f.time : f.both).format(d)} ${zone}`;
}

/* The zone of the calendar an SLA counts in, per policy and priority
 * (staff can read policies and calendars; others get null). Loaded once
 * a few minutes. */
let zones = null, zonesAt = 0;
export async function loadSlaZones() {
  if (zones && Date.now() - zonesAt < 5 * 60 * 1000)
    return;
  try {
    const [ps, cs] = await Promise.all([get('/api/v1/sla-policies?limit=500'), get('/api/v1/calendars?limit=500')]);
    const tz = new Map(cs.items.map((c) => [c.id, c.timezone]));
    zones = new Map(ps.items.map((p) => [p.id, (prio) => tz.get(p.calendars?.[prio] ?? p.calendar_id) || null]));
  } catch {
    zones = new Map();
  }
  zonesAt = Date.now();
}
/* Client names for lists (staff see every client), cached like the zones. */
let names = new Map(), namesAt = 0;
export async function loadClientNames() {
  if (Date.now() - namesAt < 5 * 60 * 1000)
    return;
  try {
    names = new Map((await get('/api/v1/clients?limit=500')).items.map((c) => [c.id, c.name]));
  } catch { /* ids are shown instead */ }
  namesAt = Date.now();
}
export const clientName = (id) => names.get(id) || String(id);
export const clientNames = () => [...names].sort((a, b) => a[1].localeCompare(b[1]));

export function slaZone(t) {
  return t.sla?.policy_id && zones?.get(t.sla.policy_id)?.(t.priority) || null;
}

/* "23 Nov 2026, 22:00 (16:00 America/New_York, the SLA calendar's zone)" */
export function dueText(t, iso) {
  const z = slaZone(t);
  return z ? `${when(iso)} (${whenIn(iso, z)}, the SLA calendar's zone)` : when(iso);
}

export function slaBadge(t) {
  const st = slaState(t);
  if (!st || st.state === 'none')
    return h('span', { class: 'badge none' }, '—');
  const due = st.due ? `${st.clock} due ${dueText(t, st.due)}` : '';
  return h('span', {
    class: `badge sla-${st.state}`,
    title: due || st.text,
    'aria-label': due ? `${st.text}; ${due}` : st.text,
    'data-sla': st.state,
  }, st.text);
}

/* Shows an API error: field messages next to their inputs (by name), the
 * rest in the form's alert. Nothing typed is touched. */
export function showErrors(form, err) {
  for (const old of form.querySelectorAll('.field-error'))
    old.remove();
  for (const el of form.querySelectorAll('[aria-invalid]')) {
    el.removeAttribute('aria-invalid');
    el.removeAttribute('aria-describedby');
  }
  const alert = form.querySelector('.alert');
  let unplaced = [];
  for (const [field, msg] of Object.entries(err.fields || {})) {
    // A member deep inside a value (hours.mon[1][0]) goes to the nearest
    // input named for a part of its path (hours.mon), with the rest said.
    let name = field, input = null;
    while (name && !(input = form.querySelector(`[name="${CSS.escape(name)}"]`))) {
      const up = name.replace(/(\[[^\]]*\]|\.[^.[\]]*)$/, '');
      name = up === name ? '' : up;
    }
    if (!input) {
      unplaced.push(`${field}: ${msg}`);
      continue;
    }
    const id = `err-${(input.id || name).replace(/[^a-z0-9_-]/gi, '_')}`;
    const text = name === field ? msg : `${field.slice(name.length).replace(/^\./, '')}: ${msg}`;
    const prev = form.querySelector(`#${CSS.escape(id)}`);
    if (prev) {
      prev.textContent += `; ${text}`;
      continue;
    }
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', id);
    input.after(h('span', { class: 'field-error', id, role: 'alert' }, text));
  }
  if (alert) {
    const text = unplaced.length ? unplaced.join('; ') : Object.keys(err.fields || {}).length ? '' : err.message;
    alert.textContent = text;
    alert.hidden = !text;
  }
}

export function clearErrors(form) {
  showErrors(form, { fields: {}, message: '' });
}

/* Form values as an object (empty strings left out unless keep). */
export function values(form, keep = false) {
  const o = {};
  for (const [k, v] of new FormData(form).entries())
    if (keep || v !== '')
      o[k] = v;
  return o;
}

/* Drafts survive a session expiry: saved per key on every input, put back
 * when the form is shown again, dropped once sent. */
export function keepDraft(form, key) {
  const k = `itsup.draft.${key}`;
  const saved = sessionStorage.getItem(k);
  if (saved) {
    try {
      for (const [name, v] of Object.entries(JSON.parse(saved))) {
        const el = form.elements.namedItem(name);
        if (el && 'value' in el && el.type !== 'password')
          el.value = v;
      }
    } catch { /* a bad draft is dropped */ }
  }
  form.addEventListener('input', () => {
    const o = {};
    for (const el of form.elements)
      if (el.name && el.type !== 'password' && el.type !== 'submit')
        o[el.name] = el.value;
    sessionStorage.setItem(k, JSON.stringify(o));
  });
  return () => sessionStorage.removeItem(k);
}

/* A labelled input. Ids are unique within what one mount() shows (a page
 * may have several forms with a "name"): f-NAME first, then f-NAME-2 ... */
export function field(label, input, hint) {
  let id = input.id;
  if (!id) {
    const base = `f-${input.name.replace(/[^a-z0-9_-]/gi, '_')}`;
    id = base;
    for (let n = 2; idsGiven.has(id); n++)
      id = `${base}-${n}`;
    idsGiven.add(id);
  }
  input.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, hint ? h('small', {}, hint) : null);
}

export function select(name, options, value, attrs = {}) {
  return h('select', { name, ...attrs }, options.map(([v, label]) =>
    h('option', { value: v, selected: String(v) === String(value ?? '') }, label)));
}

/* Business seconds as "4h", "1d 2h 30m" (d = 24 h of business time). */
export function dur(sec) {
  if (sec === null || sec === undefined || sec === '')
    return '';
  let s = Number(sec);
  const parts = [];
  for (const [u, n] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]])
    if (s >= n) {
      parts.push(`${Math.floor(s / n)}${u}`);
      s %= n;
    }
  return parts.length ? parts.join(' ') : '0m';
}

/* The inverse: "4h", "90m", "1d 2h", "3600" (seconds) -> seconds; null
 * for empty, NaN when it is not a duration. */
export function parseDur(text) {
  const t = String(text ?? '').trim().toLowerCase();
  if (!t)
    return null;
  if (/^\d+$/.test(t))
    return Number(t);
  const re = /(\d+(?:\.\d+)?)\s*(d|h|m|s)\s*/gy;
  let total = 0, m, at = 0;
  while ((m = re.exec(t))) {
    total += Number(m[1]) * { d: 86400, h: 3600, m: 60, s: 1 }[m[2]];
    at = re.lastIndex;
  }
  return at === t.length ? Math.round(total) : NaN;
}
