import { Redis } from 'ioredis';
import { LogLimiter } from '../common/log-limiter.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logging/logger.js';
import type { Room, RoomSettings } from '../rooms/room.js';
import { SignalingError } from '../signaling/errors.js';
import { ClusterAllocator } from './cluster-allocator.js';
import { ClusterBus } from './cluster-bus.js';
import { NodePipes } from './node-pipes.js';
import { NodeRegistry, type SelfInfo } from './node-registry.js';
import { nearestLeastLoaded } from './node-selector.js';
import { Regions } from './regions.js';
import { RoomSpan } from './room-span.js';
import { RoomStore } from './room-store.js';
import { Signer } from './signer.js';

/**
 * Cluster mode (REDIS_URL set): the node registry, the room store, the allocator, the signed
 * bus, the pipes between nodes and one span per room hosted here, over two Redis connections
 * (pub/sub needs its own). Commands fail fast while Redis is away rather than queueing, so
 * calls in progress never wait on Redis.
 */
export class Cluster {
  readonly allocator: ClusterAllocator;
  readonly pipes: NodePipes;
  readonly store: RoomStore;
  private readonly registry: NodeRegistry;
  private readonly regions: Regions;
  private readonly spans = new Map<string, RoomSpan>();
  /** Every room's span, even once closed, so its owner can still be asked about it. */
  private readonly spanOf = new WeakMap<Room, RoomSpan>();
  private draining = false;
  private timer?: NodeJS.Timeout;
  private beating?: Promise<void>;

  private constructor(
    /** The command connection (the platform's store and outbox use it too). */
    readonly redis: Redis,
    private readonly sub: Redis,
    readonly bus: ClusterBus,
    signer: Signer,
    self: SelfInfo,
    private readonly config: Config,
    private readonly log: Logger,
  ) {
    const { cluster } = config;
    const regions = Regions.load(cluster.regionsFile);
    this.regions = regions;
    if (!regions.has(self.region)) log.warn({ region: self.region }, 'region is not in the regions file: placement cannot tell how near it is');
    this.registry = new NodeRegistry(redis, self, signer, cluster.nodeTtlMs, log);
    this.store = new RoomStore(redis, self.id, signer, cluster.roomTtlMs);
    this.allocator = new ClusterAllocator(self, this.store, this.registry, regions, nearestLeastLoaded, cluster.spanRegions);
    this.pipes = new NodePipes(bus, this.registry, (roomId) => this.spans.get(roomId)?.room, config.media, log);
  }

  /** Connects to Redis. The node appears to the others once `start` runs, after it listens. */
  static async connect(config: Config, self: SelfInfo, log: Logger): Promise<Cluster> {
    const clusterLog = log.child({ component: 'cluster', nodeId: self.id, region: self.region });
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
    const signer = new Signer(config.cluster.secret);
    const bus = new ClusterBus(redis, sub, self.id, signer, new LogLimiter(clusterLog));
    await bus.start();
    return new Cluster(redis, sub, bus, signer, self, config, clusterLog);
  }

  /** Connects a new room here to the nodes that host the rest of it (RoomRegistry's attach). */
  async attach(room: Room) {
    const span = await RoomSpan.open(room, { bus: this.bus, store: this.store, registry: this.registry, pipes: this.pipes, log: this.log }, (closed) => {
      if (this.spans.get(closed.roomId) === closed) this.spans.delete(closed.roomId);
    });
    this.spans.set(room.id, span);
    this.spanOf.set(room, span);
  }

  /** Whether this node keeps `room`'s call record: it held the placement (last it knew). */
  owns(room: Room) {
    return this.spanOf.get(room)?.owner ?? false;
  }

  /**
   * The settings a new part of a room takes (RoomRegistry's settingsFor): those its owner
   * published. When the owner has no part yet (a participant reached another region first),
   * it is asked to open one, so the call has one id and one record.
   */
  async settingsFor(roomId: string, fresh: RoomSettings): Promise<RoomSettings> {
    const published = await this.store.settings(roomId);
    if (published) return published;
    const owner = await this.store.owner(roomId);
    if (!owner || owner === this.bus.nodeId) return fresh;
    await this.bus.rpc(owner, 'room.open', { roomId }, 2000).catch((err) => this.log.warn({ roomId, owner, err: (err as Error).message }, 'the room\'s owner did not open it'));
    return (await this.store.settings(roomId)) ?? fresh;
  }

  /** A live member of the cluster, as it registered itself (signed). */
  node(id: string) {
    return this.registry.get(id);
  }

  /**
   * One endpoint per region, for clients to measure their round trip to (Call.preflight): the
   * least-loaded live node of each region that takes new rooms.
   */
  async endpoints(): Promise<Array<{ region: string; name: string; url: string }>> {
    const best = new Map<string, { url: string; load: number }>();
    for (const n of await this.registry.list()) {
      if (n.draining) continue;
      const load = n.peers / n.capacity;
      if ((best.get(n.region)?.load ?? Infinity) > load) best.set(n.region, { url: n.url, load });
    }
    return [...best].sort(([a], [b]) => a.localeCompare(b)).map(([region, { url }]) => ({ region, name: this.regions.name(region) ?? region, url }));
  }

  /** The owner republishes a room's settings after they change (a recording started or stopped). */
  async publishSettings(room: Room) {
    if (this.owns(room)) await this.store.putSettings(room.id, room.settings);
  }

  /** A new call of `tenant` within its limit of rooms, across the cluster (RoomRegistry's admit). */
  async admit(settings: RoomSettings, limit: number) {
    if ((await this.store.tenantRoomCount(settings.tenant)) >= limit) {
      throw new SignalingError('TENANT_LIMIT', `tenant ${settings.tenant} has ${limit} rooms already`);
    }
  }

  /** Registers this node and keeps it registered, with its rooms, every heartbeat. */
  async start() {
    await this.heartbeat();
    this.timer = setInterval(() => {
      this.beating ??= this.heartbeat().finally(() => (this.beating = undefined));
    }, this.config.cluster.heartbeatMs);
    this.timer.unref();
    this.log.info('joined the cluster');
  }

  /** No new rooms here: the others stop placing rooms on this node at once. */
  async drain() {
    this.draining = true;
    await this.heartbeat();
  }

  /** One heartbeat: this node's entry, then the rooms it hosts (O(rooms), whatever their size). */
  private async heartbeat() {
    const spans = [...this.spans.values()];
    const peers = spans.reduce((n, s) => n + s.room.peers.size, 0);
    try {
      await this.registry.publish({ peers, rooms: spans.length, draining: this.draining });
      const owned = await this.store.refresh(spans);
      for (const span of spans) span.owner = owned.get(span.roomId) ?? span.owner;
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'heartbeat to Redis failed; calls continue, will retry');
    }
  }

  async stop() {
    clearInterval(this.timer);
    await this.beating;
    await this.registry.remove();
    this.bus.close();
    this.redis.disconnect();
    this.sub.disconnect();
  }
}
