import type { types } from 'mediasoup';
import type { ErrorCode } from '../common/errors.js';
import type { Ffmpeg } from '../egress/ffmpeg.js';
import type { Logger } from '../logging/logger.js';
import type { Peer } from '../rooms/peer.js';
import type { Room } from '../rooms/room.js';
import type { SpeechEngines } from '../speech/speech-engines.js';
import type { Tenants } from '../tenants/tenants.js';
import { CaptionStream, type CaptionState } from './caption-stream.js';

export interface CaptionsDeps {
  engines: SpeechEngines;
  tenants: Tenants;
  ffmpeg: Ffmpeg;
  /** Participants captioned at once on this node (captions.maxParticipantsPerNode). */
  maxParticipants: number;
  /** Counters for /metrics. */
  counted: { refused(): void; segment(final: boolean): void };
  /** A participant's audio was captioned from `startAt` for `seconds` of audio (usage). */
  captioned(room: Room, peer: Peer, startAt: number, seconds: number): void;
  log: Logger;
}

/** The roles whose speech is captioned: people, not bots (an assistant's speech is its own text already). */
const HUMAN = new Set(['buyer', 'seller', 'agent', 'observer']);

interface Track { room: Room; peer: Peer; producer: types.Producer }

/**
 * Live captions on this node: in every room with captions, each human participant hosted here
 * gets a CaptionStream for its audio track, if an engine recognises its language. Segments go
 * to everyone in the room (the span takes them to the other nodes), finals with the text in
 * every language of the room. At most captions.maxParticipantsPerNode at once: past it, the
 * participant is told CAPTIONS_FULL and the refusal counted, the call goes on, and it gets a
 * place when one frees.
 */
export class Captions {
  /** Audio tracks that would be captioned, by producer id. */
  private readonly tracks = new Map<string, Track>();
  /** The ones that are, with when they started. */
  private readonly streams = new Map<string, { stream: CaptionStream; startedAt: number }>();
  /** Tracks refused for the cap, in order: the first gets the next free place. */
  private readonly waiting = new Set<string>();

  constructor(private readonly deps: CaptionsDeps) {}

  /** Participants captioned now. */
  get captioned() {
    return new Set([...this.streams.keys()].map((id) => this.tracks.get(id)!.peer)).size;
  }

  observe(room: Room) {
    const track = (peer: Peer, producer: types.Producer) => {
      if (!room.settings.captions || producer.kind !== 'audio' || !HUMAN.has(peer.claims.role)) return;
      this.tracks.set(producer.id, { room, peer, producer });
      this.consider(producer.id);
    };
    room.on('trackPublished', track);
    // Turned on mid-call: the audio already sending here is captioned from now on.
    room.on('captionsEnabled', () => {
      for (const peer of room.peers.values()) for (const producer of peer.producers.values()) track(peer, producer);
    });
    room.on('trackUnpublished', (_peer, producerId) => this.forget(producerId));
    room.on('peerLeft', (peer) => {
      for (const [id, t] of this.tracks) if (t.peer === peer) this.forget(id);
    });
    room.on('peerUpdated', (peer) => {
      for (const [id, t] of this.tracks) if (t.peer === peer) this.languageChanged(id);
    });
    room.once('closed', () => {
      for (const [id, t] of this.tracks) if (t.room === room) this.forget(id);
    });
  }

  private status(t: Track, state: CaptionState, code?: ErrorCode, message?: string) {
    t.room.broadcast('captionStatus', { peerId: t.peer.id, state, ...(code ? { code } : {}), ...(message ? { message } : {}) });
  }

  private engineFor(t: Track) {
    return this.deps.engines.speechToText(this.deps.tenants.get(t.room.settings.tenant)!, t.peer.language);
  }

  /** Starts captioning a track if an engine covers its language and the node has a place for it. */
  private consider(producerId: string) {
    const t = this.tracks.get(producerId);
    if (!t || this.streams.has(producerId)) return;
    const choice = this.engineFor(t);
    if ('reason' in choice) return this.status(t, 'unavailable', 'NO_ENGINE', choice.reason);
    const alreadyCaptioned = [...this.streams.keys()].some((id) => this.tracks.get(id)?.peer === t.peer);
    if (!alreadyCaptioned && this.captioned >= this.deps.maxParticipants) {
      if (!this.waiting.has(producerId)) this.deps.counted.refused();
      this.waiting.add(producerId);
      return this.status(t, 'unavailable', 'CAPTIONS_FULL', `this node captions ${this.deps.maxParticipants} participants already (captions.maxParticipantsPerNode)`);
    }
    this.waiting.delete(producerId);
    const stream = new CaptionStream(t.producer, t.peer.router, {
      ffmpeg: this.deps.ffmpeg,
      engine: () => {
        const now = this.engineFor(t);
        return 'reason' in now ? now : { engine: now.engine, language: t.peer.language };
      },
      log: t.peer.log.child({ captions: producerId }),
    }, {
      status: (state, code, message) => this.status(t, state, code, message),
      segment: (segment) => {
        this.deps.counted.segment(segment.final);
        void this.caption(t, segment);
      },
    });
    this.streams.set(producerId, { stream, startedAt: Date.now() });
    void stream.start();
  }

  private languageChanged(producerId: string) {
    const t = this.tracks.get(producerId)!;
    const s = this.streams.get(producerId);
    if (!s) return this.consider(producerId);
    const choice = this.engineFor(t);
    if ('reason' in choice) {
      this.stop(producerId);
      return this.status(t, 'unavailable', 'NO_ENGINE', choice.reason);
    }
    s.stream.languageChanged();
  }

  /** A segment to everyone in the room; a final one with its translations first. */
  private async caption({ room, peer }: Track, segment: { segmentId: string; text: string; final: boolean; startMs: number; endMs: number }) {
    const language = peer.language;
    const base = { ...segment, peerId: peer.id, language };
    if (!segment.final) return room.announceCaption(base);
    const t = await room.translated(segment.text, language).catch(() => undefined);
    room.announceCaption({ ...base, translations: t?.translations ?? {}, untranslated: t?.untranslated ?? {} });
  }

  private forget(producerId: string) {
    this.waiting.delete(producerId);
    this.stop(producerId);
    this.tracks.delete(producerId);
  }

  private stop(producerId: string) {
    const s = this.streams.get(producerId);
    if (!s) return;
    this.streams.delete(producerId);
    s.stream.stop();
    const t = this.tracks.get(producerId)!;
    if (s.stream.fedMs > 0) this.deps.captioned(t.room, t.peer, s.startedAt, s.stream.fedMs / 1000);
    // A place freed: the first track refused for the cap gets it.
    for (const id of this.waiting) {
      if (this.captioned >= this.deps.maxParticipants) break;
      this.consider(id);
    }
  }
}
