// ui.js: small DOM helpers. Every text goes in as text (textContent or
// text nodes), never as HTML; no inline styles (the CSP forbids them).
import { serverNow } from './api.js';

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

export function mount(root, ...children) {
  root.replaceChildren(...children.flat(Infinity).filter(Boolean));
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

export function slaBadge(t) {
  const st = slaState(t);
  if (!st || st.state === 'none')
    return h('span', { class: 'badge none' }, '—');
  return h('span', {
    class: `badge sla-${st.state}`,
    title: st.due ? `due ${when(st.due)} (your time)` : st.text,
    'data-sla': st.state,
  }, st.text);
}

/* Shows an API error: field messages next to their inputs (by name), the
 * rest in the form's alert. Nothing typed is touched. */
export function showErrors(form, err) {
  for (const old of form.querySelectorAll('.field-error'))
    old.remove();
  for (const el of form.querySelectorAll('[aria-invalid]'))
    el.removeAttribute('aria-invalid');
  const alert = form.querySelector('.alert');
  let unplaced = [];
  for (const [field, msg] of Object.entries(err.fields || {})) {
    const input = form.querySelector(`[name="${CSS.escape(field)}"]`);
    if (!input) {
      unplaced.push(`${field}: ${msg}`);
      continue;
    }
    const id = `err-${field.replace(/[^a-z0-9_-]/gi, '_')}`;
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', id);
    input.after(h('span', { class: 'field-error', id, role: 'alert' }, msg));
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

export function field(label, input, hint) {
  const id = input.id || `f-${input.name}`;
  input.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, hint ? h('small', {}, hint) : null);
}

export function select(name, options, value, attrs = {}) {
  return h('select', { name, ...attrs }, options.map(([v, label]) =>
    h('option', { value: v, selected: String(v) === String(value ?? '') }, label)));
}
