import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import type { Logger } from '../logging/logger.js';
import { keys } from './keys.js';
import { fromHash, toHash, type NodeInfo } from './node-info.js';

/** What the heartbeat reports about this node and refreshes for its rooms. */
export interface NodeSnapshot {
  peers: number;
  draining: boolean;
  /** Rooms this node owns (placement) and rooms it hosts peers of, with those peers as stored in Redis. */
  rooms: Array<{ roomId: string; owned: boolean; peers: Array<{ id: string; stored: string }> }>;
}

// Re-claims a room this node owns (Redis may have restarted and lost it) or extends it.
// KEYS[1] room key; ARGV[1] node id; ARGV[2] ttl ms.
const REFRESH_OWNED = `
local owner = redis.call('GET', KEYS[1])
if not owner or owner == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`;

/**
 * Publishes this node in Redis every heartbeat, with a TTL so a dead node drops out on
 * its own, and keeps its rooms' placements and peer lists alive. It also watches the others:
 * `nodeGone` fires once for a node that has been missing for a whole node TTL. A node merely
 * not re-registered yet after a Redis restart is not mistaken for a dead one.
 */
export class NodeRegistry extends EventEmitter<{ nodeGone: [nodeId: string] }> {
  private timer?: NodeJS.Timeout;
  private beating?: Promise<void>;
  /** Known nodes, with when a successful listing first missed them (undefined: listed last time). */
  private readonly missingSince = new Map<string, number | undefined>();

  constructor(
    private readonly redis: Redis,
    private readonly self: Omit<NodeInfo, 'peers' | 'rooms' | 'draining' | 'heartbeatAt'>,
    private readonly timing: { heartbeatMs: number; nodeTtlMs: number; roomTtlMs: number },
    private readonly snapshot: () => NodeSnapshot,
    private readonly log: Logger,
  ) {
    super();
    redis.defineCommand('refreshOwnedRoom', { numberOfKeys: 1, lua: REFRESH_OWNED });
  }

  async start() {
    await this.heartbeat();
    this.timer = setInterval(() => {
      this.beating ??= this.heartbeat().finally(() => (this.beating = undefined));
    }, this.timing.heartbeatMs);
    this.timer.unref();
  }

  /** One heartbeat now (also used to publish a state change at once, such as draining). */
  async heartbeat() {
    const snap = this.snapshot();
    const now = Date.now();
    const info: NodeInfo = { ...this.self, peers: snap.peers, rooms: snap.rooms.length, draining: snap.draining, heartbeatAt: now };
    const { nodeTtlMs, roomTtlMs } = this.timing;
    const tx = this.redis.multi()
      .hset(keys.node(this.self.id), toHash(info))
      .pexpire(keys.node(this.self.id), nodeTtlMs)
      .zadd(keys.nodes, now + nodeTtlMs, this.self.id)
      .zremrangebyscore(keys.nodes, '-inf', now);
    for (const room of snap.rooms) {
      if (room.owned) (tx as any).refreshOwnedRoom(keys.room(room.roomId), this.self.id, roomTtlMs);
      if (room.peers.length) {
        tx.hset(keys.roomPeers(room.roomId), Object.fromEntries(room.peers.map((p) => [p.id, p.stored])));
        tx.pexpire(keys.roomPeers(room.roomId), roomTtlMs);
      }
    }
    try {
      await tx.exec();
      this.watch(await this.list(), now);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'heartbeat to Redis failed; calls continue, will retry');
    }
  }

  /** Counts absence only across successful listings, so a Redis outage never makes nodes "gone". */
  private watch(live: NodeInfo[], now: number) {
    const listed = new Set(live.map((n) => n.id));
    for (const id of listed) this.missingSince.set(id, undefined);
    for (const [id, since] of this.missingSince) {
      if (listed.has(id)) continue;
      if (since === undefined) this.missingSince.set(id, now);
      else if (now - since >= this.timing.nodeTtlMs) {
        this.missingSince.delete(id);
        this.log.info({ gone: id }, 'node left the cluster');
        this.emit('nodeGone', id);
      }
    }
  }

  async get(id: string): Promise<NodeInfo | undefined> {
    return fromHash(await this.redis.hgetall(keys.node(id)));
  }

  /** Live nodes: listed in the ZSET with a future expiry and still holding their hash. */
  async list(): Promise<NodeInfo[]> {
    const ids = await this.redis.zrangebyscore(keys.nodes, Date.now(), '+inf');
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(keys.node(id));
    const results = (await pipeline.exec()) ?? [];
    return results.map(([, h]) => fromHash(h as Record<string, string>)).filter((n): n is NodeInfo => Boolean(n));
  }

  async stop() {
    clearInterval(this.timer);
    await this.beating;
    await this.redis.multi().del(keys.node(this.self.id)).zrem(keys.nodes, this.self.id).exec().catch(() => undefined);
  }
}
