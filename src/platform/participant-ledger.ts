import { EventEmitter } from 'node:events';
import type { ParticipantRecord, QualityReport, TrackRecord } from '../contracts/records.js';
import { trackSource, type Peer } from '../rooms/peer.js';
import type { Room } from '../rooms/room.js';
import { QualityTracker } from './quality.js';
import { QualitySeries } from './quality-series.js';

/** Tracks remembered per stay for its record; a client that republishes forever cannot grow it past this. */
const MAX_TRACK_HISTORY = 200;
const iso = (ms: number) => new Date(ms).toISOString();

/** Where a participant is hosted: this node, as its record says. */
export interface Where {
  region: string;
  node: string;
}

/** One participant's stay on this node, as the platform keeps it: its tracks and its quality. */
interface Stay {
  tracks: TrackRecord[];
  /** Open tracks by producer id, for their unpublish time. */
  open: Map<string, TrackRecord>;
  quality: QualityTracker;
  /** Its quality over time, for the call inspector. */
  series: QualitySeries;
  lastReportAt: number;
}

/** The highest spatial layer the node forwards to the peer now, across its simulcast/SVC video; null without any. */
function videoLayer(peer: Peer): number | null {
  let layer: number | null = null;
  for (const c of peer.all('consumer')) {
    if (c.kind !== 'video' || c.type === 'simple' || c.paused || c.producerPaused) continue;
    const spatial = c.currentLayers?.spatialLayer;
    if (spatial !== undefined && (layer === null || spatial > layer)) layer = spatial;
  }
  return layer;
}

export interface LedgerEvents {
  /** A participant's receivers have been in poor quality for longer than 10 s (once per episode). */
  degraded: [room: Room, peer: Peer];
}

/**
 * What the platform knows of each participant's stay on this node, fed by the rooms' events and
 * the clients' quality reports: the tracks it published, its quality, and its record. The one
 * place a participant record is built (for the call record, usage, the API and other nodes).
 */
export class ParticipantLedger extends EventEmitter<LedgerEvents> {
  private readonly stays = new WeakMap<Peer, Stay>();

  constructor() {
    super();
    // Each room's call tracker listens while the room lives: many rooms, no leak.
    this.setMaxListeners(0);
  }

  observe(room: Room) {
    room.on('peerJoined', (peer) => this.stays.set(peer, { tracks: [], open: new Map(), quality: new QualityTracker(), series: new QualitySeries(peer.joinedAt), lastReportAt: peer.joinedAt }));
    room.on('trackPublished', (peer, producer) => {
      const stay = this.stays.get(peer);
      if (!stay) return;
      const track: TrackRecord = { id: producer.id, kind: producer.kind, source: trackSource(producer), publishedAt: iso(Date.now()), unpublishedAt: null };
      if (stay.tracks.length < MAX_TRACK_HISTORY) stay.tracks.push(track);
      stay.open.set(producer.id, track);
    });
    room.on('trackUnpublished', (peer, producerId) => this.closeTrack(peer, producerId));
    // A leaving peer's tracks end with it (its producers close without events of their own).
    room.on('peerLeaving', (peer) => {
      for (const id of [...(this.stays.get(peer)?.open.keys() ?? [])]) this.closeTrack(peer, id);
    });
  }

  private closeTrack(peer: Peer, producerId: string) {
    const stay = this.stays.get(peer);
    const track = stay?.open.get(producerId);
    if (!stay || !track) return;
    track.unpublishedAt = iso(Date.now());
    stay.open.delete(producerId);
  }

  /**
   * A quality report from the participant's client. It covers at most the time since the last
   * one, so a client cannot claim more time than it spent here.
   */
  report(room: Room, peer: Peer, report: QualityReport, now = Date.now()) {
    const stay = this.stays.get(peer);
    if (!stay) return;
    const intervalMs = Math.max(0, Math.min(report.intervalMs, now - stay.lastReportAt));
    stay.lastReportAt = now;
    if (intervalMs === 0) return;
    stay.series.add(now, intervalMs, {
      sendBitrateBps: report.sendBitrateBps, recvBitrateBps: report.bitrateBps, lossRate: report.lossRate, rttMs: report.rttMs,
      videoLayer: videoLayer(peer), frozenRatio: report.frozenRatio, concealedRatio: report.concealedRatio,
    });
    if (stay.quality.add({ ...report, intervalMs }, now)) this.emit('degraded', room, peer);
  }

  quality(peer: Peer): QualityTracker | undefined {
    return this.stays.get(peer)?.quality;
  }

  /** The tracks it published in this stay (copies). */
  tracks(peer: Peer): TrackRecord[] {
    return (this.stays.get(peer)?.tracks ?? []).map((t) => ({ ...t }));
  }

  /** Its stay in the room, for the call record (`leftAt` null while it is still here). */
  record(peer: Peer, where: Where, reason: string | null, leftAt: number | null): ParticipantRecord {
    const quality = this.quality(peer) ?? new QualityTracker();
    return {
      identity: peer.id,
      name: peer.claims.name,
      role: peer.claims.role,
      region: where.region,
      node: where.node,
      joinedAt: iso(peer.joinedAt),
      leftAt: leftAt === null ? null : iso(leftAt),
      leaveReason: reason,
      tracks: this.tracks(peer),
      quality: quality.summary(),
      series: this.stays.get(peer)?.series.points() ?? [],
    };
  }
}
