import type { ChatMessage, NotificationData, NotificationMethod } from '../contracts/protocol.js';
import { Emitter } from './emitter.js';
import { SfuError } from './errors.js';
import { preflight, type PreflightOptions, type PreflightReport } from './preflight.js';
import type { CallEvents, ConnectionState, Participant, RemoteTrack, Session, Snapshot, Source, VideoCodec } from './events.js';
import { Messaging } from './messaging.js';
import { NodeConnection } from './node-connection.js';
import { getUserMedia, Publisher } from './publisher.js';
import { QualityReporter, type StreamQuality } from './quality-reporter.js';
import { Recovery } from './recovery.js';
import { StatsSampler, type ParticipantStats } from './stats.js';
import { Subscriber } from './subscriber.js';

export type { Caption, CaptionStatus, Translations, CallEvents, ConnectionState, Participant, QualityWarning, RemoteTrack, Session, Snapshot, Source, VideoCodec } from './events.js';

/** When the first quality sample is taken after joining, ms. */
const FIRST_SAMPLE_MS = 2000;
/** A warning when more than this share of the last interval's video was frozen... */
const FROZEN_WARNING = 0.1;
/** ...or of its audio concealed (made up for lost packets). */
const CONCEALED_WARNING = 0.05;

export interface CallOptions {
  /** Receive every track in the room automatically (default true). Otherwise call subscribe(). */
  autoSubscribe?: boolean;
  /** Called for a fresh token before each rejoin; default: reuse the first token. */
  tokenProvider?: () => Promise<string>;
  /** How long an ICE restart may take before the call rejoins from scratch (ms, default 8000). */
  iceRestartTimeoutMs?: number;
  /** Full rejoin attempts after a drop before giving up (default 8). */
  maxRejoinAttempts?: number;
  /**
   * Hosts a REDIRECT may send the call to (it carries the token): names, or `*.domain` for
   * any subdomain. Default: the URL's own host and its siblings under the same parent domain.
   */
  redirectHosts?: string[];
  /**
   * After the signaling socket drops, how long to try to resume (ms, default 10000; 0: rejoin
   * at once). Keep it under the node's signaling.reconnectGraceMs (15 s by default).
   */
  resumeWindowMs?: number;
  /** How often to measure receive quality, report it to the node and warn (qualityWarning) (ms, default 5000; 0: never). */
  reportIntervalMs?: number;
}

/**
 * A call in one room. Create it, start() it; publish with publishCamera/publishMicrophone;
 * remote tracks arrive as trackAdded events. After a network drop it restarts ICE, and if
 * that does not help, rejoins from scratch and republishes, without the app doing anything.
 *
 * The facade over the SDK's parts: NodeConnection (one joined session on one node),
 * Publisher (local tracks), Subscriber (participants and remote tracks), Messaging (chat and
 * data) and Recovery (ICE restarts and rejoins).
 */
export class Call extends Emitter<CallEvents> {
  state: ConnectionState = 'connecting';
  private connection?: NodeConnection;
  /** Counts joins: each connection's events are heeded only while it is the newest. */
  private epoch = 0;
  private left = false;
  /** Set by setLanguage: told to every node this call joins afterwards. */
  private language?: string;
  private readonly publisher = new Publisher(() => this.connection);
  private readonly subscriber = new Subscriber(() => this.connection, (e, p) => this.emit(e, p));
  private readonly messaging = new Messaging(() => this.connection, (e, p) => this.emit(e, p));
  private readonly sampler = new StatsSampler();
  private readonly reporter = new QualityReporter();
  private reportTimer?: ReturnType<typeof setInterval>;
  private readonly recovery: Recovery;

  /**
   * Before a call: the round trip to each region of the service at `url` (the nearest is
   * recommended, for the token's region hint), whether UDP gets through or TURN is needed, the
   * browser's support, and the camera and microphone, with readable reasons.
   */
  static preflight(url: string, options?: PreflightOptions): Promise<PreflightReport> {
    return preflight(url, options);
  }

  constructor(private readonly url: string, private token: string, private readonly options: CallOptions = {}) {
    super();
    this.recovery = new Recovery(
      {
        iceRestartTimeoutMs: options.iceRestartTimeoutMs ?? 8000,
        maxRejoinAttempts: options.maxRejoinAttempts ?? 8,
        resumeWindowMs: options.resumeWindowMs ?? 10_000,
      },
      {
        connection: () => this.connection,
        left: () => this.left,
        setState: (s) => this.setState(s),
        emit: (e, p) => this.emit(e, p),
        teardown: () => this.teardown(),
        rejoin: async () => {
          await this.refreshToken();
          await this.join();
        },
        resume: () => this.resume(),
      },
    );
  }

  /** Who else is in the call. */
  get participants(): ReadonlyMap<string, Participant> {
    return this.subscriber.participants;
  }

  /** What this participant receives, by consumer id. */
  get remoteTracks(): ReadonlyMap<string, RemoteTrack> {
    return this.subscriber.remoteTracks;
  }

  /** This participant in the room: its id (the token's identity), role and grants. */
  get self(): Session | undefined {
    const joined = this.connection?.joined;
    return joined && { peerId: joined.peerId, roomId: joined.roomId, role: joined.role, grants: { ...joined.grants }, metadata: { ...(joined.metadata ?? {}) } };
  }

  /**
   * Whether this room has captions (everyone's speech recognised, chat translated), and the
   * language this participant speaks and reads. Tell the user when they are on: the demo does.
   */
  get captions(): { enabled: boolean; language: string } | undefined {
    const joined = this.connection?.joined;
    if (!joined) return undefined;
    return { enabled: joined.captions?.enabled ?? false, language: this.language ?? joined.captions?.language ?? 'en' };
  }

  /**
   * Changes the language this participant speaks and reads (BCP-47, 'es', 'pt-BR'): its speech
   * is recognised in it from now on, and others' captions and chat come translated into it.
   * Kept across rejoins.
   */
  async setLanguage(language: string) {
    await this.requireConnection().signaling.request('setLanguage', { language });
    this.language = language;
  }

  /** The signaling endpoint of the node this call is on (after any redirect). */
  get connectedUrl(): string | undefined {
    return this.connection?.url;
  }

  /** Opens signaling, joins, and prepares to receive. */
  async start() {
    this.setState('connecting');
    await this.join();
    this.setState('connected');
    const every = this.options.reportIntervalMs ?? 5000;
    if (every > 0) {
      this.reportTimer = setInterval(() => void this.reportQuality(), every);
      // A first look soon: the round trip it measures sets the receivers' playout target
      // (after the first frames, which it would only delay), and it is the next report's start.
      // A second one after as long again gives the first loss figure, for a lossy link's target.
      setTimeout(() => void this.reportQuality(), Math.min(every, FIRST_SAMPLE_MS));
      if (2 * FIRST_SAMPLE_MS < every) setTimeout(() => void this.reportQuality(), 2 * FIRST_SAMPLE_MS);
    }
  }

  /** The room's business metadata (order id, ticket id, languages), as the platform set it. */
  get metadata(): Record<string, unknown> {
    return this.connection?.joined.metadata ?? {};
  }

  private async reportQuality() {
    const connection = this.connection;
    if (!connection?.open || this.state !== 'connected') return;
    try {
      const { report, streams, rttMs } = await this.reporter.sample(connection.recvTransport, (trackId) => this.subscriber.isPaused(trackId), connection.sendTransport);
      this.warnAbout(streams);
      if (rttMs !== undefined) this.subscriber.setLinkRtt(rttMs);
      if (!report) return;
      if (report.lossRate !== undefined) this.subscriber.setLinkLoss(report.lossRate);
      this.emit('quality', report);
      await connection.signaling.request('reportQuality', report);
    } catch {
      // the next interval tries again
    }
  }

  /**
   * Warns about what this participant actually got: video frozen or audio concealed for more
   * than a share of the last interval. (The SFU's scores are not used: a simulcast layer the
   * sender stops on purpose lowers them while every receiver is fine.)
   */
  private warnAbout(streams: StreamQuality[]) {
    for (const s of streams) {
      const track = [...this.subscriber.remoteTracks.values()].find((t) => t.track.id === s.trackId);
      if (!track) continue;
      if (s.kind === 'video' && (s.frozenRatio ?? 0) > FROZEN_WARNING) {
        this.emit('qualityWarning', { participantId: track.participantId, kind: 'video', reason: 'video-frozen', ratio: s.frozenRatio! });
      } else if (s.kind === 'audio' && (s.concealedRatio ?? 0) > CONCEALED_WARNING) {
        this.emit('qualityWarning', { participantId: track.participantId, kind: 'audio', reason: 'audio-concealed', ratio: s.concealedRatio! });
      }
    }
  }

  // ---- publishing -------------------------------------------------------------------------

  /**
   * Publishes the camera with three layers (simulcast, or SVC with VP9) unless `simulcast` is
   * false. `codec` picks the video codec when the browser and the node both have it.
   */
  async publishCamera({ deviceId, simulcast = true, codec, width = 1280, height = 720 }: {
    deviceId?: string; simulcast?: boolean; codec?: VideoCodec; width?: number; height?: number;
  } = {}) {
    const stream = await getUserMedia({ video: { width, height, ...(deviceId ? { deviceId: { exact: deviceId } } : {}) } });
    return this.publisher.publish('camera', stream.getVideoTracks()[0], simulcast, codec);
  }

  async publishMicrophone({ deviceId }: { deviceId?: string } = {}) {
    const stream = await getUserMedia({ audio: deviceId ? { deviceId: { exact: deviceId } } : true });
    return this.publisher.publish('microphone', stream.getAudioTracks()[0], false);
  }

  /** Publishes any track the app already has (a screen share, a canvas). */
  publishTrack(source: Source, track: MediaStreamTrack, layered = track.kind === 'video', codec?: VideoCodec) {
    return this.publisher.publish(source, track, layered, codec);
  }

  /** Mutes or unmutes a published source; subscribers see their consumer paused. */
  setMuted(source: Source, muted: boolean) {
    return this.publisher.setMuted(source, muted);
  }

  /** Switches to another camera: the given device, or the next one. The producer keeps its id. */
  switchCamera(deviceId?: string) {
    return this.publisher.switchCamera(deviceId);
  }

  unpublish(source: Source) {
    return this.publisher.unpublish(source);
  }

  // ---- receiving --------------------------------------------------------------------------

  /** Subscribes to one producer (for calls created with autoSubscribe: false). */
  async subscribe(producerId: string) {
    await this.requireConnection().signaling.request('consume', { producerId });
  }

  /** Chooses the simulcast/SVC layer of a remote video track (0 is the lowest). */
  async setPreferredLayers(consumerId: string, spatialLayer: number, temporalLayer?: number) {
    await this.requireConnection().signaling.request('setConsumerPreferredLayers', { consumerId, spatialLayer, temporalLayer });
  }

  // ---- data -------------------------------------------------------------------------------

  /**
   * Sends a chat message to everyone in the room: over the data channel, or, in a room with
   * captions, through the node, which adds its translations (everyone gets the same message).
   */
  async sendChat(text: string) {
    const connection = this.requireConnection();
    if (connection.joined.captions?.enabled) {
      await connection.signaling.request('sendChat', { text });
      return;
    }
    const message: ChatMessage = { type: 'chat', text, at: Date.now() };
    await this.messaging.send(JSON.stringify(message));
  }

  /** Sends any string to everyone in the room (annotations, app events). */
  async sendData(message: string) {
    await this.messaging.send(message);
  }

  // ---- evidence ---------------------------------------------------------------------------

  /**
   * Captures a still of a participant's video (their camera unless `trackId` names a track) as
   * evidence for the call record. Resolves with its id and a signed link to the JPEG, valid for
   * a while (the node's recording.linkTtlSeconds). Needs the snapshot grant (sellers, agents).
   */
  async takeSnapshot(participantId: string, { trackId }: { trackId?: string } = {}): Promise<Snapshot> {
    const s = await this.requireConnection().signaling.request('takeSnapshot', { peerId: participantId, ...(trackId ? { producerId: trackId } : {}) });
    return { snapshotId: s.snapshotId, participantId: s.identity, takenBy: s.takenBy, takenAt: s.takenAt, width: s.width, height: s.height, url: s.url, expiresAt: s.expiresAt };
  }

  // ---- quality ----------------------------------------------------------------------------

  /** Round-trip time, loss, bitrate and frame rate per participant, the local one included. */
  async stats(): Promise<ParticipantStats[]> {
    const out = new Map<string, ParticipantStats>();
    const entry = (id: string, local: boolean) => {
      let e = out.get(id);
      if (!e) out.set(id, (e = { participantId: id, local, tracks: [] }));
      return e;
    };
    const connection = this.connection;
    const [recvReport, sendReport] = await Promise.all([connection?.recvTransport?.getStats(), connection?.sendTransport?.getStats()]);
    for (const [id, track] of this.subscriber.remoteTracks) {
      const consumer = this.subscriber.consumer(id);
      if (!consumer) continue;
      const s = this.sampler.track(id, await consumer.getStats(), 'inbound');
      const e = entry(track.participantId, false);
      e.roundTripTime = recvReport && StatsSampler.roundTripTime(recvReport);
      if (s) e.tracks.push(s);
    }
    if (this.self) {
      const me = entry(this.self.peerId, true);
      me.roundTripTime = sendReport && StatsSampler.roundTripTime(sendReport);
      for (const local of this.publisher.tracks()) {
        if (!local.producer) continue;
        const s = this.sampler.track(local.producer.id, await local.producer.getStats(), 'outbound');
        if (s) me.tracks.push(s);
      }
    }
    return [...out.values()];
  }

  /** Leaves the room and stops local tracks. The call cannot be used afterwards. */
  async leave() {
    if (this.left) return;
    this.left = true;
    if (this.connection?.open) await this.connection.signaling.request('leave', {}).catch(() => undefined);
    this.teardown();
    clearInterval(this.reportTimer);
    this.publisher.stopAll();
    this.setState('disconnected');
  }

  // ---- internals --------------------------------------------------------------------------

  private async refreshToken() {
    if (this.options.tokenProvider) this.token = await this.options.tokenProvider();
  }

  private async join() {
    // Only the newest connection speaks for the call: a late word from one given up on (a
    // rejoin attempt that failed, a replaced socket's DUPLICATE_IDENTITY) changes nothing.
    const epoch = ++this.epoch;
    const current = () => epoch === this.epoch;
    this.adopt(await NodeConnection.open(this.url, this.token, this.options.autoSubscribe ?? true, {
      notification: (method, data) => current() && this.onNotification(method, data),
      dropped: () => current() && void this.recovery.signalingDropped(),
      transportState: (transport, state) => current() && this.recovery.transportState(transport, state),
    }, this.options.redirectHosts));
    try {
      await this.afterJoin();
    } catch (err) {
      // This attempt failed: it must not stay connected beside the next one.
      this.teardown();
      throw err;
    }
  }

  private adopt(connection: NodeConnection) {
    this.connection = connection;
    this.subscriber.setLinkRtt(connection.joinRttMs);
    for (const p of connection.joined.peers) this.subscriber.addParticipant(p);
  }

  private async afterJoin() {
    const connection = this.connection!;
    // A language chosen in this call holds on the node it rejoined (the token still has the first).
    if (this.language && this.language !== connection.joined.captions?.language) {
      await connection.signaling.request('setLanguage', { language: this.language });
    }
    await Promise.all([
      connection.ready,
      this.publisher.republish(),
      // Open the chat channel now: a message sent before the others consume it would be lost.
      connection.joined.grants.publishData ? this.messaging.ensureProducer() : undefined,
    ]);
  }

  /** The socket dropped: the same participant on a new socket, reconciled with what the server kept. */
  private async resume() {
    const previous = this.connection!;
    await this.refreshToken();
    const { connection, resumed } = await previous.resume(this.token, this.options.autoSubscribe ?? true);
    if (!resumed) {
      // The node let the participant go: what belonged to the old connection goes too.
      this.teardown();
      this.adopt(connection);
      await this.afterJoin();
      return;
    }
    await this.subscriber.reconcile(connection.joined.peers, resumed.consumers);
    await this.messaging.reconcile(resumed.dataProducerIds, resumed.dataConsumers);
    this.publisher.reconcile(resumed.producerIds);
    await this.afterJoin();
    // A transport whose media path dropped too restarts ICE through the new socket.
    for (const t of [connection.sendTransport, connection.recvTransport]) {
      if (t && t.connectionState !== 'connected') this.recovery.transportState(t, t.connectionState);
    }
  }

  private onNotification<M extends NotificationMethod>(method: M, data: NotificationData<M>) {
    const handlers: { [K in NotificationMethod]?: (d: NotificationData<K>) => void | Promise<void> } = {
      peerJoined: (d) => this.subscriber.addParticipant(d),
      peerLeft: (d) => this.subscriber.participantLeft(d.peerId),
      peerUpdated: (d) => this.subscriber.updateParticipant(d),
      newConsumer: (d) => this.subscriber.newConsumer(d),
      consumerClosed: (d) => this.subscriber.removeTrack(d.consumerId),
      consumerPaused: (d) => this.subscriber.setProducerPaused(d.consumerId, true),
      consumerResumed: (d) => this.subscriber.setProducerPaused(d.consumerId, false),
      newDataConsumer: (d) => this.messaging.newDataConsumer(d),
      dataConsumerClosed: (d) => this.messaging.dataConsumerClosed(d.dataConsumerId),
      activeSpeaker: (d) => this.emit('activeSpeaker', { participantId: d.peerId }),
      producerClosed: (d) => this.publisher.producerClosed(d.producerId),
      producerMuted: (d) => {
        const source = this.publisher.mutedByServer(d.producerId, d.muted);
        if (source) this.emit('mutedByPlatform', { source, muted: d.muted });
      },
      systemMessage: (d) => this.emit('systemMessage', d),
      caption: (d) => this.emit('caption', {
        segmentId: d.segmentId, participantId: d.peerId, language: d.language, text: d.text, final: d.final,
        startMs: d.startMs, endMs: d.endMs, translations: d.translations ?? {}, untranslated: d.untranslated ?? {},
      }),
      captionsChanged: (d) => {
        const joined = this.connection?.joined;
        if (joined) joined.captions = { enabled: d.enabled, language: joined.captions?.language ?? this.language ?? 'en' };
        this.emit('captionsChanged', { enabled: d.enabled });
      },
      captionStatus: (d) => this.emit('captionStatus', { participantId: d.peerId, state: d.state, ...(d.code ? { code: d.code } : {}), ...(d.message ? { message: d.message } : {}) }),
      snapshotTaken: (d) => this.emit('snapshotTaken', { snapshotId: d.snapshotId, participantId: d.peerId, takenBy: d.takenBy, at: d.at }),
      disconnected: (d) => {
        if (d.rejoin) void this.recovery.recover(d.code);
        else {
          this.emit('error', new SfuError(d.code, d.message));
          this.left = true;
          this.teardown();
          this.setState('disconnected');
        }
      },
    };
    const handler = handlers[method] as ((d: NotificationData<M>) => void | Promise<void>) | undefined;
    Promise.resolve(handler?.(data)).catch((err) => this.emit('error', err instanceof SfuError ? err : new SfuError('INTERNAL_ERROR', String(err))));
  }

  /**
   * Closes the current connection and drops what belonged to it (kept: local tracks, to
   * republish, and the connection's join response, until the next one).
   */
  private teardown() {
    this.recovery.stop();
    this.reporter.reset();
    this.subscriber.clear();
    this.messaging.clear();
    this.connection?.close();
    this.publisher.detach();
  }

  private requireConnection() {
    if (!this.connection?.open) throw new SfuError('NOT_CONNECTED', 'the call is not connected');
    return this.connection;
  }

  private setState(state: ConnectionState) {
    if (this.state === state) return;
    this.state = state;
    if (state === 'disconnected' && this.left) clearInterval(this.reportTimer);
    this.emit('connectionState', state);
  }
}
