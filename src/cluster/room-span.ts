import type { Redis } from 'ioredis';
import type { Logger } from '../logging/logger.js';
import type { Peer } from '../rooms/peer.js';
import type { PeerInfo, Room, RoomLink } from '../rooms/room.js';
import type { ClusterBus } from './cluster-bus.js';
import { keys } from './keys.js';
import type { NodeRegistry } from './node-registry.js';
import { peerView, storedPeer, type PeerView } from './peer-view.js';
import type { RemotePipes } from './remote-pipes.js';

// Deletes a peer's entry only if this node wrote it: the peer may have moved to another node.
// KEYS[1] room peers hash; ARGV[1] peer id; ARGV[2] node id.
const DELETE_OWN_PEER = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if raw and cjson.decode(raw).nodeId == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end
return 0`;

type SpanRedis = Redis & { deleteOwnPeer(key: string, peerId: string, nodeId: string): Promise<number> };

export interface SpanDeps {
  bus: ClusterBus;
  redis: Redis;
  registry: NodeRegistry;
  pipes: RemotePipes;
  roomTtlMs: number;
  log: Logger;
}

/**
 * The cluster side of one room on this node. Every change to a local peer is published on
 * the room's bus channel as the peer's full current view; other nodes diff it against what
 * they knew. So a lost or reordered message is healed by the next one, and the Redis copy
 * (sfu:room:<id>:peers) lets a node that arrives later catch up.
 */
export class RoomSpan implements RoomLink {
  private readonly channel: string;

  private constructor(private readonly room: Room, private readonly deps: SpanDeps) {
    this.channel = keys.roomBus(room.id);
  }

  /** A node died: its peers are gone from this room. */
  private readonly onNodeGone = (nodeId: string) => {
    for (const [peerId, remote] of this.room.remotePeers) if (remote.nodeId === nodeId) this.removeRemote(peerId);
  };

  static async open(room: Room, deps: SpanDeps): Promise<RoomSpan> {
    const span = new RoomSpan(room, deps);
    if (!(deps.redis as SpanRedis).deleteOwnPeer) deps.redis.defineCommand('deleteOwnPeer', { numberOfKeys: 1, lua: DELETE_OWN_PEER });
    await deps.bus.subscribe(span.channel, (type, data, from) => span.onEvent(type, data, from));
    const [stored, nodes] = await Promise.all([deps.redis.hgetall(keys.roomPeers(room.id)), deps.registry.list()]);
    const live = new Set(nodes.map((n) => n.id));
    for (const raw of Object.values(stored)) {
      const { nodeId, info, joinedAt } = JSON.parse(raw) as PeerView & { nodeId: string };
      if (nodeId !== deps.bus.nodeId && live.has(nodeId)) span.applyRemote(nodeId, info, joinedAt);
    }
    deps.registry.on('nodeGone', span.onNodeGone);
    return span;
  }

  peerChanged(peer: Peer) {
    const { redis, roomTtlMs } = this.deps;
    this.send('peer', peerView(peer), () => redis.multi()
      .hset(keys.roomPeers(this.room.id), peer.id, storedPeer(this.deps.bus.nodeId, peer))
      .pexpire(keys.roomPeers(this.room.id), roomTtlMs)
      .exec());
  }

  peerLeft(peerId: string) {
    const redis = this.deps.redis as SpanRedis;
    this.send('peerLeft', { peerId }, () => redis.deleteOwnPeer(keys.roomPeers(this.room.id), peerId, this.deps.bus.nodeId));
  }

  dropRemote(peerId: string) {
    this.removeRemote(peerId);
  }

  bringProducer(nodeId: string, producerId: string) {
    return this.deps.pipes.bringProducer(this.room, nodeId, producerId);
  }

  bringDataProducer(nodeId: string, dataProducerId: string) {
    return this.deps.pipes.bringDataProducer(this.room, nodeId, dataProducerId);
  }

  close() {
    this.deps.registry.off('nodeGone', this.onNodeGone);
    void this.deps.bus.unsubscribe(this.channel);
    for (const peerId of [...this.room.remotePeers.keys()]) this.removeRemote(peerId);
    this.deps.pipes.closeRoom(this.room.id);
  }

  private send(type: string, data: unknown, store: () => Promise<unknown>) {
    Promise.all([this.deps.bus.publish(this.channel, type, data), store()]).catch((err) => {
      // Redis is away: the heartbeat republishes the peer list once it is back.
      this.deps.log.warn({ roomId: this.room.id, err: (err as Error).message }, 'could not publish a room change');
    });
  }

  private onEvent(type: string, data: any, from: string) {
    if (type === 'peer') this.applyRemote(from, data.info, data.joinedAt);
    // Only the node the peer is on may say it left (it may have moved to another node since).
    else if (type === 'peerLeft' && this.room.remotePeers.get(data.peerId)?.nodeId === from) this.removeRemote(data.peerId);
  }

  /** Ends what was piped here for producers the peer no longer has, mirrors pauses, then lets the room offer the new ones. */
  private applyRemote(nodeId: string, info: PeerInfo, joinedAt: number) {
    const before = this.room.remotePeers.get(info.id)?.info;
    const { pipes } = this.deps;
    if (before) {
      const now = new Map(info.producers.map((p) => [p.id, p]));
      for (const p of before.producers) {
        const current = now.get(p.id);
        if (!current) pipes.drop(p.id);
        else if (current.paused !== p.paused) void pipes.setPaused(p.id, current.paused);
      }
      const data = new Set(info.dataProducers.map((d) => d.id));
      for (const d of before.dataProducers) if (!data.has(d.id)) pipes.drop(d.id);
    }
    this.room.applyRemotePeer(nodeId, info, joinedAt);
  }

  private removeRemote(peerId: string) {
    const remote = this.room.remotePeers.get(peerId);
    if (!remote) return;
    for (const p of remote.info.producers) this.deps.pipes.drop(p.id);
    for (const d of remote.info.dataProducers) this.deps.pipes.drop(d.id);
    this.room.removeRemotePeer(peerId);
  }
}
