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
const BASE = `http://${IP}:8080`;

type Profile = Omit<Impairment, 'first'> & {
  /** A rate cap on the media to and from the server, both directions sharing it (tbf), kbit/s. */
  capKbit?: number;
  /** The buyer sends its camera and microphone too, as a two-way call. */
  twoWay?: boolean;
};

/** One direction's impairment; the same each way (the round trip is twice the delay). */
export const PROFILES: Record<string, Profile> = {
  clean: { delayMs: 0 },
  'rtt-200ms': { delayMs: 100 },
  'rtt-200ms+loss-3%': { delayMs: 100, lossPercent: 3 },
  'rtt-200ms+loss-3%+cap-1.5Mbit': { delayMs: 100, lossPercent: 3, capKbit: 1500 },
  'two-way+rtt-200ms+loss-3%+cap-1.5Mbit': { delayMs: 100, lossPercent: 3, capKbit: 1500, twoWay: true },
  'rtt-200ms+bursty-loss-10%': { delayMs: 100, lossPercent: 10, burst: 4 },
};

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
  /** In a two-way call, the same at the seller, for the buyer's camera. */
  backFrozenPercent?: number; backFps?: number;
}

/** One second of the call: what the seller's browser sends and estimates, and what the buyer's decodes. */
interface Sample { t: number; estimateKbit: number; sent: Array<{ width: number; kbit: number; limit: string }>; width: number; frames: number; freeze: number }

const token = (identity: string, role: 'seller' | 'buyer') => mintToken(loadConfig({}).auth, { room: 'callq', identity, role }).token;

/** Opens the SDK on a page of the server and joins; `then` runs with `call` in scope. A string: the test runner leaves its import alone. */
async function join(page: Page, identity: string, role: 'seller' | 'buyer', then: string) {
  await page.goto(`${BASE}/healthz`);
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

/** The buyer's receive totals: decoded frames, frozen seconds, concealed and received audio samples. */
const totals = (page: Page) => page.evaluate(`(async () => {
  const t = { frames: 0, freeze: 0, concealed: 0, samples: 0 };
  (await window.call.connection.recvTransport.getStats()).forEach((s) => {
    if (s.type !== 'inbound-rtp' || s.mid === 'probator') return;
    if (s.kind === 'video') { t.frames += s.framesDecoded ?? 0; t.freeze += s.totalFreezesDuration ?? 0; }
    else { t.concealed += s.concealedSamples ?? 0; t.samples += s.totalSamplesReceived ?? 0; }
  });
  return t;
})()`) as Promise<{ frames: number; freeze: number; concealed: number; samples: number }>;

/** The seller's estimate and each simulcast layer it sends; cumulative bytes, differenced by the caller. */
const sellerState = (page: Page) => page.evaluate(`(async () => {
  const out = { estimate: 0, layers: [] };
  (await window.call.connection.sendTransport.getStats()).forEach((s) => {
    if (s.type === 'candidate-pair' && s.nominated && s.availableOutgoingBitrate) out.estimate = s.availableOutgoingBitrate;
    if (s.type === 'outbound-rtp' && s.kind === 'video') out.layers.push({ rid: s.rid ?? '', width: s.frameWidth ?? 0, bytes: s.bytesSent, limit: s.qualityLimitationReason ?? '' });
  });
  return out;
})()`) as Promise<{ estimate: number; layers: Array<{ rid: string; width: number; bytes: number; limit: string }> }>;

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
  let last = await sellerState(seller);
  for (let i = 1; i <= seconds; i++) {
    await new Promise((r) => setTimeout(r, t0 + i * 1000 - Date.now()));
    const [now, width, t] = await Promise.all([sellerState(seller), buyerWidth(buyer), totals(buyer)]);
    const sent = now.layers.map((l) => {
      const before = last.layers.find((b) => b.rid === l.rid);
      return { width: l.width, kbit: Math.round(((l.bytes - (before?.bytes ?? 0)) * 8) / 1000), limit: l.limit };
    });
    samples.push({ t: i, estimateKbit: Math.round(now.estimate / 1000), sent, width, frames: t.frames, freeze: t.freeze });
    last = now;
  }
  const end = await totals(buyer);
  return { start, end, samples };
}

/** One call through `server` ('node' or 'bare') on a link impaired as `impairment` says. */
async function run(server: 'node' | 'bare', { twoWay = false, ...impairment }: Profile, seconds: number): Promise<Run> {
  const ns = NetNs.create('callq');
  try {
    await ns.startNode(IP, MEDIA_PORT, { LOG_LEVEL: 'error' }, server === 'node' ? 'src/main.ts' : 'bench/bare-server.ts');
    if (impairment.delayMs || impairment.lossPercent) {
      for (const [proto, port] of [['udp', MEDIA_PORT], ['tcp', 8080]] as const) {
        // Loss on the media only: a lost signaling segment is resent by TCP, and that costs an RTO, not quality.
        const { capKbit: _, ...loss } = impairment;
        const media = proto === 'udp' ? loss : { delayMs: impairment.delayMs };
        await impair(ns, 'INPUT', ['-p', proto, '-d', IP, '--dport', String(port)], media);
        await impair(ns, 'INPUT', ['-p', proto, '-s', IP, '--sport', String(port)], media);
      }
    }
    if (impairment.capKbit) capServerMedia(ns, impairment.capKbit);
    const browser = await ns.launchChromium(['--autoplay-policy=no-user-gesture-required', ...fileCameraArgs(clip720p())]);
    try {
      const seller = await (await browser.newContext()).newPage();
      await join(seller, 'seller', 'seller', 'await call.publishCamera(); await call.publishMicrophone();');
      const buyer = await (await browser.newContext()).newPage();
      await join(buyer, 'buyer', 'buyer', twoWay ? 'await call.publishCamera(); await call.publishMicrophone();' : '');
      const deadline = Date.now() + 30_000;
      while ((await totals(buyer)).frames === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const firstFrameMs = await buyer.evaluate(() => performance.now()); // since the buyer's page opened
      // Both directions at once when the buyer sends too: the seller's view of the buyer is `back`.
      const [there, back] = await Promise.all([observe(seller, buyer, seconds), ...(twoWay ? [observe(buyer, seller, seconds)] : [])]);
      const direction = ({ start, end, samples }: typeof there) => {
        const widths = samples.map((s) => s.width).filter(Boolean);
        return {
          frozenPercent: (100 * (end.freeze - start.freeze)) / seconds,
          fps: (end.frames - start.frames) / seconds,
          concealedPercent: end.samples > start.samples ? (100 * (end.concealed - start.concealed)) / (end.samples - start.samples) : NaN,
          layerSwitches: widths.filter((w, i) => i > 0 && w !== widths[i - 1]).length,
          topWidth: Math.max(0, ...widths),
          sellerEstimateKbit: median(samples.map((s) => s.estimateKbit)),
        };
      };
      return {
        ...direction(there), firstFrameMs,
        ...(back ? { backFrozenPercent: direction(back).frozenPercent, backFps: direction(back).fps } : {}),
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

/** Every profile, `runs` times, node and bare alternating; each measure's median, min and max. */
export async function callqBench(o: { smoke: boolean; profile?: string[] }) {
  for (const p of o.profile ?? []) if (!(p in PROFILES)) throw new Error(`no call quality profile ${p}: ${Object.keys(PROFILES).join(', ')}`);
  const plan = o.smoke ? { profiles: ['rtt-200ms+loss-3%'], runs: 1, seconds: 4 } : { profiles: o.profile ?? Object.keys(PROFILES), runs: 3, seconds: 20 };
  const results: Record<string, Record<'node' | 'bare', { runs: Run[]; median: Run; min: Run; max: Run }>> = {};
  for (const profile of plan.profiles) {
    const runs: Record<'node' | 'bare', Run[]> = { node: [], bare: [] };
    for (let i = 0; i < plan.runs; i++) for (const server of ['node', 'bare'] as const) runs[server].push(await run(server, PROFILES[profile], plan.seconds));
    const stat = (rs: Run[], f: (xs: number[]) => number) => Object.fromEntries((Object.keys(rs[0]) as Array<keyof Run>).filter((k) => typeof rs[0][k] === 'number').map((k) => [k, f(rs.map((r) => r[k] as number))])) as unknown as Run;
    results[profile] = Object.fromEntries((['node', 'bare'] as const).map((s) => [s, {
      runs: runs[s], median: stat(runs[s], median), min: stat(runs[s], (xs) => Math.min(...xs)), max: stat(runs[s], (xs) => Math.max(...xs)),
    }])) as (typeof results)[string];
  }
  return { seconds: plan.seconds, runs: plan.runs, profiles: Object.fromEntries(plan.profiles.map((p) => [p, PROFILES[p]])), results };
}
