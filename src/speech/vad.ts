/**
 * An energy voice-activity detector over 16 kHz PCM, in 20 ms frames, for engines that take a
 * whole utterance (an OpenAI-compatible transcription service): speech starts after START_MS of
 * frames above the threshold, and ends after HANGOVER_MS below it. The threshold follows the
 * noise floor, so a quiet line and a noisy one both work.
 */
const FRAME_SAMPLES = 320;
const START_MS = 100;
const HANGOVER_MS = 500;
/** Longest utterance sent as one: a monologue is cut into pieces of this. */
const MAX_UTTERANCE_MS = 15_000;

export type VadEvent = { type: 'start'; ms: number } | { type: 'end'; startMs: number; endMs: number; pcm: Buffer };

export class EnergyVad {
  private carry = Buffer.alloc(0);
  private ms = 0;
  private floor = 200;
  private loud = 0;
  private quiet = 0;
  private speaking = false;
  private startMs = 0;
  private frames: Buffer[] = [];
  /** The frames just before speech starts, kept so its first syllable is not cut. */
  private lead: Buffer[] = [];

  push(pcm: Buffer, emit: (e: VadEvent) => void) {
    let data = this.carry.length ? Buffer.concat([this.carry, pcm]) : pcm;
    const bytes = FRAME_SAMPLES * 2;
    for (; data.length >= bytes; data = data.subarray(bytes)) this.frame(Buffer.from(data.subarray(0, bytes)), emit);
    this.carry = Buffer.from(data);
  }

  /** The end of the audio: an utterance in progress ends here. */
  flush(emit: (e: VadEvent) => void) {
    if (this.speaking) this.finish(emit);
  }

  private frame(frame: Buffer, emit: (e: VadEvent) => void) {
    let sum = 0;
    for (let i = 0; i < frame.length; i += 2) sum += Math.abs(frame.readInt16LE(i));
    const level = sum / FRAME_SAMPLES;
    this.ms += 20;
    const voiced = level > Math.max(300, this.floor * 3);
    if (!voiced) this.floor = this.floor * 0.95 + level * 0.05;
    if (!this.speaking) {
      this.lead.push(frame);
      if (this.lead.length > 15) this.lead.shift();
      this.loud = voiced ? this.loud + 20 : 0;
      if (this.loud >= START_MS) {
        this.speaking = true;
        this.startMs = this.ms - this.lead.length * 20;
        this.frames = [...this.lead];
        this.lead = [];
        this.quiet = 0;
        emit({ type: 'start', ms: this.startMs });
      }
      return;
    }
    this.frames.push(frame);
    this.quiet = voiced ? 0 : this.quiet + 20;
    if (this.quiet >= HANGOVER_MS || this.ms - this.startMs >= MAX_UTTERANCE_MS) this.finish(emit);
  }

  private finish(emit: (e: VadEvent) => void) {
    this.speaking = false;
    this.loud = 0;
    emit({ type: 'end', startMs: this.startMs, endMs: this.ms - this.quiet, pcm: Buffer.concat(this.frames) });
    this.frames = [];
  }
}
