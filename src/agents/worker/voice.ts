import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import OpusScript from 'opusscript';
import { resample } from '../../speech/resample.js';
import type { Speech } from '../../speech/types.js';

const RATE = 48_000;
const FRAME_MS = 20;
const FRAME_SAMPLES = (RATE * FRAME_MS) / 1000;

/**
 * The assistant's voice in the call: speech (PCM from any text-to-speech engine) encoded to
 * Opus here (libopus, compiled to WebAssembly) and sent as RTP, one 20 ms packet every 20 ms,
 * to its plain transport on the node, which the room forwards as its audio track. Between
 * utterances nothing is sent; timestamps follow the clock, so receivers see the pause as one.
 * stop() ends an utterance at the next packet (barge-in).
 */
export class Voice {
  private readonly socket = dgram.createSocket('udp4');
  private readonly encoder = new OpusScript(RATE, 1, OpusScript.Application.VOIP);
  private readonly ssrc = randomInt(1, 2 ** 31);
  private readonly epoch = performance.now();
  private seq = randomInt(0, 2 ** 16);
  /** The RTP timestamp of the frame being sent: from the clock at a talkspurt's start, then 960 a frame. */
  private timestamp = 0;
  private speaking?: { stop: () => void };
  /** Packets sent (tests and the benchmark count them). */
  packets = 0;

  constructor(private readonly target: { ip: string; port: number }, readonly payloadType: number) {
    this.socket.on('error', () => undefined);
  }

  get ssrcValue() {
    return this.ssrc;
  }

  get isSpeaking() {
    return this.speaking !== undefined;
  }

  /** Says `speech`; resolves 'done' when the last packet left, or 'stopped' if stop() came first. */
  async say(speech: Speech): Promise<'done' | 'stopped'> {
    this.stop();
    const pcm = resample(speech.pcm, speech.sampleRate, RATE);
    const frames = Math.ceil(pcm.length / 2 / FRAME_SAMPLES);
    let stopped = false;
    const handle = { stop: () => (stopped = true) };
    this.speaking = handle;
    const started = performance.now();
    try {
      for (let i = 0; i < frames && !stopped;) {
        const due = Math.min(frames, Math.floor((performance.now() - started) / FRAME_MS) + 1);
        for (; i < due && !stopped; i++) this.send(pcm.subarray(i * FRAME_SAMPLES * 2, (i + 1) * FRAME_SAMPLES * 2), i === 0);
        await new Promise((r) => setTimeout(r, 5));
      }
    } finally {
      if (this.speaking === handle) this.speaking = undefined;
    }
    return stopped ? 'stopped' : 'done';
  }

  stop() {
    this.speaking?.stop();
    this.speaking = undefined;
  }

  private send(chunk: Buffer, first: boolean) {
    const frame = chunk.length === FRAME_SAMPLES * 2 ? chunk : Buffer.concat([chunk, Buffer.alloc(FRAME_SAMPLES * 2 - chunk.length)]);
    const payload = this.encoder.encode(frame, FRAME_SAMPLES);
    const header = Buffer.alloc(12);
    header[0] = 0x80;
    // The marker bit starts a talkspurt.
    header[1] = (first ? 0x80 : 0) | (this.payloadType & 0x7f);
    this.seq = (this.seq + 1) & 0xffff;
    header.writeUInt16BE(this.seq, 2);
    this.timestamp = first ? Math.max(this.timestamp + FRAME_SAMPLES, Math.round((performance.now() - this.epoch) * (RATE / 1000))) : this.timestamp + FRAME_SAMPLES;
    header.writeUInt32BE(this.timestamp >>> 0, 4);
    header.writeUInt32BE(this.ssrc, 8);
    this.socket.send(Buffer.concat([header, payload]), this.target.port, this.target.ip);
    this.packets++;
  }

  close() {
    this.stop();
    this.encoder.delete();
    this.socket.close();
  }
}
