import type { types } from 'mediasoup';
import type { Identity } from '../auth/tokens.js';
import type { Logger } from '../logging/logger.js';
import type { RouterEntry } from '../media/room-media.js';
import { SignalingError } from '../signaling/errors.js';
import type { NotificationData, NotificationMethod } from '../signaling/protocol.js';

export type Notify = <M extends NotificationMethod>(method: M, data: NotificationData<M>) => void;
export type Direction = 'send' | 'recv';
export type TransportAppData = { direction: Direction; connected: boolean };

type Owned = 'transport' | 'producer' | 'consumer' | 'dataProducer' | 'dataConsumer';

/** One participant in a room: its identity and grants, and the mediasoup objects it owns. */
export class Peer {
  readonly id: string;
  rtpCapabilities?: types.RtpCapabilities;
  readonly transports = new Map<string, types.WebRtcTransport<TransportAppData>>();
  readonly producers = new Map<string, types.Producer>();
  readonly consumers = new Map<string, types.Consumer>();
  readonly dataProducers = new Map<string, types.DataProducer>();
  readonly dataConsumers = new Map<string, types.DataConsumer>();
  /** Producer ids this peer consumes already, so auto and manual subscription never double up. */
  readonly consumedIds = new Set<string>();
  readonly joinedAt = Date.now();
  closed = false;

  constructor(
    readonly identity: Identity,
    readonly routerEntry: RouterEntry,
    readonly autoSubscribe: boolean,
    readonly notify: Notify,
    readonly log: Logger,
    /** Tells the peer's session that the server removed it. */
    readonly onRemoved: (code: string, message: string, rejoin: boolean) => void,
  ) {
    this.id = identity.identity;
  }

  get router() {
    return this.routerEntry.router;
  }

  get recvTransport() {
    return [...this.transports.values()].find((t) => t.appData.direction === 'recv' && !t.closed);
  }

  /** Ready to receive: has a recv transport and told us its capabilities. */
  get canReceive() {
    return Boolean(this.rtpCapabilities && this.recvTransport && this.identity.grants.subscribe);
  }

  /** Look up one of this peer's own objects. Ids of other peers' objects are simply not found. */
  own<K extends Owned>(what: K, id: string): OwnedMap[K] extends Map<string, infer V> ? V : never {
    const map = { transport: this.transports, producer: this.producers, consumer: this.consumers, dataProducer: this.dataProducers, dataConsumer: this.dataConsumers }[what];
    const found = map.get(id);
    if (!found) throw new SignalingError('NOT_FOUND', `no ${what} ${id} belongs to this peer`);
    return found as never;
  }

  info() {
    return {
      id: this.id,
      name: this.identity.name,
      role: this.identity.role,
      producers: [...this.producers.values()].map(producerInfo),
      dataProducers: [...this.dataProducers.values()].map((d) => ({ id: d.id, label: d.label, protocol: d.protocol, appData: d.appData })),
    };
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    // Closing a transport closes every producer and consumer on it.
    for (const transport of this.transports.values()) transport.close();
  }
}

type OwnedMap = {
  transport: Peer['transports'];
  producer: Peer['producers'];
  consumer: Peer['consumers'];
  dataProducer: Peer['dataProducers'];
  dataConsumer: Peer['dataConsumers'];
};

export const producerInfo = (p: types.Producer) => ({ id: p.id, kind: p.kind, paused: p.paused, appData: p.appData });
