/** Checkpoints kept: at 20 ms chunks, the last minute and more (older speech has been captioned). */
const MAX_CHECKPOINTS = 4096;

/**
 * When the audio a recogniser heard arrived, in epoch ms. A recogniser counts time in its own
 * audio, which stops while a participant is muted or its packets stop; so each chunk fed is
 * noted with the wall time it came, and a time in the audio maps to its chunk's arrival.
 */
export class AudioClock {
  /** [audio ms at the chunk's start, epoch ms it arrived], in order. */
  private readonly checkpoints: Array<[number, number]> = [];
  private audioMs = 0;

  constructor(private readonly sampleRate: number) {}

  /** A chunk of 16-bit mono PCM fed now; returns the audio ms fed so far. */
  fed(bytes: number, now = Date.now()) {
    this.checkpoints.push([this.audioMs, now]);
    if (this.checkpoints.length > MAX_CHECKPOINTS) this.checkpoints.splice(0, this.checkpoints.length - MAX_CHECKPOINTS);
    this.audioMs += (bytes / 2 / this.sampleRate) * 1000;
    return this.audioMs;
  }

  /** The epoch ms at which the audio at `ms` arrived. */
  at(ms: number): number {
    const c = this.checkpoints;
    if (c.length === 0) return Date.now();
    // The last chunk that began at or before ms (binary search: recent speech is near the end).
    let lo = 0;
    let hi = c.length - 1;
    if (ms <= c[0][0]) return c[0][1] - (c[0][0] - ms);
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (c[mid][0] <= ms) lo = mid;
      else hi = mid - 1;
    }
    return Math.round(c[lo][1] + (ms - c[lo][0]));
  }
}
