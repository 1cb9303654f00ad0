import type { Redis } from 'ioredis';
import type { Logger } from '../logging/logger.js';
import type { Peer } from '../rooms/peer.js';
import type { PeerInfo, Room, RoomLink } from '../rooms/room.js';
import type { ClusterBus } from './cluster-bus.js';
import { keys } from './keys.js';
import type { NodeRegistry } from './node-registry.js';
import type { RemotePipes } from './remote-pipes.js';

export interface SpanDeps {
  bus: ClusterBus;
  redis: Redis;
  registry: NodeRegistry;
  pipes: RemotePipes;
  roomTtlMs: number;
  /** How often to look for nodes that died with peers in the room. */
  pruneMs: number;
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
  private pruneTimer?: NodeJS.Timeout;

  private constructor(private readonly room: Room, private readonly deps: SpanDeps) {
    this.channel = keys.roomBus(room.id);
  }

  static async open(room: Room, deps: SpanDeps): Promise<RoomSpan> {
    const span = new RoomSpan(room, deps);
    await deps.bus.subscribe(span.channel, (type, data, from) => span.onEvent(type, data, from));
    const [stored, nodes] = await Promise.all([deps.redis.hgetall(keys.roomPeers(room.id)), deps.registry.list()]);
    const live = new Set(nodes.map((n) => n.id));
    for (const raw of Object.values(stored)) {
      const { nodeId, info } = JSON.parse(raw) as { nodeId: string; info: PeerInfo };
      if (nodeId !== deps.bus.nodeId && live.has(nodeId)) span.applyRemote(nodeId, info);
    }
    span.pruneTimer = setInterval(() => void span.pruneDeadNodes(), deps.pruneMs);
    span.pruneTimer.unref();
    return span;
  }

  peerChanged(peer: Peer) {
    const info = peer.info();
    const { redis, roomTtlMs } = this.deps;
    this.send('peer', { info }, () => redis.multi()
      .hset(keys.roomPeers(this.room.id), peer.id, JSON.stringify({ nodeId: this.deps.bus.nodeId, info }))
      .pexpire(keys.roomPeers(this.room.id), roomTtlMs)
      .exec());
  }

  peerLeft(peerId: string) {
    this.send('peerLeft', { peerId }, () => this.deps.redis.hdel(keys.roomPeers(this.room.id), peerId));
  }

  bringProducer(nodeId: string, producerId: string) {
    return this.deps.pipes.bringProducer(this.room, nodeId, producerId);
  }

  bringDataProducer(nodeId: string, dataProducerId: string) {
    return this.deps.pipes.bringDataProducer(this.room, nodeId, dataProducerId);
  }

  close() {
    clearInterval(this.pruneTimer);
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
    if (type === 'peer') this.applyRemote(from, data.info);
    else if (type === 'peerLeft') this.removeRemote(data.peerId);
  }

  /** Ends what was piped here for producers the peer no longer has, mirrors pauses, then lets the room offer the new ones. */
  private applyRemote(nodeId: string, info: PeerInfo) {
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
    this.room.applyRemotePeer(nodeId, info);
  }

  private removeRemote(peerId: string) {
    const remote = this.room.remotePeers.get(peerId);
    if (!remote) return;
    for (const p of remote.info.producers) this.deps.pipes.drop(p.id);
    for (const d of remote.info.dataProducers) this.deps.pipes.drop(d.id);
    this.room.removeRemotePeer(peerId);
  }

  private async pruneDeadNodes() {
    if (this.room.remotePeers.size === 0) return;
    const live = new Set((await this.deps.registry.list().catch(() => undefined))?.map((n) => n.id) ?? []);
    if (live.size === 0) return; // Redis unreachable: do not mistake that for every node dying
    for (const [peerId, remote] of this.room.remotePeers) {
      if (live.has(remote.nodeId)) continue;
      this.deps.log.info({ roomId: this.room.id, peerId, nodeId: remote.nodeId }, 'remote peer’s node is gone');
      this.removeRemote(peerId);
      this.deps.pipes.forgetNode(remote.nodeId);
    }
  }
}
