// dispatch.js: the dispatcher's board: unassigned and breaching tickets
// across clients, chosen with checkboxes and assigned in one go (the bulk
// API: every ticket or none).
import { api, get, qs } from './api.js';
import { clearErrors, clientName, h, loadClientNames, loadSlaZones, mount, select, showErrors, slaBadge, slaState, when } from './ui.js';

/* The technicians, for assignee pickers: [[id, "name (tier n)"], ...]. */
export async function technicians() {
  const us = (await get(`/api/v1/users${qs({ role: 'technician', limit: 500 })}`)).items;
  return us.filter((u) => u.active !== false).map((u) => [u.id, `${u.name} (tier ${u.tier})`]);
}

function board(title, items, techs, reload) {
  const boxes = items.map((t) => h('input', { type: 'checkbox', name: 'ids', value: t.id, 'aria-label': `select ${t.number}` }));
  const form = h('form', { class: 'card board', novalidate: true },
    h('h2', {}, `${title} (${items.length})`),
    h('p', { class: 'alert', role: 'alert', hidden: true }),
    items.length ? h('table', {},
      h('thead', {}, h('tr', {}, ['', 'Ticket', 'Subject', 'Client', 'Priority', 'Tier', 'SLA', 'Opened'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, items.map((t, i) => h('tr', {},
        h('td', {}, boxes[i]),
        h('td', {}, h('a', { href: `#/tickets/${t.id}` }, t.number)),
        h('td', {}, t.subject), h('td', {}, clientName(t.client_id)),
        h('td', {}, h('span', { class: `prio prio-${t.priority}` }, t.priority)),
        h('td', {}, `T${t.tier}`), h('td', {}, slaBadge(t)), h('td', {}, when(t.created_at))))))
      : h('p', { class: 'empty' }, 'Nothing here.'),
    items.length ? h('div', { class: 'bulk' },
      h('label', { for: `to-${title}` }, 'Assign to'),
      select('assignee_id', techs, '', { id: `to-${title}` }),
      h('button', { type: 'submit' }, 'Assign selected')) : null);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const ids = boxes.filter((b) => b.checked).map((b) => Number(b.value));
    if (!ids.length) {
      showErrors(form, { fields: {}, message: 'Select at least one ticket.' });
      return;
    }
    try {
      await api('PATCH', '/api/v1/tickets', { ids, set: { assignee_id: Number(form.assignee_id.value) } });
      reload();
    } catch (err) {
      showErrors(form, err);
    }
  });
  return form;
}

export async function dispatchView(app) {
  const [unassigned, open, techs] = await Promise.all([
    get(`/api/v1/tickets${qs({ assignee_id: 'none', open: 'true', limit: 200 })}`),
    get(`/api/v1/tickets${qs({ open: 'true', limit: 500 })}`),
    technicians(),
    loadSlaZones(),
    loadClientNames(),
  ]);
  const breaching = open.items.filter((t) => ['warn', 'breach'].includes(slaState(t)?.state));
  const reload = () => dispatchView(app);
  mount(app, h('h1', {}, 'Dispatch'),
    board('Unassigned', unassigned.items, techs, reload),
    board('Breaching or warned', breaching, techs, reload));
}
