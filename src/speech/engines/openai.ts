import { EventEmitter } from 'node:events';
import { primary } from '../../common/languages.js';
import type { Speech, SpeechEvent, SpeechStream, SpeechToText, TextToSpeech, Translator } from '../types.js';
import { SPEECH_SAMPLE_RATE } from '../types.js';
import { EnergyVad } from '../vad.js';
import { fromWav, toWav } from '../wav.js';

/** An OpenAI-compatible service (OpenAI, or a self-hosted Whisper, LLM or TTS server that speaks its API). */
export interface OpenAiService {
  /** Up to and with /v1, for example https://api.openai.com/v1 or http://whisper.internal:8000/v1. */
  baseUrl: string;
  apiKey: string;
  transcriptionModel: string;
  chatModel: string;
  speechModel: string;
  voice: string;
  /** One request may take this long (ms). */
  timeoutMs: number;
}

const post = async (service: OpenAiService, path: string, body: BodyInit, contentType?: string) => {
  const res = await fetch(`${service.baseUrl.replace(/\/$/, '')}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${service.apiKey}`, ...(contentType ? { 'content-type': contentType } : {}) },
    body,
    signal: AbortSignal.timeout(service.timeoutMs),
  });
  if (!res.ok) throw new Error(`${path} answered ${res.status}: ${(await res.text().catch(() => '')).slice(0, 200)}`);
  return res;
};

/**
 * Speech to text through /audio/transcriptions (Whisper's API): the audio is cut into
 * utterances by a voice-activity detector in the node, and each is uploaded as a WAV file
 * (multipart, with the model and the language). Whisper answers whole utterances: finals only.
 * It recognises whatever languages the service does.
 */
export class OpenAiSpeechToText implements SpeechToText {
  readonly id = 'openai-transcriptions';
  readonly interimResults = false;

  constructor(private readonly service: OpenAiService) {}

  supports(): true {
    return true;
  }

  stream(language: string): SpeechStream {
    return new UtteranceStream(async (pcm) => {
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(toWav(pcm, SPEECH_SAMPLE_RATE))], { type: 'audio/wav' }), 'utterance.wav');
      form.append('model', this.service.transcriptionModel);
      form.append('language', primary(language));
      form.append('response_format', 'json');
      const answer = (await (await post(this.service, '/audio/transcriptions', form)).json()) as { text?: unknown };
      if (typeof answer.text !== 'string') throw new Error('/audio/transcriptions answered no text');
      return answer.text.trim();
    });
  }
}

/** Utterances found by the detector, transcribed one after the other, in order. */
class UtteranceStream extends EventEmitter<{ event: [SpeechEvent] }> implements SpeechStream {
  private readonly vad = new EnergyVad();
  private chain = Promise.resolve();
  private closed = false;
  private waiting = 0;

  constructor(private readonly transcribe: (pcm: Buffer) => Promise<string>) {
    super();
  }

  push(pcm: Buffer) {
    if (!this.closed) this.vad.push(pcm, (e) => this.detected(e));
  }

  private detected(e: Parameters<Parameters<EnergyVad['push']>[1]>[0]) {
    if (e.type === 'start') return void this.emit('event', { type: 'start', ms: e.ms });
    // A service that falls behind: at most a few utterances wait for it; the rest are not sent.
    if (this.waiting >= 3) return;
    this.waiting++;
    this.chain = this.chain.then(async () => {
      try {
        const text = await this.transcribe(e.pcm);
        if (!this.closed && text) this.emit('event', { type: 'final', text, startMs: e.startMs, endMs: e.endMs });
      } catch (err) {
        if (!this.closed) this.emit('event', { type: 'error', message: (err as Error).message });
        this.closed = true;
      } finally {
        this.waiting--;
      }
    });
  }

  end() {
    this.vad.flush((e) => this.detected(e));
  }

  close() {
    this.closed = true;
  }
}

/** Translation through /chat/completions, asked for the translation alone. */
export class OpenAiTranslator implements Translator {
  readonly id = 'openai-chat';

  constructor(private readonly service: OpenAiService) {}

  supports() {
    return true;
  }

  async translate(text: string, from: string, to: string): Promise<string> {
    const body = JSON.stringify({
      model: this.service.chatModel,
      temperature: 0,
      messages: [
        { role: 'system', content: `Translate the user's message from ${from} to ${to}. Answer with the translation only, nothing else.` },
        { role: 'user', content: text },
      ],
    });
    const answer = (await (await post(this.service, '/chat/completions', body, 'application/json')).json()) as { choices?: Array<{ message?: { content?: unknown } }> };
    const content = answer.choices?.[0]?.message?.content;
    if (typeof content !== 'string' || !content.trim()) throw new Error('/chat/completions answered no translation');
    return content.trim();
  }
}

/** Text to speech through /audio/speech, as a WAV (PCM inside). */
export class OpenAiTextToSpeech implements TextToSpeech {
  readonly id = 'openai-speech';

  constructor(private readonly service: OpenAiService) {}

  supports() {
    return true;
  }

  async synthesize(text: string, _language: string, voice?: string): Promise<Speech> {
    const body = JSON.stringify({ model: this.service.speechModel, input: text, voice: voice ?? this.service.voice, response_format: 'wav' });
    return fromWav(Buffer.from(await (await post(this.service, '/audio/speech', body, 'application/json')).arrayBuffer()));
  }
}
