import type { fanoutBench } from './fanout.js';
import type { callqBench } from './callq.js';
import type { clusterBench } from './cluster.js';
import type { pipeBench } from './pipe.js';
import type { recordingBench } from './recording.js';
import type { signalingBench } from './signaling.js';
import type { speechBench } from './speech.js';
import type { assistantBench } from './assistant.js';

const fmt = (n: number | undefined, digits = 1) => (n === undefined || Number.isNaN(n) ? '–' : n.toFixed(digits));

/** Prints an aligned table (and the same rows serve docs/benchmarks.md). */
export function table(title: string, head: string[], rows: Array<Array<string | number>>) {
  const all = [head, ...rows.map((r) => r.map(String))];
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  console.log(`\n${title}`);
  for (const [i, r] of all.entries()) {
    console.log(r.map((c, j) => c.padEnd(widths[j])).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

export function printSignaling(r: Awaited<ReturnType<typeof signalingBench>>) {
  table('signaling: closed-loop joins (connect, token, join, 2 transports)', ['concurrency', 'node joins/s', 'bare joins/s', 'node/bare', 'node p99 ms', 'bare p99 ms', 'node CPU ms/join', 'bare CPU ms/join'],
    r.node.closed.map((c, i) => [c.concurrency, fmt(c.joinsPerSecond, 0), fmt(r.bare.closed[i].joinsPerSecond, 0), fmt(r.ratios.closedLoop[i].nodeOverBare, 2), fmt(c.p99), fmt(r.bare.closed[i].p99), fmt(c.cpuMsPerJoin, 2), fmt(r.bare.closed[i].cpuMsPerJoin, 2)]));
  table('signaling: open-loop joins at a fixed rate, latency ms', ['joins/s', 'node p50', 'node p95', 'node p99', 'bare p50', 'bare p95', 'bare p99'],
    r.node.open.map((o, i) => [o.rate, fmt(o.p50), fmt(o.p95), fmt(o.p99), fmt(r.bare.open[i].p50), fmt(r.bare.open[i].p95), fmt(r.bare.open[i].p99)]));
  const m = (x: typeof r.node) => x.memory;
  const memRow = (name: string, x: typeof r.node) => [name, fmt(m(x).processKBPerPeer), fmt(m(x).heapKBPerPeer), fmt(m(x).workerKBPerPeer), fmt(m(x).processKBAfterLeave, 0), fmt(m(x).heapKBAfterLeave, 0), fmt(m(x).workerKBAfterLeave, 0)];
  table(`signaling: memory per idle peer (${r.node.memory.idlePeers} peers, after a full GC), KB`, ['', 'process RSS/peer', 'process heap/peer', 'worker RSS/peer', 'process RSS after leave', 'process heap after leave', 'worker RSS after leave'],
    [memRow('node', r.node), memRow('bare', r.bare)]);
  table('signaling: /metrics scrape (node), ms', ['10 peers', `${r.node.memory.idlePeers} peers`], [[fmt(r.node.scrapeFewPeers, 2), fmt(r.node.scrapeWithPeers, 2)]]);
  const bp = r.pairs['bare mediasoup'];
  table('signaling: calls of two in new rooms, sockets closed without a leave (node at log level info, reconnect grace 0; transports without SCTP)',
    ['pairs at once', 'node joins/s', 'bare joins/s', 'node/bare', 'node p50 ms', 'bare p50 ms', 'node p99 ms', 'bare p99 ms', 'node CPU ms/join', 'bare CPU ms/join'],
    r.pairs.node.map((c, i) => [c.concurrency, fmt(c.joinsPerSecond, 0), fmt(bp[i].joinsPerSecond, 0), fmt(r.ratios.pairs[i].nodeOverBare, 2), fmt(c.p50), fmt(bp[i].p50), fmt(c.p99), fmt(bp[i].p99), fmt(c.cpuMsPerJoin, 2), fmt(bp[i].cpuMsPerJoin, 2)]));
}

export function printFanout(f: Awaited<ReturnType<typeof fanoutBench>>) {
  for (const mode of ['plain', 'srtp'] as const) {
    table(`fan-out, ${mode === 'srtp' ? 'SRTP (AES_CM_128_HMAC_SHA1_80)' : 'plain RTP'}: one ${f.packetsPerSecondIn} packet/s stream of ${f.payloadBytes} B to N receivers, one worker`,
      ['N', 'node out pkt/s', 'node loss %', 'node worker CPU %', 'node µs/pkt', 'bare out pkt/s', 'bare loss %', 'bare worker CPU %', 'bare µs/pkt', 'bare/node µs'],
      f.node[mode].steps.map((s, i) => {
        const b = f.bare[mode].steps[i];
        return [s.receivers, fmt(s.packetsPerSecondOut, 0), fmt(s.lossPercent, 2), fmt(s.workerCpuPercent, 0), fmt(s.usPerPacket, 2),
          fmt(b?.packetsPerSecondOut, 0), fmt(b?.lossPercent, 2), fmt(b?.workerCpuPercent, 0), fmt(b?.usPerPacket, 2), fmt(b && b.usPerPacket / s.usPerPacket, 2)];
      }));
    console.log(`largest N under 1% loss: node ${f.node[mode].largestUnder1Percent}, bare ${f.bare[mode].largestUnder1Percent}`);
  }
}

export function printPipe(r: Awaited<ReturnType<typeof pipeBench>>) {
  const row = (name: string, x: typeof r.node) => [
    name, fmt(x.direct.p50, 2), fmt(x.direct.p99, 2), fmt(x.piped.p50, 2), fmt(x.piped.p99, 2), fmt(x.added.latencyP50Ms, 2), fmt(x.added.latencyP99Ms, 2),
    fmt(x.direct.cpuUsPerPacket, 1), fmt(x.piped.cpuUsPerPacket, 1), fmt(x.added.cpuUsPerPacket, 1),
  ];
  table(`pipe: a subscriber on another node (${r.packetsPerSecond} packet/s of ${r.payloadBytes} B); latency ms, worker CPU µs per packet (both nodes)`,
    ['', 'direct p50', 'direct p99', 'piped p50', 'piped p99', 'added p50', 'added p99', 'direct µs/pkt', 'piped µs/pkt', 'added µs/pkt'],
    [row('node (2-node cluster)', r.node), row('bare (2 workers)', r.bare)]);
}

export function printCluster(r: Awaited<ReturnType<typeof clusterBench>>) {
  const row = (name: string, x: typeof r.cluster) => [name, fmt(x.closedJoinsPerSecond, 0), fmt(x.closedP50), fmt(x.closedP99), fmt(x.openP50), fmt(x.openP99), x.failed];
  table(`cluster: joins with Redis placement (closed loop, ${r.plan.concurrency} clients; open loop ${r.plan.rate} joins/s), ms`,
    ['', 'joins/s', 'p50', 'p99', `p50 at ${r.plan.rate}/s`, `p99 at ${r.plan.rate}/s`, 'failed'],
    [row('3 nodes + Redis', r.cluster), row('1 node, no Redis', r.single), row('bare mediasoup', r.bare)]);
  const c = r.redisCommandsPerNodePerSecond;
  table('cluster: Redis commands per node per second at rest', ['no peers', `${c.peers} idle peers`], [[fmt(c.noPeers), fmt(c.withPeers)]]);
}

export function printCallq(r: Awaited<ReturnType<typeof callqBench>>) {
  const span = (x: { median: number; min: number; max: number }, digits = 1) => `${fmt(x.median, digits)} (${fmt(x.min, digits)}–${fmt(x.max, digits)})`;
  const rows = Object.entries(r.results).flatMap(([profile, sides]) => Object.entries(sides).map(([side, s]) => {
    const of = (k: Exclude<keyof typeof s.median, 'samples'>, digits = 1) =>
      s.median[k] === undefined ? '–' : span({ median: s.median[k], min: s.min[k] as number, max: s.max[k] as number }, digits);
    return [profile, side, of('frozenPercent'), of('fps'), of('concealedPercent', 2), of('firstFrameMs', 0), of('layerSwitches', 0), of('topWidth', 0), of('sellerEstimateKbit', 0),
      of('keyFrameRequests', 0), of('keyFrames', 0), of('backFrozenPercent'), of('backFps')];
  }));
  table(`call quality at the buyer (and, in a two-way call, at the seller): median (min–max) of ${r.runs} run(s) of ${r.seconds} s`,
    ['profile', 'server', 'frozen %', 'fps', 'audio concealed %', 'first frame ms', 'layer switches', 'widest px', 'seller estimate kbit/s', 'key frame requests at seller', 'key frames made', 'frozen % at seller', 'fps at seller'], rows);
  const piped = Object.entries(r.results).flatMap(([profile, sides]) => (sides['two nodes']?.runs ?? []).map((run, i) => [profile, i + 1,
    run.pipePackets ?? '–', run.pipeLost ?? '–', run.pipeRepaired ?? '–', run.pipeNacked ?? '–']));
  if (piped.length) table('cascade: the packets piped into the buyer\'s node from the seller\'s, per run (its sfu_pipe_* counters)',
    ['profile', 'run', 'arrived', 'lost (mediasoup)', 'repaired (mediasoup)', 'NACKed'], piped);
}

export function printRecording(r: Awaited<ReturnType<typeof recordingBench>>) {
  table(`recording: ${r.tracks} audio tracks of a bot recorded, ${r.node.sendingTracks} of them sending (50 packet/s each); ffmpeg alone on the sending ones`,
    ['', 'ffmpeg processes', 'RSS MB/track', 'private MB/track', 'CPU %/track', 'node process CPU %'],
    [
      ['node (one participant)', r.node.processes, fmt(r.perTrack.node.rssMB, 1), fmt(r.perTrack.node.privateMB, 1), fmt(r.perTrack.node.cpuPercent, 2), fmt(r.node.nodeCpuPercent, 1)],
      ['ffmpeg alone, a process per stream', r.alone.processes, fmt(r.perTrack.alone.rssMB, 1), fmt(r.perTrack.alone.privateMB, 1), fmt(r.perTrack.alone.cpuPercent, 2), '–'],
      ['ffmpeg alone, one process', r.aloneGrouped.processes, fmt(r.perTrack.aloneGrouped.rssMB, 1), fmt(r.perTrack.aloneGrouped.privateMB, 1), fmt(r.perTrack.aloneGrouped.cpuPercent, 2), '–'],
    ]);
  console.log(`silent tracks recorded: ${r.node.silentTracks}; complete files: ${r.node.completeFiles} of ${r.node.sendingTracks} sending tracks`);
}

export function printSpeech(r: Awaited<ReturnType<typeof speechBench>>) {
  const words = r.clips.reduce((n, c) => n + c.words, 0);
  console.log(`\nspeech: ${r.clips.length} clips with known transcripts (${words} words), spoken by each speaker as Opus RTP; the listener reads Spanish`);
  table('speech: from the end of a clip\'s audio to its final caption, ms; word error rate', ['', 'speakers', 'captioned/clips', 'p50', 'p95', 'max', 'WER'],
    [
      ['engine alone (PCM in real time)', 1, `${r.alone.captioned}/${r.alone.clips}`, fmt(r.alone.latencyMs.p50, 0), fmt(r.alone.latencyMs.p95, 0), fmt(r.alone.latencyMs.max, 0), fmt(r.alone.wordErrorRate * 100, 1) + '%'],
      ...r.node.filter((l) => l.speakers > 0).map((l) => [`node, ${l.speakers} at once`, l.speakers, `${l.captioned}/${l.clips}`, fmt(l.latencyMs.p50, 0), fmt(l.latencyMs.p95, 0), fmt(l.latencyMs.max, 0), fmt(l.wordErrorRate * 100, 1) + '%']),
    ]);
  table('speech: CPU (% of one core) and what goes on beside the captions', ['speakers', 'node process', 'ffmpeg (all)', 'recognisers (all)', 'fan-out loss', 'fan-out worker CPU', 'µs/pkt', 'join p50 ms', 'join p95 ms'],
    r.node.map((l) => [l.speakers, fmt(l.cpu.nodePercent), fmt(l.cpu.ffmpegPercent), fmt(l.cpu.recognisersPercent), `${fmt(l.fanout.lossPercent, 2)}%`, fmt(l.fanout.workerCpuPercent), fmt(l.fanout.usPerPacket, 2), fmt(l.joins.p50Ms), fmt(l.joins.p95Ms)]));
  if (r.perParticipantCpuPercent) {
    const p = r.perParticipantCpuPercent;
    console.log(`per captioned participant: node process +${fmt(p.node)}%, ffmpeg ${fmt(p.ffmpeg)}%, recogniser ${fmt(p.recogniser)}% (alone: ${fmt(r.alone.cpuPercent)}%) of one core`);
  }
  const fan = r.node[0].fanout;
  console.log(`most captioned participants held (p95 ≤ ${r.p95TargetMs} ms, every clip captioned, fan-out of ${fan.receivers} × ${fan.packetsPerSecondIn} pkt/s under 1% loss, joins as fast): ${r.mostCaptionedHeld}`);
}

export function printAssistant(r: Awaited<ReturnType<typeof assistantBench>>) {
  table('assistant: from the end of the buyer\'s utterance to the first packet of the answer at the buyer, ms (offline engines, espeak-ng)', ['', 'calls at once', 'replies', 'p50', 'p95', 'max'],
    [
      ['engine alone (recogniser in real time, rules, espeak-ng, libopus)', 1, `${r.alone.runs}`, fmt(r.alone.p50, 0), fmt(r.alone.p95, 0), '–'],
      ...r.node.map((l) => [`node + worker, ${l.calls} at once`, l.calls, `${l.replies}/${l.expected}`, fmt(l.replyMs.p50, 0), fmt(l.replyMs.p95, 0), fmt(l.replyMs.max, 0)]),
    ]);
  console.log(`barge-in: the assistant's last packet ${fmt(r.bargeInStopMs, 0)} ms after the buyer's first word`);
  console.log(`most assistant calls held (every reply, p95 ≤ ${r.p95TargetMs} ms): ${r.mostCallsHeld}`);
  for (const l of r.node) if (l.errors.length) console.log(`errors at ${l.calls}: ${l.errors.join('; ')}`);
}
