import type { Logger } from '../logging/logger.js';
import type { UsageCounters } from '../metrics/platform-metrics.js';
import type { Peer } from '../rooms/peer.js';
import type { Room } from '../rooms/room.js';
import type { ParticipantLedger } from './participant-ledger.js';
import type { PlatformStore, UsageRow } from './store.js';

/** Live participants whose transports are sampled per tick: a tick costs the same with 10 or 10,000. */
const SAMPLES_PER_TICK = 50;


interface Live {
  room: Room;
  peer: Peer;
  /** Last bytes seen per transport (closed transports keep theirs). */
  transports: Map<string, { in: number; out: number }>;
  /** The last sample, taken as it left (leaving()). */
  final?: Promise<void>;
}

const sum = (live: Live) => [...live.transports.values()].reduce((t, b) => ({ in: t.in + b.in, out: t.out + b.out }), { in: 0, out: 0 });

/**
 * Usage per tenant and room: participant time by role, published track time by kind, and the
 * bytes each participant's transports moved, from mediasoup's own transport stats. Stats are
 * sampled on a bounded schedule (a few participants per tick, round robin), once more as each
 * participant leaves (so a stay shorter than the round counts all it moved), and for the
 * participants a usage query covers.
 */
export class UsageMeter {
  private readonly live = new Map<Peer, Live>();
  /** Participants gone but not yet stored (their last sample is on its way). */
  private readonly unstored = new Set<Promise<void>>();
  private cursor = 0;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly store: PlatformStore,
    private readonly ledger: ParticipantLedger,
    private readonly counters: UsageCounters,
    private readonly tickMs: number,
    private readonly log: Logger,
  ) {}

  start() {
    this.timer = setInterval(() => void this.tick(), this.tickMs);
    this.timer.unref();
  }

  stop() {
    clearInterval(this.timer);
  }

  join(room: Room, peer: Peer) {
    this.live.set(peer, { room, peer, transports: new Map() });
  }

  /** The participant is leaving, its transports still open: their last stats are asked for now. */
  leaving(peer: Peer) {
    const live = this.live.get(peer);
    if (live) live.final = this.sample(live);
  }

  /** The participant left: its stay and its tracks become usage rows (once its last sample is in). */
  leave(peer: Peer, leftAt: number): Promise<void> {
    const live = this.live.get(peer);
    if (!live) return Promise.resolve();
    this.live.delete(peer);
    const stored = this.storeStay(live, leftAt).finally(() => this.unstored.delete(stored));
    this.unstored.add(stored);
    return stored;
  }

  /** Resolves once every participant that has left is in the store (a usage query reads after it). */
  async settled() {
    await Promise.all([...this.unstored]);
  }

  private async storeStay(live: Live, leftAt: number) {
    await live.final;
    const rows = this.rows(live, leftAt);
    for (const r of rows) {
      if (r.kind === 'participant') this.counters.seconds(r.tenant, r.role ?? 'unknown', (r.endAt - r.startAt) / 1000);
      else if (r.kind === 'audio' || r.kind === 'video') this.counters.media(r.tenant, r.kind, (r.endAt - r.startAt) / 1000);
    }
    await this.store.addUsage(rows).catch((err) => this.log.warn({ err: (err as Error).message }, 'could not store usage'));
  }

  /**
   * Use that is not a stay or a track, counted as it happens: a participant's audio captioned
   * (speech, its seconds of audio), an assistant's time in a call (agent), characters translated.
   */
  add(row: UsageRow) {
    const stored = this.store.addUsage([row]).catch((err) => this.log.warn({ err: (err as Error).message }, 'could not store usage'));
    this.unstored.add(stored);
    void stored.finally(() => this.unstored.delete(stored));
  }

  /** What this node's live participants of `tenant` have used so far (sampled now). */
  async liveRows(tenant: string, now = Date.now()): Promise<UsageRow[]> {
    const lives = [...this.live.values()].filter((l) => l.room.settings.tenant === tenant);
    await Promise.all(lives.map((l) => this.sample(l)));
    return lives.flatMap((l) => this.rows(l, now));
  }

  private rows(live: Live, end: number): UsageRow[] {
    const { tenant, name: room, callId } = live.room.settings;
    const bytes = sum(live);
    const participant: UsageRow = { tenant, room, callId, kind: 'participant', role: live.peer.claims.role, startAt: live.peer.joinedAt, endAt: end, bytesIn: bytes.in, bytesOut: bytes.out };
    const tracks = this.ledger.tracks(live.peer).map((t): UsageRow => ({
      tenant, room, callId, kind: t.kind, role: null,
      startAt: Date.parse(t.publishedAt), endAt: t.unpublishedAt ? Date.parse(t.unpublishedAt) : end, bytesIn: 0, bytesOut: 0,
    }));
    return [participant, ...tracks];
  }

  private async sample(live: Live) {
    // A WebRTC transport whose ICE never started has moved no bytes: no request to the worker for it.
    const moved = [...live.peer.all('transport')].filter((t) => !('iceState' in t) || t.iceState !== 'new');
    await Promise.all(moved.map(async (transport) => {
      const [stats] = await transport.getStats().catch(() => []);
      if (!stats) return;
      const before = live.transports.get(transport.id) ?? { in: 0, out: 0 };
      const now = { in: stats.bytesReceived, out: stats.bytesSent };
      live.transports.set(transport.id, now);
      const tenant = live.room.settings.tenant;
      if (now.in > before.in) this.counters.bytes(tenant, 'in', now.in - before.in);
      if (now.out > before.out) this.counters.bytes(tenant, 'out', now.out - before.out);
    }));
  }

  /** One tick: the next few live participants, round robin. */
  private async tick() {
    const lives = [...this.live.values()];
    if (lives.length === 0) return;
    const batch: Live[] = [];
    for (let i = 0; i < Math.min(SAMPLES_PER_TICK, lives.length); i++) batch.push(lives[(this.cursor + i) % lives.length]);
    this.cursor = (this.cursor + batch.length) % Math.max(1, lives.length);
    await Promise.all(batch.map((l) => this.sample(l)));
  }
}
