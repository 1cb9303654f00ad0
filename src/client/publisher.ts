import type { types } from 'mediasoup-client';
import { SfuError } from './errors.js';
import type { Source, VideoCodec } from './events.js';
import type { NodeConnection } from './node-connection.js';
import { watchSendLayers } from './send-layers.js';

export interface LocalTrack {
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

/** The browser's refusals of getUserMedia, as codes an app can show a sentence for. */
const MEDIA_ERRORS: Record<string, 'MEDIA_PERMISSION_DENIED' | 'MEDIA_NOT_FOUND' | 'MEDIA_IN_USE'> = {
  NotAllowedError: 'MEDIA_PERMISSION_DENIED', SecurityError: 'MEDIA_PERMISSION_DENIED',
  NotFoundError: 'MEDIA_NOT_FOUND', OverconstrainedError: 'MEDIA_NOT_FOUND',
  NotReadableError: 'MEDIA_IN_USE', AbortError: 'MEDIA_IN_USE',
};

export async function getUserMedia(constraints: MediaStreamConstraints) {
  const what = Object.keys(constraints).map((k) => (k === 'video' ? 'camera' : k === 'audio' ? 'microphone' : k)).join(' and ');
  if (!navigator.mediaDevices?.getUserMedia) throw new SfuError('MEDIA_UNAVAILABLE', `this page cannot use a ${what}: it needs https:// or localhost`);
  try {
    return await navigator.mediaDevices.getUserMedia(constraints);
  } catch (err) {
    const code = MEDIA_ERRORS[(err as Error).name] ?? 'MEDIA_UNAVAILABLE';
    throw new SfuError(code, `cannot open the ${what}: ${(err as Error).name}: ${(err as Error).message}`);
  }
}

/**
 * What this participant sends: one local track per source, each produced on the current
 * connection. The tracks outlive connections: after a rejoin they are produced again.
 */
export class Publisher {
  private readonly local = new Map<Source, LocalTrack>();

  constructor(private readonly connection: () => NodeConnection | undefined) {}

  tracks(): Iterable<LocalTrack> {
    return this.local.values();
  }

  byProducer(producerId: string) {
    return [...this.local.values()].find((l) => l.producer?.id === producerId);
  }

  /** Publishes any track (replacing what the source published before). */
  async publish(source: Source, track: MediaStreamTrack, layered: boolean, codec?: VideoCodec) {
    // Publishing a source again replaces it: the old producer closes for everyone.
    if (this.local.get(source)?.track !== track) await this.unpublish(source);
    const local: LocalTrack = { source, track, muted: false, layered, codec };
    this.local.set(source, local);
    await this.produce(local);
    return track;
  }

  async setMuted(source: Source, muted: boolean) {
    const local = this.local.get(source);
    if (!local) throw new SfuError('NOT_FOUND', `nothing published as ${source}`);
    local.muted = muted;
    local.track.enabled = !muted;
    const connection = this.connection();
    if (!local.producer || !connection?.open) return;
    if (muted) local.producer.pause();
    else local.producer.resume();
    await connection.signaling.request(muted ? 'pauseProducer' : 'resumeProducer', { producerId: local.producer.id });
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
    const stream = await getUserMedia({ video: deviceId ? { deviceId: { exact: deviceId } } : true });
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
    const connection = this.connection();
    if (local.producer && connection?.open) {
      local.producer.close();
      await connection.signaling.request('closeProducer', { producerId: local.producer.id }).catch(() => undefined);
    }
  }

  /** The platform muted or unmuted one of our producers on the server: mirror it here. Returns its source. */
  mutedByServer(producerId: string, muted: boolean): Source | undefined {
    const local = this.byProducer(producerId);
    if (!local?.producer) return undefined;
    local.muted = muted;
    local.track.enabled = !muted;
    if (muted) local.producer.pause();
    else local.producer.resume();
    return local.source;
  }

  /** The server ended one of our producers (its transport closed): it is produced again on the next rejoin. */
  producerClosed(producerId: string) {
    const local = this.byProducer(producerId);
    local?.producer?.close();
    if (local) local.producer = undefined;
  }

  /** After a (re)join or resume: every local track without a producer is produced. */
  async republish() {
    for (const local of this.local.values()) if (!local.producer) await this.produce(local);
  }

  /** After a resume: producers the server no longer has are produced again (republish). */
  reconcile(producerIds: string[]) {
    for (const local of this.local.values()) {
      if (local.producer && !producerIds.includes(local.producer.id)) {
        local.producer.close();
        local.producer = undefined;
      }
    }
  }

  /** The connection is gone: producers with it; the tracks stay for the next one. */
  detach() {
    for (const local of this.local.values()) local.producer = undefined;
  }

  stopAll() {
    for (const local of this.local.values()) local.track.stop();
    this.local.clear();
  }

  private async produce(local: LocalTrack) {
    const connection = this.connection();
    if (!connection?.open) return; // produced by the next rejoin
    const transport = await connection.ensureSendTransport();
    const codec = local.codec && connection.device.rtpCapabilities.codecs?.find((c) => c.mimeType.toLowerCase() === `video/${local.codec!.toLowerCase()}`);
    if (local.codec && !codec) throw new SfuError('MEDIA_UNAVAILABLE', `${local.codec} is not available between this browser and the node`);
    const layers = local.codec === 'VP9' ? SVC_ENCODINGS : CAMERA_ENCODINGS;
    local.producer = await transport.produce({
      track: local.track,
      ...(codec ? { codec } : {}),
      ...(local.layered ? { encodings: layers } : {}),
      // Start high: without this the top simulcast layer takes ~20 s to appear.
      // Audio: in-band FEC and NACK (retransmission; mediasoup-client drops audio NACK without opusNack).
      codecOptions: local.track.kind === 'video' ? { videoGoogleStartBitrate: 1000 } : { opusDtx: true, opusFec: true, opusNack: true },
      stopTracks: false,
      appData: { source: local.source, paused: local.muted },
    });
    if (local.muted) local.producer.pause();
    if (local.layered && layers === CAMERA_ENCODINGS) {
      watchSendLayers(local.producer, layers.map((l) => l.maxBitrate!), (method, data) => connection.signaling.request(method, data));
    }
  }
}
