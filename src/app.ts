import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import { TokenVerifier } from './auth/tokens.js';
import type { Config } from './config/schema.js';
import { demoPlugin } from './http/demo-plugin.js';
import { healthPlugin } from './http/health-plugin.js';
import { installHttpErrors } from './http/errors.js';
import { tokenPlugin } from './http/token-plugin.js';
import type { Logger } from './logging/logger.js';
import { WorkerPool } from './media/worker-pool.js';
import { createMetrics } from './metrics/metrics.js';
import { RoomRegistry } from './rooms/room-registry.js';
import { signalingPlugin } from './signaling/plugin.js';

/** Builds one media node: workers, rooms, and the HTTP/WebSocket server with its plugins. */
export async function createNode(config: Config, log: Logger) {
  const pool = await WorkerPool.create(config.media, log);
  const rooms = new RoomRegistry(pool, config.media, log);
  const metrics = createMetrics(pool, rooms);

  const app = Fastify({ loggerInstance: log as unknown as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }), bodyLimit: 64 * 1024 });
  installHttpErrors(app);
  await app.register(healthPlugin, { pool, rooms, metrics });
  await app.register(tokenPlugin, { auth: config.auth });
  if (config.demo.enabled) await app.register(demoPlugin, { config });
  await app.register(signalingPlugin, { config, rooms, verifier: new TokenVerifier(config.auth), metrics: metrics.signaling, log });

  let closing: Promise<void> | undefined;
  return {
    app,
    pool,
    rooms,
    metrics,
    async listen() {
      await app.listen({ host: config.server.host, port: config.server.port });
      return app.server.address() as import('node:net').AddressInfo;
    },
    /** Stop taking rooms, tell peers the node is going away, then stop the server and workers. */
    close() {
      closing ??= (async () => {
        rooms.acceptingRooms = false;
        rooms.closeAll('NODE_SHUTDOWN', 'this media node is shutting down; join again');
        await app.close();
        pool.close();
      })();
      return closing;
    },
  };
}

export type MediaNode = Awaited<ReturnType<typeof createNode>>;
