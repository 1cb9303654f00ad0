import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import { TokenVerifier } from './auth/tokens.js';
import { Cluster } from './cluster/cluster.js';
import type { NodeSnapshot } from './cluster/node-registry.js';
import { storedPeer } from './cluster/peer-view.js';
import { LocalRoomRouter } from './cluster/room-router.js';
import type { Config } from './config/schema.js';
import { adminPlugin } from './http/admin-plugin.js';
import { demoPlugin } from './http/demo-plugin.js';
import { healthPlugin } from './http/health-plugin.js';
import { installHttpErrors } from './http/errors.js';
import { tokenPlugin } from './http/token-plugin.js';
import type { Logger } from './logging/logger.js';
import { announcedAddress, WorkerPool } from './media/worker-pool.js';
import { createMetrics } from './metrics/metrics.js';
import { RoomRegistry } from './rooms/room-registry.js';
import type { SignalingDeps } from './signaling/handler.js';
import { signalingPlugin } from './signaling/plugin.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Builds one media node: workers, rooms, and the HTTP/WebSocket server with its plugins. */
export async function createNode(config: Config, log: Logger) {
  const nodeId = config.cluster.nodeId || `${os.hostname()}-${randomBytes(3).toString('hex')}`;
  const nodeLog = log.child({ nodeId });
  const pool = await WorkerPool.create(config.media, nodeLog);
  const rooms = new RoomRegistry(pool, config.media, nodeLog);
  let cluster: Cluster | undefined;
  const metrics = createMetrics(pool, rooms, () => cluster?.pipes.pipedCount ?? 0);

  const deps: SignalingDeps = {
    config, rooms, verifier: new TokenVerifier(config.auth), metrics: metrics.signaling, log: nodeLog,
    router: new LocalRoomRouter({ id: nodeId, region: config.cluster.region, url: '' }),
    spanRegions: config.cluster.spanRegions,
  };

  const app = Fastify({ loggerInstance: nodeLog as unknown as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }), bodyLimit: 64 * 1024 });
  installHttpErrors(app);
  await app.register(healthPlugin, { pool, rooms, metrics });
  await app.register(tokenPlugin, { auth: config.auth });
  await app.register(adminPlugin, { auth: config.auth, router: () => deps.router, drain: () => startDrain() });
  if (config.demo.enabled) await app.register(demoPlugin, { config });
  await app.register(signalingPlugin, { deps });

  const snapshot = (): NodeSnapshot => ({
    peers: [...rooms.values()].reduce((n, r) => n + r.peers.size, 0),
    draining: !rooms.acceptingRooms,
    rooms: [...rooms.values()].map((r) => ({ roomId: r.id, owned: r.owned, peers: [...r.peers.values()].map((p) => ({ id: p.id, stored: storedPeer(nodeId, p) })) })),
  });

  let closing: Promise<void> | undefined;
  let draining: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      rooms.acceptingRooms = false;
      rooms.closeAll('NODE_SHUTDOWN', 'this media node is shutting down; join again');
      await app.close();
      await cluster?.stop();
      pool.close();
    })();
    return closing;
  };
  /** No new rooms; calls go on until they end or drainTimeoutMs passes; then close. */
  const drain = () => {
    draining ??= (async () => {
      rooms.acceptingRooms = false;
      await cluster?.registry.heartbeat();
      nodeLog.info({ rooms: rooms.size, timeoutMs: config.cluster.drainTimeoutMs }, 'draining');
      const deadline = Date.now() + config.cluster.drainTimeoutMs;
      while (rooms.size > 0 && Date.now() < deadline) await sleep(250);
      await close();
    })();
    return draining;
  };
  const startDrain = () => {
    void drain();
    return { rooms: rooms.size, peers: snapshot().peers };
  };

  return {
    app, pool, rooms, metrics, nodeId,
    get cluster() {
      return cluster;
    },
    /** Binds the server; in cluster mode then registers this node, now that its address is known. */
    async listen(): Promise<AddressInfo> {
      await app.listen({ host: config.server.host, port: config.server.port });
      const address = app.server.address() as AddressInfo;
      const host = announcedAddress(config.media) ?? config.media.listenIp;
      const url = config.cluster.publicUrl || `http://${host}:${address.port}`;
      const self = { id: nodeId, region: config.cluster.region, url };
      deps.router = new LocalRoomRouter(self);
      if (config.cluster.redisUrl) {
        const c = await Cluster.start(config, { ...self, mediaAddress: host, capacity: config.cluster.capacity, startedAt: Date.now() }, rooms, snapshot, nodeLog);
        cluster = c;
        rooms.linkFactory = (room) => c.linkRoom(room);
        deps.router = c.router;
      }
      return address;
    },
    drain,
    close,
  };
}

export type MediaNode = Awaited<ReturnType<typeof createNode>>;
