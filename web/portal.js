// portal.js: the client portal: my (or my organisation's) tickets and a
// new ticket. What a client may see is the API's decision (scope in the
// store); the portal simply shows what it is given.
import { get, post } from './api.js';
import { clearErrors, field, h, keepDraft, mount, showErrors, values, when } from './ui.js';

const label = (s) => s.replace('_', ' ');

export async function portalView(app) {
  const list = await get('/api/v1/tickets?limit=100');
  const rows = list.items.map((t) => h('li', { class: 'ticket-row' },
    h('a', { href: `#/tickets/${t.id}` }, `${t.number} ${t.subject}`),
    h('span', { class: `status status-${t.status}` }, label(t.status)),
    h('small', { class: 'muted' }, `updated ${when(t.updated_at)}`)));
  mount(app, h('h1', {}, 'My tickets'),
    h('p', {}, h('a', { class: 'button', href: '#/new' }, 'Report a problem')),
    rows.length ? h('ul', { class: 'plain' }, rows) : h('p', { class: 'empty' }, 'No tickets yet.'));
}

export async function portalNewView(app) {
  const form = h('form', { class: 'card', novalidate: true },
    h('h1', {}, 'Report a problem'),
    h('p', { class: 'alert', role: 'alert', hidden: true }),
    field('Subject', h('input', { name: 'subject', required: true, maxlength: 300 })),
    field('Category', h('input', { name: 'category', list: 'categories' }),
      'for example: printer, e-mail, network, account'),
    h('datalist', { id: 'categories' }, ['printer', 'e-mail', 'network', 'account', 'hardware', 'software'].map((c) => h('option', { value: c }))),
    field('What happened', h('textarea', { name: 'description', rows: 6 })),
    field('How many people are affected', h('select', { name: 'impact' },
      h('option', { value: 'low' }, 'just me'), h('option', { value: 'medium', selected: true }, 'my team'), h('option', { value: 'high' }, 'everyone'))),
    field('How urgent', h('select', { name: 'urgency' },
      h('option', { value: 'low' }, 'it can wait'), h('option', { value: 'medium', selected: true }, 'today'), h('option', { value: 'high' }, 'I cannot work'))),
    h('button', { type: 'submit' }, 'Send'));
  const dropDraft = keepDraft(form, 'portal-new');
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    try {
      const t = await post('/api/v1/tickets', values(form));
      dropDraft();
      location.hash = `#/tickets/${t.id}`;
    } catch (err) {
      showErrors(form, err);
    }
  });
  mount(app, form);
  form.subject.dataset.autofocus = '';
}
