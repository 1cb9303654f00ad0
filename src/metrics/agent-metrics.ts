import { Counter, Gauge, type Registry } from 'prom-client';

/** The voice assistant: jobs waiting for a worker and running, this node's workers, dispatches by reason. */
export function createAgentMetrics(registry: Registry, counts: () => Promise<{ waiting: number; running: number }>, workers: () => number) {
  new Gauge({
    name: 'sfu_agent_jobs', help: 'Assistant jobs: waiting for a worker, or running (alone: this node\'s; in a cluster: the whole cluster\'s, from Redis).', labelNames: ['state'], registers: [registry],
    async collect() {
      const c = await counts().catch(() => undefined);
      if (!c) return;
      this.set({ state: 'waiting' }, c.waiting);
      this.set({ state: 'running' }, c.running);
    },
  });
  new Gauge({ name: 'sfu_agent_workers', help: 'Agent worker processes this node started that are running now.', registers: [registry], collect() { this.set(workers()); } });
  const dispatched = new Counter({ name: 'sfu_agent_dispatches_total', help: 'Assistants dispatched by this node, by what dispatched them.', labelNames: ['reason'], registers: [registry] });
  return { dispatched: (reason: string) => dispatched.inc({ reason }) };
}
