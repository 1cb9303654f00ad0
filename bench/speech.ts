/**
 * Captions, measured: how soon a speaker's words reach another participant as a final caption
 * (from the end of each clip's audio to the caption's arrival), what a captioned participant
 * costs in CPU, how many a node captions at once while it still forwards media and answers
 * joins as it did without them, and the word error rate on clips with known transcripts. The
 * engine alone (the pocketsphinx helper fed the same clips' PCM in real time) runs in the same
 * run, so the node's own share of the latency shows.
 *
 * Speakers are protocol clients that send RTP into a plain transport: the Opus that libopus
 * makes of the clips, one 20 ms packet every 20 ms. The listener reads Spanish, so every final
 * caption is translated (Apertium) before it is sent.
 */
import { execFileSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { loadConfig } from '../src/config/load.js';
import { fromWav } from '../src/speech/wav.js';
import { GOFORWARD_RAW, GOFORWARD_TEXT, LIBRIVOX_DIR, oggPackets, padded } from '../tests/helpers/speech-clips.js';
import { connect, percentile, token, type Client } from './load.js';
import { cpuSeconds, sleep, startNode, type Server } from './proc.js';
import { PAYLOAD_TYPE, RTP_PARAMETERS, RtpCounter, RtpSender, rtpPacket } from './rtp.js';

export interface SpeechOptions { smoke: boolean }

const BEFORE_MS = 1000;
const AFTER_MS = 1500;
const FRAME_MS = 20;
/** Speakers start this far apart, as people in different calls do. */
const STAGGER_MS = 170;
const FANOUT_FIRST_PORT = 25000;
/** Caption latency a level must keep (the target for p95 on this machine). */
const P95_TARGET_MS = 1500;

interface Clip { name: string; text: string; pcm: Buffer }
/** The clips back to back, each with silence around it; where each one's file begins and its speech ends, in ms of the script. */
interface Script { pcm: Buffer; clips: Array<{ name: string; text: string; fromMs: number; toMs: number }>; durationMs: number }

function clips(smoke: boolean): Clip[] {
  const out: Clip[] = [{ name: 'goforward', text: GOFORWARD_TEXT, pcm: fs.readFileSync(GOFORWARD_RAW) }];
  if (smoke) return out;
  const lines = fs.readFileSync(path.join(LIBRIVOX_DIR, 'transcription'), 'utf8').trim().split('\n');
  for (const line of lines) {
    const m = /^<s>\s*(.*?)\s*<\/s>\s*\(([^)]+)\)$/.exec(line.trim());
    if (!m) continue;
    out.push({ name: m[2], text: m[1], pcm: fromWav(fs.readFileSync(path.join(LIBRIVOX_DIR, `${m[2]}.wav`))).pcm });
  }
  return out;
}

/**
 * Where a clip's speech ends, ms: the end of its last 10 ms above a tenth of its loudest (the
 * files keep some silence after the words, which no recogniser can be quicker than).
 */
export function speechEndMs(pcm: Buffer) {
  const rms: number[] = [];
  for (let at = 0; at + 320 <= pcm.length; at += 320) {
    let sum = 0;
    for (let i = 0; i < 160; i++) sum += pcm.readInt16LE(at + 2 * i) ** 2;
    rms.push(Math.sqrt(sum / 160));
  }
  const threshold = Math.max(...rms) / 10;
  let last = rms.length - 1;
  while (last > 0 && rms[last] <= threshold) last--;
  return (last + 1) * 10;
}

function script(list: Clip[]): Script {
  const parts: Buffer[] = [];
  const placed: Script['clips'] = [];
  let ms = 0;
  for (const c of list) {
    const length = (c.pcm.length / 32) | 0; // 16 kHz, 2 bytes a sample: 32 bytes a ms
    placed.push({ name: c.name, text: c.text, fromMs: ms + BEFORE_MS, toMs: ms + BEFORE_MS + speechEndMs(c.pcm) });
    parts.push(padded(c.pcm, BEFORE_MS, AFTER_MS));
    ms += BEFORE_MS + length + AFTER_MS;
  }
  return { pcm: Buffer.concat(parts), clips: placed, durationMs: ms };
}

/** The script as libopus encodes it (48 kHz, 20 ms frames, 32 kbit/s voice), one packet per frame. */
function opusFrames(s: Script): Buffer[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-speech-'));
  fs.writeFileSync(path.join(dir, 'script.raw'), s.pcm);
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 's16le', '-ar', '16000', '-ac', '1', '-i', path.join(dir, 'script.raw'),
    '-ar', '48000', '-c:a', 'libopus', '-b:a', '32k', '-frame_duration', '20', '-application', 'voip', '-f', 'ogg', path.join(dir, 'script.opus')]);
  const frames = oggPackets(fs.readFileSync(path.join(dir, 'script.opus'))).slice(2);
  fs.rmSync(dir, { recursive: true, force: true });
  return frames;
}

// ---- word error rate ----------------------------------------------------------------------

const words = (s: string) => s.toLowerCase().replace(/[^a-z' ]+/g, ' ').split(/\s+/).filter(Boolean);

/** Word-level edit distance (substitutions, insertions, deletions) between a reference and a hypothesis. */
export function wordErrors(reference: string, hypothesis: string) {
  const r = words(reference);
  const h = words(hypothesis);
  let row = Array.from({ length: h.length + 1 }, (_, j) => j);
  for (let i = 1; i <= r.length; i++) {
    const next = [i];
    for (let j = 1; j <= h.length; j++) next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (r[i - 1] === h[j - 1] ? 0 : 1));
    row = next;
  }
  return { errors: row[h.length], words: r.length };
}

interface Heard { startMs: number; text: string; at: number }
interface ClipResult { name: string; latencyMs?: number; hypothesis: string; errors: number; words: number }

/**
 * Which finals belong to which clip (the one whose window their speech starts in), the clip's
 * text as heard, and its latency: from when its last audio left to when its last final arrived.
 */
function judge(s: Script, finals: Heard[], clipEndSentAt: (i: number) => number, windowStart: (i: number) => number): ClipResult[] {
  return s.clips.map((c, i) => {
    const from = windowStart(i);
    const to = i + 1 < s.clips.length ? windowStart(i + 1) : Infinity;
    const mine = finals.filter((f) => f.startMs >= from && f.startMs < to).sort((a, b) => a.startMs - b.startMs);
    const hypothesis = mine.map((f) => f.text).join(' ');
    const last = mine.reduce((m, f) => Math.max(m, f.at), 0);
    return { name: c.name, hypothesis, ...wordErrors(c.text, hypothesis), ...(mine.length ? { latencyMs: last - clipEndSentAt(i) } : {}) };
  });
}

function summary(results: ClipResult[]) {
  const latencies = results.flatMap((r) => (r.latencyMs === undefined ? [] : [r.latencyMs])).sort((a, b) => a - b);
  const errors = results.reduce((n, r) => n + r.errors, 0);
  const total = results.reduce((n, r) => n + r.words, 0);
  return {
    clips: results.length, captioned: latencies.length,
    latencyMs: { p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95), max: latencies.at(-1) ?? NaN },
    wordErrorRate: total ? errors / total : NaN,
  };
}

// ---- the engine alone ---------------------------------------------------------------------

/** The pocketsphinx helper the node runs, fed the script's PCM in real time, 20 ms at a time. */
async function engineAlone(s: Script) {
  const config = loadConfig({}).speech;
  const model = config.pocketsphinxModel;
  const child = spawn(path.resolve(config.pocketsphinxBinary), [path.join(model, 'en-us'), path.join(model, 'en-us.lm.bin'), path.join(model, 'cmudict-en-us.dict')], { stdio: ['pipe', 'pipe', 'ignore'] });
  const finals: Heard[] = [];
  let ready!: () => void;
  const loaded = new Promise<void>((r) => (ready = r));
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    const m = JSON.parse(line);
    if (m.t === 'ready') ready();
    if (m.t === 'final' && m.text) finals.push({ startMs: m.startMs, text: m.text, at: Date.now() });
  });
  await loaded;
  const chunk = 32 * FRAME_MS;
  const clipEnds = s.clips.map((c) => Math.ceil(c.toMs / FRAME_MS));
  const endSentAt = new Map<number, number>();
  const cpu0 = cpuSeconds(child.pid!);
  const started = Date.now();
  const frames = Math.ceil(s.pcm.length / chunk);
  for (let i = 0; i < frames;) {
    const due = Math.min(frames, Math.floor((Date.now() - started) / FRAME_MS) + 1);
    for (; i < due; i++) {
      child.stdin!.write(s.pcm.subarray(i * chunk, (i + 1) * chunk));
      if (clipEnds.includes(i)) endSentAt.set(i, Date.now());
    }
    await sleep(2);
  }
  const cpuPercent = ((cpuSeconds(child.pid!) - cpu0) / ((Date.now() - started) / 1000)) * 100;
  await sleep(1500);
  child.stdin!.end();
  await new Promise((r) => child.once('exit', r));
  // The engine's times are ms of its audio; a clip's window begins with its leading silence.
  const results = judge(s, finals, (i) => endSentAt.get(clipEnds[i]) ?? NaN, (i) => s.clips[i].fromMs - BEFORE_MS);
  return { ...summary(results), cpuPercent, results };
}

// ---- through the node ---------------------------------------------------------------------

/** Sends the script's Opus frames as RTP at 50 packets a second; when each frame left. */
async function play(port: number, ssrc: number, frames: Buffer[], delayMs: number, marks: number[]) {
  await sleep(delayMs);
  const socket = dgram.createSocket('udp4');
  const sentAt = new Map<number, number>();
  const started = Date.now();
  for (let i = 0; i < frames.length;) {
    const due = Math.min(frames.length, Math.floor((Date.now() - started) / FRAME_MS) + 1);
    for (; i < due; i++) {
      socket.send(rtpPacket(PAYLOAD_TYPE, i + 1, (i + 1) * 960, ssrc, frames[i]), port, '127.0.0.1');
      if (marks.includes(i)) sentAt.set(i, Date.now());
    }
    await sleep(2);
  }
  socket.close();
  return { started, sentAt };
}

/** The node's children running `name`. */
function childrenNamed(pid: number, name: string): number[] {
  return fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((p) => {
    try {
      return Number(fs.readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ')[1]) === pid && fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(name);
    } catch {
      return false;
    }
  });
}

/** A publisher's stream forwarded to `receivers` loopback ports the kernel counts, sent while `during` runs. */
async function fanoutDuring<T>(server: Server, counter: RtpCounter, receivers: number, pps: number, room: string, during: () => Promise<T>) {
  const apiKey = loadConfig({}).auth.apiKeys[0];
  const bot = await connect(server.url);
  await bot.request('join', { token: token(room, 'publisher', 'bot') });
  const plain = await bot.request('createPlainTransport', { rtcpMux: true });
  await bot.request('produce', { transportId: plain.transportId, kind: 'audio', rtpParameters: RTP_PARAMETERS, appData: { source: 'voice' } });
  for (let n = 0; n < receivers; n++) {
    const res = await fetch(`${server.url}/v1/rooms/${room}/participants/publisher/forwards`, {
      method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ host: '127.0.0.1', audioPort: FANOUT_FIRST_PORT + 2 * n }),
    });
    if (res.status !== 201) throw new Error(`forward: ${res.status} ${await res.text()}`);
  }
  const sender = new RtpSender(plain.port);
  const payload = Buffer.alloc(1100, 0x5a);
  await sender.send(pps, 0.3, () => payload);
  await sleep(200);
  const [count0, cpu0] = [counter.packets(), cpuSeconds(server.workerPids[0])];
  let sending = true;
  let sent = 0;
  const t0 = Date.now();
  const flowing = (async () => {
    while (sending) sent += await sender.send(pps, 1, () => payload);
  })();
  const result = await during();
  sending = false;
  await flowing;
  const seconds = (Date.now() - t0) / 1000;
  await sleep(300);
  const forwarded = counter.packets() - count0;
  const cpu = cpuSeconds(server.workerPids[0]) - cpu0;
  sender.close();
  await bot.leave();
  return { result, fanout: { receivers, packetsPerSecondIn: pps, lossPercent: 100 * (1 - forwarded / (sent * receivers)), workerCpuPercent: (100 * cpu) / seconds, usPerPacket: (cpu * 1e6) / forwarded } };
}

/** Join round trips of probes joining (and leaving) another room, one every 250 ms until `stop`. */
async function joinProbes(url: string, room: string, stop: () => boolean) {
  const rtts: number[] = [];
  for (let n = 0; !stop() && n < 400; n++) {
    const c = await connect(url);
    const t0 = performance.now();
    await c.request('join', { token: token(room, `probe-${n}`, 'observer') });
    rtts.push(performance.now() - t0);
    await c.leave();
    await sleep(250);
  }
  rtts.sort((a, b) => a - b);
  return { joins: rtts.length, p50Ms: percentile(rtts, 0.5), p95Ms: percentile(rtts, 0.95) };
}

/** `speakers` captioned participants speaking the script at once, one listener reading Spanish, media fanning out beside them. */
async function level(server: Server, counter: RtpCounter, speakers: number, s: Script, frames: Buffer[], plan: { receivers: number; pps: number }) {
  const room = `speech-${speakers}`;
  const finals = new Map<string, Heard[]>();
  const listener = await connect(server.url, (method, d) => {
    if (method !== 'caption' || !d.final) return;
    const list = finals.get(d.peerId) ?? [];
    list.push({ startMs: d.startMs, text: d.text, at: Date.now() });
    finals.set(d.peerId, list);
  });
  await listener.request('join', { token: token(room, 'listener', 'seller', { language: 'es' }) });
  const clients: Client[] = [];
  const ports: number[] = [];
  for (let i = 0; i < speakers; i++) {
    const c = await connect(server.url);
    await c.request('join', { token: token(room, `speaker-${i}`, 'buyer', { language: 'en', grants: { ingest: true } }) });
    const plain = await c.request('createPlainTransport', {});
    await c.request('produce', { transportId: plain.transportId, kind: 'audio', rtpParameters: { ...RTP_PARAMETERS, encodings: [{ ssrc: 9000 + i }] } });
    clients.push(c);
    ports.push(plain.port);
  }
  const marks = s.clips.map((c) => Math.ceil(c.toMs / FRAME_MS));
  const children = () => ({ ffmpeg: childrenNamed(server.pid, 'ffmpeg'), recognisers: childrenNamed(server.pid, 'pocketsphinx-stream') });
  const cpuOf = (pids: number[]) => pids.reduce((t, p) => t + cpuSeconds(p), 0);
  let done = false;
  const { result, fanout } = await fanoutDuring(server, counter, plan.receivers, plan.pps, `fanout-${speakers}`, async () => {
    const probes = joinProbes(server.url, `probe-${speakers}`, () => done);
    // The captions' processes start with the first packets: CPU is counted from a second in.
    const playing = Promise.all(ports.map((port, i) => play(port, 9000 + i, frames, i * STAGGER_MS, marks)));
    await sleep(1000 + speakers * STAGGER_MS);
    const pids = children();
    const cpu0 = { node: cpuSeconds(server.pid), ffmpeg: cpuOf(pids.ffmpeg), recognisers: cpuOf(pids.recognisers), at: Date.now() };
    await sleep(Math.max(1000, s.durationMs - 3000));
    const seconds = (Date.now() - cpu0.at) / 1000;
    const cpu = {
      nodePercent: ((cpuSeconds(server.pid) - cpu0.node) / seconds) * 100,
      ffmpegPercent: ((cpuOf(pids.ffmpeg) - cpu0.ffmpeg) / seconds) * 100,
      recognisersPercent: ((cpuOf(pids.recognisers) - cpu0.recognisers) / seconds) * 100,
      processes: { ffmpeg: pids.ffmpeg.length, recognisers: pids.recognisers.length },
    };
    const played = await playing;
    await sleep(2500); // the last finals
    done = true;
    return { played, cpu, joins: await probes };
  });
  const perSpeaker = result.played.map((p, i) => judge(s, finals.get(`speaker-${i}`) ?? [],
    (j) => p.sentAt.get(marks[j]) ?? NaN, (j) => p.started + s.clips[j].fromMs - BEFORE_MS));
  for (const c of clients) await c.leave();
  await listener.leave();
  return { speakers, ...summary(perSpeaker.flat()), cpu: result.cpu, fanout, joins: result.joins, results: perSpeaker[0] ?? [] };
}

export async function speechBench(o: SpeechOptions) {
  const s = script(clips(o.smoke));
  const frames = opusFrames(s);
  const levels = o.smoke ? [0, 1] : [0, 1, 2, 4, 6, 8];
  const plan = o.smoke ? { receivers: 2, pps: 100 } : { receivers: 200, pps: 500 };
  const alone = await engineAlone(s);
  const counter = RtpCounter.open(FANOUT_FIRST_PORT, FANOUT_FIRST_PORT + 2 * plan.receivers + 1);
  const server = await startNode({
    TENANTS: JSON.stringify([{ id: 'default', captions: 'all' }]),
    CAPTIONS_MAX_PARTICIPANTS_PER_NODE: String(Math.max(...levels)), LIMIT_FORWARDS_PER_ROOM: String(plan.receivers),
  });
  const node: Awaited<ReturnType<typeof level>>[] = [];
  try {
    for (const k of levels) node.push(await level(server, counter, k, s, frames, plan));
  } finally {
    await server.stop();
    counter.close();
  }
  const base = node[0];
  // A level holds when its captions keep the latency target and media and joins go on as without captions.
  const holds = (l: (typeof node)[number]) => l.speakers === 0 || (l.captioned === l.clips && l.latencyMs.p95 <= P95_TARGET_MS
    && l.fanout.lossPercent < 1 && l.joins.p95Ms <= Math.max(2 * base.joins.p95Ms, base.joins.p95Ms + 20));
  let held = 0;
  for (const l of node) {
    if (!holds(l)) break;
    held = l.speakers;
  }
  const one = node.find((l) => l.speakers === 1);
  return {
    clips: s.clips.map((c) => ({ name: c.name, speechSeconds: (c.toMs - c.fromMs) / 1000, words: words(c.text).length })),
    alone, node, mostCaptionedHeld: held, p95TargetMs: P95_TARGET_MS,
    perParticipantCpuPercent: one && { node: one.cpu.nodePercent - base.cpu.nodePercent, ffmpeg: one.cpu.ffmpegPercent, recogniser: one.cpu.recognisersPercent },
  };
}
