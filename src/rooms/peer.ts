import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { Claims } from '../auth/tokens.js';
import { exceedsBounds } from '../common/bounds.js';
import { CodedError } from '../common/errors.js';
import type { NotificationData, NotificationMethod, RequestData, ResponseData } from '../contracts/protocol.js';
import type { Logger } from '../logging/logger.js';
import { allocatingPort, withClientParameters } from '../media/media-errors.js';
import type { RouterEntry } from '../media/room-media.js';

export type Notify = <M extends NotificationMethod>(method: M, data: NotificationData<M>) => void;
export type Direction = 'send' | 'recv';
export type TransportAppData = { direction: Direction; connected: boolean };
export type PeerInfo = ResponseData<'join'>['peers'][number];
export type ProducerInfo = PeerInfo['producers'][number];
export type ConsumerParams = ResponseData<'consume'>;
export type DataConsumerParams = NotificationData<'newDataConsumer'>;

/** What a peer needs from the connection that speaks for it (a signaling session). */
export interface PeerSession {
  readonly notify: Notify;
  /**
   * Runs `job` after the work already queued for this peer, its own requests included, so
   * what the job sends follows the responses sent before it (newConsumer after createTransport).
   */
  schedule(job: () => Promise<unknown>): void;
  /** The server removed the peer (kicked, replaced, room ended); the session returns to not-joined. */
  removed(peer: Peer, code: string, message: string, rejoin: boolean): void;
  /** The peer's client resumed on another session: this one lets go of the peer. */
  superseded(peer: Peer): void;
}

/** The session of a peer whose client is gone for now (reconnect grace): nothing reaches it. */
const DETACHED: PeerSession = { notify: () => undefined, schedule: () => undefined, removed: () => undefined, superseded: () => undefined };

export interface PeerConfig {
  /** Where bots' plain RTP transports listen (createPlainTransport). */
  ingest: { ip: string; announcedAddress?: string };
  transports: number;
  producers: number;
  initialOutgoingBitrate: number;
  /** Least time between key frame requests sent to this peer's encoder (see media.keyFrameRequestDelayMs). */
  keyFrameRequestDelayMs: number;
  appDataBytes: number;
  appDataDepth: number;
}

/** What happens to a peer's media, each event with its facts. */
export interface PeerEvents {
  /** The peer can receive now: it has a recv transport, RTP capabilities and the subscribe grant. */
  ready: [];
  producerAdded: [producer: types.Producer];
  /** A producer closed, for whatever reason (not emitted while the peer itself closes). */
  producerRemoved: [producerId: string];
  producerPaused: [producer: types.Producer];
  producerResumed: [producer: types.Producer];
  dataProducerAdded: [dataProducer: types.DataProducer];
  dataProducerRemoved: [dataProducerId: string];
  /** It speaks and reads another language now (setLanguage). */
  languageChanged: [language: string];
}

type Kinds = {
  transport: types.WebRtcTransport<TransportAppData> | types.PlainTransport<TransportAppData>;
  /** In-node transports (chat without data channels); not the client's, so not counted against its limit. */
  directTransport: types.DirectTransport;
  producer: types.Producer;
  consumer: types.Consumer;
  dataProducer: types.DataProducer;
  dataConsumer: types.DataConsumer;
};
export type OwnedKind = keyof Kinds;

/** What the client said a track is (appData.source: 'camera', 'screen', ...), or null. */
export const trackSource = (producer: types.Producer): string | null => (typeof producer.appData.source === 'string' ? producer.appData.source : null);

const producerInfo = (p: types.Producer): ProducerInfo => ({ id: p.id, kind: p.kind, paused: p.paused, appData: p.appData });

/**
 * One participant on this node: its claims, and the mediasoup objects it owns. The peer
 * creates its transports, producers and consumers, wires the events that close them, and
 * tells its client about them. Which producers it consumes is the room's decision; what the
 * platform makes of it (records, quality) is the platform's.
 */
export class Peer extends EventEmitter<PeerEvents> {
  readonly id: string;
  readonly joinedAt = Date.now();
  /** The language it speaks and reads (BCP-47): its token's, else its tenant's; setLanguage changes it. */
  language: string;
  rtpCapabilities?: types.RtpCapabilities;
  closed = false;
  private readonly owned: { [K in OwnedKind]: Map<string, Kinds[K]> } = {
    transport: new Map(), directTransport: new Map(), producer: new Map(), consumer: new Map(), dataProducer: new Map(), dataConsumer: new Map(),
  };
  /** Producer ids this peer consumes or is about to, so auto and manual subscription never double up. */
  private readonly consuming = new Set<string>();

  constructor(
    readonly claims: Claims,
    /** The router of the room this peer's transports are on. */
    readonly routerEntry: RouterEntry,
    readonly autoSubscribe: boolean,
    private session: PeerSession,
    private readonly limits: PeerConfig,
    readonly log: Logger,
    defaultLanguage = 'en',
  ) {
    super();
    this.id = claims.identity;
    this.language = claims.language ?? defaultLanguage;
  }

  setLanguage(language: string) {
    if (language === this.language) return;
    this.language = language;
    this.emit('languageChanged', language);
  }

  get router(): types.Router {
    return this.routerEntry.router;
  }

  notify: Notify = (method, data) => {
    if (!this.closed) this.session.notify(method, data);
  };

  /** A new session speaks for this peer now (its client resumed); the old one lets go. */
  attach(session: PeerSession) {
    const previous = this.session;
    this.session = session;
    if (previous !== session) previous.superseded(this);
  }

  /** The client is gone for now: notifications and scheduled work are dropped until it resumes. */
  detach() {
    this.session = DETACHED;
  }

  get suspended() {
    return this.session === DETACHED;
  }

  speaksFor(session: PeerSession) {
    return this.session === session;
  }

  /**
   * What this peer has on the server, for a client that resumes: it keeps these, creates the
   * consumers it never heard of (their newConsumer may have been lost), and drops the rest.
   */
  inventory() {
    return {
      transports: [...this.owned.transport.values()].map((t) => ({ transportId: t.id, direction: t.appData.direction })),
      producerIds: [...this.owned.producer.keys()],
      dataProducerIds: [...this.owned.dataProducer.keys()],
      consumers: [...this.owned.consumer.values()].map((c) => this.describe(c)),
      dataConsumers: [...this.owned.dataConsumer.values()].filter((d) => d.type === 'sctp').map((d) => this.describeData(d)),
    };
  }

  /** Queues work behind this peer's own requests (see PeerSession.schedule). */
  schedule(job: () => Promise<unknown>) {
    this.session.schedule(async () => {
      if (!this.closed) await job();
    });
  }

  removed(code: string, message: string, rejoin: boolean) {
    this.session.removed(this, code, message, rejoin);
  }

  /** One of this peer's own objects. Ids of other peers' objects are simply not found. */
  find<K extends OwnedKind>(kind: K, id: string): Kinds[K] {
    const found = this.owned[kind].get(id);
    if (!found) throw new CodedError('NOT_FOUND', `no ${kind} ${id} belongs to this peer`);
    return found;
  }

  get producers(): ReadonlyMap<string, types.Producer> {
    return this.owned.producer;
  }

  count(kind: OwnedKind) {
    return this.owned[kind].size;
  }

  all<K extends OwnedKind>(kind: K): Iterable<Kinds[K]> {
    return this.owned[kind].values();
  }

  get recvTransport(): types.WebRtcTransport<TransportAppData> | undefined {
    return [...this.owned.transport.values()].find((t): t is types.WebRtcTransport<TransportAppData> => t.type === 'webrtc' && t.appData.direction === 'recv' && !t.closed);
  }

  /** One of its WebRTC transports (ICE and DTLS requests do not apply to plain ones). */
  webRtcTransport(transportId: string): types.WebRtcTransport<TransportAppData> {
    const transport = this.find('transport', transportId);
    if (transport.type !== 'webrtc') throw new CodedError('INVALID_STATE', 'a plain transport has no ICE or DTLS');
    return transport;
  }

  /** Ready to receive: has a recv transport, told us its capabilities, may subscribe, and is connected. */
  get canReceive() {
    return Boolean(this.rtpCapabilities && this.recvTransport && this.claims.grants.subscribe && !this.suspended);
  }

  info(): PeerInfo {
    return {
      id: this.id,
      name: this.claims.name,
      role: this.claims.role,
      language: this.language,
      producers: [...this.owned.producer.values()].map(producerInfo),
      dataProducers: [...this.owned.dataProducer.values()].map((d) => ({ id: d.id, label: d.label, protocol: d.protocol, appData: d.appData })),
    };
  }

  setRtpCapabilities(rtpCapabilities: types.RtpCapabilities) {
    this.becomingReady(() => (this.rtpCapabilities = rtpCapabilities));
  }

  // ---- transports ------------------------------------------------------------------------

  private checkTransportLimit() {
    if (this.owned.transport.size >= this.limits.transports) {
      throw new CodedError('INVALID_STATE', `at most ${this.limits.transports} transports per peer; close one first`);
    }
  }

  async createTransport({ direction, enableSctp = true, forceTcp }: RequestData<'createTransport'>) {
    this.checkTransportLimit();
    const transport = await this.router.createWebRtcTransport<TransportAppData>({
      webRtcServer: this.routerEntry.slot.webRtcServer,
      enableUdp: !forceTcp,
      enableTcp: true,
      preferUdp: true,
      enableSctp,
      initialAvailableOutgoingBitrate: this.limits.initialOutgoingBitrate,
      appData: { direction, connected: false },
    });
    this.keepUnlessClosed(transport, 'its transport was being created');
    this.becomingReady(() => this.adopt('transport', transport));
    transport.on('dtlsstatechange', (state) => {
      if (state === 'failed' || state === 'closed') this.log.warn({ transportId: transport.id, state }, 'transport DTLS ended');
    });
    transport.on('icestatechange', (state) => this.log.debug({ transportId: transport.id, state }, 'ICE state'));
    return transport;
  }

  /**
   * A plain RTP transport for a bot to send media in with ffmpeg or GStreamer. With `source`,
   * it is connected to the bot's address and takes packets from there only. Without (comedia),
   * the node learns the sender's address from its first packet and keeps it: a later packet
   * from elsewhere cannot take the transport over.
   */
  async createPlainTransport({ rtcpMux = true, source }: RequestData<'createPlainTransport'>) {
    this.checkTransportLimit();
    const { ip, announcedAddress } = this.limits.ingest;
    const transport = await allocatingPort(this.router.createPlainTransport<TransportAppData>({
      listenInfo: { protocol: 'udp', ip, ...(announcedAddress ? { announcedAddress } : {}) },
      rtcpMux,
      comedia: !source,
      appData: { direction: 'send', connected: true },
    }));
    this.keepUnlessClosed(transport, 'its transport was being created');
    this.adopt('transport', transport);
    if (source) {
      try {
        await withClientParameters(transport.connect({ ip: source.ip, port: source.port, ...(rtcpMux ? {} : { rtcpPort: source.rtcpPort ?? source.port + 1 }) }));
      } catch (err) {
        transport.close();
        throw err;
      }
    }
    return transport;
  }

  async connectTransport(transportId: string, dtlsParameters: types.DtlsParameters) {
    const transport = this.webRtcTransport(transportId);
    if (transport.appData.connected) throw new CodedError('INVALID_STATE', 'transport is already connected');
    transport.appData.connected = true;
    try {
      await withClientParameters(transport.connect({ dtlsParameters }));
    } catch (err) {
      transport.appData.connected = false;
      throw err;
    }
  }

  // ---- producing -------------------------------------------------------------------------

  private sendTransport(transportId: string) {
    const transport = this.find('transport', transportId);
    if (transport.appData.direction !== 'send') throw new CodedError('INVALID_STATE', 'producing needs a send transport');
    if (this.owned.producer.size + this.owned.dataProducer.size >= this.limits.producers) {
      throw new CodedError('INVALID_STATE', `at most ${this.limits.producers} producers per peer`);
    }
    return transport;
  }

  /** appData is echoed to everyone in the room and stored in the cluster: it is bounded. */
  private checkAppData(appData: types.AppData | undefined) {
    const why = appData && exceedsBounds(appData, this.limits.appDataBytes, this.limits.appDataDepth);
    if (why) throw new CodedError('APPDATA_TOO_LARGE', `appData is ${why}`);
  }

  async produce({ transportId, kind, rtpParameters, paused, appData }: RequestData<'produce'>) {
    this.checkAppData(appData);
    // The grant is checked by kind, so the codecs must be of that kind.
    const foreign = rtpParameters.codecs.find((c) => !c.mimeType.toLowerCase().startsWith(`${kind}/`));
    if (foreign) throw new CodedError('INVALID_PARAMETERS', `codec ${foreign.mimeType} cannot be sent as ${kind}`);
    const producer = await withClientParameters(this.sendTransport(transportId).produce({ kind, rtpParameters, paused, keyFrameRequestDelay: this.limits.keyFrameRequestDelayMs, appData: { ...appData, peerId: this.id } }));
    this.keepUnlessClosed(producer, 'producing');
    this.adopt('producer', producer);
    producer.on('score', (score) => this.notify('producerScore', { producerId: producer.id, score }));
    producer.on('transportclose', () => this.notify('producerClosed', { producerId: producer.id, reason: 'transport closed' }));
    producer.observer.on('pause', () => this.emit('producerPaused', producer));
    producer.observer.on('resume', () => this.emit('producerResumed', producer));
    this.emit('producerAdded', producer);
    return producer;
  }

  async produceData({ transportId, sctpStreamParameters, label, protocol, appData }: RequestData<'produceData'>) {
    this.checkAppData(appData);
    const transport = this.sendTransport(transportId);
    if (!transport.sctpParameters) throw new CodedError('INVALID_STATE', 'the transport was created with enableSctp: false');
    const dataProducer = await withClientParameters(transport.produceData({ sctpStreamParameters, label, protocol, appData: { ...appData, peerId: this.id } }));
    this.keepUnlessClosed(dataProducer, 'producing');
    this.addDataProducer(dataProducer);
    return dataProducer;
  }

  /** A data producer of this peer's (its own, or one the node opened for it), announced to the room. */
  addDataProducer(dataProducer: types.DataProducer) {
    this.adopt('dataProducer', dataProducer);
    this.emit('dataProducerAdded', dataProducer);
  }

  // ---- consuming -------------------------------------------------------------------------

  /**
   * Creates a paused consumer of `producer` (already on this peer's router) and announces it
   * with newConsumer. Callers `reserve` the producer first, so concurrent subscriptions of one
   * producer make one consumer. `peerId` is whose producer it is.
   */
  async consume(producer: types.Producer, peerId: string, appData: types.AppData): Promise<ConsumerParams> {
    const transport = this.recvTransport;
    if (!transport || !this.rtpCapabilities) throw new CodedError('CANNOT_CONSUME', 'create a recv transport and send setRtpCapabilities first');
    if (!this.router.canConsume({ producerId: producer.id, rtpCapabilities: this.rtpCapabilities })) {
      throw new CodedError('CANNOT_CONSUME', 'your RTP capabilities cannot receive this producer');
    }
    const consumer = await withClientParameters(transport.consume({
      producerId: producer.id, rtpCapabilities: this.rtpCapabilities, paused: true, appData: { peerId, producerAppData: appData },
      // Retransmission for audio too (mediasoup's default is video only): on a lossy long-distance
      // link a lost Opus packet repaired within the jitter buffer is not concealed.
      enableRtx: true,
    }));
    this.keepUnlessClosed(consumer, 'consuming');
    this.adopt('consumer', consumer, () => this.consuming.delete(consumer.producerId));
    const gone = (reason: string) => this.notify('consumerClosed', { consumerId: consumer.id, reason });
    consumer.on('transportclose', () => gone('transport closed'));
    consumer.on('producerclose', () => gone('producer closed'));
    consumer.on('producerpause', () => this.notify('consumerPaused', { consumerId: consumer.id }));
    consumer.on('producerresume', () => this.notify('consumerResumed', { consumerId: consumer.id }));
    consumer.on('score', (s) => this.notify('consumerScore', { consumerId: consumer.id, ...s }));
    consumer.on('layerschange', (layers) => this.notify('consumerLayersChanged', { consumerId: consumer.id, layers: layers ?? null }));
    const params = this.describe(consumer);
    this.notify('newConsumer', params);
    return params;
  }

  /** A consumer as the client needs it (consume stored whose producer it is, and its appData, on it). */
  describe(consumer: types.Consumer): ConsumerParams {
    return {
      consumerId: consumer.id,
      producerId: consumer.producerId,
      peerId: consumer.appData.peerId as string,
      kind: consumer.kind,
      type: consumer.type,
      rtpParameters: consumer.rtpParameters,
      producerPaused: consumer.producerPaused,
      appData: consumer.appData.producerAppData as types.AppData,
    };
  }

  describeData(dataConsumer: types.DataConsumer): DataConsumerParams {
    return {
      dataConsumerId: dataConsumer.id,
      dataProducerId: dataConsumer.dataProducerId,
      peerId: dataConsumer.appData.peerId as string,
      label: dataConsumer.label,
      protocol: dataConsumer.protocol,
      sctpStreamParameters: dataConsumer.sctpStreamParameters!,
      appData: dataConsumer.appData.producerAppData as types.AppData,
    };
  }

  /** A data channel of `dataProducer` (already on this peer's router) on its recv transport, announced with newDataConsumer. */
  async consumeData(dataProducer: types.DataProducer, peerId: string) {
    const transport = this.recvTransport;
    // A recv transport without SCTP receives no data (createTransport with enableSctp: false).
    if (!transport?.sctpParameters) return;
    const dataConsumer = await transport.consumeData({ dataProducerId: dataProducer.id, appData: { peerId, producerAppData: dataProducer.appData, createdAt: Date.now() } });
    if (this.closed) {
      dataConsumer.close();
      return;
    }
    this.adoptDataConsumer(dataConsumer);
    const gone = (reason: string) => this.notify('dataConsumerClosed', { dataConsumerId: dataConsumer.id, reason });
    dataConsumer.on('transportclose', () => gone('transport closed'));
    dataConsumer.on('dataproducerclose', () => gone('data producer closed'));
    this.notify('newDataConsumer', this.describeData(dataConsumer));
  }

  /** Files a data consumer (on a recv or a direct transport) under this peer, releasing its reservation when it closes. */
  adoptDataConsumer(dataConsumer: types.DataConsumer) {
    this.adopt('dataConsumer', dataConsumer, () => this.consuming.delete(dataConsumer.dataProducerId));
  }

  /** Its data consumer of `dataProducerId`, if it has one. */
  dataConsumerOf(dataProducerId: string) {
    return [...this.owned.dataConsumer.values()].find((dc) => dc.dataProducerId === dataProducerId);
  }

  /** Claims the right to consume `id`; false if this peer consumes it already (or is about to). */
  reserve(id: string) {
    if (this.consuming.has(id)) return false;
    this.consuming.add(id);
    return true;
  }

  release(id: string) {
    this.consuming.delete(id);
  }

  /** The consumer of `producerId`, if this peer has one. */
  consumerOf(producerId: string) {
    return [...this.owned.consumer.values()].find((c) => c.producerId === producerId);
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    // Closing a transport closes every producer and consumer on it.
    for (const transport of this.owned.transport.values()) transport.close();
    for (const transport of this.owned.directTransport.values()) transport.close();
    this.removeAllListeners();
  }

  /**
   * Files an object under this peer until it closes: the peer closes it when it leaves. Other
   * parts of the node that create objects for the peer (its chat relay) file them here too.
   */
  adopt<K extends OwnedKind>(kind: K, item: Kinds[K], onClose?: () => void) {
    this.owned[kind].set(item.id, item);
    (item.observer as unknown as EventEmitter).once('close', () => {
      this.owned[kind].delete(item.id);
      onClose?.();
      // While the peer itself closes, the room retires everything at once instead.
      if (this.closed) return;
      if (kind === 'producer') this.emit('producerRemoved', item.id);
      else if (kind === 'dataProducer') this.emit('dataProducerRemoved', item.id);
    });
  }

  /** An object the worker made while the peer left: nothing may outlive the peer. */
  keepUnlessClosed(item: { close(): void }, while_: string) {
    if (!this.closed) return;
    item.close();
    throw new CodedError('NOT_JOINED', `the peer left while ${while_}`);
  }

  /** Runs `change`, then says so if it made the peer able to receive. */
  private becomingReady(change: () => void) {
    const was = this.canReceive;
    change();
    if (!was && this.canReceive) this.emit('ready');
  }
}
