import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { AudioClock } from '../../src/captions/audio-clock.js';
import { loadConfig } from '../../src/config/load.js';
import { Espeak } from '../../src/speech/engines/espeak.js';
import { SpeechEngines } from '../../src/speech/speech-engines.js';
import { EnergyVad, type VadEvent } from '../../src/speech/vad.js';
import { fromWav, toWav } from '../../src/speech/wav.js';
import { Tenants } from '../../src/tenants/tenants.js';
import { GOFORWARD_RAW, padded } from '../helpers/speech-clips.js';

describe('the audio clock', () => {
  it('maps a recogniser\'s audio time to when that audio arrived, across a pause in the audio', () => {
    const clock = new AudioClock(16_000);
    const chunk = 640; // 20 ms
    for (let i = 0; i < 50; i++) clock.fed(chunk, 1000 + i * 20); // 1 s of audio from t=1000
    // The participant muted for 5 s: nothing came; then 1 s more.
    for (let i = 0; i < 50; i++) clock.fed(chunk, 7000 + i * 20);
    expect(clock.at(0)).toBe(1000);
    expect(clock.at(510)).toBe(1510);
    expect(clock.at(1000)).toBe(7000);
    expect(clock.at(1500)).toBe(7500);
  });
});

describe('the voice-activity detector', () => {
  it('finds the one utterance of the clip, within its silence', () => {
    const pcm = padded(fs.readFileSync(GOFORWARD_RAW), 1000, 1000);
    const vad = new EnergyVad();
    const events: VadEvent[] = [];
    for (let at = 0; at < pcm.length; at += 1000) vad.push(pcm.subarray(at, at + 1000), (e) => events.push(e));
    vad.flush((e) => events.push(e));
    expect(events.map((e) => e.type)).toEqual(['start', 'end']);
    const end = events[1] as Extract<VadEvent, { type: 'end' }>;
    // The clip's words lie between 1.5 s and 3.35 s of this audio (energy: 0.5 s to 2.35 s of the file).
    expect(end.startMs).toBeGreaterThan(1000);
    expect(end.startMs).toBeLessThan(1600);
    expect(end.endMs).toBeGreaterThan(3200);
    expect(end.endMs).toBeLessThan(3800);
    // What it hands on is the utterance, from its start (the frames before the start included), and its hangover.
    expect(end.pcm.length).toBeGreaterThanOrEqual((end.endMs - end.startMs) * 32);
    expect(end.pcm.length).toBeLessThanOrEqual((end.endMs - end.startMs + 600) * 32);
  });
});

describe('WAV', () => {
  it('round-trips PCM, and reads a streaming writer\'s file (espeak-ng --stdout)', async () => {
    const pcm = Buffer.from(Int16Array.from({ length: 1600 }, (_, i) => (i * 37) % 3000 - 1500).buffer);
    expect(fromWav(toWav(pcm, 16_000))).toEqual({ pcm, sampleRate: 16_000 });
    const speech = await new Espeak().synthesize('hola, ¿cómo está?', 'es');
    expect(speech.sampleRate).toBe(22_050);
    expect(speech.pcm.length).toBeGreaterThan(22_050); // over half a second of speech
  });
});

describe('which engine does what for whom', () => {
  const config = loadConfig({});
  const engines = new SpeechEngines(config.speech);
  afterAll(() => engines.close());
  const tenants = new Tenants({ ...config, tenants: [
    { id: 'offline' },
    { id: 'remote', speech: { openai: { baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'k' } } },
    { id: 'remote-first', speech: { prefer: 'openai', openai: { baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'k' } } },
  ] });
  const id = (c: { engine: { id: string } } | { reason: string }) => ('engine' in c ? c.engine.id : c.reason);

  it('English speech and English↔Spanish offline; everything else through the tenant\'s service, or a reason', () => {
    const offline = tenants.get('offline')!;
    const remote = tenants.get('remote')!;
    expect(id(engines.speechToText(offline, 'en-GB'))).toBe('pocketsphinx');
    expect(id(engines.speechToText(offline, 'zh'))).toMatch(/^no engine recognises zh: pocketsphinx recognises English only.*no OpenAI-compatible service/);
    expect(id(engines.speechToText(remote, 'zh'))).toBe('openai-transcriptions');
    expect(id(engines.translator(offline, 'es', 'en'))).toBe('apertium');
    expect(id(engines.translator(offline, 'en', 'zh'))).toMatch(/^no engine translates en to zh \(offline: .*en>es/);
    expect(id(engines.translator(remote, 'en', 'zh'))).toBe('openai-chat');
    expect(id(engines.textToSpeech(offline, 'zh'))).toBe('espeak-ng');
    // prefer: openai puts the service first where both could.
    expect(id(engines.speechToText(tenants.get('remote-first')!, 'en'))).toBe('openai-transcriptions');
    expect(id(engines.translator(tenants.get('remote-first')!, 'en', 'es'))).toBe('openai-chat');
  });

  it('translates into each other language once, and says why for the rest', async () => {
    const t = await engines.translate(tenants.get('offline')!, 'Thank you', 'en-US', ['en', 'es-MX', 'es', 'zh-CN']);
    expect(t).toEqual({ translations: { es: 'Gracias' }, untranslated: { zh: expect.stringMatching(/no engine translates en to zh/) }, characters: 'Thank you'.length });
  });
});
