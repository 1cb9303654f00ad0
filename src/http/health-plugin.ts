import type { FastifyPluginAsync } from 'fastify';
import type { WorkerPool } from '../media/worker-pool.js';
import type { RoomRegistry } from '../rooms/room-registry.js';
import type { NodeMetrics } from '../metrics/metrics.js';

export interface HealthDeps {
  pool: WorkerPool;
  rooms: RoomRegistry;
  metrics: NodeMetrics;
}

/** /healthz (the process answers), /readyz (it can take rooms) and /metrics (Prometheus). */
export const healthPlugin: FastifyPluginAsync<HealthDeps> = async (app, { pool, rooms, metrics }) => {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    const workers = { alive: pool.aliveCount, total: pool.slots.length };
    const problems = [
      ...(workers.alive === 0 ? ['no live media worker'] : []),
      ...(rooms.acceptingRooms ? [] : ['draining: not accepting new rooms']),
    ];
    const status = problems.length === 0 ? 'ready' : rooms.acceptingRooms ? 'unavailable' : 'draining';
    return reply.code(problems.length ? 503 : 200).send({ status, workers, rooms: rooms.size, problems });
  });

  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.render();
  });
};
