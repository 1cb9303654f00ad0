/**
 * Call quality on an impaired link: two Chromium pages (the browser SDK) in a network
 * namespace, a seller sending its camera and microphone, a buyer receiving them, through the
 * node or through bare mediasoup (bench/bare-server.ts, the same SDK and browsers). nfq-netem
 * delays and drops the media and signaling packets between the browsers and the server, as they
 * arrive, in each direction. The buyer's own stats give what a buyer sees: the share of the time
 * the video froze, the frames per second decoded, the share of the audio concealed, and when the
 * first frame came after the page opened. Each profile runs `runs` times: the spread is large.
 */
import type { Page } from 'playwright-core';
import { mintToken } from '../src/auth/tokens.js';
import { loadConfig } from '../src/config/load.js';
import { impair, type Impairment } from '../tests/helpers/netem.js';
import { NetNs } from '../tests/helpers/netns.js';
import { clip720p, fileCameraArgs } from '../tests/helpers/video-clip.js';
import { percentile } from './load.js';

const IP = '127.0.0.51';
const MEDIA_PORT = 46_450;
/** The buyer's node in a cascade: the seller stays on the first, in another region. */
const BUYER_IP = '127.0.0.52';
const BUYER_MEDIA_PORT = 46_451;

type Profile = Omit<Impairment, 'first'> & {
  /** A rate cap on the media to and from the server, both directions sharing it (tbf), kbit/s. */
  capKbit?: number;
  /** The buyer sends its camera and microphone too, as a two-way call. */
  twoWay?: boolean;
  /**
   * A cascade: the seller on a node in one region, the buyer on a node in another, each on its
   * own access link (the impairment above), and the media between the two nodes on a link, and
   * a queue, of its own, impaired this way (each direction).
   */
  between?: Omit<Impairment, 'first'>;
};

/** What carries the call: the node, bare mediasoup, or two nodes of a cluster (a cascade). */
type Setup = 'node' | 'bare' | 'two nodes';

/** One direction's impairment; the same each way (the round trip is twice the delay). */
export const PROFILES: Record<string, Profile> = {
  clean: { delayMs: 0 },
  'rtt-200ms': { delayMs: 100 },
  'rtt-200ms+loss-3%': { delayMs: 100, lossPercent: 3 },
  'two-way+rtt-200ms+loss-3%': { delayMs: 100, lossPercent: 3, twoWay: true },
  'rtt-200ms+loss-3%+cap-1.5Mbit': { delayMs: 100, lossPercent: 3, capKbit: 1500 },
  'two-way+rtt-200ms+loss-3%+cap-1.5Mbit': { delayMs: 100, lossPercent: 3, capKbit: 1500, twoWay: true },
  'rtt-200ms+bursty-loss-10%': { delayMs: 100, lossPercent: 10, burst: 4 },
  // The outside harness's cascade: 20 ms and 3% to each node, 90 ms between them (round trips).
  'cascade+rtt-20ms+loss-3%+between-90ms': { delayMs: 10, lossPercent: 3, between: { delayMs: 45 } },
  // The same with loss between the nodes too: what the pipe's own retransmission repairs.
  'cascade+rtt-20ms+loss-3%+between-90ms+loss-1%': { delayMs: 10, lossPercent: 3, between: { delayMs: 45, lossPercent: 1 } },
};

/** A cascade runs on two nodes, and, to compare, on one node and on bare mediasoup with the same access links. */
const setupsOf = (p: Profile): Setup[] => (p.between ? ['two nodes', 'node', 'bare'] : ['node', 'bare']);

/**
 * Caps the media to and from the server's port at `kbit`/s, both directions together, as one
 * congested access link shared by upload and download: the namespace's loopback gets an htb
 * root whose one shaped class (u32 matches on the port: this kernel has no fw or matchall
 * classifier) holds a tbf with a short queue.
 */
function capServerMedia(ns: NetNs, kbit: number) {
  ns.exec('tc', ['qdisc', 'add', 'dev', 'lo', 'root', 'handle', '1:', 'htb', 'default', '10']);
  ns.exec('tc', ['class', 'add', 'dev', 'lo', 'parent', '1:', 'classid', '1:10', 'htb', 'rate', '10gbit', 'quantum', '60000']);
  ns.exec('tc', ['class', 'add', 'dev', 'lo', 'parent', '1:', 'classid', '1:20', 'htb', 'rate', '10gbit', 'quantum', '60000']);
  ns.exec('tc', ['qdisc', 'add', 'dev', 'lo', 'parent', '1:20', 'handle', '20:', 'tbf', 'rate', `${kbit}kbit`, 'burst', '15kb', 'latency', '100ms']);
  ns.exec('tc', ['filter', 'add', 'dev', 'lo', 'parent', '1:', 'protocol', 'ip', 'prio', '1', 'u32',
    'match', 'ip', 'protocol', '17', '0xff', 'match', 'ip', 'sport', String(MEDIA_PORT), '0xffff', 'flowid', '1:20']);
  ns.exec('tc', ['filter', 'add', 'dev', 'lo', 'parent', '1:', 'protocol', 'ip', 'prio', '1', 'u32',
    'match', 'ip', 'protocol', '17', '0xff', 'match', 'ip', 'dport', String(MEDIA_PORT), '0xffff', 'flowid', '1:20']);
}

interface Run {
  frozenPercent: number; fps: number; concealedPercent: number; firstFrameMs: number;
  /** How often the width the buyer decodes changed (a spatial layer switch), and the widest it reached. */
  layerSwitches: number; topWidth: number;
  /** The seller's own estimate of its uplink (candidate pair's availableOutgoingBitrate), median over the call, kbit/s. */
  sellerEstimateKbit: number;
  /** The key frame requests (PLI and FIR) the seller's browser got, and the key frames it made, over the measured window. */
  keyFrameRequests: number; keyFrames: number;
  /** In a two-way call, the same at the seller, for the buyer's camera. */
  backFrozenPercent?: number; backFps?: number;
  /**
   * In a cascade, the buyer's node's count of the packets piped in from the seller's node: that
   * arrived, that did not arrive on the first send, that a retransmission repaired, that it NACKed.
   */
  pipePackets?: number; pipeLost?: number; pipeRepaired?: number; pipeNacked?: number;
}

/** One second of the call: what the seller's browser sends and estimates, and what the buyer's decodes. */
interface Sample { t: number; estimateKbit: number; sent: Array<{ width: number; kbit: number; fps: number; limit: string }>; width: number; frames: number; received: number; freeze: number }

const token = (identity: string, role: 'seller' | 'buyer') => mintToken(loadConfig({}).auth, { room: 'callq', identity, role }).token;

/** Opens the SDK on a page of the server and joins; `then` runs with `call` in scope. A string: the test runner leaves its import alone. */
async function join(page: Page, ip: string, identity: string, role: 'seller' | 'buyer', then: string) {
  await page.goto(`http://${ip}:8080/healthz`);
  await page.evaluate(`(async () => {
    const { connect } = await import('/sdk/v1/sfu-client.js');
    const call = window.call = await connect(location.origin, ${JSON.stringify(token(identity, role))});
    call.on('trackAdded', ({ track }) => {
      const el = document.createElement(track.kind);
      el.srcObject = new MediaStream([track]);
      el.autoplay = true;
      document.body.append(el);
    });
    ${then}
  })()`);
}

/** The buyer's receive totals: decoded and received frames, frozen seconds, concealed and received audio samples. */
const totals = (page: Page) => page.evaluate(`(async () => {
  const t = { frames: 0, received: 0, freeze: 0, concealed: 0, samples: 0 };
  (await window.call.connection.recvTransport.getStats()).forEach((s) => {
    if (s.type !== 'inbound-rtp' || s.mid === 'probator') return;
    if (s.kind === 'video') { t.frames += s.framesDecoded ?? 0; t.received += s.framesReceived ?? 0; t.freeze += s.totalFreezesDuration ?? 0; }
    else { t.concealed += s.concealedSamples ?? 0; t.samples += s.totalSamplesReceived ?? 0; }
  });
  return t;
})()`) as Promise<{ frames: number; received: number; freeze: number; concealed: number; samples: number }>;

/** The seller's estimate and each simulcast layer it sends; cumulative bytes and key frame counts, differenced by the caller. */
const sellerState = (page: Page) => page.evaluate(`(async () => {
  const out = { estimate: 0, layers: [], requests: 0, keyFrames: 0 };
  (await window.call.connection.sendTransport.getStats()).forEach((s) => {
    if (s.type === 'candidate-pair' && s.nominated && s.availableOutgoingBitrate) out.estimate = s.availableOutgoingBitrate;
    if (s.type !== 'outbound-rtp' || s.kind !== 'video') return;
    out.layers.push({ rid: s.rid ?? '', width: s.frameWidth ?? 0, bytes: s.bytesSent, fps: s.framesPerSecond ?? 0, limit: s.qualityLimitationReason ?? '' });
    out.requests += (s.pliCount ?? 0) + (s.firCount ?? 0);
    out.keyFrames += s.keyFramesEncoded ?? 0;
  });
  return out;
})()`) as Promise<{ estimate: number; layers: Array<{ rid: string; width: number; bytes: number; fps: number; limit: string }>; requests: number; keyFrames: number }>;

const buyerWidth = (page: Page) => page.evaluate(`(async () => {
  let w = 0;
  (await window.call.connection.recvTransport.getStats()).forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'video' && s.mid !== 'probator' && s.frameWidth) w = Math.max(w, s.frameWidth);
  });
  return w;
})()`) as Promise<number>;

/** Samples both pages once a second for `seconds` (a bounded loop), and the buyer's totals at each end. */
async function observe(seller: Page, buyer: Page, seconds: number) {
  const samples: Sample[] = [];
  const start = await totals(buyer);
  const t0 = Date.now();
  const first = await sellerState(seller);
  let last = first;
  for (let i = 1; i <= seconds; i++) {
    await new Promise((r) => setTimeout(r, t0 + i * 1000 - Date.now()));
    const [now, width, t] = await Promise.all([sellerState(seller), buyerWidth(buyer), totals(buyer)]);
    const sent = now.layers.map((l) => {
      const before = last.layers.find((b) => b.rid === l.rid);
      return { width: l.width, kbit: Math.round(((l.bytes - (before?.bytes ?? 0)) * 8) / 1000), fps: l.fps, limit: l.limit };
    });
    samples.push({ t: i, estimateKbit: Math.round(now.estimate / 1000), sent, width, frames: t.frames, received: t.received, freeze: t.freeze });
    last = now;
  }
  const end = await totals(buyer);
  return { start, end, samples, keyFrameRequests: last.requests - first.requests, keyFrames: last.keyFrames - first.keyFrames };
}

/** Two nodes of a cluster in `ns` (Redis inside it too), in two regions: the seller's on IP, the buyer's on BUYER_IP. */
async function startCascade(ns: NetNs) {
  const cluster = { REDIS_URL: ns.startRedis(), LOG_LEVEL: 'error', CLUSTER_HEARTBEAT_MS: '250', CLUSTER_NODE_TTL_MS: '1500' };
  await ns.startNode(IP, MEDIA_PORT, { ...cluster, NODE_ID: 'seller-side', REGION: 'ap-east' });
  await ns.startNode(BUYER_IP, BUYER_MEDIA_PORT, { ...cluster, NODE_ID: 'buyer-side', REGION: 'eu-central' });
}

/** The impairment of one access link: a server's media port and its signaling, both ways. */
async function impairAccess(ns: NetNs, ip: string, mediaPort: number, { capKbit: _, between: __, twoWay: ___, ...impairment }: Profile) {
  if (!impairment.delayMs && !impairment.lossPercent) return;
  for (const [proto, port] of [['udp', mediaPort], ['tcp', 8080]] as const) {
    // Loss on the media only: a lost signaling segment is resent by TCP, and that costs an RTO, not quality.
    const media = proto === 'udp' ? impairment : { delayMs: impairment.delayMs };
    await impair(ns, 'INPUT', ['-p', proto, '-d', ip, '--dport', String(port)], media);
    await impair(ns, 'INPUT', ['-p', proto, '-s', ip, '--sport', String(port)], media);
  }
}

/** The buyer's node's pipe counters (sfu_pipe_*), read from its /metrics by the buyer's page (on its origin). */
const pipeCounts = async (buyer: Page) => {
  const text = await buyer.evaluate(`fetch('/metrics').then((r) => r.text())`) as string;
  const read = (name: string) => Number(new RegExp(`^sfu_pipe_${name}_packets_total (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { pipePackets: read('received'), pipeLost: read('lost'), pipeRepaired: read('repaired'), pipeNacked: read('nacked') };
};

/** One call through `setup` on links impaired as `profile` says. */
async function run(setup: Setup, profile: Profile, seconds: number): Promise<Run> {
  const { twoWay = false, between } = profile;
  const cascade = setup === 'two nodes';
  const buyerIp = cascade ? BUYER_IP : IP;
  const ns = NetNs.create('callq');
  try {
    if (cascade) await startCascade(ns);
    else await ns.startNode(IP, MEDIA_PORT, { LOG_LEVEL: 'error' }, setup === 'node' ? 'src/main.ts' : 'bench/bare-server.ts');
    await impairAccess(ns, IP, MEDIA_PORT, profile);
    if (cascade) {
      await impairAccess(ns, BUYER_IP, BUYER_MEDIA_PORT, profile);
      // The pipe between the nodes: UDP between their addresses, on queues of its own.
      for (const [from, to] of [[IP, BUYER_IP], [BUYER_IP, IP]]) await impair(ns, 'INPUT', ['-p', 'udp', '-s', from, '-d', to], between!);
    }
    if (profile.capKbit) capServerMedia(ns, profile.capKbit);
    const browser = await ns.launchChromium(['--autoplay-policy=no-user-gesture-required', ...fileCameraArgs(clip720p())]);
    try {
      const seller = await (await browser.newContext()).newPage();
      await join(seller, IP, 'seller', 'seller', 'await call.publishCamera(); await call.publishMicrophone();');
      const buyer = await (await browser.newContext()).newPage();
      await join(buyer, buyerIp, 'buyer', 'buyer', twoWay ? 'await call.publishCamera(); await call.publishMicrophone();' : '');
      const deadline = Date.now() + 30_000;
      while ((await totals(buyer)).frames === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const firstFrameMs = await buyer.evaluate(() => performance.now()); // since the buyer's page opened
      // Both directions at once when the buyer sends too: the seller's view of the buyer is `back`.
      const [there, back] = await Promise.all([observe(seller, buyer, seconds), ...(twoWay ? [observe(buyer, seller, seconds)] : [])]);
      const direction = ({ start, end, samples, keyFrameRequests, keyFrames }: typeof there) => {
        const widths = samples.map((s) => s.width).filter(Boolean);
        return {
          frozenPercent: (100 * (end.freeze - start.freeze)) / seconds,
          fps: (end.frames - start.frames) / seconds,
          concealedPercent: end.samples > start.samples ? (100 * (end.concealed - start.concealed)) / (end.samples - start.samples) : NaN,
          layerSwitches: widths.filter((w, i) => i > 0 && w !== widths[i - 1]).length,
          topWidth: Math.max(0, ...widths),
          sellerEstimateKbit: median(samples.map((s) => s.estimateKbit)),
          keyFrameRequests, keyFrames,
        };
      };
      return {
        ...direction(there), firstFrameMs,
        ...(back ? { backFrozenPercent: direction(back).frozenPercent, backFps: direction(back).fps } : {}),
        ...(cascade ? await pipeCounts(buyer) : {}),
        samples: there.samples, ...(back ? { backSamples: back.samples } : {}),
      } as Run & { samples: Sample[] };
    } finally {
      await browser.close();
    }
  } finally {
    await ns.close();
  }
}

const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 0.5);

/** Every profile, `runs` times, its setups alternating; each measure's median, min and max. */
export async function callqBench(o: { smoke: boolean; profile?: string[] }) {
  for (const p of o.profile ?? []) if (!(p in PROFILES)) throw new Error(`no call quality profile ${p}: ${Object.keys(PROFILES).join(', ')}`);
  const plan = o.smoke
    ? { profiles: ['rtt-200ms+loss-3%', 'cascade+rtt-20ms+loss-3%+between-90ms+loss-1%'], runs: 1, seconds: 4 }
    : { profiles: o.profile ?? Object.keys(PROFILES), runs: 3, seconds: 20 };
  const results: Record<string, Partial<Record<Setup, { runs: Run[]; median: Run; min: Run; max: Run }>>> = {};
  for (const profile of plan.profiles) {
    const setups = setupsOf(PROFILES[profile]);
    const runs = new Map<Setup, Run[]>(setups.map((s) => [s, []]));
    for (let i = 0; i < plan.runs; i++) for (const setup of setups) runs.get(setup)!.push(await run(setup, PROFILES[profile], plan.seconds));
    const stat = (rs: Run[], f: (xs: number[]) => number) => Object.fromEntries((Object.keys(rs[0]) as Array<keyof Run>).filter((k) => typeof rs[0][k] === 'number').map((k) => [k, f(rs.map((r) => r[k] as number))])) as unknown as Run;
    results[profile] = Object.fromEntries([...runs].map(([s, rs]) => [s, {
      runs: rs, median: stat(rs, median), min: stat(rs, (xs) => Math.min(...xs)), max: stat(rs, (xs) => Math.max(...xs)),
    }]));
  }
  return { seconds: plan.seconds, runs: plan.runs, profiles: Object.fromEntries(plan.profiles.map((p) => [p, PROFILES[p]])), results };
}
