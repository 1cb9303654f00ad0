// Call records: search by order id, ticket id, participant or date; each opens in the inspector.
import { api, withQuery } from './api.js';
import { h, table, time } from './dom.js';
import { failed } from './console.js';

const field = (name, label, type = 'text') => h('label', {}, label, h('input', { name, type, maxlength: 128 }));

export function callsView() {
  const results = h('div', { id: 'call-results' });
  const more = h('button', { type: 'button', className: 'secondary', hidden: true }, 'Older calls');
  const form = h('form', { className: 'search', id: 'call-search' },
    field('orderId', 'Order id'), field('ticketId', 'Ticket id'), field('identity', 'Participant'),
    field('from', 'From (UTC)', 'date'), field('to', 'To (UTC)', 'date'),
    h('button', { type: 'submit' }, 'Search'));
  const el = h('section', {}, h('h1', {}, 'Calls'), form, results, more);
  let query = {};
  let cursor = null;

  async function load(append) {
    const data = await api(withQuery('/v1/calls', { ...query, limit: 25, cursor: append ? cursor : undefined }));
    cursor = data.nextCursor;
    more.hidden = !cursor;
    const rows = table([
      ['Started', (c) => h('a', { href: `#/calls/${encodeURIComponent(c.callId)}` }, time(c.startedAt))],
      ['Room', (c) => c.room],
      ['Minutes', (c) => (c.durationSeconds / 60).toFixed(1), 'num'],
      ['Participants', (c) => [...new Set(c.participants.map((p) => `${p.identity} (${p.role})`))].join(', ')],
      ['Order', (c) => c.metadata?.orderId ?? '–'],
      ['Ticket', (c) => c.metadata?.ticketId ?? '–'],
      ['Evidence', (c) => `${c.snapshots.length} snapshots, ${c.recordings.length} files`],
    ], data.calls, (c) => ({ dataset: { callId: c.callId } }));
    if (append) results.append(rows);
    else results.replaceChildren(data.calls.length ? rows : h('p', { className: 'muted' }, 'No calls match.'));
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const f = new FormData(form);
    const day = (v, end) => (v ? new Date(Date.parse(v) + (end ? 86_400_000 : 0)).toISOString() : undefined);
    query = {
      'metadata.orderId': f.get('orderId') || undefined,
      'metadata.ticketId': f.get('ticketId') || undefined,
      identity: f.get('identity') || undefined,
      from: day(f.get('from'), false),
      to: day(f.get('to'), true),
    };
    load(false).catch((err) => failed(err, view));
  });
  more.addEventListener('click', () => load(true).catch((err) => failed(err, view)));
  const view = { el, start: () => load(false) };
  return view;
}
