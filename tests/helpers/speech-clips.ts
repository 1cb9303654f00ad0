import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fromWav, toWav } from '../../src/speech/wav.js';

/** Debian's pocketsphinx-testdata: a clip with a known transcript (16 kHz s16le mono). */
export const GOFORWARD_RAW = '/usr/share/pocketsphinx/test/data/goforward.raw';
export const GOFORWARD_TEXT = 'go forward ten meters';
export const LIBRIVOX_DIR = '/usr/share/pocketsphinx/test/data/librivox';

const dir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'sfu-speech-'));

/** `pcm` (16 kHz s16le mono) with `beforeMs` and `afterMs` of silence around it. */
export function padded(pcm: Buffer, beforeMs: number, afterMs: number) {
  const silence = (ms: number) => Buffer.alloc(Math.round((ms / 1000) * 16_000) * 2);
  return Buffer.concat([silence(beforeMs), pcm, silence(afterMs)]);
}

/** The clip as a WAV file, padded with silence (Chromium plays it as its microphone, in a loop). */
export function clipWav(beforeMs = 2000, afterMs = 3000): string {
  const file = path.join(dir(), 'goforward.wav');
  fs.writeFileSync(file, toWav(padded(fs.readFileSync(GOFORWARD_RAW), beforeMs, afterMs), 16_000));
  return file;
}

/**
 * The clip encoded by libopus (48 kHz, 20 ms frames, as a browser sends it), as the Opus packets
 * of its Ogg file: what a WebRTC peer would put in its RTP.
 */
export function clipOpusFrames(beforeMs = 1000, afterMs = 2000): Buffer[] {
  return opusFrames(padded(fs.readFileSync(GOFORWARD_RAW), beforeMs, afterMs));
}

/** `text` said by Flite's "rms" voice (which pocketsphinx recognises almost word for word), as 16 kHz PCM. */
export function spoken(text: string): Buffer {
  const file = path.join(dir(), 'said.wav');
  execFileSync('flite', ['-voice', 'rms', '-t', text, '-o', file]);
  return fromWav(fs.readFileSync(file)).pcm;
}

/** `text` said by a buyer: Flite's voice with a little silence around it, as the Opus frames of its RTP. */
export const spokenFrames = (text: string, beforeMs = 300, afterMs = 900) => opusFrames(padded(spoken(text), beforeMs, afterMs));

/** 16 kHz s16le mono PCM encoded by libopus, one packet per 20 ms frame. */
export function opusFrames(pcm: Buffer): Buffer[] {
  const out = dir();
  const raw = path.join(out, 'clip.raw');
  fs.writeFileSync(raw, pcm);
  const ogg = path.join(out, 'clip.opus');
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 's16le', '-ar', '16000', '-ac', '1', '-i', raw,
    '-ar', '48000', '-c:a', 'libopus', '-b:a', '32k', '-frame_duration', '20', '-application', 'voip', '-f', 'ogg', ogg]);
  return oggPackets(fs.readFileSync(ogg)).slice(2); // after OpusHead and OpusTags
}

/** The packets of an Ogg stream (RFC 3533): each page's segments, joined where a lacing value is 255. */
export function oggPackets(ogg: Buffer): Buffer[] {
  const packets: Buffer[] = [];
  let partial: Buffer[] = [];
  let at = 0;
  while (at + 27 <= ogg.length) {
    if (ogg.toString('latin1', at, at + 4) !== 'OggS') throw new Error(`no Ogg page at byte ${at}`);
    const segments = ogg[at + 26];
    const lacing = ogg.subarray(at + 27, at + 27 + segments);
    let body = at + 27 + segments;
    for (const size of lacing) {
      partial.push(ogg.subarray(body, body + size));
      body += size;
      if (size < 255) {
        packets.push(Buffer.concat(partial));
        partial = [];
      }
    }
    at = body;
  }
  return packets;
}

/** What pocketsphinx (the node's helper, the general English model) hears in 16 kHz PCM: its finals, joined. */
export function recognise(pcm: Buffer): string {
  const model = '/usr/share/pocketsphinx/model/en-us';
  const out = execFileSync('build/pocketsphinx-stream', [path.join(model, 'en-us'), path.join(model, 'en-us.lm.bin'), path.join(model, 'cmudict-en-us.dict')], { input: pcm, encoding: 'utf8', maxBuffer: 16 << 20 });
  return out.split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((m) => m.t === 'final').map((m) => m.text).join(' ').trim();
}

/** Opus packets (48 kHz) decoded to 16 kHz PCM, as a receiver would play them. */
export async function decodeOpus(packets: Buffer[]): Promise<Buffer> {
  const { default: OpusScript } = await import('opusscript');
  const decoder = new OpusScript(48_000, 1);
  const frames = packets.map((p) => decoder.decode(p));
  decoder.delete();
  const pcm48 = Buffer.concat(frames);
  const { resample } = await import('../../src/speech/resample.js');
  return resample(pcm48, 48_000, 16_000);
}
