import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterNode, token } from '../helpers/cluster-node.js';
import { SignalingClient } from '../helpers/signaling-client.js';
import { startCall, type WeriftPeer } from '../helpers/werift-peer.js';
import { fuzzFrame, prng, type Rng } from './frames.js';
import { sleep } from '../helpers/time.js';

/** `npm test` runs a short pass; `npm run test:fuzz` runs the full one (FUZZ_FRAMES=12000). */
const FRAMES = Number(process.env.FUZZ_FRAMES ?? 2000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261127);
const SESSIONS = 4;
const BATCH = 32; // under the 64 requests a socket may have queued

/** One fuzzing socket: half of them join a room first, so the joined-state handlers get fuzzed too. */
class Fuzzer {
  sent = 0;
  answered = 0;
  private client!: SignalingClient;
  private ids: { transportId?: string; producerId?: string; consumerId?: string; token: string };

  constructor(private readonly node: ClusterNode, private readonly n: number, private readonly r: Rng) {
    this.ids = { token: token({ room: `fuzz-${n % 2}`, identity: `fuzzer-${n}`, role: 'agent' }) };
  }

  async connect() {
    this.client = await SignalingClient.connect(this.node.ws);
    if (this.n % 2 === 0) return;
    await this.client.request('join', { token: this.ids.token }).catch(() => undefined);
    this.ids.transportId = (await this.client.request('createTransport', { direction: 'send' }).catch(() => undefined))?.transportId;
  }

  /** Sends a batch and waits until every frame of it is answered. */
  async batch(count: number) {
    const before = this.client.rawResponses.length;
    for (let i = 0; i < count; i++) {
      this.client.ws.send(fuzzFrame(this.r, 1_000_000 + this.sent, this.ids));
      this.sent++;
    }
    await this.client.until(() => this.client.rawResponses.length >= before + count || this.client.closeCode !== undefined, 'answers', 10_000);
    expect(this.client.closeCode, `fuzzer ${this.n}: the node closed the socket`).toBeUndefined();
    this.answered += this.client.rawResponses.length - before;
  }

  close() {
    this.client.close();
  }
}

describe(`signaling fuzz: ${FRAMES} seeded frames (seed ${SEED}) against a node in another process, during a call`, () => {
  let node: ClusterNode;
  let seller: WeriftPeer;
  let buyer: WeriftPeer;

  beforeAll(async () => {
    node = await ClusterNode.start('fuzz', 'local', '', {
      LOG_LEVEL: 'warn', SIGNALING_RECONNECT_GRACE_MS: '0', LIMIT_JOINS_PER_IP_PER_MINUTE: '0', LIMIT_CONNECTIONS_PER_IP_PER_MINUTE: '0',
    }, ['--expose-gc']);
    ({ seller, buyer } = await startCall(node.ws, 'fuzz-call', (identity, role) => token({ room: 'fuzz-call', identity, role })));
  }, 60_000);
  afterAll(async () => {
    await seller?.close();
    await buyer?.close();
    await node?.stop();
  });

  /** Video packets per second reaching the buyer over `ms`. */
  const packetRate = async (ms = 1000) => {
    const before = buyer.received.video.packets;
    await sleep(ms);
    return ((buyer.received.video.packets - before) * 1000) / ms;
  };

  /** Runs `frames` frames over SESSIONS sockets; returns every frame's answer count. */
  const fuzz = async (seed: number, frames: number, during?: () => void) => {
    const fuzzers = Array.from({ length: SESSIONS }, (_, n) => new Fuzzer(node, n, prng(seed + n)));
    for (const f of fuzzers) await f.connect();
    let left = frames;
    while (left > 0) {
      const rounds = fuzzers.map((f) => {
        const count = Math.min(BATCH, left);
        left -= count;
        return count > 0 ? f.batch(count) : undefined;
      });
      await Promise.all(rounds);
      during?.();
    }
    for (const f of fuzzers) f.close();
    return fuzzers;
  };

  it('answers every frame, keeps the call at its packet rate, and gives its memory back', async () => {
    // Warm up: the code paths the fuzz takes are compiled and their caches filled before the baseline.
    await fuzz(SEED - 1, 400);
    await sleep(500);
    const baseline = await node.memory();
    expect(baseline.collected).toBe(true);
    const rate = await packetRate(2000);
    expect(rate).toBeGreaterThan(20);

    const rates: number[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) rates.push(await packetRate(1000));
    })();
    const fuzzers = await fuzz(SEED, FRAMES);
    sampling = false;
    await sampler;

    const sent = fuzzers.reduce((n, f) => n + f.sent, 0);
    expect(sent).toBe(FRAMES);
    expect(fuzzers.reduce((n, f) => n + f.answered, 0)).toBe(FRAMES);
    // The call kept its rate in every one-second window.
    for (const r of rates) expect(r).toBeGreaterThan(rate * 0.7);

    await sleep(1000);
    const after = await node.memory();
    process.stdout.write(`[fuzz] ${FRAMES} frames; video ${rate.toFixed(0)} pkt/s before, min ${Math.min(...rates).toFixed(0)} during; heap ${(baseline.heapUsed / 1e6).toFixed(1)} → ${(after.heapUsed / 1e6).toFixed(1)} MB, rss ${(baseline.rss / 1e6).toFixed(1)} → ${(after.rss / 1e6).toFixed(1)} MB\n`);
    expect(after.heapUsed).toBeLessThan(baseline.heapUsed * 1.1);
    expect(node.logs).not.toContain('"level":50');
  }, 600_000);
});
