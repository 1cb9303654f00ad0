import type { RecordingFile } from '../contracts/records.js';
import type { Peer } from '../rooms/peer.js';
import type { Room } from '../rooms/room.js';
import type { RecordingSpec } from '../rooms/room-settings.js';
import { ParticipantWriter, type FailureReason, type WriterContext } from './participant-writer.js';

export interface RecordingResult {
  spec: RecordingSpec;
  status: 'complete' | 'failed';
  /** Why it failed: the first participant whose recording gave up, and how. */
  failure: { reason: FailureReason; message: string } | null;
  files: RecordingFile[];
}

/**
 * One recording on this node's part of a room: the tracks of everyone (or of one identity)
 * here, followed as they come and go, a writer per participant. A participant who reconnects
 * is a new peer, so gets a new writer and new files; one who republishes gets new files; one
 * who switches camera keeps the same track, and so the same file.
 */
export class RoomRecording {
  private readonly writers = new Map<Peer, ParticipantWriter>();
  private readonly retired: ParticipantWriter[] = [];
  private readonly stopping: Promise<void>[] = [];
  private stopped?: Promise<RecordingResult>;
  private readonly sync = () => this.follow();

  constructor(readonly spec: RecordingSpec, private readonly room: Room, private readonly ctx: WriterContext) {}

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
      for (const [peer, writer] of this.writers) this.retire(peer, writer);
      await Promise.all(this.stopping);
      const all = this.retired;
      const failed = all.find((w) => w.failure);
      return {
        spec: this.spec,
        status: failed ? 'failed' : 'complete',
        failure: failed?.failure ?? null,
        files: all.flatMap((w) => w.files.map((f) => f.info)),
      };
    })();
    return this.stopped;
  }

  /** Gives each matching participant a writer that follows its tracks, and retires those who left. */
  private follow() {
    if (this.stopped) return;
    const here = new Set<Peer>();
    for (const peer of this.room.peers.values()) {
      if (this.spec.identity !== null && peer.id !== this.spec.identity) continue;
      here.add(peer);
      let writer = this.writers.get(peer);
      if (!writer) this.writers.set(peer, (writer = new ParticipantWriter(this.ctx, this.room.settings, this.spec, peer.id, peer.router)));
      for (const id of writer.trackIds) if (!peer.producers.has(id)) writer.remove(id);
      for (const producer of peer.producers.values()) writer.add(producer);
    }
    for (const [peer, writer] of this.writers) if (!here.has(peer)) this.retire(peer, writer);
  }

  private retire(peer: Peer, writer: ParticipantWriter) {
    this.writers.delete(peer);
    this.retired.push(writer);
    this.stopping.push(writer.stop());
  }
}
