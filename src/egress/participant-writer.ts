import path from 'node:path';
import type { types } from 'mediasoup';
import type { Logger } from '../logging/logger.js';
import { newId, type RecordingSpec, type RoomSettings } from '../rooms/room-settings.js';
import { diskFull, type Exit, type Ffmpeg, type FfmpegJob } from './ffmpeg.js';
import type { EvidenceFiles } from './files.js';
import { firstPacket } from './first-packet.js';
import { describeExit, finishRecordingFile, type RecordingEntry } from './recording-file.js';
import { RtpEgress } from './rtp-egress.js';
import { rtpSdp } from './sdp.js';
import { udpPortBound } from './udp.js';

/** How long ffmpeg may take to start listening before the session counts as failed. */
const LISTEN_TIMEOUT_MS = 5000;
/** Key frames asked for after the start too: the first one can reach ffmpeg before it reads. */
const KEYFRAME_RETRIES_MS = [1000, 2500];
const RESTART_WINDOW_MS = 60_000;
/** ffmpeg ends at once while packets arrive; after its tracks ended, it waits for none and is killed. */
const STOP_GRACE_MS = 700;
/** How long a track that sends waits for the participant's other new tracks, so that one process takes them all. */
const GATHER_MS = 500;
/** How ffmpeg's RTP input says it has had no packet for its timeout (10 s). */
const IDLE_EXIT = /Connection timed out/;

export type FailureReason = 'disk_full' | 'ffmpeg_exit' | 'start_failed';

export interface WriterContext {
  ffmpeg: Ffmpeg;
  files: EvidenceFiles;
  node: string;
  maxRestarts: number;
  log: Logger;
  /** A file finished (complete or failed): for metrics. */
  fileDone(file: RecordingEntry): void;
}

/** A track the writer follows. */
interface Track {
  producer: types.Producer;
  /** Set when it ended (unpublished): its file's entry ends then, and it is not restarted. */
  endedAt?: number;
  /** Its current file and the path that carries its packets there. */
  output?: Output;
  /** Stops the wait for its first packet. */
  gone: AbortController;
  /** Its last process ended for want of packets: the next waits until they flow again. */
  idle?: boolean;
}

interface Output {
  track: Track;
  egress: RtpEgress;
  file: RecordingEntry;
}

/** One ffmpeg writing one file per track. */
interface Session {
  job: FfmpegJob;
  outputs: Output[];
  timers: NodeJS.Timeout[];
  /** Resolves once its files are finalized (after ffmpeg exits). */
  done: Promise<void>;
}

const safeName = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64);

/**
 * Records one participant's tracks, without transcoding, each to its own WebM (opus, VP8, VP9)
 * or Matroska (H264) file: RTP out of mediasoup through a PlainTransport per track, into one
 * ffmpeg for the tracks that start sending together (a camera and a microphone: one process,
 * not two). A track published later gets a process of its own with whatever starts beside it.
 * One SDP with a stream per track keeps ffmpeg reading whichever stream has packets, so a
 * paused camera does not hold up its microphone's file. An ffmpeg that exits on its own is
 * restarted into new files for the tracks still live, up to recording.maxRestarts a minute; a
 * full disk or too many exits fail the participant's recording for good, and say why.
 */
export class ParticipantWriter {
  readonly files: RecordingEntry[] = [];
  /** Why this participant stopped recording on its own, if it did. */
  failure?: { reason: FailureReason; message: string };
  private readonly tracks = new Map<string, Track>();
  /** Tracks that send and wait for a process. */
  private ready: Track[] = [];
  private gather?: NodeJS.Timeout;
  private readonly sessions = new Set<Session>();
  private readonly openings = new Set<Promise<void>>();
  private readonly restarts: number[] = [];
  private stopped = false;
  /** Takes tracks still waiting for a process out of line when the writer stops. */
  private readonly stopping = new AbortController();

  constructor(
    private readonly ctx: WriterContext,
    private readonly settings: RoomSettings,
    private readonly spec: RecordingSpec,
    readonly peerId: string,
    private readonly router: types.Router,
  ) {}

  get trackIds() {
    return [...this.tracks.keys()];
  }

  /** Follows a track: its file opens once it sends and is not paused (a track that never sends costs no process). */
  add(producer: types.Producer) {
    if (this.stopped || this.tracks.has(producer.id)) return;
    const track: Track = { producer, gone: new AbortController() };
    this.tracks.set(producer.id, track);
    this.whenSending(track);
  }

  private whenSending(track: Track) {
    void sending(track.producer, Boolean(track.idle), AbortSignal.any([track.gone.signal, this.stopping.signal])).then((yes) => {
      if (!yes || this.stopped || track.endedAt) return;
      this.ready.push(track);
      this.schedule();
    });
  }

  /** The track ended: its file ends now; the process goes once none of its tracks is live. */
  remove(producerId: string) {
    const track = this.tracks.get(producerId);
    if (!track) return;
    this.tracks.delete(producerId);
    track.endedAt = Date.now();
    track.gone.abort();
    this.ready = this.ready.filter((t) => t !== track);
    const output = track.output;
    if (!output) return;
    output.egress.close();
    const session = [...this.sessions].find((s) => s.outputs.includes(output));
    if (session?.outputs.every((o) => o.track.endedAt)) void session.job.stop(STOP_GRACE_MS);
  }

  /** Finishes every file (ffmpeg writes the trailers) and stops. */
  async stop() {
    this.stopped = true;
    this.stopping.abort();
    clearTimeout(this.gather);
    this.ready = [];
    await Promise.all([...this.openings].map((o) => o.catch(() => undefined)));
    await Promise.all([...this.sessions].map(async (s) => {
      await s.job.stop(STOP_GRACE_MS);
      await s.done;
    }));
  }

  /**
   * A process for the tracks ready now: at once when no other track of the participant is
   * still to start, else after GATHER_MS, so tracks that start together share one.
   */
  private schedule() {
    const waiting = [...this.tracks.values()].some((t) => !t.output && !this.ready.includes(t));
    clearTimeout(this.gather);
    this.gather = setTimeout(() => {
      this.gather = undefined;
      const tracks = this.ready;
      this.ready = [];
      if (tracks.length) this.launch(tracks);
    }, waiting ? GATHER_MS : 0);
  }

  private launch(tracks: Track[]) {
    const opening = this.open(tracks).catch((err: Error & { code?: string }) => {
      if (this.stopped) return; // stopped while it waited for a process: nothing to report
      this.fail(err.code === 'DISK_FULL' ? 'disk_full' : 'start_failed', err.message);
    });
    this.openings.add(opening);
    void opening.finally(() => this.openings.delete(opening));
  }

  private async open(tracks: Track[]) {
    const { ctx } = this;
    await ctx.files.ensureSpace();
    ctx.ffmpeg.check();
    const egresses: RtpEgress[] = [];
    let session: Session;
    try {
      const ports: number[] = [];
      for (const { producer } of tracks) {
        let port = await ctx.ffmpeg.freePortPair();
        // Nothing binds the pairs until ffmpeg starts, so the same one could come twice.
        while (ports.includes(port)) port = await ctx.ffmpeg.freePortPair();
        ports.push(port);
        egresses.push(await RtpEgress.open(this.router, producer.id, { ip: '127.0.0.1', port }, { listenIp: '127.0.0.1', appData: { recordingId: this.spec.id } }));
      }
      session = await this.start(tracks, egresses);
    } catch (err) {
      for (const e of egresses) e.close();
      throw err;
    }
    const { job } = session;
    if (session.outputs.every((o) => o.track.endedAt)) return void job.stop(STOP_GRACE_MS); // they ended while it started
    // ffmpeg binds the ports itself; media sent before it listens would be lost.
    const deadline = Date.now() + LISTEN_TIMEOUT_MS;
    const bound = () => session.outputs.every((o) => udpPortBound(o.egress.target.port));
    while (job.running && !bound() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    if (!job.running || this.stopped) return;
    if (!bound()) ctx.log.warn({ pid: job.pid }, 'ffmpeg is not listening yet; sending anyway');
    for (const { track, egress } of session.outputs) {
      if (track.endedAt) continue;
      await egress.start().catch(() => undefined); // a track that closed meanwhile: its file is empty
      for (const ms of KEYFRAME_RETRIES_MS) session.timers.push(setTimeout(() => void egress.requestKeyFrame(), ms).unref());
    }
    ctx.log.info({ recordingId: this.spec.id, peerId: this.peerId, tracks: session.outputs.map((o) => o.track.producer.id), pid: job.pid }, 'recording a participant\'s tracks');
  }

  /** The files, and the ffmpeg writing them, for egresses that are open. */
  private async start(tracks: Track[], egresses: RtpEgress[]): Promise<Session> {
    const { ctx } = this;
    const streams = egresses.map((e) => e.sdpStream());
    const outputs: Output[] = tracks.map((track, i) => ({ track, egress: egresses[i], file: this.entry(track.producer, streams[i].codec) }));
    const video = streams.some((s) => s.kind === 'video');
    const job = await ctx.ffmpeg.start('recording', [
      // The SDP names the codecs, so the probe is short: a stop soon after the start must still
      // leave a file. With several streams it ends once each has shown its format (a video's
      // size needs its first key frame), so the bound is only reached when one never comes.
      '-protocol_whitelist', 'pipe,udp,rtp', '-fflags', '+genpts', '-analyzeduration', streams.length > 1 && video ? '2000000' : '500000', '-f', 'sdp', '-i', 'pipe:0',
      // Small clusters, flushed as they fill: a killed ffmpeg loses at most a second.
      ...outputs.flatMap(({ file }, i) => ['-map', `0:${i}`, '-c', 'copy', '-flush_packets', '1', '-cluster_time_limit', '1000', '-f', file.info.container === 'mkv' ? 'matroska' : 'webm', '-y', file.path]),
    ], { input: rtpSdp('127.0.0.1', streams), signal: this.stopping.signal });
    // Listed once their writer runs (it may have waited in line for a process).
    for (const o of outputs) {
      o.track.output = o;
      this.files.push(o.file);
      await ctx.files.put(o.file);
    }
    const session: Session = { job, outputs, timers: [], done: Promise.resolve() };
    session.done = job.exited.then((exit) => this.ended(session, exit));
    this.sessions.add(session);
    return session;
  }

  private entry(producer: types.Producer, codecParameters: types.RtpCodecParameters): RecordingEntry {
    const { ctx } = this;
    const codec = codecParameters.mimeType.split('/')[1];
    const container = codec.toUpperCase() === 'H264' ? 'mkv' : 'webm';
    const id = newId('file');
    return {
      id, kind: 'recording', tenant: this.settings.tenant, callId: this.settings.callId, room: this.settings.name, node: ctx.node,
      path: path.join(ctx.files.dirFor(this.settings), `${safeName(this.peerId)}-${producer.kind}-${id}.${container}`),
      contentType: container === 'mkv' ? 'video/x-matroska' : `${producer.kind}/webm`,
      info: {
        fileId: id, recordingId: this.spec.id, recordingOf: this.spec.identity, identity: this.peerId, trackId: producer.id, kind: producer.kind, codec, container,
        node: ctx.node, startedAt: new Date().toISOString(), endedAt: null, durationSeconds: null, bytes: 0, status: 'recording', error: null,
      },
    };
  }

  /** ffmpeg exited: finish its files, then restart it for the tracks still live, unless we stopped it or it cannot help. */
  private async ended(session: Session, exit: Exit) {
    for (const t of session.timers) clearTimeout(t);
    // ffmpeg gives up after 10 s without a packet on any of its streams (every track paused, or
    // its sender silent): the files are whole, and nothing failed.
    const idle = !exit.stopped && IDLE_EXIT.test(exit.stderr);
    const error = exit.stopped || idle ? null : describeExit(exit);
    for (const o of session.outputs) {
      o.egress.close();
      if (o.track.output === o) o.track.output = undefined;
    }
    await Promise.all(session.outputs.map((o) => this.finalize(o.file, error, o.track.endedAt)));
    this.sessions.delete(session);
    if (exit.stopped || this.stopped) return;
    const live = session.outputs.map((o) => o.track).filter((t) => !t.endedAt && !t.producer.closed);
    if (idle) {
      this.ctx.log.info({ recordingId: this.spec.id, peerId: this.peerId }, 'no packets for a while (paused or silent): new files once they flow again');
      for (const track of live) {
        track.idle = true;
        this.whenSending(track);
      }
      return;
    }
    if (diskFull(exit)) return this.fail('disk_full', `the disk of ${this.ctx.files.root} is full: ${error}`);
    const now = Date.now();
    while (this.restarts.length && this.restarts[0] < now - RESTART_WINDOW_MS) this.restarts.shift();
    if (this.restarts.length >= this.ctx.maxRestarts) return this.fail('ffmpeg_exit', `ffmpeg exited ${this.restarts.length + 1} times within a minute; last: ${error}`);
    this.restarts.push(now);
    this.ctx.log.warn({ recordingId: this.spec.id, peerId: this.peerId, error }, 'ffmpeg exited during a recording; restarting it into new files');
    // Each goes through the line again: one paused now waits for its resume.
    for (const track of live) this.whenSending(track);
  }

  private fail(reason: FailureReason, message: string) {
    this.failure ??= { reason, message };
    this.ctx.log.error({ recordingId: this.spec.id, peerId: this.peerId, reason }, message);
  }

  private async finalize(file: RecordingEntry, error: string | null, endedAt?: number) {
    await finishRecordingFile(this.ctx.ffmpeg, file, error, endedAt);
    await this.ctx.files.put(file).catch((err) => this.ctx.log.error({ err, file: file.path }, 'could not store a recording file\'s entry'));
    this.ctx.fileDone(file);
  }
}

/**
 * Resolves true once the producer sends and is not paused (a paused stream in a process with
 * others would leave ffmpeg without its format), false if it closes or `signal` aborts first.
 * Sending: it has sent its first packet; after an idle exit (`again`), packets flow again
 * (mediasoup scores a stream 0 after 1.5 s without packets, 5 s with DTX, and 10 on the next).
 */
async function sending(producer: types.Producer, again: boolean, signal: AbortSignal): Promise<boolean> {
  if (!(await Promise.race([firstPacket(producer), aborted(signal)]))) return false;
  const ready = () => !producer.paused && (!again || producer.score.some((s) => s.score > 0));
  if (producer.closed || signal.aborted) return false;
  if (ready()) return true;
  return new Promise<boolean>((resolve) => {
    const done = (yes: boolean) => {
      producer.observer.off('resume', check);
      producer.observer.off('score', check);
      producer.observer.off('close', closed);
      signal.removeEventListener('abort', closed);
      resolve(yes);
    };
    const check = () => ready() && done(true);
    const closed = () => done(false);
    producer.observer.on('resume', check);
    producer.observer.on('score', check);
    producer.observer.on('close', closed);
    signal.addEventListener('abort', closed, { once: true });
  });
}

/** Resolves false when `signal` aborts. */
function aborted(signal: AbortSignal): Promise<false> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(false);
    signal.addEventListener('abort', () => resolve(false), { once: true });
  });
}
