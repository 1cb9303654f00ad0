import {
  MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters, RtpHeader, RtpPacket, type RTCDataChannel,
} from 'werift';
import type { NotificationData, ResponseData } from '../../src/contracts/protocol.js';
import { answerForSend, offerForRecv, parseLocal } from './sdp.js';
import { SignalingClient } from './signaling-client.js';
import { loopbackStunPort } from './stun-responder.js';
import { vp8Packets, vp8TestFrame } from './vp8.js';

type JoinResult = ResponseData<'join'>;
type Caps = JoinResult['routerRtpCapabilities'];

/** werift options that keep ICE on loopback (its default STUN server is a public one). */
const loopbackOnly = async () => ({
  iceServers: [{ urls: `stun:127.0.0.1:${await loopbackStunPort()}` }],
  iceUseIpv6: false,
  iceAdditionalHostAddresses: ['127.0.0.1'],
  // Only pair our loopback candidate with the server's, whatever else the host has.
  iceFilterCandidatePair: (pair: { localCandidate: { host: string } }) => pair.localCandidate.host === '127.0.0.1',
});

/** werift codecs with the router's payload types, so both sides agree without remapping. */
function weriftCodecs(caps: Caps) {
  const pt = (mime: string) => caps.codecs!.find((c) => c.mimeType.toLowerCase() === mime)!.preferredPayloadType!;
  return {
    audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: pt('audio/opus') })],
    video: [new RTCRtpCodecParameters({
      mimeType: 'video/VP8', clockRate: 90000, payloadType: pt('video/vp8'),
      rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
    })],
  };
}

/** What this client can receive: opus and VP8 only, as the router numbers them. */
export function receiveCapabilities(caps: Caps): Caps {
  return {
    codecs: caps.codecs!.filter((c) => ['audio/opus', 'video/vp8'].includes(c.mimeType.toLowerCase())),
    headerExtensions: [],
  };
}

export interface Received { packets: number; bytes: number }

/** A real Opus frame (20 ms of silence, CELT fullband), so that what werift peers send decodes. */
const OPUS_SILENCE = Buffer.from([0xf8, 0xff, 0xfe]);

/** RTP header extension id we use for ssrc-audio-level (werift negotiates none of its own here). */
const AUDIO_LEVEL_EXT = { uri: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level' as const, id: 10 };

/**
 * A Node-side WebRTC client (werift) speaking our protocol: publishes synthetic opus and VP8,
 * receives and decrypts what the SFU forwards, and exchanges data-channel messages.
 */
export class WeriftPeer {
  join!: JoinResult;
  readonly received = { audio: { packets: 0, bytes: 0 } as Received, video: { packets: 0, bytes: 0 } as Received };
  readonly messages: string[] = [];
  readonly producers: Record<string, string> = {};
  /** Called with each RTP payload received, decrypted (the benchmark reads send times from them). */
  onRtp?: (kind: 'audio' | 'video', payload: Buffer) => void;
  sendTransportId?: string;
  recvTransportId?: string;
  private sendPc?: RTCPeerConnection;
  private recvPc?: RTCPeerConnection;
  private sendChannel?: RTCDataChannel;
  private timers: NodeJS.Timeout[] = [];

  private constructor(readonly client: SignalingClient) {}

  static async connect(url: string, token: string, autoSubscribe = true): Promise<WeriftPeer> {
    const peer = new WeriftPeer(await SignalingClient.connect(url));
    peer.join = await peer.client.request('join', { token, autoSubscribe });
    await peer.client.request('setRtpCapabilities', {
      rtpCapabilities: receiveCapabilities(peer.join.routerRtpCapabilities),
    });
    return peer;
  }

  /** Creates the send transport and produces the requested tracks and data channel. */
  /** `audioFrames`: Opus packets of 20 ms to send in a loop (real speech), instead of silence. */
  async publish({ audio = true, video = true, data = true, simulcast = false, audioFrames }: { audio?: boolean; video?: boolean; data?: boolean; simulcast?: boolean; audioFrames?: Buffer[] } = {}) {
    const transport = await this.client.request('createTransport', { direction: 'send' });
    this.sendTransportId = transport.transportId;
    const pc = new RTCPeerConnection({ codecs: weriftCodecs(this.join.routerRtpCapabilities), ...(await loopbackOnly()) } as never);
    this.sendPc = pc;
    const tracks: Partial<Record<'audio' | 'video', MediaStreamTrack>> = {};
    for (const kind of ['audio', 'video'] as const) {
      if (kind === 'audio' ? !audio : !video) continue;
      tracks[kind] = new MediaStreamTrack({ kind });
      pc.addTransceiver(tracks[kind]!, { direction: 'sendonly' });
    }
    if (data) this.sendChannel = pc.createDataChannel('chat', { negotiated: true, id: 1, ordered: true });
    await pc.setLocalDescription(await pc.createOffer());
    const local = parseLocal(pc.localDescription!.sdp);
    await pc.setRemoteDescription({ type: 'answer', sdp: answerForSend(transport, local.sections) });
    await this.client.request('connectTransport', { transportId: transport.transportId, dtlsParameters: { role: 'client', fingerprints: [local.fingerprint] } });

    for (const section of local.sections) {
      if (section.kind === 'application') continue;
      const codec = section.codecs[0];
      const ssrc = section.ssrc!;
      // Simulcast: three encodings are announced, werift feeds the lowest one.
      const encodings = section.kind === 'video' && simulcast
        ? [{ ssrc, scalabilityMode: 'L1T1' }, { ssrc: ssrc + 1, scalabilityMode: 'L1T1' }, { ssrc: ssrc + 2, scalabilityMode: 'L1T1' }]
        : [{ ssrc }];
      const { producerId } = await this.client.request('produce', {
        transportId: transport.transportId,
        kind: section.kind,
        rtpParameters: {
          mid: section.mid,
          codecs: [codec],
          headerExtensions: section.kind === 'audio' ? [...section.headerExtensions, AUDIO_LEVEL_EXT] : section.headerExtensions,
          encodings,
          rtcp: { cname: section.cname, reducedSize: true },
        },
        appData: { source: section.kind === 'audio' ? 'microphone' : 'camera' },
      });
      this.producers[section.kind] = producerId;
    }
    if (data) {
      const { dataProducerId } = await this.client.request('produceData', {
        transportId: transport.transportId, sctpStreamParameters: { streamId: 1, ordered: true }, label: 'chat', protocol: 'text',
      });
      this.producers.data = dataProducerId;
    }
    await waitFor(() => pc.connectionState === 'connected', 'send connection');
    if (this.sendChannel) await waitFor(() => this.sendChannel!.readyState === 'open', 'send data channel');
    this.startSending(tracks, audioFrames);
  }

  /** Synthetic media: an Opus frame every 20 ms, a real VP8 key frame every 33 ms. Stops after `maxSeconds`. */
  private startSending(tracks: Partial<Record<'audio' | 'video', MediaStreamTrack>>, audioFrames?: Buffer[], maxSeconds = 120) {
    // n counts this stream's packets: it is the sequence number and paces the timestamp.
    const every = (ms: number, fn: (n: number) => void) => {
      let n = 0;
      const limit = Math.floor((maxSeconds * 1000) / ms);
      const t = setInterval(() => (++n > limit ? clearInterval(t) : fn(n)), ms);
      this.timers.push(t);
    };
    // Loud audio (-10 dBov, voice activity bit set), so the active-speaker observer hears it.
    const level = { id: AUDIO_LEVEL_EXT.id, payload: Buffer.from([0x80 | 10]) };
    const frame = (n: number) => (audioFrames?.length ? audioFrames[n % audioFrames.length] : this.speech.shift() ?? OPUS_SILENCE);
    if (tracks.audio) every(20, (n) => tracks.audio!.writeRtp(new RtpPacket(new RtpHeader({ sequenceNumber: n & 0xffff, timestamp: n * 960, extension: true, extensions: [level] }), frame(n))));
    if (tracks.video) {
      const payloads = vp8Packets(vp8TestFrame());
      let seq = 0;
      every(33, (n) => payloads.forEach((payload, i) => tracks.video!.writeRtp(new RtpPacket(
        new RtpHeader({ sequenceNumber: ++seq & 0xffff, timestamp: n * 3000, marker: i === payloads.length - 1 }), payload,
      ))));
    }
  }

  /** Frames queued by say(), sent in place of silence (without audioFrames). */
  private readonly speech: Buffer[] = [];

  /** Says something: these Opus frames go out next on the audio track, then silence again. */
  say(frames: Buffer[]) {
    this.speech.push(...frames);
  }

  /** Frames of say() not sent yet. */
  get saying() {
    return this.speech.length;
  }

  sendMessage(text: string) {
    if (!this.sendChannel) throw new Error('publish({ data: true }) first');
    this.sendChannel.send(text);
  }

  /**
   * Creates the recv transport, waits for the expected newConsumer/newDataConsumer notifications,
   * answers the server's offer and resumes every consumer.
   */
  async subscribe({ consumers, dataConsumers = 0 }: { consumers: number; dataConsumers?: number }) {
    await this.createRecvTransport();
    await this.client.until(() => this.client.notificationsOf('newConsumer').length >= consumers
      && this.client.notificationsOf('newDataConsumer').length >= dataConsumers, 'consumers');
    this.offered.push(...this.client.notificationsOf('newConsumer').slice(0, consumers));
    this.dataOffered.push(...this.client.notificationsOf('newDataConsumer').slice(0, dataConsumers));
    await this.negotiate();
    return this.offered;
  }

  /** For autoSubscribe: false — consume these producers with the consume request. */
  async subscribeByHand(producerIds: string[]) {
    await this.createRecvTransport();
    await this.consumeMore(producerIds);
  }

  /** Consumes more producers on the existing recv connection (renegotiates). */
  async consumeMore(producerIds: string[]) {
    for (const producerId of producerIds) this.offered.push(await this.client.request('consume', { producerId }));
    await this.negotiate();
  }

  private offered: ResponseData<'consume'>[] = [];
  private dataOffered: NotificationData<'newDataConsumer'>[] = [];
  private resumed = new Set<string>();
  private recvTransport?: ResponseData<'createTransport'>;

  private async createRecvTransport() {
    this.recvTransport = await this.client.request('createTransport', { direction: 'recv' });
    this.recvTransportId = this.recvTransport.transportId;
  }

  /** Offers every consumer so far to werift, answers, connects once, resumes the new ones. */
  private async negotiate() {
    const first = !this.recvPc;
    if (first) {
      const pc = new RTCPeerConnection({ codecs: weriftCodecs(this.join.routerRtpCapabilities), ...(await loopbackOnly()) } as never);
      this.recvPc = pc;
      pc.onTransceiverAdded.subscribe((transceiver) => {
        transceiver.onTrack.subscribe((track) => {
          track.onReceiveRtp.subscribe((rtp) => {
            const r = this.received[track.kind as 'audio' | 'video'];
            r.packets++;
            r.bytes += rtp.payload.length;
            this.onRtp?.(track.kind as 'audio' | 'video', rtp.payload);
          });
        });
      });
      for (const d of this.dataOffered) {
        const channel = pc.createDataChannel(d.label, { negotiated: true, id: d.sctpStreamParameters.streamId, ordered: true });
        channel.onMessage.subscribe((msg) => this.messages.push(msg.toString()));
      }
    }
    const pc = this.recvPc!;
    await pc.setRemoteDescription({ type: 'offer', sdp: offerForRecv(this.recvTransport!, this.offered, this.dataOffered.length > 0) });
    await pc.setLocalDescription(await pc.createAnswer());
    if (first) {
      const local = parseLocal(pc.localDescription!.sdp);
      await this.client.request('connectTransport', { transportId: this.recvTransport!.transportId, dtlsParameters: { role: 'client', fingerprints: [local.fingerprint] } });
    }
    for (const c of this.offered) {
      if (this.resumed.has(c.consumerId)) continue;
      this.resumed.add(c.consumerId);
      await this.client.request('resumeConsumer', { consumerId: c.consumerId });
    }
    await waitFor(() => pc.connectionState === 'connected', 'recv connection');
  }

  async close() {
    for (const t of this.timers) clearInterval(t);
    this.client.close();
    await Promise.all([this.sendPc?.close(), this.recvPc?.close()]);
  }
}

/** Polls (bounded) until `check` holds; `check` may be async (a Redis or HTTP look). */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A seller publishing audio and video and a buyer receiving both, with media flowing.
 * `tokenFor` mints the token for each side (identities `${room}-seller`, `${room}-buyer`).
 */
export async function startCall(ws: string, room: string, tokenFor: (identity: string, role: 'seller' | 'buyer') => string) {
  const seller = await WeriftPeer.connect(ws, tokenFor(`${room}-seller`, 'seller'));
  const buyer = await WeriftPeer.connect(ws, tokenFor(`${room}-buyer`, 'buyer'));
  await seller.publish({ data: false });
  await buyer.subscribe({ consumers: 2 });
  await waitFor(() => buyer.received.video.packets > 10, `media in ${room}`);
  return { seller, buyer };
}
