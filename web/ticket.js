// ticket.js: one ticket: its details and SLA, the conversation (public
// replies and internal notes look different), the changes staff make
// (status, priority, escalation, time), and the timeline with the SLA
// clock segments. Mail: a message's quoted earlier text folded away, "by
// e-mail" on what came by mail, the files (downloads), and for staff what
// was sent about the ticket (the outbox's deliveries).
import { api, get, post } from './api.js';
import { isStaff } from './app.js';
import { technicians } from './dispatch.js';
import { clearErrors, dueText, field, h, keepDraft, loadSlaZones, mount, select, showErrors, slaBadge, span, values, when } from './ui.js';

const STATUSES = ['new', 'open', 'pending_customer', 'pending_vendor', 'on_hold', 'resolved', 'closed'];
const label = (s) => s.replace('_', ' ');

export async function ticketView(app, id) {
  const res = await api('GET', `/api/v1/tickets/${id}`);
  const t = res.data;
  const staff = isStaff();
  const [msgs, tl, files, sent] = await Promise.all([
    get(`/api/v1/tickets/${id}/messages`),
    get(`/api/v1/tickets/${id}/timeline`),
    get(`/api/v1/tickets/${id}/attachments`),
    // What was sent: a failure here costs the page nothing but this part.
    staff ? get(`/api/v1/tickets/${id}/deliveries?limit=100`).catch((err) => err) : null,
    staff ? loadSlaZones() : null,
  ]);
  const byMsg = new Map();   /* message id -> its files; 0: the ticket's own */
  const shown = new Set(msgs.items.map((m) => m.id));
  for (const f of files.items) {
    const k = shown.has(f.message_id) ? f.message_id : 0;
    byMsg.set(k, [...(byMsg.get(k) || []), f]);
  }
  const reload = () => ticketView(app, id);
  const techs = staff ? await technicians() : [];
  mount(app,
    h('p', {}, h('a', { href: '#/tickets' }, '← Tickets')),
    h('h1', {}, `${t.number} ${t.subject}`),
    details(t, staff),
    staff ? changes(t, res.etag, techs, reload) : null,
    !staff && t.csat_url ? rating(t) : null,
    h('section', { 'aria-labelledby': 'conv' },
      h('h2', { id: 'conv' }, 'Conversation'),
      t.description || byMsg.has(0) ? h('div', { class: 'msg desc', 'data-source': t.channel === 'email' ? 'email' : null },
        t.channel === 'email' ? h('span', { class: 'badge by-mail' }, 'by e-mail') : null,
        t.description ? h('p', { class: 'body' }, t.description) : null, fileList(byMsg.get(0))) : null,
      msgs.items.map((m) => h('article', { class: `msg ${m.kind}`, 'data-kind': m.kind, 'data-source': m.source || 'itsup' },
        h('header', {}, h('strong', {}, m.kind === 'note' ? 'Internal note' : 'Reply'), ' ', h('time', { datetime: m.created_at }, when(m.created_at)),
          m.source === 'email' ? [' ', h('span', { class: 'badge by-mail' }, 'by e-mail')] : null),
        messageBody(m), fileList(byMsg.get(m.id))))),
    staff ? deliveries(sent) : null,
    replyForm(t, staff, reload),
    h('section', { 'aria-labelledby': 'tl' },
      h('h2', { id: 'tl' }, 'Timeline'),
      h('ol', { class: 'timeline' }, tl.items.map((e) => h('li', {},
        h('time', { datetime: e.at }, when(e.at)), ' ', h('strong', {}, e.kind.replace('_', ' ')), ' ', summary(e)))),
      tl.sla_segments?.length ? segments(tl.sla_segments) : null));
}

/* Splits text at a UTF-8 byte offset (the API counts bytes, JavaScript
 * UTF-16 units): [before, after]. An offset inside a character moves back
 * to where that character starts, so none is ever cut in two. */
export function splitAtByte(text, at) {
  const bytes = new TextEncoder().encode(text);
  if (at === null || at === undefined || !(at > 0) || at >= bytes.length)
    return [text, ''];
  let i = Math.floor(at);
  while (i > 0 && (bytes[i] & 0xc0) === 0x80)   // a continuation byte
    i--;
  const dec = new TextDecoder();
  return [dec.decode(bytes.subarray(0, i)), dec.decode(bytes.subarray(i))];
}

/* A message's text; the earlier mail it quotes (from quote_at on) folded. */
function messageBody(m) {
  const [own, quoted] = splitAtByte(m.body, m.quote_at);
  if (!quoted)
    return h('p', { class: 'body' }, m.body);
  return [h('p', { class: 'body' }, own.replace(/\s+$/, '')),
    h('details', { class: 'quoted' }, h('summary', {}, 'Show quoted text'), h('p', { class: 'body' }, quoted.replace(/^\s*\n/, '')))];
}

/* "12 KB" */
export function bytes(n) {
  const units = ['bytes', 'KB', 'MB', 'GB'];
  let v = Number(n) || 0, u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} ${v === 1 ? 'byte' : 'bytes'}` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

/* Files, as downloads (the server sends them as attachments, never to be
 * shown on this origin). */
function fileList(list) {
  if (!list?.length)
    return null;
  return h('ul', { class: 'files', 'aria-label': 'Attachments' }, list.map((f) => h('li', {},
    h('a', { href: f.url, download: f.filename, type: f.content_type }, f.filename), ' ',
    h('span', { class: 'muted' }, `(${bytes(f.size)}${f.inline ? ', inline image' : ''})`))));
}

/* What was sent about the ticket (mail, webhooks), folded. */
function deliveries(res) {
  if (res instanceof Error)
    return h('details', { class: 'deliveries' }, h('summary', {}, 'Notifications'),
      h('p', { class: 'alert', role: 'alert' }, res.message));
  const items = res?.items || [];
  return h('details', { class: 'deliveries' },
    h('summary', {}, `Notifications (${items.length}${res?.next_cursor ? '+' : ''})`),
    items.length ? h('table', { class: 'compact' },
      h('thead', {}, h('tr', {}, ['When', 'Channel', 'To', 'What', 'State', 'Attempts', 'Last error'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, items.map((d) => h('tr', { 'data-state': d.state },
        h('td', {}, when(d.sent_at || d.created_at)), h('td', {}, d.channel), h('td', { class: 'wrap' }, d.target),
        h('td', {}, d.template || d.event), h('td', {}, h('span', { class: `badge dl-${d.state}` }, d.state)),
        h('td', { class: 'num' }, String(d.attempts)), h('td', { class: 'wrap' }, d.last_error || '—')))))
      : h('p', { class: 'muted' }, 'Nothing was sent about this ticket.'));
}

function details(t, staff) {
  const dl = [
    ['Status', label(t.status)],
    ['Priority', t.priority],
    ['SLA', slaBadge(t)],
    ['Type', label(t.type)],
    ['Channel', t.channel],
    ['Opened', when(t.created_at)],
  ];
  if (staff)
    dl.push(['Queue', t.queue], ['Tier', String(t.tier)], ['Client', String(t.client_id)]);
  if (t.sla?.response_due_at)
    dl.push(['Response due', dueText(t, t.sla.response_due_at)]);
  if (t.sla?.resolution_due_at)
    dl.push(['Resolution due', dueText(t, t.sla.resolution_due_at)]);
  return h('dl', { class: 'details' }, dl.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

function changes(t, etag, techs, reload) {
  const form = h('form', { class: 'card changes', novalidate: true },
    h('h2', {}, 'Change'),
    h('p', { class: 'alert', role: 'alert', hidden: true }),
    field('Status', select('status', STATUSES.map((s) => [s, label(s)]), t.status)),
    field('Priority', select('priority', [['P1', 'P1'], ['P2', 'P2'], ['P3', 'P3'], ['P4', 'P4']], t.priority)),
    field('Why the priority', h('input', { name: 'priority_reason' })),
    field('Queue', h('input', { name: 'queue', value: t.queue })),
    field('Assignee', select('assignee_id', [['', 'unassigned'], ...techs], t.assignee_id ?? '')),
    h('button', { type: 'submit' }, 'Save'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const v = values(form);
    const body = {};
    for (const k of ['status', 'priority', 'queue'])
      if (v[k] !== undefined && v[k] !== t[k])
        body[k] = v[k];
    if (body.priority)
      body.priority_reason = v.priority_reason;
    const assignee = form.assignee_id.value ? Number(form.assignee_id.value) : null;
    if (assignee !== (t.assignee_id ?? null))
      body.assignee_id = assignee;
    if (!Object.keys(body).length)
      return;
    try {
      await api('PATCH', `/api/v1/tickets/${t.id}`, body, etag ? { 'If-Match': etag } : {});
      reload();
    } catch (err) {
      showErrors(form, err);
    }
  });
  const esc = h('form', { class: 'card escalate', novalidate: true },
    h('h2', {}, 'Escalate'),
    h('p', { class: 'alert', role: 'alert', hidden: true }),
    field('To', select('to', [...[1, 2, 3].filter((n) => n !== t.tier).map((n) => [`tier:${n}`, `Tier ${n}`]), ['vendor', 'a vendor']], t.tier < 3 ? `tier:${t.tier + 1}` : 'vendor')),
    field('Vendor', h('input', { name: 'vendor' }), 'when escalating to a vendor'),
    field('Reason', h('input', { name: 'reason', required: true })),
    h('button', { type: 'submit' }, 'Escalate'));
  esc.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(esc);
    const v = values(esc);
    const body = { reason: v.reason };
    if (v.to?.startsWith('tier:')) body.to_tier = Number(v.to.slice(5));
    else body.vendor = v.vendor;
    try {
      await post(`/api/v1/tickets/${t.id}/escalate`, body);
      reload();
    } catch (err) {
      showErrors(esc, err);
    }
  });
  const time = h('form', { class: 'card time', novalidate: true },
    h('h2', {}, 'Time'),
    h('p', { class: 'alert', role: 'alert', hidden: true }),
    field('Minutes', h('input', { name: 'minutes', type: 'number', min: 1, inputmode: 'numeric' })),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'billable', value: 'true', checked: true }), 'billable'),
    field('Note', h('input', { name: 'note' })),
    h('button', { type: 'submit' }, 'Add time'));
  time.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(time);
    const v = values(time);
    try {
      await post(`/api/v1/tickets/${t.id}/time-entries`, { minutes: Number(v.minutes || 0), billable: v.billable === 'true', ...(v.note ? { note: v.note } : {}) });
      reload();
    } catch (err) {
      showErrors(time, err);
    }
  });
  return h('div', { class: 'actions' }, form, esc, time);
}

/* A resolved ticket's rating (CSAT), through its signed link. */
function rating(t) {
  const form = h('form', { class: 'card rating', novalidate: true },
    h('h2', {}, 'How did we do?'),
    h('p', { class: 'alert', role: 'alert', hidden: true }),
    h('fieldset', { class: 'stars' }, h('legend', {}, 'Your rating'),
      [1, 2, 3, 4, 5].map((n) => h('label', { class: 'check' }, h('input', { type: 'radio', name: 'rating', value: n }), `${n}`))),
    field('Comment', h('textarea', { name: 'comment', rows: 2 })),
    h('button', { type: 'submit' }, 'Rate'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const v = values(form);
    try {
      await post(t.csat_url, { rating: Number(v.rating || 0), ...(v.comment ? { comment: v.comment } : {}) });
      mount(form, h('p', {}, 'Thank you for your rating.'));
    } catch (err) {
      showErrors(form, err);
    }
  });
  return form;
}

function replyForm(t, staff, reload) {
  if (t.status === 'closed' && !staff)
    return h('p', { class: 'muted' }, 'This ticket is closed; a reply opens a new one.');
  const form = h('form', { class: 'card reply', novalidate: true },
    h('h2', {}, staff ? 'Reply or note' : 'Reply'),
    h('p', { class: 'alert', role: 'alert', hidden: true }),
    staff ? h('fieldset', { class: 'kind' }, h('legend', {}, 'Kind'),
      h('label', { class: 'check' }, h('input', { type: 'radio', name: 'kind', value: 'reply', checked: true }), 'Public reply (the client sees it)'),
      h('label', { class: 'check note' }, h('input', { type: 'radio', name: 'kind', value: 'note' }), 'Internal note (staff only)')) : null,
    field('Message', h('textarea', { name: 'body', rows: 5, required: true })),
    h('button', { type: 'submit' }, 'Send'));
  const dropDraft = keepDraft(form, `reply-${t.id}`);
  const setKind = () => form.classList.toggle('is-note', form.querySelector('[name=kind]:checked')?.value === 'note');
  form.addEventListener('change', setKind);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const v = values(form);
    try {
      await post(`/api/v1/tickets/${t.id}/messages`, { kind: v.kind || 'reply', body: v.body || '' });
      dropDraft();
      reload();
    } catch (err) {
      showErrors(form, err);
    }
  });
  setKind();
  return form;
}

function summary(e) {
  const d = e.data || {};
  if (e.kind === 'status') return `${label(d.from)} → ${label(d.to)}${d.reason ? ` (${d.reason})` : ''}`;
  if (e.kind === 'priority') return `${d.from} → ${d.to}${d.reason ? ` (${d.reason})` : ''}`;
  if (e.kind === 'escalated') return `tier ${d.from_tier} → ${d.to_tier ?? d.vendor ?? ''}${d.reason ? ` (${d.reason})` : ''}`;
  if (e.kind === 'sla') return d.paused ? 'clocks paused' : `response due ${when(d.response_due_at)}, resolution due ${when(d.resolution_due_at)}${d.reason ? ` (${d.reason})` : ''}`;
  if (e.kind === 'sla.warning') return `${d.clock} at ${Math.round(d.fraction * 100)}% of its target`;
  if (e.kind === 'sla.breached') return `${d.clock} target missed (due ${when(d.due_at)})`;
  if (e.kind === 'message') return d.kind === 'note' ? 'internal note' : 'reply';
  return '';
}

function segments(segs) {
  return h('details', { class: 'segments' },
    h('summary', {}, 'SLA clock segments'),
    h('table', {},
      h('thead', {}, h('tr', {}, ['Clock', 'State', 'From', 'To', 'Status', 'Counted'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, segs.map((s) => h('tr', { class: `seg-${s.state}` },
        h('td', {}, s.clock), h('td', {}, label(s.state)), h('td', {}, when(s.from)), h('td', {}, when(s.to)),
        h('td', {}, label(s.status)), h('td', {}, s.business_seconds ? span(s.business_seconds * 1000) : '—'))))));
}
