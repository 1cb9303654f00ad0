import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import type { Logger } from '../logging/logger.js';
import { keys } from './keys.js';
import { fromHash, toHash, type NodeInfo } from './node-info.js';
import type { Signer } from './signer.js';
import type { NodeList } from './cluster-allocator.js';

export type SelfInfo = Omit<NodeInfo, 'peers' | 'rooms' | 'draining' | 'egressFull' | 'heartbeatAt'>;
export type NodeStatus = Pick<NodeInfo, 'peers' | 'rooms' | 'draining' | 'egressFull'>;

/**
 * This node's entry in Redis (sfu:node:<id>, with a TTL so a dead node drops out on its own)
 * and the list of live nodes. It watches the others too: `nodeGone` fires once for a node
 * missing for a whole node TTL. A node merely not re-registered yet after a Redis restart is
 * not mistaken for a dead one, because absence counts only across successful listings.
 */
export class NodeRegistry extends EventEmitter<{ nodeGone: [nodeId: string] }> implements NodeList {
  /** Known nodes, with when a successful listing first missed them (undefined: listed last time). */
  private readonly missingSince = new Map<string, number | undefined>();

  constructor(
    private readonly redis: Redis,
    readonly self: SelfInfo,
    private readonly signer: Signer,
    private readonly nodeTtlMs: number,
    private readonly log: Logger,
  ) {
    super();
    // Every room span this node hosts listens (and stops when it closes): many rooms, no leak.
    this.setMaxListeners(0);
  }

  /** Writes this node's entry with its current status, then looks for nodes that left. */
  async publish(status: NodeStatus) {
    const now = Date.now();
    const info: NodeInfo = { ...this.self, ...status, heartbeatAt: now };
    await this.redis.multi()
      .hset(keys.node(this.self.id), toHash(info, this.signer))
      .pexpire(keys.node(this.self.id), this.nodeTtlMs)
      .zadd(keys.nodes, now + this.nodeTtlMs, this.self.id)
      .zremrangebyscore(keys.nodes, '-inf', now)
      .exec();
    this.watch(await this.list(), now);
  }

  private watch(live: NodeInfo[], now: number) {
    const listed = new Set(live.map((n) => n.id));
    for (const id of listed) this.missingSince.set(id, undefined);
    for (const [id, since] of this.missingSince) {
      if (listed.has(id)) continue;
      if (since === undefined) this.missingSince.set(id, now);
      else if (now - since >= this.nodeTtlMs) {
        this.missingSince.delete(id);
        this.log.info({ gone: id }, 'node left the cluster');
        this.emit('nodeGone', id);
      }
    }
  }

  /** A node's entry, if it is there and signed by a cluster member. */
  async get(id: string): Promise<NodeInfo | undefined> {
    return fromHash(await this.redis.hgetall(keys.node(id)), this.signer);
  }

  /** Live nodes: listed in the ZSET with a future expiry and still holding a signed hash. */
  async list(): Promise<NodeInfo[]> {
    const ids = await this.redis.zrangebyscore(keys.nodes, Date.now(), '+inf');
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(keys.node(id));
    const results = (await pipeline.exec()) ?? [];
    return results.map(([, h]) => fromHash(h as Record<string, string>, this.signer)).filter((n): n is NodeInfo => Boolean(n));
  }

  async remove() {
    await this.redis.multi().del(keys.node(this.self.id)).zrem(keys.nodes, this.self.id).exec().catch(() => undefined);
  }
}
