import { Redis } from 'ioredis';
import { CodedError } from '../common/errors.js';
import { LogLimiter } from '../common/log-limiter.js';
import { reachable } from '../common/reachable.js';
import type { Config } from '../config/schema.js';
import type { ParticipantRecord } from '../contracts/records.js';
import type { Logger } from '../logging/logger.js';
import type { Endpoint, RoomDirectory } from '../rooms/directory.js';
import type { Peer } from '../rooms/peer.js';
import { roomKey, type RoomKey } from '../rooms/room-key.js';
import type { Room, RoomSettings } from '../rooms/room.js';
import { ClusterAllocator } from './cluster-allocator.js';
import { ClusterBus } from './cluster-bus.js';
import { NodePipes } from './node-pipes.js';
import { NodeRegistry, type SelfInfo } from './node-registry.js';
import { nearestLeastLoaded } from './node-selector.js';
import { Regions } from './regions.js';
import { RoomSpan } from './room-span.js';
import { RoomStore } from './room-store.js';
import { Signer } from './signer.js';

/** What the cluster needs from the rest of the node. */
export interface ClusterOptions {
  /** A local peer's stay, as the platform recorded it (sent to the room's owner when it leaves). */
  recordOf(peer: Peer, reason: string, leftAt: number): ParticipantRecord;
  /** Whether this node can take rooms that record (its media processes are not all taken), for placement. */
  egressFull?: () => boolean;
}

/**
 * Cluster mode (REDIS_URL set): the room directory over Redis. It holds the node registry, the
 * room store, the allocator, the signed bus, the pipes between nodes and one span per room
 * hosted here, over two Redis connections (pub/sub needs its own). Commands fail fast while
 * Redis is away rather than queueing, so calls in progress never wait on Redis.
 */
export class Cluster implements RoomDirectory {
  readonly allocator: ClusterAllocator;
  readonly pipes: NodePipes;
  readonly store: RoomStore;
  private readonly registry: NodeRegistry;
  private readonly regions: Regions;
  private readonly spans = new Map<RoomKey, RoomSpan>();
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
    readonly self: SelfInfo,
    private readonly config: Config,
    private readonly options: ClusterOptions,
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
  static async connect(config: Config, self: SelfInfo, options: ClusterOptions, log: Logger): Promise<Cluster> {
    const clusterLog = log.child({ component: 'cluster', nodeId: self.id, region: self.region });
    const connection = {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: (times: number) => Math.min(100 * times, 2000),
      lazyConnect: true,
    };
    const redis = new Redis(config.cluster.redisUrl, connection);
    const sub = new Redis(config.cluster.redisUrl, { ...connection, enableOfflineQueue: true });
    for (const [name, conn] of [['redis', redis], ['redis-sub', sub]] as const) {
      conn.on('error', (err) => clusterLog.warn({ conn: name, err: err.message }, 'Redis connection error'));
      conn.on('ready', () => clusterLog.info({ conn: name }, 'Redis connected'));
    }
    await Promise.all([redis.connect(), sub.connect()]);
    const signer = new Signer(config.cluster.secret);
    const bus = new ClusterBus(redis, sub, self.id, signer, new LogLimiter(clusterLog));
    await bus.start();
    return new Cluster(redis, sub, bus, signer, self, config, options, clusterLog);
  }

  // ---- the room directory ---------------------------------------------------------------------

  async attach(room: Room) {
    const span = await RoomSpan.open(room, {
      bus: this.bus, store: this.store, registry: this.registry, pipes: this.pipes, recordOf: this.options.recordOf, log: this.log,
    }, (closed) => {
      if (this.spans.get(closed.roomId) === closed) this.spans.delete(closed.roomId);
    });
    this.spans.set(room.id, span);
    this.spanOf.set(room, span);
  }

  /** This node keeps the room's call record: it held the placement (last it knew). */
  owns(room: Room) {
    return this.spanOf.get(room)?.owner ?? false;
  }

  /**
   * The owner's published settings. When the owner has no part yet (a participant reached
   * another region first), it is asked to open one, so the call has one id and one record.
   */
  async settingsFor(key: RoomKey, fresh: RoomSettings): Promise<RoomSettings> {
    const published = await this.store.settings(key);
    if (published) return published;
    const owner = await this.store.owner(key);
    if (!owner || owner === this.bus.nodeId) return fresh;
    await this.bus.rpc(owner, 'room.open', { roomId: key }, 2000).catch((err) => this.log.warn({ roomId: key, owner, err: (err as Error).message }, 'the room\'s owner did not open it'));
    return (await this.store.settings(key)) ?? fresh;
  }

  async admit(settings: RoomSettings, limit: number) {
    const key = roomKey(settings.tenant, settings.name);
    const admitted = await this.store.reserveTenantRoom(key, settings, limit).catch((err) => {
      throw new CodedError('NODE_UNAVAILABLE', `the cluster store is unreachable: ${(err as Error).message}`);
    });
    if (!admitted) throw new CodedError('TENANT_LIMIT', `tenant ${settings.tenant} has ${limit} rooms already`);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      void this.store.releaseTenantRoom(key, settings).catch(() => undefined);
    };
  }

  async publishSettings(room: Room) {
    if (this.owns(room)) await this.store.putSettings(room.id, room.settings);
  }

  async settings(key: RoomKey) {
    return this.spans.get(key)?.room.settings ?? (await reachable(this.store.settings(key)));
  }

  async hosts(key: RoomKey) {
    const hosts = await reachable(this.store.hosts(key));
    if (this.spans.has(key) && !hosts.includes(this.self.id)) hosts.push(this.self.id);
    return hosts;
  }

  async ownerOf(key: RoomKey) {
    return (await reachable(this.store.owner(key))) ?? undefined;
  }

  tenantRooms(tenant: string, offset: number, limit: number) {
    return reachable(this.store.tenantRooms(tenant, offset, limit));
  }

  /** The least-loaded live node of each region that takes new rooms. */
  async endpoints(): Promise<Endpoint[]> {
    const best = new Map<string, { url: string; load: number }>();
    for (const n of await reachable(this.registry.list())) {
      if (n.draining) continue;
      const load = n.peers / n.capacity;
      if ((best.get(n.region)?.load ?? Infinity) > load) best.set(n.region, { url: n.url, load });
    }
    return [...best].sort(([a], [b]) => a.localeCompare(b)).map(([region, { url }]) => ({ region, name: this.regions.name(region) ?? region, url }));
  }

  async nodeUrl(nodeId: string) {
    return nodeId === this.self.id ? this.self.url : (await reachable(this.registry.get(nodeId)))?.url;
  }

  stats() {
    return { pipedStreams: this.pipes.count, pipeReception: this.pipes.reception.totals(), dropped: { ...this.bus.dropped } };
  }

  // ---- membership ----------------------------------------------------------------------------

  /** Registers this node and keeps it registered, with its rooms, every heartbeat. */
  async start() {
    await this.heartbeat();
    this.timer = setInterval(() => {
      this.beating ??= this.heartbeat().finally(() => (this.beating = undefined));
    }, this.config.cluster.heartbeatMs);
    this.timer.unref();
    this.log.info('joined the cluster');
  }

  async drain() {
    this.draining = true;
    await this.heartbeat();
  }

  /** One heartbeat: this node's entry, then the rooms it hosts (O(rooms), whatever their size). */
  private async heartbeat() {
    const spans = [...this.spans.values()];
    const peers = spans.reduce((n, s) => n + s.room.peers.size, 0);
    try {
      await this.registry.publish({ peers, rooms: spans.length, draining: this.draining, egressFull: this.options.egressFull?.() ?? false });
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
