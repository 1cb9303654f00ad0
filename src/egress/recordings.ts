import type { PlatformStore } from '../platform/store.js';
import type { WebhookEvent } from '../contracts/webhook-events.js';
import { webhookEvent } from '../platform/webhooks.js';
import type { Room } from '../rooms/room.js';
import type { RecordingSpec } from '../rooms/room-settings.js';
import { RoomRecording, type RecordingResult } from './room-recording.js';
import type { FailureReason, WriterContext } from './participant-writer.js';
import { CodedError } from '../common/errors.js';

/** How long a call's record waits for recordings on other nodes to finish their files. */
const REMOTE_SETTLE_MS = 10_000;

export interface RecordingsDeps {
  writers: WriterContext;
  store: PlatformStore;
  emit(event: WebhookEvent): void;
  maxPerRoom: number;
  /** The room's settings changed (a recording started or stopped): the directory publishes them. */
  publish(room: Room): Promise<void>;
  failed(reason: FailureReason): void;
  /** Recordings running here went up or down by `delta` (metrics). */
  running(delta: number): void;
}

/**
 * The recordings on this node: for each room part, those its settings name (started through
 * the API, or for every room of a tenant that records all). Each ends with a recording.finished
 * webhook listing its files here; a room's record waits until they are all written.
 */
export class Recordings {
  private readonly rooms = new Map<Room, Map<string, RoomRecording>>();
  private readonly closing = new Map<Room, Promise<void>>();
  /** Rooms whose call recorded at some point (here, or as its settings told): only their records wait for files. */
  private readonly recorded = new WeakSet<Room>();

  constructor(private readonly deps: RecordingsDeps) {}

  /** A new room part: starts the recordings its settings name. */
  observe(room: Room) {
    this.rooms.set(room, new Map());
    for (const spec of room.settings.recordings) this.run(room, spec);
    room.once('closed', () => void this.settled(room));
  }

  /**
   * Starts `spec` here (idempotent), after checking that it can record at all. `admit`: this
   * node holds the room's settings (its owner) and decides whether the room may have one more
   * recording; the place is taken in the settings before anything is awaited, so concurrent
   * starts cannot all pass. The other nodes follow the owner's decision.
   */
  async start(room: Room, spec: RecordingSpec, admit: boolean) {
    const running = this.rooms.get(room);
    if (!running || running.has(spec.id)) return false;
    const listed = room.settings.recordings.some((r) => r.id === spec.id);
    if (admit && !listed) {
      if (room.settings.recordings.length >= this.deps.maxPerRoom) throw new CodedError('LIMIT_REACHED', `room ${room.settings.name} has ${this.deps.maxPerRoom} recordings running (limits.recordingsPerRoom)`);
      this.deps.writers.ffmpeg.check();
      if (this.deps.writers.ffmpeg.processes.full) throw new CodedError('MEDIA_BUSY', 'this node runs as many media processes as media.maxProcesses and media.maxProcessMegabytes allow; try again later');
      room.setRecordings([...room.settings.recordings, spec]);
      try {
        await this.deps.writers.files.ensureSpace();
      } catch (err) {
        room.setRecordings(room.settings.recordings.filter((r) => r.id !== spec.id));
        throw err;
      }
    } else if (!listed) {
      room.setRecordings([...room.settings.recordings, spec]);
    }
    this.run(room, spec);
    await this.deps.publish(room);
    return true;
  }

  async stop(room: Room, id: string) {
    const recording = this.rooms.get(room)?.get(id);
    room.setRecordings(room.settings.recordings.filter((r) => r.id !== id));
    if (!recording) return false;
    await this.deps.publish(room);
    await this.finish(room, recording);
    return true;
  }

  /**
   * Resolves once the room's recordings here have finished their files, and (in a cluster) those
   * of other nodes have too, or REMOTE_SETTLE_MS passed. Stops what still runs.
   */
  settled(room: Room): Promise<void> {
    let closing = this.closing.get(room);
    if (!closing) {
      closing = (async () => {
        await Promise.all([...(this.rooms.get(room)?.values() ?? [])].map((r) => this.finish(room, r)));
        this.rooms.delete(room);
        // Files still recording belong to other nodes' parts of the call (alone, there are none).
        if (this.recorded.has(room)) await this.remoteSettled(room);
      })();
      this.closing.set(room, closing);
      void closing.finally(() => this.closing.delete(room));
    }
    return closing;
  }

  /** Node shutdown: every file finished. */
  async stopAll() {
    await Promise.all([...this.rooms.keys()].map((room) => this.settled(room)));
  }

  private run(room: Room, spec: RecordingSpec) {
    this.recorded.add(room);
    const recording = new RoomRecording(spec, room, this.deps.writers);
    this.rooms.get(room)!.set(spec.id, recording);
    this.deps.running(1);
    recording.start();
  }

  private async finish(room: Room, recording: RoomRecording) {
    const result = await recording.stop();
    if (this.rooms.get(room)?.delete(recording.spec.id)) this.deps.running(-1);
    if (result.failure) this.deps.failed(result.failure.reason);
    this.report(room, result);
  }

  private report(room: Room, r: RecordingResult) {
    const { tenant, name, callId } = room.settings;
    this.deps.emit(webhookEvent(tenant, name, 'recording.finished', {
      room: name, callId, recordingId: r.spec.id, identity: r.spec.identity, node: this.deps.writers.node,
      status: r.status, error: r.failure?.message ?? null, files: r.files,
    }));
  }

  private async remoteSettled(room: Room) {
    const { tenant, callId } = room.settings;
    const deadline = Date.now() + REMOTE_SETTLE_MS;
    while (Date.now() < deadline) {
      const files = await this.deps.store.filesOfCall(tenant, callId).catch(() => []);
      if (!files.some((f) => f.kind === 'recording' && f.info.status === 'recording')) return;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
