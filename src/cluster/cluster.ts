import { Redis } from 'ioredis';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logging/logger.js';
import type { Room } from '../rooms/room.js';
import type { RoomRegistry } from '../rooms/room-registry.js';
import { ClusterBus } from './cluster-bus.js';
import type { NodeInfo } from './node-info.js';
import { NodeRegistry, type NodeSnapshot } from './node-registry.js';
import { nearestLeastLoaded } from './node-selector.js';
import { RedisRoomRouter } from './redis-room-router.js';
import { Regions } from './regions.js';
import { RemotePipes } from './remote-pipes.js';
import { RoomSpan } from './room-span.js';

export type SelfInfo = Omit<NodeInfo, 'peers' | 'rooms' | 'draining' | 'heartbeatAt'>;

/**
 * Cluster mode (REDIS_URL set): the registry, the room router, the signed bus and the pipes
 * between nodes, over two Redis connections (pub/sub needs its own). Commands fail fast
 * while Redis is away rather than queueing, so calls in progress never wait on Redis.
 */
export class Cluster {
  private constructor(
    readonly redis: Redis,
    readonly sub: Redis,
    readonly registry: NodeRegistry,
    readonly router: RedisRoomRouter,
    readonly bus: ClusterBus,
    readonly pipes: RemotePipes,
    private readonly config: Config,
    private readonly log: Logger,
  ) {}

  /** Connects a new local room to the nodes that host the rest of it. */
  linkRoom(room: Room) {
    const { bus, redis, registry, pipes, log } = this;
    return RoomSpan.open(room, { bus, redis, registry, pipes, roomTtlMs: this.config.cluster.roomTtlMs, log });
  }

  static async start(config: Config, self: SelfInfo, rooms: RoomRegistry, snapshot: () => NodeSnapshot, log: Logger): Promise<Cluster> {
    const clusterLog = log.child({ component: 'cluster', nodeId: self.id, region: self.region });
    const regions = Regions.load(config.cluster.regionsFile);
    if (!regions.has(self.region)) clusterLog.warn({ region: self.region }, 'region is not in the regions file: placement cannot tell how near it is');
    const options = {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: (times: number) => Math.min(100 * times, 2000),
      lazyConnect: true,
    };
    const redis = new Redis(config.cluster.redisUrl, options);
    const sub = new Redis(config.cluster.redisUrl, { ...options, enableOfflineQueue: true });
    for (const [name, conn] of [['redis', redis], ['redis-sub', sub]] as const) {
      conn.on('error', (err) => clusterLog.warn({ conn: name, err: err.message }, 'Redis connection error'));
      conn.on('ready', () => clusterLog.info({ conn: name }, 'Redis connected'));
    }
    await Promise.all([redis.connect(), sub.connect()]);
    const timing = { heartbeatMs: config.cluster.heartbeatMs, nodeTtlMs: config.cluster.nodeTtlMs, roomTtlMs: config.cluster.roomTtlMs };
    const registry = new NodeRegistry(redis, self, timing, snapshot, clusterLog);
    const router = new RedisRoomRouter(redis, self, registry, regions, nearestLeastLoaded, config.cluster.roomTtlMs);
    const bus = new ClusterBus(redis, sub, self.id, config.cluster.secret, clusterLog);
    const pipes = new RemotePipes(bus, registry, rooms, config.media, clusterLog);
    await bus.start();
    await registry.start();
    clusterLog.info('joined the cluster');
    return new Cluster(redis, sub, registry, router, bus, pipes, config, clusterLog);
  }

  async stop() {
    await this.registry.stop();
    this.bus.close();
    this.redis.disconnect();
    this.sub.disconnect();
  }
}
