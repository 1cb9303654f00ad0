import { randomUUID } from 'node:crypto';
import type { types } from 'mediasoup';
import type { Logger } from '../logging/logger.js';
import type { Ffmpeg, FfmpegJob } from '../egress/ffmpeg.js';
import { firstPacket } from '../egress/first-packet.js';
import { RtpEgress } from '../egress/rtp-egress.js';
import { rtpSdp } from '../egress/sdp.js';
import { udpPortBound } from '../egress/udp.js';
import type { SpeechEvent, SpeechStream, SpeechToText } from '../speech/types.js';
import { SPEECH_SAMPLE_RATE } from '../speech/types.js';
import { isErrorCode, type ErrorCode } from '../common/errors.js';
import { AudioClock } from './audio-clock.js';

const newSegmentId = () => `seg_${randomUUID().replace(/-/g, '').slice(0, 16)}`;

/** An engine that dies this many times in a minute is given up on, and the participant told. */
const MAX_RESTARTS = 3;
const RESTART_WINDOW_MS = 60_000;
const LISTEN_TIMEOUT_MS = 5000;

export type CaptionState = 'on' | 'restarting' | 'unavailable' | 'off';

export interface CaptionStreamEvents {
  /** What the recogniser heard, with the epoch times of the speech. */
  segment(segment: { segmentId: string; text: string; final: boolean; startMs: number; endMs: number }): void;
  /** The stream's state for the participant (captionStatus). */
  status(state: CaptionState, code?: ErrorCode, message?: string): void;
}

export interface CaptionStreamDeps {
  ffmpeg: Ffmpeg;
  /** The engine for the participant's language now (it may change mid-call). */
  engine(): { engine: SpeechToText; language: string } | { reason: string };
  log: Logger;
}

/**
 * One participant's audio, captioned: once the track sends, RTP out of mediasoup through a
 * PlainTransport into an ffmpeg that decodes it to 16 kHz mono PCM (a media process of the
 * node's budget), which feeds the recogniser (a child process, or a remote service). Segments
 * come back with ids (an interim one is updated until its final), their times as epoch ms.
 * A recogniser or an ffmpeg that dies is restarted, and the participant told, a few times.
 */
export class CaptionStream {
  private egress?: RtpEgress;
  private decoder?: FfmpegJob;
  private recogniser?: SpeechStream;
  /** When the audio the current recogniser heard arrived (its times count in its audio). */
  private clock = new AudioClock(SPEECH_SAMPLE_RATE);
  private segmentId?: string;
  /** When the current utterance began, epoch ms. */
  private segmentStart = 0;
  private stopped = false;
  private readonly restarts: number[] = [];
  private readonly stopping = new AbortController();
  /** Audio fed to recognisers, ms (usage). */
  fedMs = 0;

  constructor(
    private readonly producer: types.Producer,
    private readonly router: types.Router,
    private readonly deps: CaptionStreamDeps,
    private readonly on: CaptionStreamEvents,
  ) {}

  /** Starts once the track sends; resolves when it runs, or when it could not (the participant is told). */
  async start() {
    const stopped = new Promise<boolean>((resolve) => this.stopping.signal.addEventListener('abort', () => resolve(false), { once: true }));
    if (!(await Promise.race([firstPacket(this.producer), stopped])) || this.stopped) return;
    try {
      await this.openDecoder();
    } catch (err) {
      if (this.stopped) return;
      this.deps.log.warn({ err: (err as Error).message }, 'could not start captioning a track');
      const code = (err as { code?: unknown }).code;
      this.on.status('unavailable', isErrorCode(code) ? code : 'CAPTIONS_FAILED', (err as Error).message);
    }
  }

  /** The participant speaks another language now: a new recogniser for it. */
  languageChanged() {
    if (!this.decoder || this.stopped) return;
    this.closeRecogniser();
    this.openRecogniser();
  }

  stop() {
    if (this.stopped) return;
    this.stopped = true;
    this.stopping.abort();
    this.closeRecogniser();
    void this.decoder?.stop(500);
    this.egress?.close();
    this.on.status('off');
  }

  private async openDecoder() {
    const port = await this.deps.ffmpeg.freePortPair();
    const egress = await RtpEgress.open(this.router, this.producer.id, { ip: '127.0.0.1', port }, { listenIp: '127.0.0.1', appData: { captions: true } });
    let decoder: FfmpegJob;
    try {
      decoder = await this.deps.ffmpeg.start('caption', [
        // No probing and no buffering: the caption follows the speech.
        '-protocol_whitelist', 'pipe,udp,rtp', '-fflags', 'nobuffer', '-flags', 'low_delay', '-probesize', '32', '-analyzeduration', '0', '-f', 'sdp', '-i', 'pipe:0',
        '-vn', '-ac', '1', '-ar', String(SPEECH_SAMPLE_RATE), '-f', 's16le', '-flush_packets', '1', 'pipe:1',
      ], { input: rtpSdp('127.0.0.1', [egress.sdpStream()]), stdout: 'pipe', signal: this.stopping.signal });
    } catch (err) {
      egress.close();
      throw err;
    }
    if (this.stopped) {
      void decoder.stop(200);
      egress.close();
      return;
    }
    this.egress = egress;
    this.decoder = decoder;
    decoder.stdout!.on('data', (pcm: Buffer) => {
      if (!this.recogniser) return;
      this.fedMs += (pcm.length / 2 / SPEECH_SAMPLE_RATE) * 1000;
      this.clock.fed(pcm.length);
      this.recogniser.push(pcm);
    });
    void decoder.exited.then((exit) => {
      egress.close();
      if (this.stopped || exit.stopped) return;
      this.deps.log.warn({ code: exit.code, signal: exit.signal }, 'the captions\' decoder exited');
      this.restart(() => this.reopenDecoder());
    });
    const deadline = Date.now() + LISTEN_TIMEOUT_MS;
    while (decoder.running && !udpPortBound(port) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    this.openRecogniser();
    await egress.start();
    this.on.status('on');
  }

  private reopenDecoder() {
    this.closeRecogniser();
    this.decoder = undefined;
    void this.openDecoder().catch((err) => this.on.status('unavailable', 'CAPTIONS_FAILED', (err as Error).message));
  }

  private openRecogniser() {
    const choice = this.deps.engine();
    if ('reason' in choice) {
      this.on.status('unavailable', 'NO_ENGINE', choice.reason);
      return;
    }
    const stream = choice.engine.stream(choice.language);
    this.recogniser = stream;
    this.clock = new AudioClock(SPEECH_SAMPLE_RATE);
    stream.on('event', (e) => this.heard(stream, e));
  }

  private closeRecogniser() {
    this.recogniser?.close();
    this.recogniser = undefined;
    this.segmentId = undefined;
  }

  private heard(stream: SpeechStream, e: SpeechEvent) {
    if (stream !== this.recogniser || this.stopped) return;
    if (e.type === 'error') {
      this.deps.log.warn({ err: e.message }, 'the captions\' recogniser failed');
      this.recogniser = undefined;
      this.restart(() => this.openRecogniser());
      return;
    }
    if (e.type === 'start') {
      this.segmentId = newSegmentId();
      this.segmentStart = this.clock.at(e.ms);
      // An interim caption with no text yet: speech began (an assistant that is speaking stops for it).
      this.on.segment({ segmentId: this.segmentId, text: '', final: false, startMs: this.segmentStart, endMs: this.segmentStart });
      return;
    }
    const segmentId = this.segmentId ?? newSegmentId();
    this.segmentId = segmentId;
    if (e.type === 'interim') {
      this.on.segment({ segmentId, text: e.text, final: false, startMs: this.segmentStart || this.clock.at(0), endMs: this.clock.at(e.ms) });
      return;
    }
    this.segmentId = undefined;
    if (e.text.trim()) this.on.segment({ segmentId, text: e.text.trim(), final: true, startMs: this.clock.at(e.startMs), endMs: this.clock.at(e.endMs) });
  }

  /** Restarts a dead part, a few times a minute, telling the participant. */
  private restart(again: () => void) {
    const now = Date.now();
    while (this.restarts.length && this.restarts[0] < now - RESTART_WINDOW_MS) this.restarts.shift();
    if (this.restarts.length >= MAX_RESTARTS) {
      this.on.status('unavailable', 'CAPTIONS_FAILED', `the captions' engine failed ${MAX_RESTARTS + 1} times within a minute`);
      return;
    }
    this.restarts.push(now);
    this.on.status('restarting');
    again();
    if (this.recogniser) this.on.status('on');
  }
}
