import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CodedError } from '../common/errors.js';
import { MediaProcesses, type ProcessPurpose } from './media-processes.js';
import { freeUdpPortPair } from './udp.js';

/** How much of a process's stderr is kept: enough for its last error, bounded whatever it prints. */
const STDERR_TAIL = 4096;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The process could not be started (ENOENT, EACCES). */
  error?: Error;
  /** We asked it to stop. */
  stopped: boolean;
  /** The end of what it wrote to stderr. */
  stderr: string;
}

/** The end of ffmpeg's output names a full disk: retrying would only fail again. */
export const diskFull = (exit: Exit) => /No space left on device|ENOSPC/i.test(exit.stderr);

/** One ffmpeg process: its input fed from a string (an SDP), its stderr tail kept, and one exit. */
export class FfmpegJob {
  readonly exited: Promise<Exit>;
  private stderr = '';
  /** What it wrote to stdout, when stdout is a pipe (ffprobe's JSON). */
  output = '';
  private stopping = false;

  /** `collect`: keep what it writes to stdout in `output` (ffprobe's JSON); otherwise stdout, if a pipe, is the caller's to read. */
  constructor(private readonly child: ChildProcess, input?: string, collect = false) {
    this.exited = new Promise((resolve) => {
      let error: Error | undefined;
      child.once('error', (err) => (error = err));
      child.once('close', (code, signal) => resolve({ code, signal, error, stopped: this.stopping, stderr: this.stderr }));
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => (this.stderr = (this.stderr + d).slice(-STDERR_TAIL)));
    if (collect) {
      child.stdout?.setEncoding('utf8');
      child.stdout?.on('data', (d: string) => (this.output += d));
    }
    // A broken pipe (ffmpeg already gone) is the exit's business, not an uncaught error.
    child.stdin?.on('error', () => undefined);
    if (input !== undefined) child.stdin?.end(input);
  }

  get pid() {
    return this.child.pid;
  }

  /** What the process writes to stdout, when started with stdout 'pipe' (raw audio for captions). */
  get stdout() {
    return this.child.stdout;
  }

  get running() {
    return this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined;
  }

  /**
   * Asks ffmpeg to finish (SIGINT: it writes its file's trailer), and kills it after `graceMs`.
   * SIGINT is seen between packets, so an ffmpeg waiting for packets that no longer come (the
   * track ended) is killed; recorders write in small clusters and remux what it left.
   */
  async stop(graceMs = 5000): Promise<Exit> {
    this.stopping = true;
    if (this.running) {
      this.child.kill('SIGINT');
      const kill = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(kill);
    }
    return this.exited;
  }
}

/**
 * Where the node finds ffmpeg and ffprobe (Debian's ffmpeg package), and how it runs them: the
 * one place a media process starts. Those that carry media (start) take a place in the node's
 * budget first; short finishing work on a file (repair, probe) does not wait for one.
 */
export class Ffmpeg {
  constructor(
    readonly ffmpegPath: string,
    readonly ffprobePath: string,
    readonly processes: MediaProcesses = new MediaProcesses({ maxProcesses: Infinity, maxMegabytes: Infinity }),
    /** The media workers' port range (media.rtcMinPort to rtcMaxPort). */
    private readonly workerPorts?: { min: number; max: number },
  ) {}

  /**
   * Two free ports for an ffmpeg that receives RTP, outside the workers' range: the kernel's
   * own choice of a free port may fall in it, and the plain transport opened next, to send to
   * ffmpeg, can then take the port before ffmpeg binds it, and ffmpeg fails.
   */
  freePortPair(ip = '127.0.0.1') {
    return freeUdpPortPair(ip, this.workerPorts);
  }

  /** The binary's full path, or undefined when it is not installed (or not executable). */
  static locate(bin: string): string | undefined {
    const candidates = bin.includes('/') ? [bin] : (process.env.PATH ?? '').split(':').filter(Boolean).map((dir) => path.join(dir, bin));
    return candidates.find((file) => {
      try {
        fs.accessSync(file, fs.constants.X_OK);
        return fs.statSync(file).isFile();
      } catch {
        return false;
      }
    });
  }

  /** Throws FFMPEG_MISSING, naming the setting, when ffmpeg or ffprobe is not there. */
  check() {
    for (const [bin, setting] of [[this.ffmpegPath, 'recording.ffmpegPath (FFMPEG_PATH)'], [this.ffprobePath, 'recording.ffprobePath (FFPROBE_PATH)']] as const) {
      if (!Ffmpeg.locate(bin)) throw new CodedError('FFMPEG_MISSING', `${bin} is not installed or not executable; install Debian's ffmpeg package or set ${setting}`);
    }
  }

  get available() {
    try {
      this.check();
      return true;
    } catch {
      return false;
    }
  }

  /** An ffmpeg that carries media, once the budget has a place for it (see MediaProcesses). */
  async start(purpose: ProcessPurpose, args: string[], { input, stdout = 'ignore', signal }: { input?: string; stdout?: 'ignore' | 'pipe'; signal?: AbortSignal } = {}): Promise<FfmpegJob> {
    this.check();
    const place = await this.processes.acquire(purpose, signal);
    let job: FfmpegJob;
    try {
      job = this.run(args, input, stdout);
    } catch (err) {
      place.release();
      throw err;
    }
    place.hold(job.pid);
    void job.exited.then(() => place.release());
    return job;
  }

  /** An ffmpeg for short work on a file, outside the budget. */
  run(args: string[], input?: string, stdout: 'ignore' | 'pipe' = 'ignore'): FfmpegJob {
    return new FfmpegJob(spawn(this.ffmpegPath, ['-hide_banner', '-nostats', '-loglevel', 'warning', ...args], { stdio: ['pipe', stdout, 'pipe'] }), input);
  }

  /**
   * Rewrites a WebM/Matroska file whose writer was killed (no duration, no index) into a whole
   * one, without transcoding. Resolves false when the file holds nothing readable.
   */
  async repair(file: string): Promise<boolean> {
    const tmp = `${file}.repair${path.extname(file)}`;
    const exit = await this.run(['-i', file, '-map', '0', '-c', 'copy', '-y', tmp]).exited;
    if (exit.code !== 0) {
      await fs.promises.rm(tmp, { force: true });
      return false;
    }
    await fs.promises.rename(tmp, file);
    return true;
  }

  /** ffprobe's view of a media file: its duration and streams. */
  async probe(file: string): Promise<Probe> {
    const job = new FfmpegJob(spawn(this.ffprobePath, ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file], { stdio: ['ignore', 'pipe', 'pipe'] }), undefined, true);
    const exit = await job.exited;
    if (exit.code !== 0) throw new Error(`ffprobe ${file}: ${exit.error?.message ?? exit.stderr.trim()}`);
    const parsed = JSON.parse(job.output) as { format?: { duration?: string }; streams?: Array<{ codec_type: string; codec_name: string; width?: number; height?: number }> };
    return {
      durationSeconds: Number(parsed.format?.duration ?? 0) || 0,
      streams: (parsed.streams ?? []).map((s) => ({ kind: s.codec_type, codec: s.codec_name, width: s.width, height: s.height })),
    };
  }
}

export interface Probe {
  durationSeconds: number;
  streams: Array<{ kind: string; codec: string; width?: number; height?: number }>;
}
