import type { FastifyPluginAsync } from 'fastify';
import type { WorkerPool } from '../media/worker-pool.js';
import type { RoomRegistry } from '../rooms/room-registry.js';
import type { MediaProcesses } from '../egress/media-processes.js';
import type { Tenants } from '../tenants/tenants.js';
import { operator } from './admin-plugin.js';
import { requireTenant } from './api-key.js';
import type { NodeMetrics } from '../metrics/metrics.js';

export interface HealthDeps {
  pool: WorkerPool;
  rooms: RoomRegistry;
  metrics: NodeMetrics;
  /** The media processes' budget: a node that is full still takes calls, but not recordings or snapshots. */
  processes: MediaProcesses;
  /** Answers /metrics only for the operator's key (metrics.requireKey), when given. */
  metricsKey?: Tenants;
}

/** /healthz (the process answers), /readyz (it can take rooms) and /metrics (Prometheus). */
export const healthPlugin: FastifyPluginAsync<HealthDeps> = async (app, { pool, rooms, metrics, processes, metricsKey }) => {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    const workers = { alive: pool.aliveCount, total: pool.slots.length };
    const problems = [
      ...(workers.alive === 0 ? ['no live media worker'] : []),
      ...(rooms.acceptingRooms ? [] : ['draining: not accepting new rooms']),
    ];
    const status = problems.length === 0 ? 'ready' : rooms.acceptingRooms ? 'unavailable' : 'draining';
    // Calls go on when the media processes are all taken; recordings, snapshots and captions wait or are refused.
    return reply.code(problems.length ? 503 : 200).send({ status, workers, rooms: rooms.size, mediaProcesses: processes.usage(), problems });
  });

  const operatorOnly = metricsKey ? [requireTenant(metricsKey), operator] : [];
  app.get('/metrics', { onRequest: operatorOnly }, async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.render();
  });
};
