// mfa.js: enrolling an authenticator (TOTP), which staff must do before
// anything else when the MFA policy is on.
import { post, session } from './api.js';
import { clearErrors, field, h, mount, showErrors } from './ui.js';

export async function mfaView(app) {
  const e = await post('/api/v1/me/totp');
  const form = h('form', { class: 'card narrow', novalidate: true },
    h('h1', {}, 'Set up your authenticator'),
    h('p', {}, 'Your organisation requires a second factor. Add this account to an authenticator app (the key below, or the link on a phone), then enter the 6-digit code it shows.'),
    h('p', {}, 'Key: ', h('code', { class: 'secret' }, e.secret)),
    h('p', {}, h('a', { href: e.otpauth_uri }, 'Open in an authenticator app')),
    h('p', { class: 'alert', role: 'alert', hidden: true }),
    field('Code', h('input', { name: 'code', inputmode: 'numeric', autocomplete: 'one-time-code', required: true })),
    h('button', { type: 'submit' }, 'Confirm'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    try {
      await post('/api/v1/me/totp/confirm', { code: form.code.value });
      session.user = { ...session.user, mfa_enrollment_required: false };
      location.hash = '#/tickets';
    } catch (err) {
      showErrors(form, err);
    }
  });
  mount(app, form);
  form.code.dataset.autofocus = '';
}
