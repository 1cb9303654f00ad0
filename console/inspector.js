// One call: its timeline, each participant's quality over time, the evidence, the transcript and the triage.
import { api } from './api.js';
import { h, table, time } from './dom.js';
import { chart } from './charts.js';

const secondsOf = (iso) => Date.parse(iso) / 1000;
const scaled = (points, key, factor = 1) => points.map((p) => (p[key] === null ? null : Number((p[key] * factor).toFixed(4))));

/** Everything that happened in the call, oldest first. */
function timeline(call) {
  const items = [
    ...call.timeline.map((t) => ({ at: t.at, what: `${t.type}${t.identity ? ` · ${t.identity}` : ''}${t.detail ? ` · ${t.detail}` : ''}`, kind: t.type })),
    ...call.snapshots.map((s) => ({ at: s.takenAt, what: `snapshot of ${s.identity} by ${s.takenBy}`, kind: 'snapshot' })),
    ...call.notes.map((n) => ({ at: n.at, what: `note (${n.kind}) by ${n.author}: ${n.text}`, kind: 'note' })),
    ...call.recordings.map((f) => ({ at: f.startedAt, what: `recording of ${f.identity}'s ${f.kind}${f.endedAt ? ` until ${time(f.endedAt)}` : ''} (${f.status})`, kind: 'recording' })),
    ...(call.assistant?.handedOverAt ? [{ at: call.assistant.handedOverAt, what: 'the assistant handed over to a person', kind: 'handover' }] : []),
    ...(call.assistant?.evidence ?? []).map((e) => ({ at: e.startedAt, what: `evidence clip of ${e.identity} (nobody answered)`, kind: 'evidence' })),
  ].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  return h('ol', { className: 'timeline', id: 'timeline' }, items.map((i) => h('li', { dataset: { kind: i.kind } }, h('time', {}, time(i.at)), i.what)));
}

/** A participant's charts, from the points the node kept of its quality reports. */
function participantCharts(p) {
  const points = p.series ?? [];
  const xs = points.map((pt) => secondsOf(pt.at));
  const head = h('h3', {}, `${p.name || p.identity} · ${p.role} · ${p.region}/${p.node} · ${time(p.joinedAt)} → ${time(p.leftAt)}${p.leaveReason ? ` (${p.leaveReason})` : ''}`);
  if (points.length === 0) return h('div', { dataset: { participant: p.identity } }, head, h('p', { className: 'muted' }, 'No quality reports from this participant\'s client.'));
  return h('div', { dataset: { participant: p.identity } }, head, h('div', { className: 'charts' },
    chart({ title: 'Bitrate (kbit/s)', name: 'bitrate', xs, series: [{ label: 'sent', values: scaled(points, 'sendBitrateBps', 0.001) }, { label: 'received', values: scaled(points, 'recvBitrateBps', 0.001) }] }),
    chart({ title: 'Loss (%)', name: 'loss', xs, series: [{ label: 'loss', values: scaled(points, 'lossRate', 100) }] }),
    chart({ title: 'Round trip (ms)', name: 'rtt', xs, series: [{ label: 'RTT', values: scaled(points, 'rttMs') }] }),
    chart({ title: 'Video layer received', name: 'layer', xs, series: [{ label: 'spatial layer', values: scaled(points, 'videoLayer') }] }),
    chart({ title: 'Frozen video and concealed audio (%)', name: 'frozen', xs, series: [{ label: 'frozen', values: scaled(points, 'frozenRatio', 100) }, { label: 'concealed', values: scaled(points, 'concealedRatio', 100) }] }),
  ));
}

function evidence(call) {
  const file = (id) => `/v1/files/${encodeURIComponent(id)}`;
  const snaps = call.snapshots.map((s) => h('figure', { dataset: { snapshot: s.snapshotId } },
    h('img', { src: file(s.snapshotId), alt: `Snapshot of ${s.identity}`, width: s.width, height: s.height, loading: 'lazy' }),
    h('figcaption', {}, `${s.identity} · ${time(s.takenAt)} · ${s.width}×${s.height}`)));
  const recs = call.recordings.filter((f) => f.bytes > 0).map((f) => h('figure', { dataset: { recording: f.fileId } },
    h(f.kind === 'video' ? 'video' : 'audio', { src: file(f.fileId), controls: true, preload: 'metadata' }),
    h('figcaption', {}, `${f.identity} · ${f.kind} (${f.codec}) · ${f.durationSeconds ?? '?'} s · `, h('a', { href: file(f.fileId), download: true }, 'download'))));
  if (snaps.length + recs.length === 0) return h('p', { className: 'muted' }, 'No snapshots or recordings.');
  return h('div', { className: 'evidence', id: 'evidence' }, snaps, recs);
}

function transcript(call) {
  if (call.transcript.length === 0) return h('p', { className: 'muted' }, 'No transcript (captions were off).');
  return table([
    ['Time', (s) => time(s.startedAt)],
    ['Who', (s) => s.identity],
    ['Said', (s) => `${s.text} [${s.language}]`],
    ['Translations', (s) => Object.entries(s.translations).map(([l, t]) => `${l}: ${t}`).join(' · ') || Object.entries(s.untranslated).map(([l, why]) => `${l}: ${why}`).join(' · ') || '–'],
  ], call.transcript);
}

function triage(call) {
  const outcome = call.assistant?.outcome;
  const notes = call.notes.filter((n) => n.kind === 'triage' || n.kind === 'resolution');
  if (!outcome && notes.length === 0) return h('p', { className: 'muted' }, 'No triage in this call.');
  return h('div', { id: 'triage' },
    outcome ? h('dl', { className: 'facts' },
      h('dt', {}, 'Category'), h('dd', {}, outcome.category ?? '–'),
      h('dt', {}, 'Remedy'), h('dd', {}, outcome.remedy ?? '–'),
      h('dt', {}, 'Accepted'), h('dd', {}, outcome.accepted ? 'yes' : 'no'),
      h('dt', {}, 'Handed over'), h('dd', {}, outcome.handover ? 'yes' : 'no')) : null,
    outcome ? h('p', {}, outcome.summary) : null,
    notes.map((n) => h('p', {}, `${n.author} (${n.kind}): ${n.text}`)));
}

export function inspectorView(callId) {
  const el = h('section', { id: 'inspector' }, h('p', { className: 'muted' }, 'Loading…'));
  async function load() {
    const call = await api(`/v1/calls/${encodeURIComponent(callId)}`);
    el.replaceChildren(
      h('p', {}, h('a', { href: '#/calls' }, '← Calls')),
      h('h1', {}, `Call in ${call.room}`),
      h('dl', { className: 'facts' },
        h('dt', {}, 'Call id'), h('dd', {}, call.callId),
        h('dt', {}, 'Started'), h('dd', {}, time(call.startedAt)),
        h('dt', {}, 'Ended'), h('dd', {}, time(call.endedAt)),
        h('dt', {}, 'Minutes'), h('dd', {}, (call.durationSeconds / 60).toFixed(1)),
        h('dt', {}, 'Regions'), h('dd', {}, call.regions.join(', ')),
        ...Object.entries(call.metadata).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))])),
      h('h2', {}, 'Timeline'), timeline(call),
      h('h2', {}, 'Quality'), ...call.participants.map(participantCharts),
      h('h2', {}, 'Evidence'), evidence(call),
      h('h2', {}, 'Transcript'), transcript(call),
      h('h2', {}, 'Triage'), triage(call),
    );
  }
  return { el, start: load };
}
