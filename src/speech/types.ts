import type { EventEmitter } from 'node:events';

/**
 * The speech and language layer's three kinds of engine, after LiveKit Agents' STT and TTS
 * stream interfaces: engines are plugged in per tenant and per language (SpeechEngines), and
 * every one of them runs its work outside the node's event loop (a child process, or a remote
 * service). Audio is 16-bit signed little-endian PCM, mono.
 */

/** What a speech-to-text stream says, as it hears it. Times are ms of the stream's audio. */
export type SpeechEvent =
  | { type: 'start'; ms: number }
  | { type: 'interim'; text: string; ms: number }
  | { type: 'final'; text: string; startMs: number; endMs: number }
  /** The engine failed (its process died, its service refused); the stream is over. */
  | { type: 'error'; message: string };

/** One stream of speech being recognised: audio in as it comes, events out. */
export interface SpeechStream extends EventEmitter<{ event: [SpeechEvent] }> {
  /** 16 kHz mono PCM. */
  push(pcm: Buffer): void;
  /** No more audio: the last utterance ends, then the stream. */
  end(): void;
  /** Stops now, without a last result. */
  close(): void;
}

export interface SpeechToText {
  readonly id: string;
  /** Streams give interim results as speech goes on (else finals only, per utterance). */
  readonly interimResults: boolean;
  /** Whether it recognises this language (BCP-47), and if not, why. */
  supports(language: string): true | string;
  stream(language: string): SpeechStream;
}

export interface Translator {
  readonly id: string;
  supports(from: string, to: string): boolean;
  translate(text: string, from: string, to: string): Promise<string>;
}

/** Synthesized speech: PCM at its own sample rate, mono. */
export interface Speech {
  pcm: Buffer;
  sampleRate: number;
}

export interface TextToSpeech {
  readonly id: string;
  supports(language: string): boolean;
  synthesize(text: string, language: string, voice?: string): Promise<Speech>;
}

/** The rate every recogniser here takes. */
export const SPEECH_SAMPLE_RATE = 16_000;
