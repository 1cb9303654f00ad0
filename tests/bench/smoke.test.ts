import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/**
 * `npm run bench -- --smoke` (docs/benchmarks.md): every scenario runs end to end, for the node and bare mediasoup,
 * and writes its JSON. What is checked is that each measured what it says (packets counted,
 * joins made, latencies read), not how fast anything was.
 */
describe('the benchmark, smoke-sized', () => {
  it('runs every scenario for the node and the baseline and writes their numbers', async () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-')), 'smoke.json');
    // docs/benchmarks.md's command, with a file of its own for the results.
    const { stdout } = await promisify(execFile)('npm', ['run', 'bench', '--', '--smoke', '--out', out], { timeout: 300_000, maxBuffer: 16 << 20 });
    for (const title of ['signaling: closed-loop', 'fan-out, plain RTP', 'fan-out, SRTP', 'pipe:', 'cluster: joins', 'cluster: Redis commands', 'call quality at the buyer', 'recording:', 'speech: from the end']) expect(stdout).toContain(title);
    const r = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(r.machine.cpus).toBeGreaterThan(0);

    for (const side of [r.signaling.node, r.signaling.bare]) {
      expect(side.closed[0].joins).toBeGreaterThan(0);
      expect(side.open[0].failed).toBe(0);
      expect(side.open[0].joins).toBeGreaterThan(0);
    }
    expect(r.signaling.node.scrapeWithPeers).toBeGreaterThan(0);

    // Every packet the publisher sent reached every receiver, counted by the kernel.
    for (const side of ['node', 'bare']) for (const mode of ['plain', 'srtp']) {
      const [step] = r.fanout[side][mode].steps;
      expect(step.forwarded).toBe(step.packetsIn * step.receivers);
      expect(r.fanout[side][mode].largestUnder1Percent).toBe(step.receivers);
    }

    for (const side of [r.pipe.node, r.pipe.bare]) for (const p of [side.direct, side.piped]) {
      expect(p.packets).toBeGreaterThan(0);
      expect(p.p50).toBeGreaterThan(0);
    }

    for (const name of ['cluster', 'single', 'bare']) {
      expect(r.cluster[name].failed).toBe(0);
      expect(r.cluster[name].closedJoinsPerSecond).toBeGreaterThan(0);
    }
    expect(r.cluster.redisCommandsPerNodePerSecond.withPeers).toBeGreaterThan(0);

    // One short impaired call through each: the buyer decoded video and heard audio, and its stats were read.
    const [impaired, cascade] = Object.values(r.callq.results as Record<string, Record<string, { runs: Array<Record<string, number>> }>>);
    for (const [profile, side] of [[impaired, 'node'], [impaired, 'bare'], [cascade, 'two nodes'], [cascade, 'node'], [cascade, 'bare']] as const) {
      const [call] = profile[side].runs;
      expect(call.fps).toBeGreaterThan(0);
      expect(call.firstFrameMs).toBeGreaterThan(0);
      expect(call.frozenPercent).toBeGreaterThanOrEqual(0);
      expect(call.concealedPercent).toBeGreaterThanOrEqual(0);
      // Read from the seller's outbound-rtp stats: NaN if a field went missing.
      expect(Number.isInteger(call.keyFrameRequests) && call.keyFrameRequests >= 0).toBe(true);
      expect(Number.isInteger(call.keyFrames) && call.keyFrames >= 0).toBe(true);
    }
    // The cascade's media crossed the pipe and the buyer's node counted it. The seller's uplink
    // loses 3%: its repairs reach the pipe out of order, which the buyer's node NACKs at once.
    const [piped] = cascade['two nodes'].runs;
    expect(piped.pipePackets).toBeGreaterThan(100);
    expect(piped.pipeNacked).toBeGreaterThan(0);
    expect(piped.pipeLost).toBeGreaterThanOrEqual(0);

    // The bot's sending tracks ran in one process and each left a file; the silent ones cost nothing.
    expect(r.recording.node.processes).toBe(1);
    expect(r.recording.node.completeFiles).toBe(r.recording.node.sendingTracks);
    expect(r.recording.alone.processes).toBe(r.recording.alone.sendingTracks);
    expect(r.recording.aloneGrouped.processes).toBe(1);

    // The clip was captioned by the engine alone and through the node, its latency and words judged.
    for (const side of [r.speech.alone, r.speech.node.find((l: { speakers: number }) => l.speakers === 1)]) {
      expect(side.captioned).toBe(1);
      expect(side.results[0].hypothesis).not.toBe('');
      expect(side.latencyMs.p50).toBeGreaterThan(0);
      expect(side.wordErrorRate).toBeGreaterThanOrEqual(0);
    }
    const one = r.speech.node.find((l: { speakers: number }) => l.speakers === 1);
    expect(one.cpu.processes).toEqual({ ffmpeg: 1, recognisers: 1 });
    expect(one.joins.joins).toBeGreaterThan(0);
    expect(one.fanout.lossPercent).toBeLessThan(100);
  }, 360_000);
});
