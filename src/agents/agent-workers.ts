import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logging/logger.js';
import type { FromWorker, ToWorker } from './jobs.js';

/** The worker's entry beside this file: TypeScript through tsx from a checkout, compiled JavaScript in the image (dist/). */
const COMPILED = import.meta.url.endsWith('.js');
const ENTRY = path.join(path.dirname(fileURLToPath(import.meta.url)), COMPILED ? 'worker/main.js' : 'worker/main.ts');
/** A worker that dies again soon is started again later: 0.5 s, doubling, at most 30 s. */
const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 30_000;
const STOP_GRACE_MS = 5000;

export interface AgentWorker {
  slot: number;
  child: ChildProcess;
  /** Calls it holds at once (it says so when ready; 0 until then). */
  capacity: number;
  /** The jobs it has now. */
  jobs: Set<string>;
}

/**
 * The agent worker processes a node starts and supervises: each one, given the node's
 * configuration over its IPC channel, runs assistants; one that dies is started again, later
 * each time it dies soon after the last. Alone, the node's LocalAgentQueue gives them jobs over
 * the same channel; in a cluster they take jobs from Redis themselves.
 */
export class AgentWorkers extends EventEmitter<{ message: [AgentWorker, FromWorker]; exit: [AgentWorker] }> {
  readonly workers = new Map<number, AgentWorker>();
  private stopping = false;
  private readonly deaths = new Map<number, number[]>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly options: { count: number; config: Config; log: Logger }) {
    super();
  }

  start() {
    for (let slot = 0; slot < this.options.count; slot++) this.spawn(slot);
  }

  private spawn(slot: number) {
    const child = fork(ENTRY, [], { execArgv: COMPILED ? [] : ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, AGENT_WORKER_SLOT: String(slot) } });
    const worker: AgentWorker = { slot, child, capacity: 0, jobs: new Set() };
    this.workers.set(slot, worker);
    child.on('message', (m: FromWorker) => {
      if (m?.type === 'ready') worker.capacity = m.capacity;
      this.emit('message', worker, m);
    });
    child.on('error', (err) => this.options.log.warn({ err: err.message, slot }, 'an agent worker could not be started'));
    child.once('exit', (code, signal) => {
      if (this.workers.get(slot) === worker) this.workers.delete(slot);
      this.emit('exit', worker);
      if (this.stopping) return;
      const now = Date.now();
      const recent = (this.deaths.get(slot) ?? []).filter((t) => t > now - 60_000);
      recent.push(now);
      this.deaths.set(slot, recent);
      const delay = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (recent.length - 1));
      this.options.log.warn({ slot, code, signal, restartInMs: delay, jobs: worker.jobs.size }, 'an agent worker exited; starting another');
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (!this.stopping) this.spawn(slot);
      }, delay);
      this.timers.add(timer);
    });
    this.send(worker, { type: 'config', config: this.options.config });
  }

  send(worker: AgentWorker, message: ToWorker) {
    if (worker.child.connected) worker.child.send(message, undefined, undefined, () => undefined);
  }

  /** Its workers' process ids (metrics, tests). */
  pids() {
    return [...this.workers.values()].map((w) => w.child.pid!).filter(Boolean);
  }

  /** SIGTERM (its assistants leave their calls), then SIGKILL after a grace period. */
  async stop() {
    this.stopping = true;
    for (const t of this.timers) clearTimeout(t);
    await Promise.all([...this.workers.values()].map(({ child }) => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    })));
  }
}
