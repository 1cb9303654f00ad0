import type { AgentJob, AgentQueue } from './jobs.js';
import type { AgentWorkers, AgentWorker } from './agent-workers.js';

/** Jobs that may wait for a free worker; more are refused (a node's calls are bounded anyway). */
const MAX_WAITING = 1000;

/**
 * A node alone: its jobs go to the workers it started, over their IPC channel, each to the
 * least busy worker with room. A worker that dies has its jobs given again (with one more
 * attempt) to the others, or to the worker started in its place.
 */
export class LocalAgentQueue implements AgentQueue {
  private readonly waiting: AgentJob[] = [];
  private readonly running = new Map<string, { job: AgentJob; worker: AgentWorker }>();

  /** `pool`: the workers this node started (none: jobs wait). */
  constructor(private readonly pool?: AgentWorkers) {
    pool?.on('message', (worker, m) => {
      if (m.type === 'ready') this.assign();
      else if (m.type === 'finished') {
        worker.jobs.delete(m.jobId);
        this.running.delete(m.jobId);
        this.assign();
      }
    });
    pool?.on('exit', (worker) => {
      // Its calls go on with another worker, from the conversation the node kept.
      for (const jobId of worker.jobs) {
        const r = this.running.get(jobId);
        this.running.delete(jobId);
        if (r) this.waiting.unshift({ ...r.job, attempt: r.job.attempt + 1 });
      }
      worker.jobs.clear();
      this.assign();
    });
  }

  async enqueue(job: AgentJob) {
    if (this.waiting.length >= MAX_WAITING) throw new Error(`${MAX_WAITING} assistant jobs wait for a worker already`);
    this.waiting.push(job);
    this.assign();
  }

  async cancel(jobId: string) {
    const i = this.waiting.findIndex((j) => j.jobId === jobId);
    if (i >= 0) this.waiting.splice(i, 1);
    const r = this.running.get(jobId);
    if (r) this.pool?.send(r.worker, { type: 'cancel', jobId });
  }

  async counts() {
    return { waiting: this.waiting.length, running: this.running.size };
  }

  private assign() {
    while (this.waiting.length && this.pool) {
      const free = [...this.pool.workers.values()].filter((w) => w.child.connected && w.jobs.size < w.capacity).sort((a, b) => a.jobs.size - b.jobs.size)[0];
      if (!free) return;
      const job = this.waiting.shift()!;
      free.jobs.add(job.jobId);
      this.running.set(job.jobId, { job, worker: free });
      this.pool.send(free, { type: 'job', job });
    }
  }

  start() {
    this.pool?.start();
  }

  async stop() {
    await this.pool?.stop();
  }
}
