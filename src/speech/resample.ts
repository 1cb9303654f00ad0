/**
 * 16-bit mono PCM from one rate to another by linear interpolation: enough for speech on its way
 * to Opus (the voices speak at 16 or 22.05 kHz; Opus takes 48 kHz).
 */
export function resample(pcm: Buffer, from: number, to: number): Buffer {
  const n = Math.floor(pcm.length / 2);
  if (from === to || n === 0) return Buffer.from(pcm.subarray(0, n * 2));
  const out = Buffer.alloc(Math.floor((n * to) / from) * 2);
  const step = from / to;
  for (let i = 0; i < out.length / 2; i++) {
    const x = i * step;
    const j = Math.floor(x);
    const a = pcm.readInt16LE(Math.min(j, n - 1) * 2);
    const b = pcm.readInt16LE(Math.min(j + 1, n - 1) * 2);
    out.writeInt16LE(Math.round(a + (b - a) * (x - j)), i * 2);
  }
  return out;
}
