import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { Claims } from '../auth/tokens.js';
import { CodedError } from '../common/errors.js';
import type { NotificationData, NotificationMethod } from '../contracts/protocol.js';
import type { ParticipantRecord } from '../contracts/records.js';
import type { Logger } from '../logging/logger.js';
import type { RoomMedia } from '../media/room-media.js';
import { Catalogue, type Consumable } from './catalogue.js';
import { ChatRelay } from './chat-relay.js';
import { LayerChoice } from './layer-choice.js';
import { Peer, type ConsumerParams, type PeerInfo, type PeerConfig, type PeerSession } from './peer.js';
import type { RoomKey } from './room-key.js';
import type { RecordingSpec, RoomSettings } from './room-settings.js';
export type { RoomSettings } from './room-settings.js';

/** How long a sender's cap waits for its receivers to switch down (a key frame's round trip on a slow link, with room to spare). */
const LAYER_SWITCH_WAIT_MS = 1500;

/** A snapshot, as the people in the call are told of it. */
export type SnapshotNotice = NotificationData<'snapshotTaken'>;
/** A participant's speech as text, as the people in the call are told of it. */
export type Caption = NotificationData<'caption'>;
/** What the node adds to a text in a room with captions. */
export interface TextTranslations {
  language: string;
  translations: Record<string, string>;
  untranslated: Record<string, string>;
}

/** What happens in a room, each event with its facts: listeners never diff the room themselves. */
export interface RoomEvents {
  peerJoined: [peer: Peer];
  trackPublished: [peer: Peer, producer: types.Producer];
  trackUnpublished: [peer: Peer, producerId: string];
  trackPaused: [peer: Peer, producer: types.Producer];
  trackResumed: [peer: Peer, producer: types.Producer];
  dataPublished: [peer: Peer, dataProducer: types.DataProducer];
  dataUnpublished: [peer: Peer, dataProducerId: string];
  /** The peer's socket dropped; it stays for the reconnect grace period. */
  peerSuspended: [peer: Peer];
  /** The peer's client came back on a new socket within the grace period. */
  peerResumed: [peer: Peer];
  /**
   * A peer is about to leave, its objects still open: what a listener asks of them now (stats)
   * reaches the worker before they close, as the worker's channel keeps order.
   */
  peerLeaving: [peer: Peer];
  peerLeft: [peer: Peer, reason: string];
  /** A participant hosted elsewhere appeared; `detail` is what its host said of it. */
  remoteJoined: [info: PeerInfo];
  /** A participant hosted elsewhere left; its host sends its record along. */
  remoteLeft: [peerId: string, record: ParticipantRecord | undefined];
  /** A message from the platform into the call's chat. */
  message: [text: string, from: string];
  /** A snapshot of a participant here was taken (the people here are told; the span tells the rest). */
  snapshotTaken: [notice: SnapshotNotice];
  /** A caption: of a participant here (`local`: the span tells the other nodes), or relayed from one. */
  caption: [caption: Caption, local: boolean];
  /** What others see of a peer changed besides its media (its language). */
  peerUpdated: [peer: Peer];
  /** Captions were turned on mid-call (the assistant hears through them); `local`: here, so the span tells the other nodes. */
  captionsEnabled: [local: boolean];
  /** A text translated here for the room (captions, chat, system messages): characters sent to engines, for usage. */
  translated: [characters: number];
  closed: [];
}

export interface RoomConfig extends PeerConfig {
  peersPerRoom: number;
  /** The language of a participant whose token names none: its tenant's (default en). */
  defaultLanguage?(tenant: string): string;
  /** Puts a text of the room into its other languages (rooms with captions). */
  translate?(settings: Readonly<RoomSettings>, text: string, from: string, to: Iterable<string>): Promise<Omit<TextTranslations, 'language'> & { characters: number }>;
}

export interface Kick {
  code: string;
  message: string;
  rejoin: boolean;
}

/**
 * A room on this node: its peers, the participants hosted elsewhere that it is told about,
 * and one catalogue of what can be consumed. It decides who receives what; the peers own the
 * mediasoup objects. It knows nothing of other nodes: in a cluster, the room's span feeds it
 * remote participants and their producers through setRemote, removeRemote, offer and withdraw.
 */
export class Room extends EventEmitter<RoomEvents> {
  readonly peers = new Map<string, Peer>();
  /** Which layer each video consumer here is asked for: its receiver's choice under its sender's cap. */
  readonly layers = new LayerChoice();
  readonly createdAt = Date.now();
  closed = false;
  private readonly catalogue = new Catalogue();
  /** Participants hosted elsewhere, as last described to this room. */
  private readonly remote = new Map<string, PeerInfo>();
  /** Suspended peers and when their grace runs out. */
  private readonly graceTimers = new Map<Peer, NodeJS.Timeout>();
  private readonly chat = new ChatRelay(() => this.peers.values(), (peer, text) => this.translated(text, peer.language));
  /** Reasons to stay open with no participant here (see hold). */
  private holds = 0;
  private emptyTimer?: NodeJS.Timeout;

  constructor(
    readonly id: RoomKey,
    private current: RoomSettings,
    readonly media: RoomMedia,
    readonly log: Logger,
    private readonly limits: RoomConfig,
    private readonly onClosed: (room: Room) => void,
  ) {
    super();
    media.onDominantSpeaker((producer) => {
      this.broadcast('activeSpeaker', { peerId: producer.appData.peerId as string, producerId: producer.id });
    });
  }

  /** What the room is for and how it lives; only the room changes them (setRecordings). */
  get settings(): Readonly<RoomSettings> {
    return this.current;
  }

  /**
   * Turns captions on for the rest of the call (the assistant hears through them): everyone is
   * told (captionsChanged), as they would have been when joining. `local`: decided here, so
   * the span tells the other nodes; false when another node decided it.
   */
  enableCaptions(local = true) {
    if (this.current.captions) return false;
    this.current = { ...this.current, captions: true };
    this.broadcast('captionsChanged', { enabled: true });
    this.emit('captionsEnabled', local);
    return true;
  }

  /** The recordings running now, as the recordings on this node decided (the directory publishes them). */
  setRecordings(recordings: RecordingSpec[]) {
    this.current = { ...this.current, recordings };
  }

  broadcast<M extends NotificationMethod>(method: M, data: NotificationData<M>, except?: Peer) {
    for (const peer of this.peers.values()) if (peer !== except) peer.notify(method, data);
  }

  /** Everyone a newcomer should see: peers here and participants hosted elsewhere. */
  participants(except?: Peer): PeerInfo[] {
    const here = [...this.peers.values()].filter((p) => p !== except).map((p) => p.info());
    return [...here, ...this.remote.values()];
  }

  /**
   * A new peer for `claims`, on a router of this room. An older session with the same identity
   * is replaced (its client gets DUPLICATE_IDENTITY). Undefined when the room closed meanwhile.
   */
  async join(claims: Claims, autoSubscribe: boolean, session: PeerSession, log: Logger): Promise<Peer | undefined> {
    const replacing = this.peers.has(claims.identity) || this.remote.has(claims.identity);
    const max = Math.min(this.limits.peersPerRoom, this.settings.maxParticipants);
    if (!replacing && this.peers.size + this.remote.size >= max) {
      throw new CodedError('ROOM_FULL', `room ${this.settings.name} has ${max} participants already`);
    }
    const entry = await this.media.assignRouter();
    if (this.closed) {
      this.media.releaseRouter(entry);
      return undefined;
    }
    const peer = new Peer(claims, entry, autoSubscribe, session, this.limits, log, this.defaultLanguage());
    const previous = this.peers.get(peer.id);
    if (this.remote.has(peer.id)) this.removeRemote(peer.id);
    this.peers.set(peer.id, peer);
    clearTimeout(this.emptyTimer);
    if (previous) this.retire(previous, 'replaced', { code: 'DUPLICATE_IDENTITY', message: 'the same identity joined again elsewhere', rejoin: false });
    this.wire(peer);
    this.broadcast('peerJoined', peer.info(), peer);
    this.log.info({ peerId: peer.id, role: claims.role, peers: this.peers.size }, 'peer joined');
    this.emit('peerJoined', peer);
    return peer;
  }

  /** Removes a peer. With `kick`, its session is told why and returns to the not-joined state. */
  remove(peer: Peer, kick?: Kick, reason = kick?.code ?? 'left') {
    if (this.peers.get(peer.id) !== peer) return;
    this.peers.delete(peer.id);
    this.retire(peer, reason, kick);
    this.closeIfEmpty();
  }

  /**
   * Keeps the room open with no participant here until the returned function is called (a
   * room created ahead of time; in a cluster, the owner's part while others host participants).
   */
  hold(): () => void {
    this.holds++;
    clearTimeout(this.emptyTimer);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      this.closeIfEmpty();
    };
  }

  /** Closes the room once it has stayed empty for its empty timeout (at once when that is 0). */
  closeIfEmpty() {
    if (this.closed || this.peers.size > 0 || this.holds > 0) return;
    clearTimeout(this.emptyTimer);
    if (this.settings.emptyTimeoutMs === 0) return this.close();
    this.emptyTimer = setTimeout(() => {
      if (this.peers.size === 0 && this.holds === 0) this.close();
    }, this.settings.emptyTimeoutMs).unref();
  }

  private defaultLanguage() {
    return this.limits.defaultLanguage?.(this.settings.tenant) ?? 'en';
  }

  /** The languages of everyone in the room, here and (unless `hereOnly`) on other nodes. */
  languages(hereOnly = false): Set<string> {
    const out = new Set<string>();
    for (const p of this.peers.values()) out.add(p.language);
    if (!hereOnly) for (const r of this.remote.values()) if (r.language) out.add(r.language);
    return out;
  }

  /**
   * `text` in the room's other languages, when the room has captions (else nothing is added).
   * `hereOnly`: for what each node delivers itself (system messages), so no text is translated twice.
   */
  async translated(text: string, from: string, hereOnly = false): Promise<TextTranslations | undefined> {
    if (!this.settings.captions || !this.limits.translate) return undefined;
    const { characters, ...t } = await this.limits.translate(this.settings, text, from, this.languages(hereOnly));
    if (characters) this.emit('translated', characters);
    return { ...t, language: from };
  }

  /** A message from the platform to everyone in the room (here; other nodes deliver their own), with its translations. */
  async sendMessage(text: string, from: string, language?: string) {
    const at = Date.now();
    const t = await this.translated(text, language ?? this.defaultLanguage(), true);
    this.broadcast('systemMessage', { text, from, at, ...t });
    this.emit('message', text, from);
  }

  /** A caption of a participant here: everyone here is told, and the span tells the other nodes. */
  announceCaption(caption: Caption) {
    this.broadcast('caption', caption);
    this.emit('caption', caption, true);
  }

  /** A caption of a participant on another node: told to the people here. */
  relayCaption(caption: Caption) {
    this.broadcast('caption', caption);
    this.emit('caption', caption, false);
  }

  /** A peer here speaks another language now: captions of it and translations for it follow. */
  setLanguage(peer: Peer, language: string) {
    peer.setLanguage(language);
    this.broadcast('peerUpdated', peer.info(), peer);
    this.emit('peerUpdated', peer);
  }

  /** A snapshot of a participant here was taken: everyone here is told, and the span tells the other nodes. */
  announceSnapshot(notice: SnapshotNotice) {
    this.broadcast('snapshotTaken', notice);
    this.emit('snapshotTaken', notice);
  }

  /** A snapshot taken on another node's part of the room: told to the people here. */
  relaySnapshot(notice: SnapshotNotice) {
    this.broadcast('snapshotTaken', notice);
  }

  /**
   * The peer's socket dropped without a leave: it stays, suspended, for `graceMs`, and the
   * others see nothing. Its client may resume on a new socket (resume); else it leaves.
   */
  suspend(peer: Peer, graceMs: number) {
    if (this.peers.get(peer.id) !== peer) return;
    peer.detach();
    clearTimeout(this.graceTimers.get(peer));
    this.graceTimers.set(peer, setTimeout(() => {
      this.graceTimers.delete(peer);
      if (peer.suspended) this.remove(peer, undefined, 'disconnected');
    }, graceMs).unref());
    this.log.info({ peerId: peer.id, graceMs }, 'peer disconnected; waiting for it to resume');
    this.emit('peerSuspended', peer);
  }

  /**
   * A client with the same identity, role and grants takes its peer back on a new session: it
   * keeps its transports, producers and consumers. Undefined when there is nothing to resume.
   */
  resume(claims: Claims, session: PeerSession): Peer | undefined {
    const peer = this.peers.get(claims.identity);
    if (!peer || peer.claims.role !== claims.role || JSON.stringify(peer.claims.grants) !== JSON.stringify(claims.grants)) return undefined;
    clearTimeout(this.graceTimers.get(peer));
    this.graceTimers.delete(peer);
    const wasSuspended = peer.suspended;
    peer.attach(session);
    // Whatever was offered while it was away.
    if (peer.canReceive) peer.schedule(() => this.subscribeAll(peer));
    this.log.info({ peerId: peer.id, wasSuspended }, 'peer resumed');
    this.emit('peerResumed', peer);
    return peer;
  }

  /** Everyone out, with a code telling clients whether to rejoin (e.g. MEDIA_WORKER_DIED), and the room closes. */
  closeWithPeers(code: string, message: string, rejoin = true) {
    for (const peer of [...this.peers.values()]) this.remove(peer, { code, message, rejoin });
    this.close();
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.emptyTimer);
    this.media.close();
    this.emit('closed');
    this.removeAllListeners();
    this.onClosed(this);
  }

  // ---- participants hosted elsewhere ------------------------------------------------------

  /** Describes a participant hosted elsewhere (new, or its latest info). Its producers come through offer. */
  setRemote(info: PeerInfo) {
    const before = this.remote.get(info.id);
    this.remote.set(info.id, info);
    if (before) {
      if (before.language !== info.language) this.broadcast('peerUpdated', info);
      return;
    }
    this.broadcast('peerJoined', info);
    this.emit('remoteJoined', info);
  }

  /** A participant hosted elsewhere left; `record` is its stay, as its host sent it. */
  removeRemote(peerId: string, record?: ParticipantRecord) {
    if (!this.remote.delete(peerId)) return;
    for (const item of this.catalogue.ofPeer(peerId)) this.withdraw(item.id);
    this.broadcast('peerLeft', { peerId });
    this.emit('remoteLeft', peerId, record);
  }

  // ---- who consumes what -----------------------------------------------------------------

  /** Something new to consume: tell everyone, and feed the peers that subscribe to everything. */
  offer(item: Consumable) {
    this.catalogue.add(item);
    const publisher = this.peers.get(item.peerId);
    if (item.kind === 'producer') this.broadcast('producerAdded', { peerId: item.peerId, producer: item.info }, publisher);
    for (const peer of this.peers.values()) {
      if (peer === publisher || !this.feeds(peer, item)) continue;
      // In the subscriber's own queue: the producer's request never waits on the fan-out.
      peer.schedule(() => this.consumeFor(peer, item).catch((err) => peer.log.warn({ err: (err as Error).message }, 'auto-subscribe failed')));
    }
  }

  /** Whether `peer` gets `item` without asking: everything when it auto-subscribes, chat when it relays chat. */
  private feeds(peer: Peer, item: Consumable) {
    if (peer.autoSubscribe && peer.canReceive) return true;
    return this.chat.relays(peer) && this.chat.isChat(item);
  }

  /** From now on `peer` gets the room's chat as notifications (subscribeChat). */
  async subscribeChat(peer: Peer) {
    this.chat.subscribe(peer);
    const chats = this.catalogue.forPeer(peer.id).filter((item) => this.chat.isChat(item));
    await Promise.allSettled(chats.map((item) => this.consumeFor(peer, item)));
  }

  /** A chat message from a peer without a data channel (sendChat): queued, and sent once the others can read it. */
  sendChat(peer: Peer, text: string) {
    return this.chat.send(peer, text);
  }

  /** The peer leaves on purpose: the chat it sent leaves first. */
  async leave(peer: Peer) {
    await this.chat.flush(peer);
    this.remove(peer);
  }

  /** The consumable with this id, hosted here or elsewhere. */
  find(id: string) {
    return this.catalogue.get(id);
  }

  withdraw(id: string) {
    if (this.catalogue.remove(id)) this.media.forget(id);
  }

  /** A peer that just became able to receive gets everything already in the room. */
  async subscribeAll(peer: Peer) {
    if (!peer.autoSubscribe) return;
    const results = await Promise.allSettled(this.catalogue.forPeer(peer.id).map((item) => this.consumeFor(peer, item)));
    for (const r of results) if (r.status === 'rejected') peer.log.warn({ err: (r.reason as Error).message }, 'subscribe failed');
  }

  /** A sender's cap on the spatial layer its receivers on this node get (setMaxSpatialLayer). */
  async limitLayers(sender: Peer, producerId: string, spatialLayer: number | undefined) {
    const producer = sender.find('producer', producerId);
    if (producer.type !== 'simulcast' && producer.type !== 'svc') throw new CodedError('INVALID_STATE', `a ${producer.type} producer has no layers to cap`);
    const consumers = [...this.peers.values()].flatMap((p) => p.consumerOf(producerId) ?? []);
    return this.layers.limit(producerId, spatialLayer, consumers, LAYER_SWITCH_WAIT_MS);
  }

  /** The consume request: one producer of the room, here or hosted elsewhere. */
  async consumeById(peer: Peer, producerId: string): Promise<ConsumerParams> {
    const item = this.catalogue.get(producerId);
    if (!item || item.kind !== 'producer') throw new CodedError('NOT_FOUND', `no producer ${producerId} in this room`);
    if (item.peerId === peer.id) throw new CodedError('INVALID_STATE', 'cannot consume your own producer');
    return (await this.consumeFor(peer, item))!;
  }

  /** Consumes `item` for `peer` on the peer's router. Undefined for data (announced by notification only). */
  private async consumeFor(peer: Peer, item: Consumable): Promise<ConsumerParams | undefined> {
    if (!peer.reserve(item.id)) {
      const existing = item.kind === 'producer' ? peer.consumerOf(item.id) : undefined;
      if (existing) return peer.describe(existing);
      if (item.kind === 'producer') throw new CodedError('INVALID_STATE', 'this producer is being consumed already');
      return undefined;
    }
    try {
      if (item.kind === 'producer') {
        const { item: producer, entry } = await item.locate();
        await this.media.ensureOn('producer', item.id, entry, peer.routerEntry);
        const params = await peer.consume(producer, item.peerId, item.info.appData);
        const consumer = peer.consumerOf(item.id);
        // The consumer stands either way: a cap it could not take only leaves it on mediasoup's choice.
        if (consumer) await this.layers.track(consumer).catch((err: Error) => peer.log.warn({ err: err.message }, 'layer cap not applied'));
        return params;
      }
      const { item: dataProducer, entry } = await item.locate();
      await this.media.ensureOn('dataProducer', item.id, entry, peer.routerEntry);
      if (this.chat.relays(peer) && this.chat.isChat(item)) await this.chat.relay(peer, dataProducer, item.peerId);
      else await peer.consumeData(dataProducer, item.peerId);
      return undefined;
    } catch (err) {
      peer.release(item.id);
      throw err;
    }
  }

  // ---- internals --------------------------------------------------------------------------

  /** The room's side of a peer's events: its producers enter and leave the catalogue, and the room says what happened. */
  private wire(peer: Peer) {
    peer.on('ready', () => peer.schedule(() => this.subscribeAll(peer)));
    peer.on('producerAdded', (producer) => {
      if (producer.kind === 'audio') {
        this.media.observeAudio(producer, peer.routerEntry).catch((err) => this.log.warn({ err }, 'active speaker observer'));
      }
      this.offer({
        kind: 'producer', id: producer.id, peerId: peer.id,
        info: { id: producer.id, kind: producer.kind, paused: producer.paused, appData: producer.appData },
        locate: async () => ({ item: producer, entry: peer.routerEntry }),
      });
      this.emit('trackPublished', peer, producer);
    });
    peer.on('producerRemoved', (id) => {
      this.layers.forget(id);
      this.withdraw(id);
      this.emit('trackUnpublished', peer, id);
    });
    peer.on('producerPaused', (producer) => this.emit('trackPaused', peer, producer));
    peer.on('producerResumed', (producer) => this.emit('trackResumed', peer, producer));
    peer.on('dataProducerAdded', (dataProducer) => {
      this.offer({
        kind: 'dataProducer', id: dataProducer.id, peerId: peer.id,
        info: { id: dataProducer.id, label: dataProducer.label, protocol: dataProducer.protocol, appData: dataProducer.appData },
        locate: async () => ({ item: dataProducer, entry: peer.routerEntry }),
      });
      this.emit('dataPublished', peer, dataProducer);
    });
    peer.on('dataProducerRemoved', (id) => {
      this.withdraw(id);
      this.emit('dataUnpublished', peer, id);
    });
  }

  /** A peer leaves: its producers leave the catalogue, its objects close, the others are told. */
  private retire(peer: Peer, reason: string, kick?: Kick) {
    clearTimeout(this.graceTimers.get(peer));
    this.graceTimers.delete(peer);
    // A replaced peer's successor has produced nothing yet, so everything under this id is the old peer's.
    for (const item of this.catalogue.ofPeer(peer.id)) this.withdraw(item.id);
    this.emit('peerLeaving', peer);
    peer.close();
    this.media.releaseRouter(peer.routerEntry);
    if (kick) peer.removed(kick.code, kick.message, kick.rejoin);
    this.broadcast('peerLeft', { peerId: peer.id }, this.peers.get(peer.id));
    this.log.info({ peerId: peer.id, reason, peers: this.peers.size }, 'peer left');
    this.emit('peerLeft', peer, reason);
  }
}
