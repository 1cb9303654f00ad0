import type { Redis } from 'ioredis';
import { SignalingError } from '../signaling/errors.js';
import { keys } from './keys.js';
import type { NodeInfo } from './node-info.js';
import type { NodeRegistry } from './node-registry.js';
import type { NodeSelector } from './node-selector.js';
import type { Regions } from './regions.js';
import type { Placement, RoomRouter } from './room-router.js';

// The claim is one Lua script, so it is atomic in Redis: a room keeps its owner while
// that owner is alive; otherwise the first caller's candidate wins and everyone follows.
// KEYS[1] room key; ARGV[1] candidate node id; ARGV[2] ttl ms; ARGV[3] node key prefix.
const CLAIM = `
local owner = redis.call('GET', KEYS[1])
if owner and redis.call('EXISTS', ARGV[3] .. owner) == 1 then return owner end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ARGV[1]`;

type ClaimingRedis = Redis & { claimRoom(key: string, nodeId: string, ttlMs: number, prefix: string): Promise<string> };

/** Places rooms across the cluster: near the buyer, on the least-loaded node, exactly once. */
export class RedisRoomRouter implements RoomRouter {
  private readonly redis: ClaimingRedis;

  constructor(
    redis: Redis,
    readonly self: Pick<NodeInfo, 'id' | 'region' | 'url'>,
    private readonly registry: NodeRegistry,
    private readonly regions: Regions,
    private readonly select: NodeSelector,
    private readonly roomTtlMs: number,
  ) {
    redis.defineCommand('claimRoom', { numberOfKeys: 1, lua: CLAIM });
    this.redis = redis as ClaimingRedis;
  }

  async place(roomId: string, region = this.self.region): Promise<Placement> {
    try {
      const nodes = await this.registry.list();
      const owner = await this.redis.get(keys.room(roomId));
      const current = owner && nodes.find((n) => n.id === owner);
      if (current) return this.placement(roomId, current);
      const candidate = this.select(nodes, { region }, this.regions);
      if (!candidate) throw new SignalingError('NODE_UNAVAILABLE', 'no node in the cluster can take a new room');
      const winner = await this.redis.claimRoom(keys.room(roomId), candidate.id, this.roomTtlMs, keys.nodePrefix);
      const node = nodes.find((n) => n.id === winner) ?? (await this.registry.get(winner));
      if (!node) throw new SignalingError('NODE_UNAVAILABLE', `room ${roomId} is owned by a node that just left; join again`);
      return this.placement(roomId, node);
    } catch (err) {
      if (err instanceof SignalingError) throw err;
      throw new SignalingError('NODE_UNAVAILABLE', `the cluster store is unreachable: ${(err as Error).message}`);
    }
  }

  private placement(roomId: string, node: NodeInfo): Placement {
    return { roomId, node: { id: node.id, region: node.region, url: node.url }, local: node.id === this.self.id };
  }
}
