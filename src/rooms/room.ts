import type { types } from 'mediasoup';
import type { Logger } from '../logging/logger.js';
import type { RoomMedia, RouterEntry } from '../media/room-media.js';
import { SignalingError } from '../signaling/errors.js';
import type { NotificationData, NotificationMethod, ResponseData } from '../signaling/protocol.js';
import { producerInfo, type Peer } from './peer.js';

export type ConsumerParams = ResponseData<'consume'>;
export type PeerInfo = ReturnType<Peer['info']>;

/** A peer joined on another node of the cluster, as this node knows it. */
export interface RemotePeer {
  nodeId: string;
  info: PeerInfo;
  joinedAt: number;
}

/**
 * The cluster side of a room that spans nodes (see src/cluster/room-span.ts). The room tells
 * it about local changes; it brings remote producers here through pipes.
 */
export interface RoomLink {
  peerChanged(peer: Peer): void;
  peerLeft(peerId: string): void;
  /** Forgets a remote peer whose identity just joined here (its older session is replaced). */
  dropRemote(peerId: string): void;
  bringProducer(nodeId: string, producerId: string): Promise<types.Producer>;
  bringDataProducer(nodeId: string, dataProducerId: string): Promise<types.DataProducer>;
  close(): void;
}

/** Something a local peer can consume: a local producer, or a remote one piped to this node. */
interface Source<T> {
  ownerId: string;
  item: T;
  /** The router the item lives on, here. */
  entry: RouterEntry;
}

/** A room: its peers (here and, in a cluster, on other nodes), and who receives what from whom. */
export class Room {
  readonly peers = new Map<string, Peer>();
  readonly remotePeers = new Map<string, RemotePeer>();
  readonly createdAt = Date.now();
  closed = false;
  /** This node holds the room's placement (always, on a single node). */
  owned = true;
  link?: RoomLink;

  constructor(
    readonly id: string,
    readonly media: RoomMedia,
    readonly log: Logger,
    private readonly onClosed: (room: Room) => void,
  ) {
    media.onDominantSpeaker((producer) => {
      const peerId = producer.appData.peerId as string;
      this.broadcast('activeSpeaker', { peerId, producerId: producer.id });
    });
  }

  broadcast<M extends NotificationMethod>(method: M, data: NotificationData<M>, except?: Peer) {
    for (const peer of this.peers.values()) if (peer !== except) peer.notify(method, data);
  }

  /** Everyone a newcomer should see: local peers and those on other nodes. */
  peerInfos(except?: Peer): PeerInfo[] {
    return [...[...this.peers.values()].filter((p) => p !== except).map((p) => p.info()), ...[...this.remotePeers.values()].map((r) => r.info)];
  }

  /** Adds a peer; an older session with the same identity is replaced (its client gets disconnected). */
  add(peer: Peer) {
    const previous = this.peers.get(peer.id);
    if (previous) this.remove(previous, { code: 'DUPLICATE_IDENTITY', message: 'the same identity joined again elsewhere', rejoin: false });
    if (this.remotePeers.has(peer.id)) this.link?.dropRemote(peer.id);
    this.peers.set(peer.id, peer);
    this.broadcast('peerJoined', peer.info(), peer);
    this.link?.peerChanged(peer);
    this.log.info({ peerId: peer.id, role: peer.identity.role, peers: this.peers.size }, 'peer joined');
  }

  /** Removes a peer. With `kick`, its session is told why and returns to the not-joined state. */
  remove(peer: Peer, kick?: { code: string; message: string; rejoin: boolean }) {
    if (this.peers.get(peer.id) !== peer) return;
    this.peers.delete(peer.id);
    peer.close();
    this.media.releaseRouter(peer.routerEntry);
    if (kick) peer.onRemoved(kick.code, kick.message, kick.rejoin);
    this.broadcast('peerLeft', { peerId: peer.id });
    this.link?.peerLeft(peer.id);
    this.log.info({ peerId: peer.id, reason: kick?.code ?? 'left', peers: this.peers.size }, 'peer left');
    if (this.peers.size === 0) this.close();
  }

  /** Everyone out, with a code telling clients whether to rejoin (e.g. MEDIA_WORKER_DIED). */
  closeWithPeers(code: string, message: string) {
    for (const peer of [...this.peers.values()]) this.remove(peer, { code, message, rejoin: true });
    this.close();
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    this.link?.close();
    this.media.close();
    this.onClosed(this);
  }

  // ---- producers of local peers ---------------------------------------------------------

  /** Takes ownership of a new local producer: its events, and the cluster's view of its peer. */
  addProducer(peer: Peer, producer: types.Producer) {
    peer.producers.set(producer.id, producer);
    producer.on('score', (score) => peer.notify('producerScore', { producerId: producer.id, score }));
    producer.on('transportclose', () => {
      if (!peer.closed) peer.notify('producerClosed', { producerId: producer.id, reason: 'transport closed' });
    });
    producer.observer.on('pause', () => this.link?.peerChanged(peer));
    producer.observer.on('resume', () => this.link?.peerChanged(peer));
    producer.observer.on('close', () => {
      peer.producers.delete(producer.id);
      this.media.forget(producer.id);
      if (!peer.closed) this.link?.peerChanged(peer);
    });
    this.link?.peerChanged(peer);
  }

  addDataProducer(peer: Peer, dataProducer: types.DataProducer) {
    peer.dataProducers.set(dataProducer.id, dataProducer);
    dataProducer.observer.on('close', () => {
      peer.dataProducers.delete(dataProducer.id);
      this.media.forget(dataProducer.id);
      if (!peer.closed) this.link?.peerChanged(peer);
    });
    this.link?.peerChanged(peer);
  }

  /** A new local producer: tell the others, let the room hear it, and feed the auto-subscribers. */
  async producerAdded(owner: Peer, producer: types.Producer) {
    this.broadcast('producerAdded', { peerId: owner.id, producer: producerInfo(producer) }, owner);
    if (producer.kind === 'audio') {
      await this.media.observeAudio(producer, owner.routerEntry).catch((err) => this.log.warn({ err }, 'active speaker observer'));
    }
    await this.feedSubscribers(owner, (p) => this.consume(p, { ownerId: owner.id, item: producer, entry: owner.routerEntry }));
  }

  async dataProducerAdded(owner: Peer, dataProducer: types.DataProducer) {
    await this.feedSubscribers(owner, (p) => this.consumeData(p, { ownerId: owner.id, item: dataProducer, entry: owner.routerEntry }));
  }

  private async feedSubscribers(except: Peer | undefined, consume: (p: Peer) => Promise<unknown>) {
    await Promise.all([...this.peers.values()]
      .filter((p) => p !== except && p.autoSubscribe && p.canReceive)
      .map((p) => consume(p).catch((err) => p.log.warn({ err: (err as Error).message }, 'auto-subscribe failed'))));
  }

  // ---- peers on other nodes -------------------------------------------------------------

  /**
   * The latest full view of a peer on another node: new producers are offered, gone ones end.
   * One identity joined on two nodes (a client that moved): the newer join wins everywhere.
   */
  applyRemotePeer(nodeId: string, info: PeerInfo, joinedAt: number) {
    const local = this.peers.get(info.id);
    if (local) {
      if (joinedAt <= local.joinedAt) return;
      this.remove(local, { code: 'DUPLICATE_IDENTITY', message: 'the same identity joined again on another node', rejoin: false });
    }
    const previous = this.remotePeers.get(info.id);
    if (previous && previous.nodeId !== nodeId && previous.joinedAt > joinedAt) return;
    const remote = { nodeId, info, joinedAt };
    this.remotePeers.set(info.id, remote);
    if (!previous) this.broadcast('peerJoined', info);
    const before = new Map(previous?.info.producers.map((p) => [p.id, p]));
    for (const producer of info.producers) {
      if (before.has(producer.id)) continue;
      this.broadcast('producerAdded', { peerId: info.id, producer });
      void this.feedSubscribers(undefined, (p) => this.consumeRemote(p, remote, producer.id));
    }
    const dataBefore = new Set(previous?.info.dataProducers.map((d) => d.id));
    for (const dp of info.dataProducers) {
      if (!dataBefore.has(dp.id)) void this.feedSubscribers(undefined, (p) => this.consumeRemoteData(p, remote, dp.id));
    }
  }

  removeRemotePeer(peerId: string) {
    if (!this.remotePeers.delete(peerId)) return;
    this.broadcast('peerLeft', { peerId });
  }

  private async consumeRemote(peer: Peer, remote: RemotePeer, producerId: string) {
    const producer = await this.link!.bringProducer(remote.nodeId, producerId);
    return this.consume(peer, { ownerId: remote.info.id, item: producer, entry: this.media.routers[0] });
  }

  private async consumeRemoteData(peer: Peer, remote: RemotePeer, dataProducerId: string) {
    const dataProducer = await this.link!.bringDataProducer(remote.nodeId, dataProducerId);
    return this.consumeData(peer, { ownerId: remote.info.id, item: dataProducer, entry: this.media.routers[0] });
  }

  // ---- consuming ------------------------------------------------------------------------

  /** Called once a peer can receive: it gets everything already in the room. */
  async subscribeToAll(peer: Peer) {
    if (!peer.autoSubscribe) return;
    const jobs: Promise<unknown>[] = [];
    for (const other of this.peers.values()) {
      if (other === peer) continue;
      for (const item of other.producers.values()) jobs.push(this.consume(peer, { ownerId: other.id, item, entry: other.routerEntry }));
      for (const item of other.dataProducers.values()) jobs.push(this.consumeData(peer, { ownerId: other.id, item, entry: other.routerEntry }));
    }
    for (const remote of this.remotePeers.values()) {
      for (const p of remote.info.producers) jobs.push(this.consumeRemote(peer, remote, p.id));
      for (const d of remote.info.dataProducers) jobs.push(this.consumeRemoteData(peer, remote, d.id));
    }
    const results = await Promise.allSettled(jobs);
    for (const r of results) if (r.status === 'rejected') peer.log.warn({ err: (r.reason as Error).message }, 'subscribe failed');
  }

  /** Subscribes a peer to one producer of the room, here or on another node (the consume request). */
  async consumeById(peer: Peer, producerId: string): Promise<ConsumerParams> {
    for (const owner of this.peers.values()) {
      const item = owner.producers.get(producerId);
      if (!item) continue;
      if (owner === peer) throw new SignalingError('INVALID_STATE', 'cannot consume your own producer');
      return this.consume(peer, { ownerId: owner.id, item, entry: owner.routerEntry });
    }
    const remote = [...this.remotePeers.values()].find((r) => r.info.producers.some((p) => p.id === producerId));
    if (remote) return this.consumeRemote(peer, remote, producerId);
    throw new SignalingError('NOT_FOUND', `no producer ${producerId} in this room`);
  }

  /** Creates a paused consumer for `peer` and announces it with newConsumer. */
  private async consume(peer: Peer, { ownerId, item: producer, entry }: Source<types.Producer>): Promise<ConsumerParams> {
    const transport = peer.recvTransport;
    if (!transport || !peer.rtpCapabilities) throw new SignalingError('CANNOT_CONSUME', 'create a recv transport and send setRtpCapabilities first');
    const existing = [...peer.consumers.values()].find((c) => c.producerId === producer.id);
    if (existing) return consumerParams(existing, ownerId, producer);
    if (peer.consumedIds.has(producer.id)) throw new SignalingError('INVALID_STATE', 'this producer is being consumed already');
    peer.consumedIds.add(producer.id);
    try {
      await this.media.ensureOn('producer', producer.id, entry, peer.routerEntry);
      if (!peer.router.canConsume({ producerId: producer.id, rtpCapabilities: peer.rtpCapabilities })) {
        throw new SignalingError('CANNOT_CONSUME', 'your RTP capabilities cannot receive this producer');
      }
      const consumer = await transport.consume({ producerId: producer.id, rtpCapabilities: peer.rtpCapabilities, paused: true, appData: { peerId: ownerId } });
      this.trackConsumer(peer, consumer);
      const params = consumerParams(consumer, ownerId, producer);
      peer.notify('newConsumer', params);
      return params;
    } catch (err) {
      peer.consumedIds.delete(producer.id);
      throw err;
    }
  }

  private trackConsumer(peer: Peer, consumer: types.Consumer) {
    peer.consumers.set(consumer.id, consumer);
    const gone = (reason: string) => {
      peer.consumers.delete(consumer.id);
      peer.consumedIds.delete(consumer.producerId);
      if (!peer.closed) peer.notify('consumerClosed', { consumerId: consumer.id, reason });
    };
    consumer.on('transportclose', () => gone('transport closed'));
    consumer.on('producerclose', () => gone('producer closed'));
    consumer.observer.on('close', () => {
      peer.consumers.delete(consumer.id);
      peer.consumedIds.delete(consumer.producerId);
    });
    consumer.on('producerpause', () => peer.notify('consumerPaused', { consumerId: consumer.id }));
    consumer.on('producerresume', () => peer.notify('consumerResumed', { consumerId: consumer.id }));
    consumer.on('score', (s) => peer.notify('consumerScore', { consumerId: consumer.id, ...s }));
    consumer.on('layerschange', (layers) => peer.notify('consumerLayersChanged', { consumerId: consumer.id, layers: layers ?? null }));
  }

  private async consumeData(peer: Peer, { ownerId, item: dataProducer, entry }: Source<types.DataProducer>) {
    const transport = peer.recvTransport;
    if (!transport?.sctpParameters) return;
    if (peer.consumedIds.has(dataProducer.id)) return;
    peer.consumedIds.add(dataProducer.id);
    try {
      await this.media.ensureOn('dataProducer', dataProducer.id, entry, peer.routerEntry);
      const dataConsumer = await transport.consumeData({ dataProducerId: dataProducer.id, appData: { peerId: ownerId } });
      peer.dataConsumers.set(dataConsumer.id, dataConsumer);
      const gone = (reason: string) => {
        peer.dataConsumers.delete(dataConsumer.id);
        peer.consumedIds.delete(dataProducer.id);
        if (!peer.closed) peer.notify('dataConsumerClosed', { dataConsumerId: dataConsumer.id, reason });
      };
      dataConsumer.on('transportclose', () => gone('transport closed'));
      dataConsumer.on('dataproducerclose', () => gone('data producer closed'));
      peer.notify('newDataConsumer', {
        dataConsumerId: dataConsumer.id,
        dataProducerId: dataProducer.id,
        peerId: ownerId,
        label: dataConsumer.label,
        protocol: dataConsumer.protocol,
        sctpStreamParameters: dataConsumer.sctpStreamParameters!,
        appData: dataProducer.appData,
      });
    } catch (err) {
      peer.consumedIds.delete(dataProducer.id);
      throw err;
    }
  }
}

function consumerParams(consumer: types.Consumer, ownerId: string, producer: types.Producer): ConsumerParams {
  return {
    consumerId: consumer.id,
    producerId: consumer.producerId,
    peerId: ownerId,
    kind: consumer.kind,
    type: consumer.type,
    rtpParameters: consumer.rtpParameters as ConsumerParams['rtpParameters'],
    producerPaused: consumer.producerPaused,
    appData: producer.appData,
  };
}
