// The tenant's webhooks: what waits, what was delivered, what failed and why; a failure can be sent again.
import { api, withQuery } from './api.js';
import { h, table, time } from './dom.js';
import { failed } from './console.js';

export function webhooksView() {
  const body = h('div', {});
  const el = h('section', {}, h('h1', {}, 'Webhooks'), body);

  async function load() {
    const [backlog, deliveries, failures] = await Promise.all([
      api('/v1/webhooks/backlog'), api(withQuery('/v1/webhooks/deliveries', { limit: 50 })), api(withQuery('/v1/webhooks/failures', { limit: 50 })),
    ]);
    body.replaceChildren(
      h('p', { id: 'webhook-backlog' }, `${backlog.pending} events waiting to be delivered.`),
      h('h2', {}, 'Failed'),
      failures.failures.length === 0 ? h('p', { className: 'muted' }, 'None.') : table([
        ['Failed', (f) => time(f.failedAt)],
        ['Event', (f) => `${f.event.type} (${f.event.id})`],
        ['Room', (f) => f.event.room],
        ['Attempts', (f) => String(f.attempts), 'num'],
        ['Error', (f) => h('span', { className: 'poor' }, f.lastError)],
        ['', (f) => h('button', { type: 'button', dataset: { resend: f.event.id }, onclick: () => resend(f.event.id) }, 'Send again')],
      ], failures.failures, (f) => ({ dataset: { eventId: f.event.id } })),
      h('h2', {}, 'Delivered'),
      deliveries.deliveries.length === 0 ? h('p', { className: 'muted' }, 'None yet.') : table([
        ['Delivered', (d) => time(d.deliveredAt)],
        ['Event', (d) => `${d.type} (${d.eventId})`],
        ['Room', (d) => d.room],
        ['Attempts', (d) => String(d.attempts), 'num'],
      ], deliveries.deliveries, (d) => ({ dataset: { eventId: d.eventId } })),
    );
  }

  async function resend(eventId) {
    try {
      await api(`/v1/webhooks/failures/${encodeURIComponent(eventId)}/resend`, { method: 'POST' });
      await load();
    } catch (err) {
      failed(err, view);
    }
  }

  const view = { el, start: load };
  return view;
}
