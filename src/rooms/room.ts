import type { types } from 'mediasoup';
import type { Logger } from '../logging/logger.js';
import type { RoomMedia } from '../media/room-media.js';
import { SignalingError } from '../signaling/errors.js';
import type { NotificationData, NotificationMethod, ResponseData } from '../signaling/protocol.js';
import { producerInfo, type Peer } from './peer.js';

export type ConsumerParams = ResponseData<'consume'>;

/** A room: its peers, and who receives what from whom. */
export class Room {
  readonly peers = new Map<string, Peer>();
  readonly createdAt = Date.now();
  closed = false;
  /** This node holds the room's placement (always, on a single node). */
  owned = true;

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

  /** Adds a peer; an older session with the same identity is replaced (its client gets disconnected). */
  add(peer: Peer) {
    const previous = this.peers.get(peer.id);
    if (previous) this.remove(previous, { code: 'DUPLICATE_IDENTITY', message: 'the same identity joined again elsewhere', rejoin: false });
    this.peers.set(peer.id, peer);
    this.broadcast('peerJoined', peer.info(), peer);
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
    this.media.close();
    this.onClosed(this);
  }

  /** A new producer: tell the others, let the room hear it, and feed the auto-subscribers. */
  async producerAdded(owner: Peer, producer: types.Producer) {
    this.broadcast('producerAdded', { peerId: owner.id, producer: producerInfo(producer) }, owner);
    if (producer.kind === 'audio') {
      await this.media.observeAudio(producer, owner.routerEntry).catch((err) => this.log.warn({ err }, 'active speaker observer'));
    }
    await Promise.all([...this.peers.values()]
      .filter((p) => p !== owner && p.autoSubscribe && p.canReceive)
      .map((p) => this.consume(p, owner, producer).catch((err) => p.log.warn({ err, producerId: producer.id }, 'auto-consume failed'))));
  }

  async dataProducerAdded(owner: Peer, dataProducer: types.DataProducer) {
    await Promise.all([...this.peers.values()]
      .filter((p) => p !== owner && p.autoSubscribe && p.canReceive)
      .map((p) => this.consumeData(p, owner, dataProducer).catch((err) => p.log.warn({ err }, 'auto-consume data failed'))));
  }

  /** Called once a peer can receive: it gets everything already in the room. */
  async subscribeToAll(peer: Peer) {
    if (!peer.autoSubscribe) return;
    const jobs: Promise<unknown>[] = [];
    for (const other of this.peers.values()) {
      if (other === peer) continue;
      for (const producer of other.producers.values()) jobs.push(this.consume(peer, other, producer));
      for (const dataProducer of other.dataProducers.values()) jobs.push(this.consumeData(peer, other, dataProducer));
    }
    const results = await Promise.allSettled(jobs);
    for (const r of results) if (r.status === 'rejected') peer.log.warn({ err: r.reason }, 'subscribe failed');
  }

  /** Creates a paused consumer for `peer` and announces it with newConsumer. */
  async consume(peer: Peer, owner: Peer, producer: types.Producer): Promise<ConsumerParams> {
    const transport = peer.recvTransport;
    if (!transport || !peer.rtpCapabilities) throw new SignalingError('CANNOT_CONSUME', 'create a recv transport and send setRtpCapabilities first');
    const existing = [...peer.consumers.values()].find((c) => c.producerId === producer.id);
    if (existing) return consumerParams(existing, owner);
    if (peer.consumedIds.has(producer.id)) throw new SignalingError('INVALID_STATE', 'this producer is being consumed already');
    peer.consumedIds.add(producer.id);
    try {
      await this.media.ensureOn('producer', producer.id, owner.routerEntry, peer.routerEntry);
      if (!peer.router.canConsume({ producerId: producer.id, rtpCapabilities: peer.rtpCapabilities })) {
        throw new SignalingError('CANNOT_CONSUME', 'your RTP capabilities cannot receive this producer');
      }
      const consumer = await transport.consume({
        producerId: producer.id,
        rtpCapabilities: peer.rtpCapabilities,
        paused: true,
        appData: { peerId: owner.id },
      });
      this.track(peer, consumer);
      const params = consumerParams(consumer, owner);
      peer.notify('newConsumer', params);
      return params;
    } catch (err) {
      peer.consumedIds.delete(producer.id);
      throw err;
    }
  }

  private track(peer: Peer, consumer: types.Consumer) {
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

  async consumeData(peer: Peer, owner: Peer, dataProducer: types.DataProducer) {
    const transport = peer.recvTransport;
    if (!transport?.sctpParameters || !peer.sctpCapabilities) return;
    if (peer.consumedIds.has(dataProducer.id)) return;
    peer.consumedIds.add(dataProducer.id);
    try {
      await this.media.ensureOn('dataProducer', dataProducer.id, owner.routerEntry, peer.routerEntry);
      const dataConsumer = await transport.consumeData({ dataProducerId: dataProducer.id, appData: { peerId: owner.id } });
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
        peerId: owner.id,
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

  /** Finds a producer of any peer in the room. */
  findProducer(producerId: string): { owner: Peer; producer: types.Producer } | undefined {
    for (const owner of this.peers.values()) {
      const producer = owner.producers.get(producerId);
      if (producer) return { owner, producer };
    }
    return undefined;
  }
}

function consumerParams(consumer: types.Consumer, owner: Peer): ConsumerParams {
  return {
    consumerId: consumer.id,
    producerId: consumer.producerId,
    peerId: owner.id,
    kind: consumer.kind,
    type: consumer.type,
    rtpParameters: consumer.rtpParameters as ConsumerParams['rtpParameters'],
    producerPaused: consumer.producerPaused,
    appData: owner.producers.get(consumer.producerId)?.appData ?? {},
  };
}
