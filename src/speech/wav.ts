import type { Speech } from './types.js';

/** 16-bit mono PCM as a WAV file (what speech services take as an upload). */
export function toWav(pcm: Buffer, sampleRate: number): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + pcm.length, 4);
  header.write('WAVE', 8);
  header.write('fmt ', 12);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(pcm.length, 40);
  return Buffer.concat([header, pcm]);
}

/**
 * The PCM of a 16-bit WAV file, and its rate (mono, or the first channel). A size of 0xFFFFFFFF
 * (a streaming writer's, as espeak-ng's --stdout) means "to the end".
 */
export function fromWav(wav: Buffer): Speech {
  if (wav.toString('ascii', 0, 4) !== 'RIFF' || wav.toString('ascii', 8, 12) !== 'WAVE') throw new Error('not a WAV file');
  let at = 12;
  let sampleRate = 0;
  let channels = 1;
  let bits = 16;
  while (at + 8 <= wav.length) {
    const id = wav.toString('ascii', at, at + 4);
    let size = wav.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === 'fmt ') {
      channels = wav.readUInt16LE(body + 2);
      sampleRate = wav.readUInt32LE(body + 4);
      bits = wav.readUInt16LE(body + 14);
    } else if (id === 'data') {
      if (size === 0xffffffff || body + size > wav.length) size = wav.length - body;
      if (bits !== 16) throw new Error(`a ${bits}-bit WAV: only 16-bit is read`);
      let pcm = wav.subarray(body, body + size - (size % (2 * channels)));
      if (channels > 1) {
        const mono = Buffer.alloc(pcm.length / channels);
        for (let i = 0; i < mono.length / 2; i++) mono.writeInt16LE(pcm.readInt16LE(i * 2 * channels), i * 2);
        pcm = mono;
      }
      return { pcm: Buffer.from(pcm), sampleRate };
    }
    at = body + size + (size % 2);
  }
  throw new Error('a WAV file without data');
}
