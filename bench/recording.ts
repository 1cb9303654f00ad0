/**
 * What one recorded track costs: the node recording N audio tracks of a bot (each a plain-RTP
 * stream of 50 packets a second), of which only half send, against ffmpeg alone receiving the
 * same streams with the same arguments, both as one process per stream and as one process for
 * them all. Per track: processes, resident and private memory (what a process costs beyond the
 * libraries it shares with the others), and CPU.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { privateBytes } from '../src/egress/media-processes.js';
import { loadConfig } from '../src/config/load.js';
import { connect, token } from './load.js';
import { cpuSeconds, rssBytes, sleep, startNode } from './proc.js';
import { PAYLOAD_TYPE, rtpPacket } from './rtp.js';
import dgram from 'node:dgram';

export interface RecordingOptions {
  smoke: boolean;
}

/** A process's children running ffmpeg. */
function ffmpegChildren(pid: number): number[] {
  return fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((p) => {
    try {
      return Number(fs.readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ')[1]) === pid && fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('ffmpeg');
    } catch {
      return false;
    }
  });
}

/** Sends one 50 packet/s stream per SSRC to `port` for `seconds` (bounded). */
async function feed(port: number, ssrcs: number[], seconds: number) {
  const socket = dgram.createSocket('udp4');
  const payload = Buffer.from([0xf8, 0xff, 0xfe]); // 20 ms of Opus silence
  for (let n = 1; n <= seconds * 50; n++) {
    for (const ssrc of ssrcs) socket.send(rtpPacket(PAYLOAD_TYPE, n, n * 960, ssrc, payload), port, '127.0.0.1');
    await sleep(20);
  }
  socket.close();
}

interface Measured { processes: number; rssMB: number; privateMB: number; cpuPercent: number }

/** The processes' memory now, and their CPU over `seconds` while the streams flow. */
async function measure(pids: () => number[], seconds: number): Promise<Measured> {
  const before = new Map(pids().map((p) => [p, cpuSeconds(p)]));
  await sleep(seconds * 1000);
  const now = pids();
  const cpu = now.reduce((t, p) => t + (cpuSeconds(p) - (before.get(p) ?? 0)), 0);
  return {
    processes: now.length,
    rssMB: now.reduce((t, p) => t + rssBytes(p), 0) / 1048576,
    privateMB: now.reduce((t, p) => t + privateBytes(p), 0) / 1048576,
    cpuPercent: (cpu / seconds) * 100,
  };
}

async function throughNode(tracks: number, seconds: number) {
  const server = await startNode({ RECORDING_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'bench-rec-')), MEDIA_MAX_PROCESSES: String(tracks * 2) });
  try {
    const bot = await connect(server.url);
    await bot.request('join', { token: token('rec', 'bot', 'bot') });
    const plain = await bot.request('createPlainTransport', {});
    const ssrcs = Array.from({ length: tracks }, (_, i) => 7000 + i);
    for (const ssrc of ssrcs) {
      await bot.request('produce', { transportId: plain.transportId, kind: 'audio', rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: PAYLOAD_TYPE, clockRate: 48000, channels: 2 }], encodings: [{ ssrc }] } });
    }
    const res = await fetch(`${server.url}/v1/rooms/rec/recordings`, { method: 'POST', headers: { authorization: `Bearer ${loadConfig({}).auth.apiKeys[0]}`, 'content-type': 'application/json' }, body: '{}' });
    if (res.status !== 201) throw new Error(`recording: ${res.status} ${await res.text()}`);
    // Only half the tracks send: the others must cost nothing.
    const sending = ssrcs.slice(0, Math.ceil(tracks / 2));
    const flowing = feed(plain.port, sending, seconds + 3);
    await sleep(2000);
    const nodeCpu0 = cpuSeconds(server.pid);
    const m = await measure(() => ffmpegChildren(server.pid), seconds);
    const nodeCpuPercent = ((cpuSeconds(server.pid) - nodeCpu0) / seconds) * 100;
    await flowing;
    await fetch(`${server.url}/v1/rooms/rec/recordings/${(await res.json()).recordingId}`, { method: 'DELETE', headers: { authorization: `Bearer ${loadConfig({}).auth.apiKeys[0]}` } });
    const listed = await (await fetch(`${server.url}/v1/rooms/rec/recordings`, { headers: { authorization: `Bearer ${loadConfig({}).auth.apiKeys[0]}` } })).json() as { recordings: Array<{ files: Array<{ status: string }> }> };
    bot.close();
    const completeFiles = listed.recordings.flatMap((r) => r.files).filter((f) => f.status === 'complete').length;
    return { ...m, sendingTracks: sending.length, silentTracks: tracks - sending.length, completeFiles, nodeCpuPercent };
  } finally {
    await server.stop();
  }
}

/**
 * The same streams into ffmpegs started by hand with the node's recording arguments: one per
 * stream (what the node ran before it grouped a participant's tracks), or one for them all.
 */
async function ffmpegAlone(tracks: number, seconds: number, grouped: boolean) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-ffmpeg-'));
  const sending = Math.ceil(tracks / 2);
  const streams = Array.from({ length: sending }, (_, i) => ({ port: 26_000 + i * 2, ssrc: 7000 + i }));
  const groups = grouped ? [streams] : streams.map((s) => [s]);
  const children = groups.map((group, g) => {
    const media = group.map(({ port }) => `m=audio ${port} RTP/AVP ${PAYLOAD_TYPE}\r\na=rtpmap:${PAYLOAD_TYPE} opus/48000/2\r\n`).join('');
    const sdp = `v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n${media}`;
    const outputs = group.flatMap((_, i) => ['-map', `0:${i}`, '-c', 'copy', '-flush_packets', '1', '-cluster_time_limit', '1000', '-f', 'webm', '-y', path.join(dir, `${g}-${i}.webm`)]);
    const child = spawn('ffmpeg', ['-hide_banner', '-nostats', '-loglevel', 'warning', '-protocol_whitelist', 'pipe,udp,rtp', '-fflags', '+genpts', '-analyzeduration', '500000', '-f', 'sdp', '-i', 'pipe:0', ...outputs],
      { stdio: ['pipe', 'ignore', 'ignore'] });
    child.stdin.end(sdp);
    return { child };
  });
  await sleep(500);
  const flowing = Promise.all(streams.map((s) => feed(s.port, [s.ssrc], seconds + 3)));
  await sleep(2000);
  const m = await measure(() => children.map((c) => c.child.pid!).filter(Boolean), seconds);
  await flowing;
  for (const c of children) c.child.kill('SIGINT');
  await Promise.all(children.map((c) => new Promise((r) => (c.child.exitCode !== null ? r(null) : c.child.once('exit', r)))));
  return { ...m, sendingTracks: sending };
}

export async function recordingBench(o: RecordingOptions) {
  const tracks = o.smoke ? 2 : 8;
  const seconds = o.smoke ? 1 : 5;
  const node = await throughNode(tracks, seconds);
  const alone = await ffmpegAlone(tracks, seconds, false);
  const aloneGrouped = await ffmpegAlone(tracks, seconds, true);
  const per = (m: Measured & { sendingTracks: number }) => ({ rssMB: m.rssMB / m.sendingTracks, privateMB: m.privateMB / m.sendingTracks, cpuPercent: m.cpuPercent / m.sendingTracks });
  return { tracks, node, alone, aloneGrouped, perTrack: { node: per(node), alone: per(alone), aloneGrouped: per(aloneGrouped) } };
}
