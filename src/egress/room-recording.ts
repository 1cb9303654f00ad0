import type { types } from 'mediasoup';
import type { RecordingFile } from '../contracts/records.js';
import type { Room } from '../rooms/room.js';
import type { RecordingSpec } from '../rooms/room-settings.js';
import { TrackWriter, type FailureReason, type TrackWriterContext } from './track-writer.js';

export interface RecordingResult {
  spec: RecordingSpec;
  status: 'complete' | 'failed';
  /** Why it failed: the first track that gave up, and how. */
  failure: { reason: FailureReason; message: string } | null;
  files: RecordingFile[];
}

/**
 * One recording on this node's part of a room: the tracks of everyone (or of one identity)
 * here, followed as they come and go. A participant who reconnects, or republishes, gets new
 * files; one who switches camera keeps the same track, and so the same file.
 */
export class RoomRecording {
  private readonly tracks = new Map<string, TrackWriter>();
  private readonly retired: TrackWriter[] = [];
  private readonly stopping: Promise<void>[] = [];
  private stopped?: Promise<RecordingResult>;
  private readonly sync = () => this.follow();

  constructor(readonly spec: RecordingSpec, private readonly room: Room, private readonly ctx: TrackWriterContext) {}

  start() {
    this.room.on('trackPublished', this.sync);
    this.room.on('trackUnpublished', this.sync);
    this.room.on('peerLeft', this.sync);
    this.follow();
  }

  /** Finishes every file; resolves with what was recorded here. */
  stop(): Promise<RecordingResult> {
    this.stopped ??= (async () => {
      this.room.off('trackPublished', this.sync);
      this.room.off('trackUnpublished', this.sync);
      this.room.off('peerLeft', this.sync);
      for (const [id, track] of this.tracks) this.retire(id, track);
      await Promise.all(this.stopping);
      const all = this.retired;
      const failed = all.find((t) => t.failure);
      return {
        spec: this.spec,
        status: failed ? 'failed' : 'complete',
        failure: failed?.failure ?? null,
        files: all.flatMap((t) => t.files.map((f) => f.info)),
      };
    })();
    return this.stopped;
  }

  /** Starts a recorder for each matching track that has none, and stops those whose track is gone. */
  private follow() {
    if (this.stopped) return;
    const want = new Map<string, { peerId: string; producer: types.Producer; router: types.Router }>();
    for (const peer of this.room.peers.values()) {
      if (this.spec.identity !== null && peer.id !== this.spec.identity) continue;
      for (const producer of peer.producers.values()) want.set(producer.id, { peerId: peer.id, producer, router: peer.router });
    }
    for (const [id, track] of this.tracks) if (!want.has(id)) this.retire(id, track);
    for (const [id, { peerId, producer, router }] of want) {
      if (this.tracks.has(id)) continue;
      const track = new TrackWriter(this.ctx, this.room.settings, this.spec, peerId, producer, router);
      this.tracks.set(id, track);
      track.start().catch((err: Error & { code?: string }) => {
        track.failure ??= { reason: err.code === 'DISK_FULL' ? 'disk_full' : 'start_failed', message: err.message };
        this.ctx.log.error({ recordingId: this.spec.id, peerId, trackId: id, err: err.message }, 'could not start recording a track');
      });
    }
  }

  private retire(id: string, track: TrackWriter) {
    this.tracks.delete(id);
    this.retired.push(track);
    this.stopping.push(track.stop());
  }
}
