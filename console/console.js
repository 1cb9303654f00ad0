// The console's shell: sign-in, the operator's choice of tenant, and the views by URL hash.
import { api, ApiError, setCsrf } from './api.js';
import { h } from './dom.js';
import { liveView } from './live.js';
import { callsView } from './calls.js';
import { inspectorView } from './inspector.js';
import { usageView } from './usage.js';
import { webhooksView } from './webhooks.js';

const $ = (id) => document.getElementById(id);
let session;
/** The view on screen: its stop() ends its polling. */
let current;

function showSignIn(message = '') {
  session = undefined;
  current?.stop?.();
  current = undefined;
  $('bar').hidden = true;
  $('view').replaceChildren();
  $('sign-in').hidden = false;
  $('sign-in-error').textContent = message;
  $('api-key').focus();
}

function showSession(s) {
  session = s;
  setCsrf(s.csrf);
  $('sign-in').hidden = true;
  $('bar').hidden = false;
  $('tenant-name').textContent = s.operator ? 'operator' : `tenant ${s.tenant}`;
  $('tenant-pick').hidden = !s.operator;
  if (s.operator) {
    $('tenant-select').replaceChildren(...s.tenants.map((t) => h('option', { value: t, selected: t === s.viewing }, t)));
  }
  route();
}

const VIEWS = {
  live: () => liveView(),
  calls: (arg) => (arg ? inspectorView(decodeURIComponent(arg)) : callsView()),
  usage: () => usageView(),
  webhooks: () => webhooksView(),
};

function route() {
  if (!session) return;
  const [, name = 'live', arg] = location.hash.match(/^#\/([a-z]+)(?:\/(.+))?/) ?? [];
  const make = VIEWS[name] ?? VIEWS.live;
  for (const a of document.querySelectorAll('[data-nav]')) a.classList.toggle('active', a.dataset.nav === name);
  current?.stop?.();
  const view = make(arg);
  current = view;
  $('view').replaceChildren(view.el);
  view.start?.().catch((err) => failed(err, view));
}

/** A view's request failed: a lapsed session asks for the key again; anything else is said in the view. */
export function failed(err, view) {
  if (err instanceof ApiError && err.status === 401) return showSignIn('Your session ended; sign in again.');
  view?.el.prepend(h('p', { className: 'error', role: 'alert' }, `${err.code ?? 'ERROR'}: ${err.message}`));
}

$('sign-in-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const key = $('api-key').value;
  $('api-key').value = '';
  try {
    showSession(await api('/console/session', { method: 'POST', body: { key } }));
  } catch (err) {
    $('sign-in-error').textContent = err.status === 401 ? 'No tenant has that key.' : err.message;
  }
});
$('sign-out').addEventListener('click', async () => {
  await api('/console/session', { method: 'DELETE' }).catch(() => undefined);
  showSignIn();
});
$('tenant-select').addEventListener('change', async (e) => {
  try {
    showSession(await api('/console/session/tenant', { method: 'POST', body: { tenant: e.target.value } }));
  } catch (err) {
    failed(err, current);
  }
});
addEventListener('hashchange', route);

api('/console/session').then(showSession, () => showSignIn());
