/**
 * An agent worker: it takes assistant jobs and runs each assistant in its call. Started by a
 * node (AgentWorkers: its configuration and, alone, its jobs come over the IPC channel), or on
 * its own in a cluster with `npm run agent` (the same configuration as the nodes, REDIS_URL
 * among it: jobs come from Redis). SIGTERM: its assistants leave their calls, and in a cluster
 * their jobs go to other workers at once.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { loadConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { createLogger, flushLogs } from '../../logging/logger.js';
import { SpeechEngines } from '../../speech/speech-engines.js';
import { Tenants } from '../../tenants/tenants.js';
import { engineFor } from '../engines.js';
import { IpcJobSource } from '../ipc-source.js';
import type { JobSource, ToWorker } from '../jobs.js';
import { RedisJobSource } from '../redis-queue.js';
import { AssistantCall } from './assistant-call.js';

/** Its node's configuration (the first IPC message), or its own. */
function configuration(): Promise<Config> {
  if (!process.send) return Promise.resolve(loadConfig(process.env));
  return new Promise((resolve) => {
    const first = (m: ToWorker) => {
      if (m?.type !== 'config') return;
      process.off('message', first);
      resolve(m.config as Config);
    };
    process.on('message', first);
  });
}

const config = await configuration();
const log = createLogger(config).child({ component: 'agent-worker', slot: process.env.AGENT_WORKER_SLOT });
const workerId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
const tenants = new Tenants(config);
const engines = new SpeechEngines(config.speech);
const redis = config.cluster.redisUrl ? new Redis(config.cluster.redisUrl, { maxRetriesPerRequest: 2 }) : undefined;
if (!redis && !process.send) {
  log.error('an agent worker on its own takes jobs from Redis: set REDIS_URL (alone, a node starts its own workers: agents.workers)');
  process.exit(64);
}
const source: JobSource = redis ? new RedisJobSource(redis, workerId, config.agents.leaseMs) : new IpcJobSource(process);
const calls = new Map<string, AssistantCall>();

source.start(config.agents.callsPerWorker, {
  job(job) {
    const tenant = tenants.get(job.tenant);
    if (!tenant || calls.has(job.jobId)) return void source.finished(job.jobId);
    const call = new AssistantCall(job, { tenant, engines, engine: (language) => engineFor(tenant, language), log });
    calls.set(job.jobId, call);
    log.info({ jobId: job.jobId, room: job.room, attempt: job.attempt }, 'took a job');
    void call.run().finally(() => {
      calls.delete(job.jobId);
      void source.finished(job.jobId);
    });
  },
  cancelled(jobId) {
    void calls.get(jobId)?.leave();
  },
});
log.info({ workerId, capacity: config.agents.callsPerWorker, source: redis ? 'redis' : 'node' }, 'agent worker ready');

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await source.stop();
  await Promise.all([...calls.values()].map((c) => c.leave()));
  engines.close();
  redis?.disconnect();
  flushLogs();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
// A worker its node started goes with its node.
process.on('disconnect', () => void stop());
