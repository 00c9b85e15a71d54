// admin-rules.js: triage rules in the admin pages: the ordered list, an
// editor (conditions as rows of field / operator / value, actions as
// fields) and the dry-run, which shows for a sample ticket which rules
// match and why, and what the ticket would become; on a rule's page it can
// try the draft alone before it is saved.
import { api, del, get, post } from './api.js';
import { clientOptions, fetchItem, listPage, mayWrite } from './admin.js';
import { technicians } from './dispatch.js';
import { clearErrors, field, h, mount, select, showErrors } from './ui.js';

/* Which operators each field takes (docs/TICKETS.md "Triage rules"). */
const FIELDS = {
  channel: ['eq', 'neq', 'in'], type: ['eq', 'neq', 'in'], priority: ['eq', 'neq', 'in'],
  category: ['eq', 'neq', 'in', 'exists'], client_id: ['eq', 'neq', 'in'],
  requester_contact_id: ['eq', 'neq', 'in'], text: ['word'], device: ['exists'],
};
const IDS = new Set(['client_id', 'requester_contact_id']);
const OP_LABEL = { eq: 'is', neq: 'is not', in: 'is one of', word: 'has the word', exists: 'is set' };
const CHANNELS = ['portal', 'api', 'email', 'phone', 'monitoring'];
const TYPES = ['incident', 'service_request', 'problem', 'change'];
const PRIOS = ['P1', 'P2', 'P3', 'P4'];

/* "client_id is one of 1, 2" for lists and the trace. */
function condText(c) {
  const v = c.values ? c.values.join(', ') : String(c.value);
  return `${c.field} ${OP_LABEL[c.op] || c.op} ${c.op === 'exists' ? (c.value ? '' : '(no)') : v}`.trim();
}

function actText(a) {
  return Object.entries(a).map(([k, v]) => `${k} = ${Array.isArray(v) ? v.join(', ') : v}`).join('; ');
}

export async function ruleList(root) {
  const items = (await get('/api/v1/triage-rules')).items.slice().sort((a, b) => a.position - b.position || a.id - b.id);
  listPage(root, {
    title: 'Triage rules (run in this order)', noun: 'triage rule', items, href: (r) => `#/admin/triage-rules/${r.id}`,
    newHref: mayWrite() ? '#/admin/triage-rules/new' : null,
    cols: [['Name', (r) => r.name], ['Position', (r) => String(r.position)],
      ['When', (r) => [r.on_create && 'created', r.on_update && 'updated'].filter(Boolean).join(', ') || 'never'],
      ['Conditions', (r) => (r.conditions.length ? r.conditions.map(condText).join(' and ') : 'every ticket')],
      ['Actions', (r) => actText(r.actions) + (r.stop ? '; then stop' : '')],
      ['Enabled', (r) => (r.enabled ? 'yes' : 'no')]],
  });
  root.append(dryRunForm(null, await clientOptions(), items));
}

function condRow(c, i) {
  const f = c.field || 'text';
  const ops = FIELDS[f] || ['eq'];
  const value = c.values ? c.values.join(', ') : c.value === undefined ? '' : String(c.value);
  const row = h('fieldset', { class: 'cond-row', name: `conditions[${i}]` },
    h('legend', { class: 'sr' }, `Condition ${i + 1}`),
    select(`conditions[${i}].field`, Object.keys(FIELDS).map((x) => [x, x.replace(/_/g, ' ')]), f, { 'aria-label': `condition ${i + 1}: field` }),
    select(`conditions[${i}].op`, ops.map((o) => [o, OP_LABEL[o]]), c.op || ops[0], { 'aria-label': `condition ${i + 1}: operator` }),
    h('input', { name: `conditions[${i}].value`, value: c.op === 'exists' ? (c.value === false ? 'false' : 'true') : value, 'aria-label': `condition ${i + 1}: value`, placeholder: 'value; several separated by commas' }),
    h('button', { type: 'button', class: 'secondary', 'data-remove': i }, 'Remove'));
  return row;
}

/* The conditions as the API takes them, read from the rows. */
function readConds(form) {
  const out = [];
  for (let i = 0; form.elements.namedItem(`conditions[${i}].field`); i++) {
    const f = form.elements.namedItem(`conditions[${i}].field`).value;
    const op = form.elements.namedItem(`conditions[${i}].op`).value;
    const raw = form.elements.namedItem(`conditions[${i}].value`).value.trim();
    const conv = (s) => (IDS.has(f) && /^\d+$/.test(s) ? Number(s) : s);
    const parts = raw.split(',').map((s) => s.trim()).filter(Boolean);
    const c = { field: f, op };
    if (op === 'exists')
      c.value = raw !== 'false' && raw !== 'no';
    else if (op === 'in' || (op === 'word' && parts.length > 1))
      c.values = parts.map(conv);
    else
      c.value = conv(raw);
    out.push(c);
  }
  return out;
}

function readActions(form) {
  const a = {};
  const v = (n) => form.elements.namedItem(`actions.${n}`).value.trim();
  for (const k of ['queue', 'category', 'note'])
    if (v(k))
      a[k] = v(k);
  if (v('tier'))
    a.tier = Number(v('tier'));
  if (v('priority'))
    a.priority = v('priority');
  if (v('assignee_id'))
    a.assignee_id = Number(v('assignee_id'));
  if (v('tags'))
    a.tags = v('tags').split(',').map((s) => s.trim()).filter(Boolean);
  return a;
}

export async function ruleEdit(root, id, go) {
  const [clients, techs] = await Promise.all([clientOptions(), technicians()]);
  const loaded = id === null ? { item: null } : await fetchItem(`/api/v1/triage-rules/${id}`);
  const { item } = loaded;
  const etag = loaded.etag;
  const r = item || { name: '', position: 100, enabled: true, on_create: true, on_update: false, stop: false, conditions: [], actions: {} };
  let conds = r.conditions.slice();
  const condBox = h('div', {});
  const drawConds = () => mount(condBox, conds.length ? conds.map(condRow) : h('p', { class: 'muted' }, 'No conditions: the rule matches every ticket.'));
  drawConds();
  const a = r.actions;
  const addCond = h('button', { type: 'button', class: 'secondary', onclick: () => {
    conds = [...readConds(form), { field: 'text', op: 'word', value: '' }];
    drawConds();
    form.elements.namedItem(`conditions[${conds.length - 1}].value`)?.focus();
  } }, 'Add a condition');
  const form = h('form', { class: 'card', novalidate: true },
    h('h2', {}, item ? item.name : 'New triage rule'),
    h('p', { class: 'alert', role: 'alert', hidden: true }),
    h('p', { class: 'ok', role: 'status', hidden: true }),
    field('Name', h('input', { name: 'name', value: r.name, required: true })),
    field('Position', h('input', { name: 'position', type: 'number', value: r.position }), 'rules run from the lowest position up'),
    h('div', { class: 'checks' },
      ['enabled', 'on_create', 'on_update', 'stop'].map((k) => h('label', { class: 'check' },
        h('input', { type: 'checkbox', name: k, checked: !!r[k] }),
        { enabled: 'enabled', on_create: 'when a ticket is created', on_update: 'when staff change a ticket', stop: 'stop after this rule matches' }[k]))),
    h('fieldset', { class: 'field', name: 'conditions' }, h('legend', {}, 'Conditions (all must hold)'), condBox,
      addCond),
    h('fieldset', { class: 'field', name: 'actions' }, h('legend', {}, 'Then set'),
      field('Queue', h('input', { name: 'actions.queue', value: a.queue ?? '' })),
      field('Tier', select('actions.tier', [['', '—'], [1, '1'], [2, '2'], [3, '3']], a.tier)),
      field('Priority', select('actions.priority', [['', '—'], ...PRIOS.map((p) => [p, p])], a.priority)),
      field('Category', h('input', { name: 'actions.category', value: a.category ?? '' })),
      field('Assignee', select('actions.assignee_id', [['', '—'], ...techs], a.assignee_id)),
      field('Tags', h('input', { name: 'actions.tags', value: (a.tags || []).join(', ') }), 'separated by commas'),
      field('Internal note', h('textarea', { name: 'actions.note', rows: 2 }, a.note ?? ''))),
    mayWrite() ? h('button', { type: 'submit' }, item ? 'Save' : 'Create') : null);
  condBox.addEventListener('click', (ev) => {
    const i = ev.target.dataset?.remove;
    if (i !== undefined) {
      conds = readConds(form);
      conds.splice(Number(i), 1);
      drawConds();
      addCond.focus();   // the row and its button are gone
    }
  });
  // A changed field offers the operators it takes.
  condBox.addEventListener('change', (ev) => {
    if (/^conditions\[\d+\]\.field$/.test(ev.target.name)) {
      const name = ev.target.name;
      conds = readConds(form).map((c) => (FIELDS[c.field].includes(c.op) ? c : { field: c.field, op: FIELDS[c.field][0], value: '' }));
      drawConds();
      form.elements.namedItem(name)?.focus();   // keep the keyboard where it was
    }
  });
  const ruleBody = () => ({ conditions: readConds(form), actions: readActions(form) });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const all = {
      name: form.name.value.trim(), position: Number(form.position.value || 0),
      enabled: form.enabled.checked, on_create: form.on_create.checked, on_update: form.on_update.checked, stop: form.stop.checked,
      ...ruleBody(),
    };
    const body = {};
    for (const [k, v] of Object.entries(all))
      if (!item || JSON.stringify(v) !== JSON.stringify(item[k]))
        body[k] = v;
    try {
      if (item)
        await api('PATCH', `/api/v1/triage-rules/${item.id}`, body, { 'If-Match': etag });
      else
        await api('POST', '/api/v1/triage-rules', body);
      go('#/admin/triage-rules');
    } catch (err) {
      showErrors(form, err);
    }
  });
  const parts = [h('p', {}, h('a', { href: '#/admin/triage-rules' }, '← triage rules')), form,
    dryRunForm(ruleBody, clients, null)];
  if (item && mayWrite())
    parts.push(deleteButton(item, go));
  mount(root, parts);
}

function deleteButton(item, go) {
  const msg = h('p', { class: 'alert', role: 'alert', hidden: true });
  const btn = h('button', { type: 'button', class: 'danger' }, 'Delete this rule');
  btn.addEventListener('click', async () => {
    if (btn.dataset.armed !== '1') {
      btn.dataset.armed = '1';
      btn.textContent = 'Really delete? Click again';
      return;
    }
    try {
      await del(`/api/v1/triage-rules/${item.id}`);
      go('#/admin/triage-rules');
    } catch (err) {
      msg.textContent = err.message;
      msg.hidden = false;
    }
  });
  return h('div', { class: 'card' }, msg, btn);
}

/* The dry-run: a sample ticket against the saved rules, or (draft given)
 * against the rule being edited alone. */
function dryRunForm(draft, clients, rules) {
  const out = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'card dry-run', novalidate: true },
    h('h2', {}, draft ? 'Try this rule on a sample ticket' : 'Dry run: which rules match a ticket'),
    h('p', { class: 'alert', role: 'alert', hidden: true }),
    h('div', { class: 'filters' },
      field('Client', select('ticket.client_id', [['', '—'], ...clients], '')),
      field('Channel', select('ticket.channel', CHANNELS.map((c) => [c, c]), 'email')),
      field('Type', select('ticket.type', TYPES.map((t) => [t, t.replace('_', ' ')]), 'incident')),
      field('Category', h('input', { name: 'ticket.category' })),
      field('Impact', select('ticket.impact', [['', '—'], ['low', 'low'], ['medium', 'medium'], ['high', 'high']], '')),
      field('Urgency', select('ticket.urgency', [['', '—'], ['low', 'low'], ['medium', 'medium'], ['high', 'high']], '')),
      field('On', select('on', [['create', 'create'], ['update', 'update']], 'create'))),
    field('Subject', h('input', { name: 'ticket.subject' })),
    field('Description', h('textarea', { name: 'ticket.description', rows: 2 })),
    h('button', { type: 'submit' }, draft ? 'Try the draft' : 'Dry run'), out);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    mount(out);
    const ticket = {};
    for (const k of ['client_id', 'channel', 'type', 'category', 'impact', 'urgency', 'subject', 'description']) {
      const v = form.elements.namedItem(`ticket.${k}`).value.trim();
      if (v)
        ticket[k] = k === 'client_id' ? Number(v) : v;
    }
    const body = { ticket, on: form.on.value };
    if (draft)
      body.rule = draft();
    try {
      const r = await post('/api/v1/triage-rules/dry-run', body);
      const names = new Map((rules || []).map((x) => [x.id, x.name]));
      const res = Object.entries(r.result).filter(([, v]) => v !== null && !(Array.isArray(v) && !v.length));
      mount(out,
        h('h3', {}, r.matched.length ? `${r.matched.length} rule${r.matched.length === 1 ? '' : 's'} match` : 'No rule matches'),
        h('dl', { class: 'details result' }, res.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, Array.isArray(v) ? v.join(', ') : String(v))])),
        h('table', { class: 'trace' },
          h('thead', {}, h('tr', {}, ['Rule', 'Matched', 'Why'].map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', {}, r.trace.map((t) => h('tr', { class: t.matched ? 'hit' : '' },
            h('td', {}, draft ? 'this draft' : names.get(t.rule_id) || `#${t.rule_id}`),
            h('td', {}, t.matched ? 'yes' : 'no'), h('td', {}, t.why))))));
    } catch (err) {
      // Problems about the draft (rule.conditions[0].value) are the editor's.
      showErrors(form, err);
    }
  });
  return form;
}
