import type { types } from 'mediasoup-client';
import type { NotificationData, ResponseData } from '../contracts/protocol.js';
import type { Emit, Participant, RemoteTrack } from './events.js';
import { toClient, type NodeConnection } from './node-connection.js';

/** Below this round trip to the node, the browser's own jitter buffer is left alone. */
const FAR_RTT_MS = 100;
/** The most playout delay added for a far link: past it, a conversation suffers more than the picture gains. */
const MAX_JITTER_TARGET_MS = 500;

/** Loss left after retransmission at or above which a link counts as lossy, and below which it no longer does. */
const LOSSY_FROM = 0.02;
const LOSSY_UNTIL = 0.005;

/**
 * How long the browser should hold received media before playing it, for a link with this
 * round trip: a lost packet is asked for again (NACK) and resent, which takes a round trip
 * to the node, or more when the loss was on the sender's side. With the default buffer, sized
 * for the jitter alone, the resent packet comes too late on a far link, and the video freezes
 * (or the audio is concealed) as if it had not been resent at all. One round trip for video
 * (more delayed the first frame past 3 s at 200 ms), one and a half for audio (one left 4.7%
 * of it concealed at 3% loss): measured in docs/call-quality.md. On a `lossy` link (loss that
 * retransmission within that buffer did not repair) a resent packet is often lost again, and
 * its second resend takes one more round trip: then two for video, two and a half for audio.
 */
export function jitterTargetMs(rttMs: number | undefined, kind: 'audio' | 'video', lossy = false): number | null {
  if (rttMs === undefined || rttMs < FAR_RTT_MS) return null;
  const roundTrips = kind === 'audio' ? (lossy ? 2.5 : 1.5) : (lossy ? 2 : 1);
  return Math.min(MAX_JITTER_TARGET_MS, Math.round(rttMs * roundTrips));
}

/** Who else is in the call and what this participant receives from them. */
export class Subscriber {
  readonly participants = new Map<string, Participant>();
  readonly remoteTracks = new Map<string, RemoteTrack>();
  private readonly consumers = new Map<string, types.Consumer>();
  /** Consumers whose producer is paused now (a mute): they receive nothing, on purpose. */
  private readonly producerPaused = new Set<string>();
  private linkRtt?: number;
  private lossy = false;

  constructor(private readonly connection: () => NodeConnection | undefined, private readonly emit: Emit) {}

  consumer(consumerId: string) {
    return this.consumers.get(consumerId);
  }

  /** The sender paused (or resumed) what this consumer receives. */
  setProducerPaused(consumerId: string, paused: boolean) {
    if (paused) this.producerPaused.add(consumerId);
    else this.producerPaused.delete(consumerId);
  }

  /** Whether the received track with this MediaStreamTrack id is paused by its sender now. */
  isPaused(trackId: string) {
    for (const id of this.producerPaused) if (this.remoteTracks.get(id)?.track.id === trackId) return true;
    return false;
  }

  /** The round trip to the node, as last measured: every receiver's playout target follows it. */
  setLinkRtt(rttMs: number | undefined) {
    if (rttMs === this.linkRtt) return;
    this.linkRtt = rttMs;
    for (const consumer of this.consumers.values()) this.applyJitterTarget(consumer);
  }

  /** The share of packets lost over the last interval, after retransmission: a lossy link gets a longer playout target. */
  setLinkLoss(lossRate: number) {
    const lossy = this.lossy ? lossRate >= LOSSY_UNTIL : lossRate >= LOSSY_FROM;
    if (lossy === this.lossy) return;
    this.lossy = lossy;
    for (const consumer of this.consumers.values()) this.applyJitterTarget(consumer);
  }

  private applyJitterTarget(consumer: types.Consumer) {
    const receiver = consumer.rtpReceiver as (RTCRtpReceiver & { jitterBufferTarget?: number | null }) | undefined;
    // jitterBufferTarget is Chromium's (WebRTC extensions); elsewhere the browser's default stays.
    if (receiver && 'jitterBufferTarget' in receiver) receiver.jitterBufferTarget = jitterTargetMs(this.linkRtt, consumer.kind, this.lossy);
  }

  addParticipant(p: Participant) {
    const participant: Participant = { id: p.id, name: p.name, role: p.role, ...(p.language ? { language: p.language } : {}) };
    this.participants.set(p.id, participant);
    this.emit('participantJoined', participant);
  }

  /** What others see of a participant changed (its language). */
  updateParticipant(p: Participant) {
    if (!this.participants.has(p.id)) return this.addParticipant(p);
    const participant: Participant = { id: p.id, name: p.name, role: p.role, ...(p.language ? { language: p.language } : {}) };
    this.participants.set(p.id, participant);
    this.emit('participantUpdated', participant);
  }

  participantLeft(peerId: string) {
    const p = this.participants.get(peerId);
    this.participants.delete(peerId);
    for (const t of [...this.remoteTracks.values()]) if (t.participantId === peerId) this.removeTrack(t.consumerId);
    if (p) this.emit('participantLeft', p);
  }

  async newConsumer(d: NotificationData<'newConsumer'>) {
    const connection = this.connection();
    if (!connection?.recvTransport) return;
    const consumer = await connection.recvTransport.consume({ id: d.consumerId, producerId: d.producerId, kind: d.kind, rtpParameters: toClient<types.RtpParameters>(d.rtpParameters) });
    this.consumers.set(consumer.id, consumer);
    this.setProducerPaused(consumer.id, d.producerPaused);
    this.applyJitterTarget(consumer);
    const track: RemoteTrack = {
      participantId: d.peerId, consumerId: consumer.id, producerId: d.producerId, kind: d.kind,
      source: d.appData.source as string | undefined, track: consumer.track,
    };
    this.remoteTracks.set(consumer.id, track);
    await connection.signaling.request('resumeConsumer', { consumerId: consumer.id });
    this.emit('trackAdded', track);
  }

  removeTrack(consumerId: string) {
    this.consumers.get(consumerId)?.close();
    this.consumers.delete(consumerId);
    this.producerPaused.delete(consumerId);
    const track = this.remoteTracks.get(consumerId);
    if (!track) return;
    this.remoteTracks.delete(consumerId);
    this.emit('trackRemoved', track);
  }

  /**
   * After a resume: the room as it is now, and the consumers the server holds for us. Whoever
   * left meanwhile leaves; consumers we never heard of are created; ones the server dropped end.
   */
  async reconcile(peers: ResponseData<'join'>['peers'], consumers: NotificationData<'newConsumer'>[]) {
    const present = new Set(peers.map((p) => p.id));
    for (const id of [...this.participants.keys()]) if (!present.has(id)) this.participantLeft(id);
    for (const p of peers) if (!this.participants.has(p.id)) this.addParticipant(p);
    const kept = new Set(consumers.map((c) => c.consumerId));
    for (const id of [...this.remoteTracks.keys()]) if (!kept.has(id)) this.removeTrack(id);
    await Promise.all(consumers.filter((c) => !this.consumers.has(c.consumerId)).map((c) => this.newConsumer(c)));
  }

  /** The connection is gone: every remote track ends and everyone leaves, until the rejoin. */
  clear() {
    for (const id of [...this.remoteTracks.keys()]) this.removeTrack(id);
    for (const p of [...this.participants.values()]) this.emit('participantLeft', p);
    this.participants.clear();
  }
}
