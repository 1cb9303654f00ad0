import { Device } from 'mediasoup-client';
import type { types } from 'mediasoup-client';
import type { NotificationData, NotificationMethod, ResponseData } from '../signaling/protocol.js';
import { Emitter } from './emitter.js';
import { SfuError } from './errors.js';
import { signalingUrl } from '../signaling/url.js';
import { SignalingConnection } from './signaling-connection.js';
import { StatsSampler, type ParticipantStats } from './stats.js';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';
export type Source = 'camera' | 'microphone' | 'screen';
/** VP8 and H264 send simulcast (three encodings); VP9 sends one SVC encoding with three spatial layers. */
export type VideoCodec = 'VP8' | 'VP9' | 'H264';

export interface Participant {
  id: string;
  name: string;
  role: string;
}

export interface RemoteTrack {
  participantId: string;
  consumerId: string;
  producerId: string;
  kind: 'audio' | 'video';
  source?: string;
  track: MediaStreamTrack;
}

export interface QualityWarning {
  participantId: string;
  kind?: 'audio' | 'video';
  /** low-score: the SFU measures a poor stream (0-10 score below 5). */
  reason: 'low-score';
  score: number;
}

export interface CallEvents {
  participantJoined: Participant;
  participantLeft: Participant;
  trackAdded: RemoteTrack;
  trackRemoved: RemoteTrack;
  activeSpeaker: { participantId: string };
  connectionState: ConnectionState;
  qualityWarning: QualityWarning;
  data: { participantId: string; label: string; message: string };
  chat: { participantId: string; text: string; at: number };
  error: SfuError;
  [key: string]: unknown;
}

export interface CallOptions {
  /** Receive every track in the room automatically (default true). Otherwise call subscribe(). */
  autoSubscribe?: boolean;
  /** Called for a fresh token before each rejoin; default: reuse the first token. */
  tokenProvider?: () => Promise<string>;
  /** How long an ICE restart may take before the call rejoins from scratch (ms, default 8000). */
  iceRestartTimeoutMs?: number;
  /** Full rejoin attempts after a drop before giving up (default 8). */
  maxRejoinAttempts?: number;
}

interface LocalTrack {
  source: Source;
  track: MediaStreamTrack;
  producer?: types.Producer;
  muted: boolean;
  /** Send layers: simulcast encodings, or SVC layers for VP9. */
  layered: boolean;
  codec?: VideoCodec;
}

const CAMERA_ENCODINGS: types.RtpEncodingParameters[] = [
  { scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
];
/** k-SVC: three spatial layers (each half the size of the next) with three temporal layers each. */
const SVC_ENCODINGS: types.RtpEncodingParameters[] = [{ scalabilityMode: 'L3T3_KEY', maxBitrate: 1_500_000 }];
const LOW_SCORE = 5;
/** A room lives on one node: a correct cluster redirects at most once, so 3 means a loop. */
const MAX_REDIRECTS = 3;
const DISCONNECTED_GRACE_MS = 2000;


/**
 * A call in one room. Create it with connect(); publish with publishCamera/publishMicrophone;
 * remote tracks arrive as trackAdded events. After a network drop it restarts ICE, and if
 * that does not help, rejoins from scratch and republishes, without the app doing anything.
 */
export class Call extends Emitter<CallEvents> {
  readonly participants = new Map<string, Participant>();
  readonly remoteTracks = new Map<string, RemoteTrack>();
  state: ConnectionState = 'connecting';
  self?: ResponseData<'join'>;

  private signaling?: SignalingConnection;
  private device?: Device;
  private sendTransport?: types.Transport;
  private recvTransport?: types.Transport;
  private readonly consumers = new Map<string, types.Consumer>();
  private readonly dataConsumers = new Map<string, types.DataConsumer>();
  private readonly local = new Map<Source, LocalTrack>();
  private chatProducer?: types.DataProducer;
  private readonly sampler = new StatsSampler();
  private rejoining?: Promise<void>;
  private left = false;
  private readonly iceTimers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(private readonly url: string, private token: string, private readonly options: CallOptions = {}) {
    super();
  }

  /** Opens signaling, joins, and prepares to receive. */
  async start() {
    this.setState('connecting');
    await this.join();
    this.setState('connected');
  }

  // ---- publishing -------------------------------------------------------------------------

  /**
   * Publishes the camera with three layers (simulcast, or SVC with VP9) unless `simulcast` is
   * false. `codec` picks the video codec when the browser and the node both have it.
   */
  async publishCamera({ deviceId, simulcast = true, codec, width = 1280, height = 720 }: {
    deviceId?: string; simulcast?: boolean; codec?: VideoCodec; width?: number; height?: number;
  } = {}) {
    const stream = await this.getUserMedia({ video: { width, height, ...(deviceId ? { deviceId: { exact: deviceId } } : {}) } });
    return this.publishTrack('camera', stream.getVideoTracks()[0], simulcast, codec);
  }

  async publishMicrophone({ deviceId }: { deviceId?: string } = {}) {
    const stream = await this.getUserMedia({ audio: deviceId ? { deviceId: { exact: deviceId } } : true });
    return this.publishTrack('microphone', stream.getAudioTracks()[0], false);
  }

  /** Publishes any track the app already has (a screen share, a canvas). */
  async publishTrack(source: Source, track: MediaStreamTrack, layered = track.kind === 'video', codec?: VideoCodec) {
    // Publishing a source again replaces it: the old producer closes for everyone.
    if (this.local.get(source)?.track !== track) await this.unpublish(source);
    const local: LocalTrack = { source, track, muted: false, layered, codec };
    this.local.set(source, local);
    await this.produce(local);
    return track;
  }

  /** Mutes or unmutes a published source; subscribers see their consumer paused. */
  async setMuted(source: Source, muted: boolean) {
    const local = this.local.get(source);
    if (!local) throw new SfuError('NOT_FOUND', `nothing published as ${source}`);
    local.muted = muted;
    local.track.enabled = !muted;
    if (!local.producer || !this.signaling?.open) return;
    if (muted) local.producer.pause();
    else local.producer.resume();
    await this.signaling.request(muted ? 'pauseProducer' : 'resumeProducer', { producerId: local.producer.id });
  }

  /** Switches to another camera: the given device, or the next one. The producer keeps its id. */
  async switchCamera(deviceId?: string) {
    const local = this.local.get('camera');
    if (!local) throw new SfuError('NOT_FOUND', 'no camera is published');
    const current = local.track.getSettings().deviceId;
    if (!deviceId) {
      const cams = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'videoinput');
      deviceId = cams[(cams.findIndex((c) => c.deviceId === current) + 1) % cams.length]?.deviceId;
    }
    const stream = await this.getUserMedia({ video: deviceId ? { deviceId: { exact: deviceId } } : true });
    const track = stream.getVideoTracks()[0];
    track.enabled = !local.muted;
    await local.producer?.replaceTrack({ track });
    local.track.stop();
    local.track = track;
    return track;
  }

  async unpublish(source: Source) {
    const local = this.local.get(source);
    if (!local) return;
    this.local.delete(source);
    local.track.stop();
    if (local.producer && this.signaling?.open) {
      local.producer.close();
      await this.signaling.request('closeProducer', { producerId: local.producer.id }).catch(() => undefined);
    }
  }

  // ---- receiving --------------------------------------------------------------------------

  /** Subscribes to one producer (for calls created with autoSubscribe: false). */
  async subscribe(producerId: string) {
    await this.requireSignaling().request('consume', { producerId });
  }

  /** Chooses the simulcast/SVC layer of a remote video track (0 is the lowest). */
  async setPreferredLayers(consumerId: string, spatialLayer: number, temporalLayer?: number) {
    await this.requireSignaling().request('setConsumerPreferredLayers', { consumerId, spatialLayer, temporalLayer });
  }

  // ---- data -------------------------------------------------------------------------------

  /** Sends a chat message to everyone in the room over the data channel. */
  async sendChat(text: string) {
    await this.sendData(JSON.stringify({ type: 'chat', text, at: Date.now() }));
  }

  /** Sends any string to everyone in the room (annotations, app events). */
  async sendData(message: string) {
    const producer = await this.ensureChatProducer();
    if (producer.readyState !== 'open') {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new SfuError('NOT_CONNECTED', 'the data channel did not open')), 10_000);
        producer.once('open', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    producer.send(message);
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
    const [recvReport, sendReport] = await Promise.all([this.recvTransport?.getStats(), this.sendTransport?.getStats()]);
    for (const [id, track] of this.remoteTracks) {
      const consumer = this.consumers.get(id);
      if (!consumer) continue;
      const s = this.sampler.track(id, await consumer.getStats(), 'inbound');
      const e = entry(track.participantId, false);
      e.roundTripTime = recvReport && StatsSampler.roundTripTime(recvReport);
      if (s) e.tracks.push(s);
    }
    if (this.self) {
      const me = entry(this.self.peerId, true);
      me.roundTripTime = sendReport && StatsSampler.roundTripTime(sendReport);
      for (const local of this.local.values()) {
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
    if (this.signaling?.open) await this.signaling.request('leave', {}).catch(() => undefined);
    this.teardown();
    for (const local of this.local.values()) local.track.stop();
    this.local.clear();
    this.signaling?.close();
    this.setState('disconnected');
  }

  // ---- internals --------------------------------------------------------------------------

  /** The signaling endpoint of the node this call is on (after any redirect). */
  connectedUrl?: string;

  /** Joins through the node at `url`, following REDIRECTs to the node that hosts the room. */
  private async openAndJoin() {
    let url = signalingUrl(this.url);
    for (let hop = 0; ; hop++) {
      this.signaling = await SignalingConnection.open(url, (method, data) => this.onNotification(method, data), () => this.recover('signaling dropped'));
      try {
        const joined = await this.signaling.request('join', { token: this.token, autoSubscribe: this.options.autoSubscribe ?? true });
        this.connectedUrl = url;
        return joined;
      } catch (err) {
        this.signaling.close();
        if (!(err instanceof SfuError && err.code === 'REDIRECT' && err.redirect && hop < MAX_REDIRECTS)) throw err;
        url = signalingUrl(err.redirect.url);
      }
    }
  }

  private async join() {
    const joined = await this.openAndJoin();
    this.self = joined;
    // A rejoin may land on another router: always load a fresh Device.
    this.device = new Device();
    await this.device.load({ routerRtpCapabilities: joined.routerRtpCapabilities as types.RtpCapabilities });
    for (const p of joined.peers) this.addParticipant(p);
    if (joined.grants.subscribe) {
      await this.requireSignaling().request('setRtpCapabilities', { rtpCapabilities: this.device.rtpCapabilities as never });
      this.recvTransport = await this.createTransport('recv');
    }
    for (const local of this.local.values()) await this.produce(local);
    // Open the chat channel now: a message sent before the others consume it would be lost.
    if (joined.grants.publishData) await this.ensureChatProducer();
  }

  private async createTransport(direction: 'send' | 'recv') {
    const signaling = this.requireSignaling();
    const info = await signaling.request('createTransport', { direction });
    const params = {
      id: info.transportId,
      iceParameters: info.iceParameters,
      iceCandidates: info.iceCandidates as types.IceCandidate[],
      dtlsParameters: info.dtlsParameters as types.DtlsParameters,
      sctpParameters: info.sctpParameters,
    };
    const transport = direction === 'send' ? this.device!.createSendTransport(params) : this.device!.createRecvTransport(params);
    transport.on('connect', ({ dtlsParameters }, ok, fail) => {
      signaling.request('connectTransport', { transportId: transport.id, dtlsParameters: dtlsParameters as never }).then(() => ok(), fail);
    });
    transport.on('produce', ({ kind, rtpParameters, appData }, ok, fail) => {
      signaling.request('produce', { transportId: transport.id, kind, rtpParameters: rtpParameters as never, appData, paused: Boolean(appData.paused) })
        .then(({ producerId }) => ok({ id: producerId }), fail);
    });
    transport.on('producedata', ({ sctpStreamParameters, label, protocol, appData }, ok, fail) => {
      signaling.request('produceData', { transportId: transport.id, sctpStreamParameters: sctpStreamParameters as never, label, protocol, appData })
        .then(({ dataProducerId }) => ok({ id: dataProducerId }), fail);
    });
    transport.on('connectionstatechange', (state) => this.onTransportState(transport, state));
    return transport;
  }

  private async ensureSendTransport() {
    this.sendTransport ??= await this.createTransport('send');
    return this.sendTransport;
  }

  private async produce(local: LocalTrack) {
    if (!this.signaling?.open) return; // republished by the next rejoin
    const transport = await this.ensureSendTransport();
    const codec = local.codec && this.device!.rtpCapabilities.codecs?.find((c) => c.mimeType.toLowerCase() === `video/${local.codec!.toLowerCase()}`);
    if (local.codec && !codec) throw new SfuError('MEDIA_UNAVAILABLE', `${local.codec} is not available between this browser and the node`);
    const layers = local.codec === 'VP9' ? SVC_ENCODINGS : CAMERA_ENCODINGS;
    local.producer = await transport.produce({
      track: local.track,
      ...(codec ? { codec } : {}),
      ...(local.layered ? { encodings: layers } : {}),
      // Start high: without this the top simulcast layer takes ~20 s to appear.
      codecOptions: local.track.kind === 'video' ? { videoGoogleStartBitrate: 1000 } : { opusDtx: true, opusFec: true },
      stopTracks: false,
      appData: { source: local.source, paused: local.muted },
    });
    if (local.muted) local.producer.pause();
  }

  private async ensureChatProducer() {
    if (this.chatProducer && !this.chatProducer.closed) return this.chatProducer;
    const transport = await this.ensureSendTransport();
    this.chatProducer = await transport.produceData({ ordered: true, label: 'chat', protocol: 'json' });
    return this.chatProducer;
  }

  private onNotification<M extends NotificationMethod>(method: M, data: NotificationData<M>) {
    const handlers: { [K in NotificationMethod]?: (d: NotificationData<K>) => void | Promise<void> } = {
      peerJoined: (d) => this.addParticipant(d),
      peerLeft: (d) => {
        const p = this.participants.get(d.peerId);
        this.participants.delete(d.peerId);
        for (const t of [...this.remoteTracks.values()]) if (t.participantId === d.peerId) this.removeTrack(t.consumerId);
        if (p) this.emit('participantLeft', p);
      },
      newConsumer: (d) => this.onNewConsumer(d),
      consumerClosed: (d) => this.removeTrack(d.consumerId),
      consumerScore: (d) => {
        const t = this.remoteTracks.get(d.consumerId);
        if (t && d.score < LOW_SCORE) this.emit('qualityWarning', { participantId: t.participantId, kind: t.kind, reason: 'low-score', score: d.score });
      },
      producerScore: (d) => {
        const worst = Math.min(...d.score.map((s) => s.score));
        const local = [...this.local.values()].find((l) => l.producer?.id === d.producerId);
        if (local && this.self && worst < LOW_SCORE) this.emit('qualityWarning', { participantId: this.self.peerId, kind: local.track.kind as 'audio' | 'video', reason: 'low-score', score: worst });
      },
      newDataConsumer: (d) => this.onNewDataConsumer(d),
      dataConsumerClosed: (d) => {
        this.dataConsumers.get(d.dataConsumerId)?.close();
        this.dataConsumers.delete(d.dataConsumerId);
      },
      activeSpeaker: (d) => this.emit('activeSpeaker', { participantId: d.peerId }),
      producerClosed: (d) => {
        const local = [...this.local.values()].find((l) => l.producer?.id === d.producerId);
        local?.producer?.close();
        if (local) local.producer = undefined;
      },
      disconnected: (d) => {
        if (d.rejoin) void this.recover(d.code);
        else {
          this.emit('error', new SfuError(d.code, d.message));
          this.left = true;
          this.teardown();
          this.signaling?.close();
          this.setState('disconnected');
        }
      },
    };
    const handler = handlers[method] as ((d: NotificationData<M>) => void | Promise<void>) | undefined;
    Promise.resolve(handler?.(data)).catch((err) => this.emit('error', err instanceof SfuError ? err : new SfuError('INTERNAL_ERROR', String(err))));
  }

  private addParticipant(p: Participant) {
    const participant = { id: p.id, name: p.name, role: p.role };
    this.participants.set(p.id, participant);
    this.emit('participantJoined', participant);
  }

  private async onNewConsumer(d: NotificationData<'newConsumer'>) {
    if (!this.recvTransport) return;
    const consumer = await this.recvTransport.consume({
      id: d.consumerId, producerId: d.producerId, kind: d.kind, rtpParameters: d.rtpParameters as types.RtpParameters,
    });
    this.consumers.set(consumer.id, consumer);
    const track: RemoteTrack = {
      participantId: d.peerId, consumerId: consumer.id, producerId: d.producerId, kind: d.kind,
      source: d.appData.source as string | undefined, track: consumer.track,
    };
    this.remoteTracks.set(consumer.id, track);
    await this.requireSignaling().request('resumeConsumer', { consumerId: consumer.id });
    this.emit('trackAdded', track);
  }

  private async onNewDataConsumer(d: NotificationData<'newDataConsumer'>) {
    if (!this.recvTransport) return;
    const dc = await this.recvTransport.consumeData({
      id: d.dataConsumerId, dataProducerId: d.dataProducerId, sctpStreamParameters: d.sctpStreamParameters,
      label: d.label, protocol: d.protocol,
    });
    this.dataConsumers.set(dc.id, dc);
    dc.on('message', (raw) => {
      const message = typeof raw === 'string' ? raw : new TextDecoder().decode(raw as ArrayBuffer);
      this.emit('data', { participantId: d.peerId, label: d.label, message });
      if (d.label !== 'chat') return;
      try {
        const parsed = JSON.parse(message);
        if (parsed?.type === 'chat' && typeof parsed.text === 'string') this.emit('chat', { participantId: d.peerId, text: parsed.text, at: Number(parsed.at) || Date.now() });
      } catch {
        // not a chat message
      }
    });
  }

  private removeTrack(consumerId: string) {
    this.consumers.get(consumerId)?.close();
    this.consumers.delete(consumerId);
    const track = this.remoteTracks.get(consumerId);
    if (!track) return;
    this.remoteTracks.delete(consumerId);
    this.emit('trackRemoved', track);
  }

  /** ICE trouble: wait out a brief 'disconnected', restart ICE, and rejoin if that fails too. */
  private onTransportState(transport: types.Transport, state: string) {
    clearTimeout(this.iceTimers.get(transport.id));
    if (state === 'connected' || state === 'new' || state === 'connecting' || this.left) return;
    if (state === 'disconnected' || state === 'failed') {
      const delay = state === 'failed' ? 0 : DISCONNECTED_GRACE_MS;
      this.iceTimers.set(transport.id, setTimeout(() => void this.restartIce(transport), delay));
    }
  }

  private async restartIce(transport: types.Transport) {
    if (transport.closed || transport.connectionState === 'connected') return;
    this.setState('reconnecting');
    try {
      const { iceParameters } = await this.requireSignaling().request('restartIce', { transportId: transport.id });
      await transport.restartIce({ iceParameters });
      const deadline = Date.now() + (this.options.iceRestartTimeoutMs ?? 8000);
      // connectionState changes behind TypeScript's back while we sleep.
      const connected = () => (transport.connectionState as string) === 'connected';
      while (!connected() && Date.now() < deadline && !transport.closed) await sleep(200);
      if (connected()) {
        this.setState('connected');
        return;
      }
    } catch {
      // fall through to a full rejoin
    }
    await this.recover('ICE restart did not reconnect');
  }

  /** Full rejoin with backoff: new socket, new transports, local tracks republished. */
  private recover(reason: string): Promise<void> {
    if (this.left) return Promise.resolve();
    this.rejoining ??= (async () => {
      this.setState('reconnecting');
      this.teardown();
      const attempts = this.options.maxRejoinAttempts ?? 8;
      for (let attempt = 0; attempt < attempts && !this.left; attempt++) {
        await sleep(Math.min(250 * 2 ** attempt, 5000));
        try {
          this.signaling?.close();
          if (this.options.tokenProvider) this.token = await this.options.tokenProvider();
          await this.join();
          this.setState('connected');
          return;
        } catch (err) {
          if (err instanceof SfuError && ['TOKEN_INVALID', 'TOKEN_EXPIRED', 'PERMISSION_DENIED'].includes(err.code)) {
            this.emit('error', err);
            break;
          }
        }
      }
      this.emit('error', new SfuError('CONNECTION_FAILED', `could not rejoin after: ${reason}`));
      this.setState('disconnected');
    })().finally(() => (this.rejoining = undefined));
    return this.rejoining;
  }

  /** Drops every server-side object of the current session (kept: local tracks, to republish). */
  private teardown() {
    for (const timer of this.iceTimers.values()) clearTimeout(timer);
    for (const id of [...this.remoteTracks.keys()]) this.removeTrack(id);
    for (const p of [...this.participants.values()]) this.emit('participantLeft', p);
    this.participants.clear();
    for (const dc of this.dataConsumers.values()) dc.close();
    this.dataConsumers.clear();
    this.sendTransport?.close();
    this.recvTransport?.close();
    this.sendTransport = this.recvTransport = this.chatProducer = undefined;
    for (const local of this.local.values()) local.producer = undefined;
  }

  private requireSignaling() {
    if (!this.signaling?.open) throw new SfuError('NOT_CONNECTED', 'the call is not connected');
    return this.signaling;
  }

  private async getUserMedia(constraints: MediaStreamConstraints) {
    try {
      return await navigator.mediaDevices.getUserMedia(constraints);
    } catch (err) {
      throw new SfuError('MEDIA_UNAVAILABLE', `cannot open ${Object.keys(constraints).join(' and ')}: ${(err as Error).message}`);
    }
  }

  private setState(state: ConnectionState) {
    if (this.state === state) return;
    this.state = state;
    this.emit('connectionState', state);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
