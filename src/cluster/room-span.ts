import type { ParticipantRecord } from '../contracts/records.js';
import type { Logger } from '../logging/logger.js';
import type { Peer, PeerInfo } from '../rooms/peer.js';
import type { RoomKey } from '../rooms/room-key.js';
import type { Room } from '../rooms/room.js';
import type { RoomMessage } from './bus-messages.js';
import type { ClusterBus } from './cluster-bus.js';
import { keys } from './keys.js';
import type { NodePipes } from './node-pipes.js';
import type { NodeRegistry } from './node-registry.js';
import { diffPeerView } from './peer-view-diff.js';
import type { HostedRoom, RoomStore, StoredPeer } from './room-store.js';

/** A peer of the room hosted on another node, as this node last heard of it. */
interface RemotePeer {
  nodeId: string;
  joinedAt: number;
  info: PeerInfo;
}

export interface SpanDeps {
  bus: ClusterBus;
  store: RoomStore;
  registry: NodeRegistry;
  pipes: NodePipes;
  /** A local peer's stay, as the platform recorded it: sent along when it leaves, for the owner's call record. */
  recordOf(peer: Peer, reason: string, leftAt: number): ParticipantRecord;
  log: Logger;
}

/**
 * The cluster side of one room on this node. It owns the room's peers on other nodes: it
 * hears of them on the room's bus channel (and from Redis when it opens), compares each view
 * with the last one once, and tells the room what changed: who is there (setRemote,
 * removeRemote) and what can be consumed (offer, withdraw), each producer brought here
 * through the node pipes on first use. In the other direction it publishes every change to a
 * local peer as the peer's full view, so a lost or reordered message heals with the next.
 */
export class RoomSpan implements HostedRoom {
  readonly roomId: RoomKey;
  private isOwner = false;
  private readonly channel: string;
  private readonly remote = new Map<string, RemotePeer>();
  private closed = false;
  /** While this node owns the room and others host participants, its part stays open (it keeps the call record). */
  private release?: () => void;

  private constructor(readonly room: Room, private readonly deps: SpanDeps, private readonly onClosed: (span: RoomSpan) => void) {
    this.roomId = room.id;
    this.channel = keys.roomBus(room.id);
  }

  /** This node holds the room's placement (kept current by the heartbeat). */
  get owner() {
    return this.isOwner;
  }

  set owner(owner: boolean) {
    if (owner && !this.isOwner) void this.deps.store.putSettings(this.roomId, this.room.settings).catch(() => undefined);
    this.isOwner = owner;
    this.holdWhileShared();
  }

  get settings() {
    return this.room.settings;
  }

  static async open(room: Room, deps: SpanDeps, onClosed: (span: RoomSpan) => void): Promise<RoomSpan> {
    const span = new RoomSpan(room, deps, onClosed);
    await deps.bus.subscribe(span.channel, (message, from) => span.onMessage(message, from));
    const [stored, nodes, owner] = await Promise.all([deps.store.peers(room.id), deps.registry.list(), deps.store.owner(room.id)]);
    if (owner === deps.bus.nodeId) {
      span.isOwner = true;
      await deps.store.putSettings(room.id, room.settings);
    }
    const live = new Set(nodes.map((n) => n.id));
    for (const { nodeId, info, joinedAt } of stored) {
      if (nodeId !== deps.bus.nodeId && live.has(nodeId)) span.apply(nodeId, info, joinedAt);
    }
    deps.registry.on('nodeGone', span.onNodeGone);
    room.on('peerJoined', (peer) => {
      span.forget(peer.id);
      span.publish(peer);
    });
    // Every change others can see is sent as the peer's whole view.
    const changed = (peer: Peer) => span.publish(peer);
    room.on('trackPublished', changed);
    room.on('trackUnpublished', changed);
    room.on('trackPaused', changed);
    room.on('trackResumed', changed);
    room.on('dataPublished', changed);
    room.on('dataUnpublished', changed);
    room.on('peerUpdated', changed);
    room.on('caption', (caption, local) => {
      if (local) span.send({ type: 'caption', data: caption }, async () => undefined);
    });
    room.on('captionsEnabled', (local) => {
      if (local) span.send({ type: 'captions', data: { enabled: true } }, async () => (span.owner ? deps.store.putSettings(room.id, room.settings) : undefined));
    });
    room.on('peerLeft', (peer, reason) => {
      const record = deps.recordOf(peer, reason, Date.now());
      span.send({ type: 'peerLeft', data: { peerId: peer.id, record } }, () => deps.store.deletePeer(room.id, peer.id));
    });
    room.on('snapshotTaken', (notice) => span.send({ type: 'snapshot', data: notice }, async () => undefined));
    room.on('closed', () => span.close());
    return span;
  }

  private holdWhileShared() {
    if (this.isOwner && this.remote.size > 0 && !this.closed) this.release ??= this.room.hold();
    else {
      const release = this.release;
      this.release = undefined;
      release?.();
    }
  }

  /** This node's peers as the room's peers hash stores them. */
  peers(): StoredPeer[] {
    return [...this.room.peers.values()].map((p) => this.stored(p));
  }

  private stored(peer: Peer): StoredPeer {
    return { nodeId: this.deps.bus.nodeId, info: peer.info(), joinedAt: peer.joinedAt };
  }

  private publish(peer: Peer) {
    const stored = this.stored(peer);
    this.send({ type: 'peer', data: { info: stored.info, joinedAt: stored.joinedAt } }, () => this.deps.store.putPeer(this.roomId, peer.id, stored));
  }

  private send(message: RoomMessage, store: () => Promise<unknown>) {
    Promise.all([this.deps.bus.publish(this.channel, message), store()]).catch((err) => {
      // Redis is away: the heartbeat rewrites this node's peers once it is back.
      this.deps.log.warn({ roomId: this.roomId, err: (err as Error).message }, 'could not publish a room change');
    });
  }

  private onMessage(message: RoomMessage, from: string) {
    if (message.type === 'peer') this.apply(from, message.data.info, message.data.joinedAt);
    // Only the node that hosts the subject announces its snapshot, or its speaker's caption.
    else if (message.type === 'snapshot') {
      if (this.remote.get(message.data.peerId)?.nodeId === from) this.room.relaySnapshot(message.data);
    } else if (message.type === 'caption') {
      if (this.remote.get(message.data.peerId)?.nodeId === from) this.room.relayCaption(message.data);
    } else if (message.type === 'captions') {
      this.room.enableCaptions(false);
      if (this.isOwner) void this.deps.store.putSettings(this.roomId, this.room.settings).catch(() => undefined);
    }
    // Only the node the peer is on may say it left (it may have moved to another node since).
    else if (this.remote.get(message.data.peerId)?.nodeId === from) this.forget(message.data.peerId, message.data.record);
  }

  /** A node died: its peers are gone from this room. */
  private readonly onNodeGone = (nodeId: string) => {
    for (const [peerId, remote] of this.remote) if (remote.nodeId === nodeId) this.forget(peerId);
  };

  /**
   * The latest full view of a peer on another node, compared with the last one: producers it
   * no longer has end here, pauses are mirrored, new ones are offered. One identity joined on
   * two nodes (a client that moved): the newer join wins everywhere.
   */
  private apply(nodeId: string, info: PeerInfo, joinedAt: number) {
    if (this.closed) return;
    const local = this.room.peers.get(info.id);
    if (local) {
      if (joinedAt <= local.joinedAt) return;
      this.room.remove(local, { code: 'DUPLICATE_IDENTITY', message: 'the same identity joined again on another node', rejoin: false });
    }
    const previous = this.remote.get(info.id);
    if (previous && previous.nodeId !== nodeId && previous.joinedAt > joinedAt) return;
    const { pipes } = this.deps;
    const room = this.room;
    this.remote.set(info.id, { nodeId, joinedAt, info });
    room.setRemote(info);
    this.holdWhileShared();

    const diff = diffPeerView(previous?.info, info);
    for (const id of diff.ended) this.end(id);
    for (const { id, paused } of diff.paused) void pipes.setPaused(id, paused);
    for (const producer of diff.added) {
      room.offer({
        kind: 'producer', id: producer.id, peerId: info.id, info: producer,
        locate: async () => ({ item: await pipes.bringProducer(room, nodeId, producer.id), entry: room.media.routers[0] }),
      });
    }
    for (const dataProducer of diff.dataAdded) {
      room.offer({
        kind: 'dataProducer', id: dataProducer.id, peerId: info.id, info: dataProducer,
        locate: async () => ({ item: await pipes.bringDataProducer(room, nodeId, dataProducer.id), entry: room.media.routers[0] }),
      });
    }
  }

  /** A producer hosted elsewhere ended: its pipe here closes (with its consumers), and the room forgets it. */
  private end(id: string) {
    this.deps.pipes.drop(id);
    this.room.withdraw(id);
  }

  /** A peer on another node is gone (it left, its node died, or it joined here instead). */
  private forget(peerId: string, record?: ParticipantRecord) {
    const remote = this.remote.get(peerId);
    if (!remote) return;
    this.remote.delete(peerId);
    for (const p of remote.info.producers) this.deps.pipes.drop(p.id);
    for (const d of remote.info.dataProducers) this.deps.pipes.drop(d.id);
    if (!this.closed) this.room.removeRemote(peerId, record);
    this.holdWhileShared();
  }

  private close() {
    if (this.closed) return;
    this.closed = true;
    if (this.isOwner) void this.deps.store.removeSettings(this.roomId, this.room.settings).catch(() => undefined);
    this.deps.registry.off('nodeGone', this.onNodeGone);
    void this.deps.bus.unsubscribe(this.channel);
    for (const peerId of [...this.remote.keys()]) this.forget(peerId);
    this.deps.pipes.closeRoom(this.roomId);
    this.onClosed(this);
  }
}
