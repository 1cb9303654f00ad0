// Rooms now, with their participants and each one's quality now, refreshed every 2 s.
import { api, withQuery } from './api.js';
import { h, kbps, num, pct, table, time } from './dom.js';
import { failed } from './console.js';

const EVERY_MS = 2000;
/** Rooms shown with their participants (one request each): the newest first. */
const MAX_ROOMS = 50;

function participants(room) {
  return table([
    ['Participant', (p) => h('span', {}, p.name ? `${p.name} (${p.identity})` : p.identity)],
    ['Role', (p) => p.role],
    ['Region', (p) => p.region],
    ['Node', (p) => p.node],
    ['State', (p) => p.state],
    ['Tracks', (p) => p.tracks.map((t) => `${t.kind}${t.muted ? ' (muted)' : ''}`).join(', ') || '–'],
    ['RTT', (p) => num(p.quality.latest?.rttMs) + ' ms', 'num'],
    ['Loss', (p) => pct(p.quality.latest?.lossRate), 'num'],
    ['Received', (p) => kbps(p.quality.latest?.bitrateBps), 'num'],
    ['Sent', (p) => kbps(p.quality.latest?.sendBitrateBps), 'num'],
    ['Frozen', (p) => pct(p.quality.latest?.frozenRatio), 'num'],
    ['Quality', (p) => h('span', { className: p.quality.poor ? 'poor' : 'good' }, p.quality.latest ? (p.quality.poor ? 'poor' : 'good') : '–')],
  ], room.participants ?? [], (p) => ({ dataset: { identity: p.identity } }));
}

export function liveView() {
  const list = h('div', { id: 'live-rooms' });
  const stamp = h('p', { className: 'muted' });
  const el = h('section', {}, h('h1', {}, 'Live calls'), stamp, list);
  let timer;
  let stopped = false;

  async function refresh() {
    const { rooms } = await api(withQuery('/v1/rooms', { limit: MAX_ROOMS }));
    const detailed = await Promise.all(rooms.map((r) => api(`/v1/rooms/${encodeURIComponent(r.room)}`).catch(() => undefined)));
    if (stopped) return;
    const shown = detailed.filter(Boolean);
    list.replaceChildren(...(shown.length === 0 ? [h('p', { className: 'muted' }, 'No calls now.')] : shown.map((room) => h('div', { className: 'card', dataset: { room: room.room, callId: room.callId } },
      h('h2', {}, room.room),
      h('p', { className: 'muted' }, `call ${room.callId} · since ${time(room.createdAt)} · ${room.participants.length} of ${room.maxParticipants}`,
        ...Object.entries(room.metadata ?? {}).map(([k, v]) => ` · ${k}: ${v}`)),
      participants(room),
    ))));
    stamp.textContent = `Updated ${time(new Date().toISOString())} UTC, every ${EVERY_MS / 1000} s.`;
  }

  async function loop() {
    try {
      await refresh();
    } catch (err) {
      failed(err, view);
      if (err.status === 401) return;
    }
    if (!stopped) timer = setTimeout(loop, EVERY_MS);
  }

  const view = {
    el,
    start: async () => loop(),
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
  return view;
}
