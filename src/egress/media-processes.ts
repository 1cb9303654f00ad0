import fs from 'node:fs';
import { CodedError } from '../common/errors.js';

/** What a media process is for: it decides how long it may wait for a place. */
export type ProcessPurpose = 'recording' | 'snapshot' | 'caption';

export interface ProcessLimits {
  /** Media processes (ffmpeg) at once on this node (media.maxProcesses). */
  maxProcesses: number;
  /** Their private memory together, MB (media.maxProcessMegabytes). */
  maxMegabytes: number;
}

/** A place taken in the budget; give it back when the process exits. */
export interface ProcessPlace {
  /** The process that holds it, for its memory. */
  hold(pid: number | undefined): void;
  release(): void;
}

/** How long a snapshot waits for a place before MEDIA_BUSY; recordings and captions wait as long as it takes. */
const SNAPSHOT_WAIT_MS = 5000;
/** Memory is read from /proc at most this often (a read costs a file per process). */
const MEMORY_EVERY_MS = 500;

/**
 * A process's private memory (what it costs the machine beyond the libraries it shares), bytes:
 * the pages it wrote, in RAM or swapped. Clean pages are left out: they are library code, and
 * count as private only while no other process maps the same library, so the first ffmpeg
 * would look four times the cost of the next.
 */
export function privateBytes(pid: number): number {
  try {
    const rollup = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    let kb = 0;
    for (const m of rollup.matchAll(/^(Private_Dirty|Swap):\s+(\d+) kB/gm)) kb += Number(m[2]);
    return kb * 1024;
  } catch {
    return 0;
  }
}

/**
 * The node's budget of media processes (the ffmpegs of recordings, snapshots and captions): at
 * most maxProcesses at once and maxMegabytes of private memory between them. A snapshot waits
 * a few seconds in line for a place, then is refused with MEDIA_BUSY; a recording's or a
 * caption's track waits in line until a place frees. `full` is what /readyz and placement see.
 */
export class MediaProcesses {
  private readonly held = new Set<{ pid?: number }>();
  private readonly waiting: Array<{ purpose: ProcessPurpose; grant: () => void }> = [];
  private memory = { at: 0, bytes: 0 };

  constructor(private readonly limits: ProcessLimits) {}

  get processes() {
    return this.held.size;
  }

  get queued() {
    return this.waiting.length;
  }

  /** Private memory of the processes running now, MB (read from /proc, at most every half second). */
  megabytes(now = Date.now()) {
    if (now - this.memory.at > MEMORY_EVERY_MS) {
      let bytes = 0;
      for (const h of this.held) if (h.pid) bytes += privateBytes(h.pid);
      this.memory = { at: now, bytes };
    }
    return this.memory.bytes / 1048576;
  }

  /** No process can start now (every place taken, or the memory used up). */
  get full() {
    return this.held.size >= this.limits.maxProcesses || this.megabytes() >= this.limits.maxMegabytes;
  }

  usage() {
    return { processes: this.held.size, maxProcesses: this.limits.maxProcesses, megabytes: Math.round(this.megabytes()), maxMegabytes: this.limits.maxMegabytes, queued: this.waiting.length, full: this.full };
  }

  /**
   * A place for one process: at once if there is one, else in line (see the class). `signal`
   * takes a request out of the line (the track it was for ended).
   */
  acquire(purpose: ProcessPurpose, signal?: AbortSignal): Promise<ProcessPlace> {
    if (signal?.aborted) return Promise.reject(new CodedError('MEDIA_BUSY', 'no longer wanted'));
    if (!this.full && this.waiting.length === 0) return Promise.resolve(this.take());
    if (purpose === 'snapshot' && this.waiting.filter((w) => w.purpose === 'snapshot').length >= this.limits.maxProcesses) {
      return Promise.reject(this.busy());
    }
    return new Promise((resolve, reject) => {
      const leave = (err: Error) => {
        const i = this.waiting.indexOf(entry);
        if (i < 0) return;
        this.waiting.splice(i, 1);
        clearTimeout(timer);
        reject(err);
      };
      const entry = {
        purpose,
        grant: () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', aborted);
          resolve(this.take());
        },
      };
      const aborted = () => leave(new CodedError('MEDIA_BUSY', 'no longer wanted'));
      const timer = purpose === 'snapshot' ? setTimeout(() => leave(this.busy()), SNAPSHOT_WAIT_MS) : undefined;
      timer?.unref();
      signal?.addEventListener('abort', aborted, { once: true });
      this.waiting.push(entry);
    });
  }

  private busy() {
    const { processes, maxProcesses, megabytes, maxMegabytes } = this.usage();
    return new CodedError('MEDIA_BUSY', `this node runs ${processes} of media.maxProcesses ${maxProcesses} media processes, using ${megabytes} of media.maxProcessMegabytes ${maxMegabytes} MB; try again later`);
  }

  private take(): ProcessPlace {
    const holder: { pid?: number } = {};
    this.held.add(holder);
    let released = false;
    return {
      hold: (pid) => {
        holder.pid = pid;
        this.memory.at = 0; // the next look counts it
      },
      release: () => {
        if (released) return;
        released = true;
        this.held.delete(holder);
        this.memory.at = 0;
        this.next();
      },
    };
  }

  /** A place freed: the first in line gets it (while there is room). */
  private next() {
    while (this.waiting.length && !this.full) this.waiting.shift()!.grant();
  }
}
