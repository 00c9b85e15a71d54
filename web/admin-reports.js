// admin-reports.js: the admin section "Report schedules"
// (#/admin/report-schedules[/ID|new]), provider admins only like its
// routes (GET/POST/PATCH/DELETE /api/v1/reports/schedules, P_ADMIN): each
// schedule mails one client's SLA review pack every month or quarter, at
// an hour of the client's day, to up to ten addresses, with the CSV
// beside it when asked. The list says when each goes out next and with
// which period; a schedule's page edits it (only what changed, with
// If-Match), sends the latest complete period now, or deletes it (two
// clicks). Loaded when first opened, like the mail pages.
import { api, del, get, post } from './api.js';
import { clientOptions, fetchItem, listPage } from './admin.js';
import { twoClick } from './admin-mail.js';
import { clearErrors, field, h, mount, select, showErrors, when, whenIn } from './ui.js';

const CADENCES = [['monthly', 'every month'], ['quarterly', 'every quarter']];
const HOURS = Array.from({ length: 24 }, (_, i) => [i, `${String(i).padStart(2, '0')}:00`]);
const hourText = (s) => `${String(s.hour).padStart(2, '0')}:00 ${s.timezone}`;

function say(el, text) {
  el.textContent = text;
  el.hidden = !text;
}

/* The recipients typed one a line (or with commas) -> the list; lines[i]
 * is the line number of the i-th address, for the server's recipients[i]. */
function recipients(text) {
  const list = [], lines = [];
  String(text).split('\n').forEach((line, n) => {
    for (const a of line.split(/[,;]/).map((x) => x.trim()).filter(Boolean)) {
      list.push(a);
      lines.push(n + 1);
    }
  });
  return { list, lines };
}

/* The body the form says: every member (create) or what differs from s. */
function bodyOf(form, s) {
  const all = {
    cadence: form.cadence.value,
    recipients: recipients(form.recipients.value).list,
    formats: form.formats.checked ? ['html', 'csv'] : ['html'],
    hour: Number(form.hour.value),
    enabled: form.enabled.checked,
  };
  if (!s)
    return { client_id: form.client_id.value ? Number(form.client_id.value) : undefined, ...all };
  return Object.fromEntries(Object.entries(all).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(s[k])));
}

/* The server's recipients[2] said at the box as "line 3 (address)". */
function placeErrors(form, err) {
  const { list, lines } = recipients(form.recipients.value);
  for (const f of Object.keys(err.fields)) {
    const m = /^recipients\[(\d+)\]$/.exec(f);
    if (!m)
      continue;
    const i = Number(m[1]);
    const said = `line ${lines[i] ?? '?'}${list[i] ? ` (${list[i]})` : ''}: ${err.fields[f]}`;
    err.fields.recipients = err.fields.recipients ? `${err.fields.recipients}; ${said}` : said;
    delete err.fields[f];
  }
  if (err.fields['formats[0]'] || err.fields['formats[1]']) {
    err.fields.formats = err.fields['formats[0]'] || err.fields['formats[1]'];
    delete err.fields['formats[0]'];
    delete err.fields['formats[1]'];
  }
  showErrors(form, err);
}

function scheduleForm(s, clients) {
  return [
    s ? h('p', {}, 'Client: ', h('strong', {}, s.client_name || String(s.client_id)))
      : field('Client', select('client_id', [['', 'choose…'], ...clients], '', { required: true })),
    field('How often', select('cadence', CADENCES, s?.cadence || 'monthly'),
      'the pack of the month (quarter) just ended, on the first day of the next'),
    field('Hour', select('hour', HOURS, s?.hour ?? 7), 'in the client\'s time zone'),
    field('Recipients', h('textarea', { name: 'recipients', rows: 3, required: true }, (s?.recipients || []).join('\n')),
      'e-mail addresses, one a line (at most 10)'),
    h('label', { class: 'check field' }, h('input', { type: 'checkbox', name: 'formats', value: 'csv', checked: !!s?.formats?.includes('csv') }),
      'Attach the CSV of the tickets too (the printable pack always goes)'),
    h('label', { class: 'check field' }, h('input', { type: 'checkbox', name: 'enabled', checked: s ? s.enabled : true }),
      'On (switched on again, periods that fell due while off are not sent)'),
  ];
}

/* "the pack of 2027-03, sent 1 Apr 2027, 14:00 (08:00 America/New_York)" */
const nextText = (s) => (s.enabled && s.next_send_at
  ? `the pack of ${s.next_period?.label || '?'}, sent ${when(s.next_send_at)} (${whenIn(s.next_send_at, s.timezone)})` : 'off');

export async function scheduleList(root) {
  const items = (await get('/api/v1/reports/schedules?limit=500')).items;
  listPage(root, {
    title: 'Report schedules', noun: 'schedule', items, href: (s) => `#/admin/report-schedules/${s.id}`,
    newHref: '#/admin/report-schedules/new', empty: 'No review is sent by itself yet.',
    cols: [['Client', (s) => s.client_name || s.client_id], ['How often', (s) => CADENCES.find(([k]) => k === s.cadence)?.[1] || s.cadence],
      ['Hour', hourText], ['Recipients', (s) => s.recipients.join(', ')], ['CSV', (s) => (s.formats.includes('csv') ? 'yes' : 'no')],
      ['Next', nextText], ['Last sent', (s) => (s.last_sent_at ? `${s.last_period_sent || ''} on ${when(s.last_sent_at)}` : 'never')]],
  });
}

export async function scheduleEdit(root, id, go) {
  const back = h('p', {}, h('a', { href: '#/admin/report-schedules' }, '← report schedules'));
  if (id === null) {
    const form = h('form', { class: 'card', novalidate: true },
      h('h2', {}, 'New report schedule'),
      h('p', { class: 'alert', role: 'alert', hidden: true }),
      scheduleForm(null, await clientOptions()),
      h('button', { type: 'submit' }, 'Create'));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      try {
        const s = await post('/api/v1/reports/schedules', bodyOf(form, null));
        go(`#/admin/report-schedules/${s.id}`);
      } catch (err) {
        placeErrors(form, err);
      }
    });
    mount(root, back, form);
    return;
  }
  const loaded = await fetchItem(`/api/v1/reports/schedules/${id}`);
  let s = loaded.item, etag = loaded.etag || `"v${s.version}"`;
  const ok = h('p', { class: 'ok', role: 'status', hidden: true });
  const next = h('p', { class: 'muted', 'data-next': '' });
  const showNext = () => {
    next.textContent = `Next: ${nextText(s)}. Last sent: ${s.last_sent_at ? `${s.last_period_sent || ''} on ${when(s.last_sent_at)}` : 'never'}.`;
  };
  showNext();
  const form = h('form', { class: 'card', novalidate: true },
    h('h2', {}, `SLA review of ${s.client_name || s.client_id}`),
    h('p', { class: 'alert', role: 'alert', hidden: true }), ok, next,
    scheduleForm(s, []),
    h('button', { type: 'submit' }, 'Save'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    say(ok, '');
    const body = bodyOf(form, s);
    if (!Object.keys(body).length) {
      say(ok, 'Nothing changed.');
      return;
    }
    try {
      const r = await api('PATCH', `/api/v1/reports/schedules/${id}`, body, { 'If-Match': etag });
      s = r.data;
      etag = r.etag || `"v${s.version}"`;
      showNext();
      say(ok, 'Saved.');
    } catch (err) {
      placeErrors(form, err);
    }
  });
  const msg = h('p', { class: 'alert', role: 'alert', hidden: true });
  const sent = h('p', { class: 'ok', role: 'status', hidden: true });
  const send = h('button', { type: 'button', class: 'secondary' }, 'Send the latest period now');
  send.addEventListener('click', async () => {
    say(msg, '');
    say(sent, '');
    send.disabled = true;
    try {
      const r = await post(`/api/v1/reports/schedules/${id}/send`, {});
      say(sent, `Queued: the pack of ${r.period.label} (${r.period.from} to ${r.period.to}, the last day not included) to ${r.recipients.join(', ')}. The outbox has it.`);
    } catch (err) {
      say(msg, err.message);
    } finally {
      send.disabled = false;
    }
  });
  const remove = twoClick('Delete this schedule', 'Really delete? Click again', {}, async () => {
    try {
      await del(`/api/v1/reports/schedules/${id}`);
      go('#/admin/report-schedules');
    } catch (err) {
      say(msg, err.message);
    }
  });
  mount(root, back, form, h('div', { class: 'card buttons' }, msg, sent, send, remove));
}
