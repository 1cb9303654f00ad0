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
import { percentile } from './load.js';

const IP = '127.0.0.51';
const MEDIA_PORT = 46_450;
const BASE = `http://${IP}:8080`;

type Profile = Omit<Impairment, 'first'> & {
  /** A rate cap on what the server sends to the browsers (tbf), kbit/s. */
  capKbit?: number;
};

/** One direction's impairment; the same each way (the round trip is twice the delay). */
export const PROFILES: Record<string, Profile> = {
  clean: { delayMs: 0 },
  'rtt-200ms': { delayMs: 100 },
  'rtt-200ms+loss-3%': { delayMs: 100, lossPercent: 3 },
  'rtt-200ms+loss-3%+cap-1.5Mbit': { delayMs: 100, lossPercent: 3, capKbit: 1500 },
  'rtt-200ms+bursty-loss-10%': { delayMs: 100, lossPercent: 10, burst: 4 },
};

/**
 * Caps what leaves the server's media port at `kbit`/s: the namespace's loopback gets an htb
 * root whose one shaped class (a u32 match on the source port: this kernel has no fw or
 * matchall classifier) holds a tbf with a short queue, as a congested access link would.
 */
function capServerMedia(ns: NetNs, kbit: number) {
  ns.exec('tc', ['qdisc', 'add', 'dev', 'lo', 'root', 'handle', '1:', 'htb', 'default', '10']);
  ns.exec('tc', ['class', 'add', 'dev', 'lo', 'parent', '1:', 'classid', '1:10', 'htb', 'rate', '10gbit', 'quantum', '60000']);
  ns.exec('tc', ['class', 'add', 'dev', 'lo', 'parent', '1:', 'classid', '1:20', 'htb', 'rate', '10gbit', 'quantum', '60000']);
  ns.exec('tc', ['qdisc', 'add', 'dev', 'lo', 'parent', '1:20', 'handle', '20:', 'tbf', 'rate', `${kbit}kbit`, 'burst', '15kb', 'latency', '100ms']);
  ns.exec('tc', ['filter', 'add', 'dev', 'lo', 'parent', '1:', 'protocol', 'ip', 'prio', '1', 'u32',
    'match', 'ip', 'protocol', '17', '0xff', 'match', 'ip', 'sport', String(MEDIA_PORT), '0xffff', 'flowid', '1:20']);
}

interface Run { frozenPercent: number; fps: number; concealedPercent: number; firstFrameMs: number }

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

/** One call through `server` ('node' or 'bare') on a link impaired as `impairment` says. */
async function run(server: 'node' | 'bare', impairment: Profile, seconds: number): Promise<Run> {
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
    const browser = await ns.launchChromium(['--autoplay-policy=no-user-gesture-required']);
    try {
      const seller = await (await browser.newContext()).newPage();
      await join(seller, 'seller', 'seller', 'await call.publishCamera(); await call.publishMicrophone();');
      const buyer = await (await browser.newContext()).newPage();
      await join(buyer, 'buyer', 'buyer', '');
      const deadline = Date.now() + 30_000;
      while ((await totals(buyer)).frames === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const firstFrameMs = await buyer.evaluate(() => performance.now()); // since the buyer's page opened
      const start = await totals(buyer);
      await new Promise((r) => setTimeout(r, seconds * 1000));
      const end = await totals(buyer);
      return {
        frozenPercent: (100 * (end.freeze - start.freeze)) / seconds,
        fps: (end.frames - start.frames) / seconds,
        concealedPercent: end.samples > start.samples ? (100 * (end.concealed - start.concealed)) / (end.samples - start.samples) : NaN,
        firstFrameMs,
      };
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
    const stat = (rs: Run[], f: (xs: number[]) => number) => Object.fromEntries((Object.keys(rs[0]) as Array<keyof Run>).map((k) => [k, f(rs.map((r) => r[k]))])) as unknown as Run;
    results[profile] = Object.fromEntries((['node', 'bare'] as const).map((s) => [s, {
      runs: runs[s], median: stat(runs[s], median), min: stat(runs[s], (xs) => Math.min(...xs)), max: stat(runs[s], (xs) => Math.max(...xs)),
    }])) as (typeof results)[string];
  }
  return { seconds: plan.seconds, runs: plan.runs, profiles: Object.fromEntries(plan.profiles.map((p) => [p, PROFILES[p]])), results };
}
