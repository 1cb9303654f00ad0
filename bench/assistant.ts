/**
 * The voice assistant, measured with its offline engines: how soon it answers (from the end of
 * the buyer's utterance to the first packet of its answer at the buyer), how soon it stops when
 * the buyer talks over it, and how many assistant calls a node holds at once. The engine alone
 * (pocketsphinx fed the same utterance in real time, the rules engine, espeak-ng, libopus) runs
 * in the same run, for what the node and the worker add.
 *
 * Each buyer is a protocol client speaking Flite's voice as Opus RTP into a plain transport; the
 * assistant's audio comes back to the buyer as an RTP forward of its track, whose packets the
 * benchmark times as they arrive.
 */
import { execFileSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import OpusScript from 'opusscript';
import { RulesEngine } from '../src/agents/rules-engine.js';
import { loadConfig } from '../src/config/load.js';
import { Espeak } from '../src/speech/engines/espeak.js';
import { resample } from '../src/speech/resample.js';
import { fromWav } from '../src/speech/wav.js';
import { opusFrames, padded } from '../tests/helpers/speech-clips.js';
import { connect, percentile, token, type Client } from './load.js';
import { sleep, startNode, type Server } from './proc.js';
import { PAYLOAD_TYPE, RTP_PARAMETERS, rtpPacket } from './rtp.js';
import { speechEndMs } from './speech.js';

export interface AssistantOptions { smoke: boolean }

const FRAME_MS = 20;
const SILENCE = Buffer.from([0xf8, 0xff, 0xfe]);
/** A pause this long between the assistant's packets ends one of its utterances. */
const GAP_MS = 200;
const P95_TARGET_MS = 2000;

/** An utterance of the buyer: its Opus frames, and the frame where its speech ends. */
interface Utterance { text: string; frames: Buffer[]; endFrame: number }

function utterance(text: string): Utterance {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-said-')), 'said.wav');
  execFileSync('flite', ['-voice', 'rms', '-t', text, '-o', file]);
  const pcm = padded(fromWav(fs.readFileSync(file)).pcm, 200, 800);
  return { text, frames: opusFrames(pcm), endFrame: Math.ceil(speechEndMs(pcm) / FRAME_MS) };
}

/** The buyer's microphone: 50 packets a second, silence unless it is saying something. */
class Mouth {
  private readonly socket = dgram.createSocket('udp4');
  private queue: Buffer[] = [];
  private n = 0;
  private timer: NodeJS.Timeout;
  private onFrame?: (left: number) => void;

  constructor(private readonly port: number, private readonly ssrc: number) {
    const started = Date.now();
    this.timer = setInterval(() => {
      const due = Math.floor((Date.now() - started) / FRAME_MS);
      while (this.n < due) {
        this.n++;
        const frame = this.queue.shift();
        this.socket.send(rtpPacket(PAYLOAD_TYPE, this.n, this.n * 960, this.ssrc, frame ?? SILENCE), this.port, '127.0.0.1');
        if (frame) this.onFrame?.(this.queue.length);
      }
    }, 5);
  }

  /** Says `u`; resolves with when its speech's first and last frames left. */
  say(u: Utterance): Promise<{ startedAt: number; endedAt: number }> {
    this.queue = [...u.frames];
    const total = u.frames.length;
    let startedAt = 0;
    return new Promise((resolve) => {
      this.onFrame = (left) => {
        const sent = total - left;
        if (sent === 1) startedAt = Date.now();
        if (sent === u.endFrame) resolve({ startedAt, endedAt: Date.now() });
      };
    });
  }

  close() {
    clearInterval(this.timer);
    this.socket.close();
  }
}

/** The assistant's audio at the buyer: an RTP forward of its track, each packet's arrival timed. */
class Ear {
  readonly arrivals: number[] = [];

  private constructor(readonly socket: dgram.Socket) {}

  /** Ports the ears take, below the node's own range (a forward into the node's ports is refused). */
  private static next = 26_000;

  static async open() {
    let ear: Ear | undefined;
    for (let tries = 0; !ear && tries < 1000; tries++) {
      const port = Ear.next++;
      if (Ear.next > 26_999) Ear.next = 26_000;
      const socket = dgram.createSocket('udp4');
      const bound = await new Promise<boolean>((resolve) => {
        socket.once('error', () => resolve(false));
        socket.bind(port, '127.0.0.1', () => resolve(true));
      });
      if (bound) ear = new Ear(socket);
      else socket.close();
    }
    if (!ear) throw new Error('no free port for the buyer\'s ear');
    const found = ear;
    found.socket.on('message', (m) => {
      if ((m[1] & 0x7f) < 72 || (m[1] & 0x7f) > 76) found.arrivals.push(Date.now()); // not RTCP
    });
    return found;
  }

  get port() {
    return this.socket.address().port;
  }

  /** The first packet after `t`. */
  firstAfter(t: number) {
    return this.arrivals.find((a) => a > t);
  }

  /** The last packet before the first pause of GAP_MS after `t`. */
  lastBeforePause(t: number) {
    let last = t;
    for (const a of this.arrivals) {
      if (a <= t) continue;
      if (a - last > GAP_MS && last > t) return last;
      last = a;
    }
    return last;
  }

  /** Waits (bounded) until the assistant has spoken after `after`, then been quiet for `quietMs`. */
  async quiet(after = 0, quietMs = 700, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const last = this.arrivals.at(-1);
      if (last && last > after && Date.now() - last > quietMs) return;
      await sleep(50);
    }
    throw new Error('the assistant did not speak, or never stopped');
  }

  close() {
    this.socket.close();
  }
}

interface CallResult { replies: number[]; errors: string[] }

/** One call: the greeting, the problem (its reply timed), then "ready" (its reply timed). */
async function call(server: Server, room: string, said: Record<string, Utterance>): Promise<CallResult> {
  const apiKey = loadConfig({}).auth.apiKeys[0];
  const api = (method: string, p: string, body?: unknown) => fetch(`${server.url}${p}`, { method, headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
  await api('POST', '/v1/rooms', { room, metadata: { orderId: 'A-1001' } });
  const result: CallResult = { replies: [], errors: [] };
  let buyer: Client | undefined;
  let mouth: Mouth | undefined;
  const ear = await Ear.open();
  try {
    buyer = await connect(server.url);
    await buyer.request('join', { token: token(room, 'buyer', 'buyer', { language: 'en', grants: { ingest: true } }) });
    const plain = await buyer.request('createPlainTransport', {});
    const ssrc = 5000 + Math.floor(Math.random() * 100_000);
    await buyer.request('produce', { transportId: plain.transportId, kind: 'audio', rtpParameters: { ...RTP_PARAMETERS, encodings: [{ ssrc }] } });
    mouth = new Mouth(plain.port, ssrc);
    // The assistant arrives; its voice comes to the buyer's ear.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const view = await (await api('GET', `/v1/rooms/${room}`)).json();
      const assistant = view.participants?.find((p: { identity: string; tracks: unknown[] }) => p.identity === 'assistant' && p.tracks.length);
      if (assistant) break;
      if (Date.now() > deadline) throw new Error('no assistant came');
      await sleep(100);
    }
    const fwd = await api('POST', `/v1/rooms/${room}/participants/assistant/forwards`, { host: '127.0.0.1', audioPort: ear.port });
    if (fwd.status !== 201) throw new Error(`forward: ${fwd.status} ${await fwd.text()}`);
    await ear.quiet(); // the greeting
    const problem = await mouth.say(said.problem);
    await ear.quiet(problem.endedAt);
    result.replies.push(ear.firstAfter(problem.endedAt)! - problem.endedAt);
    const ready = await mouth.say(said.ready);
    await ear.quiet(ready.endedAt);
    result.replies.push(ear.firstAfter(ready.endedAt)! - ready.endedAt);
  } catch (err) {
    result.errors.push((err as Error).message);
  } finally {
    mouth?.close();
    ear.close();
    await buyer?.leave();
  }
  return result;
}

/** The barge-in, alone: the assistant says a long line, the buyer talks over it at once. */
async function bargeIn(server: Server, said: Record<string, Utterance>) {
  const apiKey = loadConfig({}).auth.apiKeys[0];
  const room = 'barge-in';
  await fetch(`${server.url}/v1/rooms`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ room }) });
  const ear = await Ear.open();
  const buyer = await connect(server.url);
  let mouth: Mouth | undefined;
  try {
    await buyer.request('join', { token: token(room, 'buyer', 'buyer', { language: 'en', grants: { ingest: true } }) });
    const plain = await buyer.request('createPlainTransport', {});
    mouth = new Mouth(plain.port, 777);
    await buyer.request('produce', { transportId: plain.transportId, kind: 'audio', rtpParameters: { ...RTP_PARAMETERS, encodings: [{ ssrc: 777 }] } });
    const deadline = Date.now() + 30_000;
    for (;;) {
      const res = await fetch(`${server.url}/v1/rooms/${room}/participants/assistant/forwards`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ host: '127.0.0.1', audioPort: ear.port }) });
      if (res.status === 201) break;
      if (Date.now() > deadline) throw new Error('no assistant came');
      await sleep(100);
    }
    // The greeting is long: the buyer starts talking a second into it.
    const deadline2 = Date.now() + 30_000;
    while (!ear.arrivals.length && Date.now() < deadline2) await sleep(20);
    await sleep(1000);
    const talk = await mouth.say(said.problem);
    return ear.lastBeforePause(talk.startedAt) - talk.startedAt;
  } finally {
    mouth?.close();
    ear.close();
    await buyer.leave();
  }
}

/** The same steps without the node and the worker: the recogniser fed in real time, the rules, espeak-ng, libopus. */
async function engineAlone(said: Record<string, Utterance>, runs: number) {
  const config = loadConfig({}).speech;
  const model = config.pocketsphinxModel;
  const espeak = new Espeak(config.espeakPath);
  const encoder = new OpusScript(48_000, 1, OpusScript.Application.VOIP);
  const decoder = new OpusScript(48_000, 1);
  const latencies: number[] = [];
  const recognised: number[] = [];
  for (let run = 0; run < runs; run++) {
    const child = spawn(path.resolve(config.pocketsphinxBinary), [path.join(model, 'en-us'), path.join(model, 'en-us.lm.bin'), path.join(model, 'cmudict-en-us.dict')], { stdio: ['pipe', 'pipe', 'ignore'] });
    const lines = readline.createInterface({ input: child.stdout! });
    const final = new Promise<{ text: string; at: number }>((resolve) => lines.on('line', (l) => {
      const m = JSON.parse(l);
      if (m.t === 'final' && m.text) resolve({ text: m.text, at: Date.now() });
    }));
    await new Promise<void>((r) => lines.once('line', () => r())); // ready
    // As in a call, the recogniser has heard the line a while before the buyer speaks (3 s).
    const lead = 150;
    const pcm = Buffer.concat([Buffer.alloc(lead * 640), resample(Buffer.concat(said.problem.frames.map((f) => Buffer.from(decoder.decode(f)))), 48_000, 16_000), Buffer.alloc(50 * 640)]);
    const frames = pcm.length / 640;
    let endedAt = 0;
    const started = Date.now();
    for (let i = 0; i < frames;) {
      const due = Math.min(frames, Math.floor((Date.now() - started) / FRAME_MS) + 1);
      for (; i < due; i++) {
        child.stdin!.write(pcm.subarray(i * 640, (i + 1) * 640));
        if (i === lead + said.problem.endFrame) endedAt = Date.now();
      }
      await sleep(2);
    }
    const { text, at: heardAt } = await final;
    const answerStarted = Date.now();
    const engine = new RulesEngine();
    const c = { buyerName: 'Ana', language: 'en', metadata: { orderId: 'A-1001' }, transcript: [] as Array<{ from: 'buyer' | 'assistant'; text: string }> };
    await engine.greet(c);
    c.transcript.push({ from: 'buyer', text });
    const turn = await engine.reply(c, false);
    const speech = await espeak.synthesize(turn.say[0], 'en');
    encoder.encode(resample(speech.pcm, speech.sampleRate, 48_000).subarray(0, 1920), 960);
    // From the final on, the steps after it, timed on their own (the feed went on meanwhile).
    latencies.push(heardAt - endedAt + (Date.now() - answerStarted));
    recognised.push(heardAt - endedAt);
    child.stdin!.end();
    child.kill();
  }
  encoder.delete();
  decoder.delete();
  latencies.sort((a, b) => a - b);
  recognised.sort((a, b) => a - b);
  return { runs, p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95), recognisedP50: percentile(recognised, 0.5) };
}

export async function assistantBench(o: AssistantOptions) {
  const said = { problem: utterance('it arrived broken'), ready: utterance('ready') };
  const levels = o.smoke ? [1] : [1, 2, 4, 6, 8, 10];
  const alone = await engineAlone(said, o.smoke ? 1 : 5);
  const server = await startNode({
    TENANTS: JSON.stringify([{ id: 'default', assistant: { join: 'buyer-joined' } }]),
    AGENT_WORKERS: '1', AGENT_CALLS_PER_WORKER: String(Math.max(...levels)), CAPTIONS_MAX_PARTICIPANTS_PER_NODE: String(Math.max(...levels) * 2),
  });
  const node = [];
  let bargeInStopMs: number | undefined;
  try {
    bargeInStopMs = await bargeIn(server, said);
    for (const k of levels) {
      const calls = await Promise.all(Array.from({ length: k }, (_, i) => call(server, `assist-${k}-${i}`, said)));
      const replies = calls.flatMap((c) => c.replies).filter((r) => Number.isFinite(r)).sort((a, b) => a - b);
      node.push({
        calls: k, replies: replies.length, expected: k * 2, errors: calls.flatMap((c) => c.errors),
        replyMs: { p50: percentile(replies, 0.5), p95: percentile(replies, 0.95), max: replies.at(-1) ?? NaN },
      });
    }
  } finally {
    await server.stop();
  }
  // The most calls at once such that this level and every one below it held.
  let held = 0;
  for (const l of node) {
    if (l.replies !== l.expected || l.replyMs.p95 > P95_TARGET_MS) break;
    held = l.calls;
  }
  return { alone, node, bargeInStopMs, mostCallsHeld: held, p95TargetMs: P95_TARGET_MS };
}
