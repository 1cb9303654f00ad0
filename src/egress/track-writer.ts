import fs from 'node:fs';
import path from 'node:path';
import type { types } from 'mediasoup';
import type { Logger } from '../logging/logger.js';
import type { StoredFile } from '../platform/store.js';
import { newId, type RecordingSpec, type RoomSettings } from '../rooms/room-settings.js';
import { diskFull, type Exit, type Ffmpeg, type FfmpegJob } from './ffmpeg.js';
import type { EvidenceFiles } from './files.js';
import { firstPacket } from './first-packet.js';
import { RtpEgress } from './rtp-egress.js';
import { rtpSdp } from './sdp.js';
import { freeUdpPortPair, udpPortBound } from './udp.js';

/** How long ffmpeg may take to start listening before the segment counts as failed. */
const LISTEN_TIMEOUT_MS = 5000;
/** Key frames asked for after the start too: the first one can reach ffmpeg before it reads. */
const KEYFRAME_RETRIES_MS = [1000, 2500];
const RESTART_WINDOW_MS = 60_000;
/** ffmpeg ends at once while packets arrive; after a track ended, it waits for none and is killed. */
const STOP_GRACE_MS = 700;

export type FailureReason = 'disk_full' | 'ffmpeg_exit' | 'start_failed';

export interface TrackWriterContext {
  ffmpeg: Ffmpeg;
  files: EvidenceFiles;
  node: string;
  maxRestarts: number;
  log: Logger;
  /** A file finished (complete or failed): for metrics. */
  fileDone(file: StoredFile & { kind: 'recording' }): void;
}

interface Segment {
  egress: RtpEgress;
  job: FfmpegJob;
  file: StoredFile & { kind: 'recording' };
  timers: NodeJS.Timeout[];
  /** Resolves once the segment's file is finalized (after ffmpeg exits). */
  done: Promise<void>;
}

const safeName = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64);

/**
 * Records one producer, without transcoding, to WebM (opus, VP8, VP9) or Matroska (H264):
 * RTP out of mediasoup through a PlainTransport into an ffmpeg. An ffmpeg that exits on its
 * own is restarted into a new file, up to recording.maxRestarts a minute; a full disk or too
 * many exits fail the track for good, and say why.
 */
export class TrackWriter {
  readonly files: Array<StoredFile & { kind: 'recording' }> = [];
  /** Why this track stopped recording on its own, if it did. */
  failure?: { reason: FailureReason; message: string };
  private segment?: Segment;
  private readonly restarts: number[] = [];
  private stopped = false;
  /** Takes a track still waiting (for its first packet, or for a process) out of line when it stops. */
  private readonly stopping = new AbortController();
  /** The file being opened: stop() waits for it, so nothing it starts outlives the recorder. */
  private opening?: Promise<void>;

  constructor(
    private readonly ctx: TrackWriterContext,
    private readonly settings: RoomSettings,
    private readonly spec: RecordingSpec,
    readonly peerId: string,
    readonly producer: types.Producer,
    private readonly router: types.Router,
  ) {}

  /**
   * Opens the first file once the track sends (a track that never sends costs no process);
   * rejects (DISK_FULL, FFMPEG_MISSING, ...) when it cannot.
   */
  start(): Promise<void> {
    this.opening = (async () => {
      const stopped = new Promise<boolean>((resolve) => this.stopping.signal.addEventListener('abort', () => resolve(false), { once: true }));
      if (!(await Promise.race([firstPacket(this.producer), stopped])) || this.stopped) return;
      try {
        await this.open();
      } catch (err) {
        if (!this.stopped) throw err; // stopped while it waited for a process: nothing to report
      }
    })();
    return this.opening;
  }

  /** Finishes the current file (ffmpeg writes its trailer) and stops. */
  async stop() {
    this.stopped = true;
    this.stopping.abort();
    await this.opening?.catch(() => undefined);
    const segment = this.segment;
    if (!segment) return;
    await segment.job.stop(STOP_GRACE_MS);
    await segment.done;
  }

  private async open() {
    const { ctx, producer } = this;
    await ctx.files.ensureSpace();
    ctx.ffmpeg.check();
    const port = await freeUdpPortPair();
    const egress = await RtpEgress.open(this.router, producer.id, { ip: '127.0.0.1', port }, { listenIp: '127.0.0.1', appData: { recordingId: this.spec.id } });
    let segment: Segment;
    try {
      segment = await this.launch(egress);
    } catch (err) {
      egress.close();
      throw err;
    }
    const { job } = segment;
    // ffmpeg binds the port itself; media sent before it listens would be lost.
    const deadline = Date.now() + LISTEN_TIMEOUT_MS;
    while (job.running && !udpPortBound(port) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    if (!job.running || this.stopped) return;
    if (!udpPortBound(port)) ctx.log.warn({ port, pid: job.pid }, 'ffmpeg is not listening yet; sending anyway');
    await egress.start();
    for (const ms of KEYFRAME_RETRIES_MS) segment.timers.push(setTimeout(() => void egress.requestKeyFrame(), ms).unref());
    ctx.log.info({ recordingId: this.spec.id, peerId: this.peerId, trackId: producer.id, file: segment.file.path }, 'recording a track');
  }

  /** The file and the ffmpeg writing it, for an egress that is open. */
  private async launch(egress: RtpEgress): Promise<Segment> {
    const { ctx, producer } = this;
    const stream = egress.sdpStream();
    const codec = stream.codec.mimeType.split('/')[1];
    const container = codec.toUpperCase() === 'H264' ? 'mkv' : 'webm';
    const id = newId('file');
    const file: Segment['file'] = {
      id, kind: 'recording', tenant: this.settings.tenant, callId: this.settings.callId, room: this.settings.name, node: ctx.node,
      path: path.join(ctx.files.dirFor(this.settings), `${safeName(this.peerId)}-${producer.kind}-${id}.${container}`),
      contentType: container === 'mkv' ? 'video/x-matroska' : `${producer.kind}/webm`,
      info: {
        fileId: id, recordingId: this.spec.id, recordingOf: this.spec.identity, identity: this.peerId, trackId: producer.id, kind: producer.kind, codec, container,
        node: ctx.node, startedAt: new Date().toISOString(), endedAt: null, durationSeconds: null, bytes: 0, status: 'recording', error: null,
      },
    };
    const job = await ctx.ffmpeg.start('recording', [
      // A short probe: the SDP names the codec, and a stop soon after the start must still leave a file.
      '-protocol_whitelist', 'pipe,udp,rtp', '-fflags', '+genpts', '-analyzeduration', '500000', '-f', 'sdp', '-i', 'pipe:0',
      // Small clusters, flushed as they fill: a killed ffmpeg loses at most a second.
      '-map', '0', '-c', 'copy', '-flush_packets', '1', '-cluster_time_limit', '1000', '-f', container === 'mkv' ? 'matroska' : 'webm', '-y', file.path,
    ], { input: rtpSdp('127.0.0.1', [stream]), signal: this.stopping.signal });
    // Listed once its writer runs (it may have waited in line for a process).
    this.files.push(file);
    await ctx.files.put(file);
    const segment: Segment = { egress, job, file, timers: [], done: Promise.resolve() };
    segment.done = job.exited.then((exit) => this.ended(segment, exit));
    this.segment = segment;
    return segment;
  }

  /** ffmpeg exited: finish its file, then restart it unless we stopped it or it cannot help. */
  private async ended(segment: Segment, exit: Exit) {
    segment.egress.close();
    for (const t of segment.timers) clearTimeout(t);
    const error = exit.stopped ? null : describeExit(exit);
    await this.finalize(segment.file, error);
    if (exit.stopped || this.stopped) return;
    if (diskFull(exit)) return this.fail('disk_full', `the disk of ${this.ctx.files.root} is full: ${error}`);
    const now = Date.now();
    while (this.restarts.length && this.restarts[0] < now - RESTART_WINDOW_MS) this.restarts.shift();
    if (this.restarts.length >= this.ctx.maxRestarts) return this.fail('ffmpeg_exit', `ffmpeg exited ${this.restarts.length + 1} times within a minute; last: ${error}`);
    this.restarts.push(now);
    this.ctx.log.warn({ recordingId: this.spec.id, peerId: this.peerId, error }, 'ffmpeg exited during a recording; restarting it into a new file');
    if (this.producer.closed) return;
    this.opening = this.open();
    await this.opening.catch((err) => this.fail('start_failed', `could not restart ffmpeg: ${(err as Error).message}`));
  }

  private fail(reason: FailureReason, message: string) {
    this.failure = { reason, message };
    this.ctx.log.error({ recordingId: this.spec.id, peerId: this.peerId, trackId: this.producer.id, reason }, message);
  }

  private async finalize(file: Segment['file'], error: string | null) {
    await finishRecordingFile(this.ctx.ffmpeg, file, error);
    await this.ctx.files.put(file).catch((err) => this.ctx.log.error({ err, file: file.path }, 'could not store a recording file\'s entry'));
    this.ctx.fileDone(file);
  }
}

/**
 * Closes a recording file's entry: its size and duration as ffprobe measures them, after
 * remuxing a file whose writer was killed before its trailer (the track had ended, ffmpeg
 * crashed, or the node stopped under it). `endedAt` defaults to now.
 */
export async function finishRecordingFile(ffmpeg: Ffmpeg, file: StoredFile & { kind: 'recording' }, error: string | null, endedAt = Date.now()) {
  let bytes = await fs.promises.stat(file.path).then((s) => s.size, () => 0);
  let durationSeconds: number | null = null;
  if (bytes > 0) {
    durationSeconds = await ffmpeg.probe(file.path).then((p) => p.durationSeconds || null, () => null);
    if (durationSeconds === null && (await ffmpeg.repair(file.path))) {
      bytes = await fs.promises.stat(file.path).then((s) => s.size, () => 0);
      durationSeconds = await ffmpeg.probe(file.path).then((p) => p.durationSeconds || null, () => null);
    }
  }
  const empty = durationSeconds === null && !error ? 'no media arrived (the track was paused, or sent nothing)' : null;
  file.info = {
    ...file.info, endedAt: new Date(endedAt).toISOString(), bytes, durationSeconds,
    status: error || empty ? 'failed' : 'complete', error: error ?? empty,
  };
  return file;
}

/** One line for a record: how ffmpeg ended and the last thing it said. */
function describeExit(exit: Exit): string {
  if (exit.error) return `ffmpeg could not run: ${exit.error.message}`;
  const last = exit.stderr.trim().split('\n').filter(Boolean).at(-1) ?? '';
  return `ffmpeg exited (${exit.signal ?? `code ${exit.code}`})${last ? `: ${last.slice(0, 300)}` : ''}`;
}
