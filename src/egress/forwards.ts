import type { types } from 'mediasoup';
import type { Logger } from '../logging/logger.js';
import type { ForwardView } from '../contracts/records.js';
import type { Peer } from '../rooms/peer.js';
import type { Room } from '../rooms/room.js';
import type { ForwardTargets } from './forward-targets.js';
import { newId } from '../rooms/room-settings.js';
import { RtpEgress } from './rtp-egress.js';
import { rtpSdp } from './sdp.js';
import { CodedError } from '../common/errors.js';

export interface ForwardRequest {
  /** An IP address (not a name: the allow-list is checked against what is actually used). */
  host: string;
  audioPort?: number;
  videoPort?: number;
  srtp?: boolean;
  /** Ask the participant for a video key frame this often (a vision model joining late needs one). */
  keyframeIntervalMs?: number;
}

interface Forward {
  view: ForwardView;
  egresses: RtpEgress[];
  timer?: NodeJS.Timeout;
}

/**
 * RTP out to services that are not participants (transcription, triage, quality checks), as
 * LiveKit's track egress and Janus's rtp_forward do: a participant's tracks sent as RTP or SRTP
 * to a host and ports the platform names, only where ForwardTargets allows.
 * A forward ends when it is stopped, its track ends, or its room closes.
 */
export class Forwarder {
  private readonly rooms = new Map<Room, Map<string, Forward>>();
  /** Forwards being opened per room: counted against the room's limit before anything is awaited. */
  private readonly opening = new Map<Room, number>();

  constructor(private readonly targets: ForwardTargets, private readonly listenIp: string, private readonly maxPerRoom: number, private readonly log: Logger) {}

  get count() {
    let n = 0;
    for (const forwards of this.rooms.values()) n += forwards.size;
    return n;
  }

  observe(room: Room) {
    this.rooms.set(room, new Map());
    room.once('closed', () => {
      for (const id of [...(this.rooms.get(room)?.keys() ?? [])]) this.stop(room, id);
      this.rooms.delete(room);
    });
  }

  list(room: Room): ForwardView[] {
    return [...(this.rooms.get(room)?.values() ?? [])].map((f) => f.view);
  }

  async start(room: Room, peerId: string, req: ForwardRequest): Promise<ForwardView | null> {
    const forwards = this.rooms.get(room);
    const peer = room.peers.get(peerId);
    if (!forwards || !peer) return null;
    const wanted = ([['audio', req.audioPort], ['video', req.videoPort]] as const).filter(([, port]) => port !== undefined);
    if (wanted.length === 0) throw new CodedError('BAD_REQUEST', 'give audioPort, videoPort or both');
    const opening = this.opening.get(room) ?? 0;
    if (forwards.size + opening >= this.maxPerRoom) throw new CodedError('LIMIT_REACHED', `room ${room.settings.name} has ${this.maxPerRoom} forwards running (limits.forwardsPerRoom)`);
    this.opening.set(room, opening + 1);
    try {
      await this.targets.check(req.host, wanted.map(([, port]) => port!));
      return await this.open(room, forwards, peer, req, wanted);
    } finally {
      const left = (this.opening.get(room) ?? 1) - 1;
      if (left > 0) this.opening.set(room, left);
      else this.opening.delete(room);
    }
  }

  private async open(room: Room, forwards: Map<string, Forward>, peer: Peer, req: ForwardRequest, wanted: ReadonlyArray<readonly ['audio' | 'video', number | undefined]>): Promise<ForwardView> {
    const peerId = peer.id;
    const id = newId('fwd');
    const egresses: RtpEgress[] = [];
    try {
      for (const [kind, port] of wanted) {
        const producer = [...peer.producers.values()].find((p) => p.kind === kind && !p.closed);
        if (!producer) throw new CodedError('NOT_FOUND', `${peerId} has no ${kind} track`);
        egresses.push(await RtpEgress.open(peer.router, producer.id, { ip: req.host, port: port! }, { listenIp: this.listenIp, srtp: req.srtp, appData: { forwardId: id } }));
      }
    } catch (err) {
      for (const e of egresses) e.close();
      throw err;
    }
    const view: ForwardView = {
      forwardId: id, identity: peerId, host: req.host, srtp: req.srtp ?? false, startedAt: new Date().toISOString(),
      streams: egresses.map((e) => {
        const { codec } = e.sdpStream();
        return {
          kind: e.consumer.kind, trackId: e.consumer.producerId, port: e.target.port, rtcpPort: e.target.rtcpPort,
          payloadType: codec.payloadType, mimeType: codec.mimeType, clockRate: codec.clockRate, channels: codec.channels,
          ssrc: e.consumer.rtpParameters.encodings![0].ssrc!,
        };
      }),
      sdp: rtpSdp(req.host, egresses.map((e) => e.sdpStream())),
    };
    const forward: Forward = { view, egresses };
    forwards.set(id, forward);
    for (const e of egresses) {
      e.consumer.observer.once('close', () => this.stop(room, id));
      await e.start();
    }
    if (req.keyframeIntervalMs) forward.timer = setInterval(() => egresses.forEach((e) => void e.requestKeyFrame()), req.keyframeIntervalMs);
    this.log.info({ forwardId: id, peerId, host: req.host, streams: view.streams.length }, 'forwarding RTP');
    return view;
  }

  stop(room: Room, id: string) {
    const forward = this.rooms.get(room)?.get(id);
    if (!forward) return false;
    this.rooms.get(room)!.delete(id);
    clearInterval(forward.timer);
    for (const e of forward.egresses) e.close();
    this.log.info({ forwardId: id }, 'forward stopped');
    return true;
  }
}
