// Usage by day, what it costs by the tenant's rate card, and the month's statement as CSV.
import { api, withQuery } from './api.js';
import { h, minutes, table } from './dom.js';
import { chart } from './charts.js';
import { failed } from './console.js';

const ITEM_NAMES = {
  participantMinutes: 'Participant minutes', recordingMinutes: 'Recording minutes', egressGigabytes: 'Egress (GB)',
  speechMinutes: 'Speech minutes', agentMinutes: 'Assistant minutes', translationThousandCharacters: 'Translation (1000 characters)',
};
const participantSeconds = (u) => Object.values(u.participantSeconds).reduce((a, b) => a + b, 0);

function monthRange(month) {
  const [y, m] = month.split('-').map(Number);
  const from = Date.UTC(y, m - 1, 1);
  const to = Math.min(Date.UTC(y, m, 1), Date.now());
  return { from: new Date(from).toISOString(), to: new Date(Math.max(to, from + 1)).toISOString() };
}

export function usageView() {
  const now = new Date();
  const picker = h('input', { type: 'month', id: 'usage-month', value: now.toISOString().slice(0, 7) });
  const download = h('a', { id: 'statement', download: true }, 'Download the statement (CSV)');
  const body = h('div', { id: 'usage-body' });
  const el = h('section', {}, h('h1', {}, 'Usage and cost'), h('p', {}, h('label', {}, 'Month ', picker), ' ', download), body);

  async function load() {
    const month = picker.value;
    const { from, to } = monthRange(month);
    download.href = withQuery('/v1/usage/statement', { month });
    const [daily, usage] = await Promise.all([api(withQuery('/v1/usage/daily', { from, to })), api(withQuery('/v1/usage', { from, to }))]);
    const xs = daily.days.map((d) => Date.parse(d.date) / 1000);
    const perDay = (f) => daily.days.map((d) => Number(f(d.usage).toFixed(3)));
    const cost = usage.cost;
    body.replaceChildren(
      h('div', { className: 'charts' },
        chart({ title: 'Minutes by day', name: 'minutes', bars: true, xs, yLabel: 'minutes', series: [
          { label: 'Participants', values: perDay((u) => participantSeconds(u) / 60) },
          { label: 'Recording', values: perDay((u) => u.recordingSeconds / 60) },
          { label: 'Speech', values: perDay((u) => u.speechSeconds / 60) },
          { label: 'Assistant', values: perDay((u) => u.agentSeconds / 60) },
        ] }),
        chart({ title: 'Egress by day (MB)', name: 'egress', bars: true, xs, yLabel: 'MB', series: [{ label: 'Sent to participants', values: perDay((u) => u.bytesOut / 1e6) }] }),
        ...(cost ? [chart({ title: `Cost by day (${cost.currency})`, name: 'cost', bars: true, xs, series: [{ label: 'Cost', values: daily.days.map((d) => d.cost?.total ?? 0) }] })] : []),
      ),
      h('h2', {}, 'This month'),
      h('dl', { className: 'facts', id: 'usage-totals' },
        h('dt', {}, 'Participant minutes'), h('dd', { dataset: { total: 'participantMinutes' } }, minutes(participantSeconds(usage.total))),
        h('dt', {}, 'Recording minutes'), h('dd', { dataset: { total: 'recordingMinutes' } }, minutes(usage.total.recordingSeconds)),
        h('dt', {}, 'Egress'), h('dd', { dataset: { total: 'egressBytes' } }, `${(usage.total.bytesOut / 1e6).toFixed(2)} MB`),
        h('dt', {}, 'Speech minutes'), h('dd', {}, minutes(usage.total.speechSeconds)),
        h('dt', {}, 'Assistant minutes'), h('dd', {}, minutes(usage.total.agentSeconds)),
        h('dt', {}, 'Characters translated'), h('dd', {}, String(usage.total.translatedCharacters)),
      ),
      h('h2', {}, 'Cost'),
      cost
        ? h('div', { id: 'usage-cost' },
          table([
            ['Item', (l) => ITEM_NAMES[l.item] ?? l.item],
            ['Quantity', (l) => String(l.quantity), 'num'],
            ['Unit price', (l) => `${l.unitPrice} / ${l.unit}`, 'num'],
            ['Amount', (l) => `${l.amount.toFixed(4)} ${cost.currency}`, 'num'],
          ], cost.lines, (l) => ({ dataset: { item: l.item, amount: String(l.amount) } })),
          h('p', { className: 'total', dataset: { total: 'cost', amount: String(cost.total), currency: cost.currency } }, `Total ${cost.total.toFixed(4)} ${cost.currency}`))
        : h('p', { className: 'muted' }, 'This tenant has no rate card (tenants[].rates), so its usage is not priced.'),
      h('h2', {}, 'By room'),
      table([
        ['Room', (r) => r.room],
        ['Participant minutes', (r) => minutes(participantSeconds(r.usage)), 'num'],
        ['Recording minutes', (r) => minutes(r.usage.recordingSeconds), 'num'],
        ['Egress MB', (r) => (r.usage.bytesOut / 1e6).toFixed(2), 'num'],
        ['Cost', (r) => (r.cost ? `${r.cost.total.toFixed(4)} ${r.cost.currency}` : '–'), 'num'],
      ], usage.rooms),
    );
  }

  picker.addEventListener('change', () => load().catch((err) => failed(err, view)));
  const view = { el, start: load };
  return view;
}
