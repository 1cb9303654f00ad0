import { closedLoop, join, openLoop, pairsLoop, tokens, type Client } from './load.js';
import { cpuSeconds, rssBytes, sleep, startBare, startNode, type Server } from './proc.js';

export interface SignalingOptions {
  smoke: boolean;
}

const cpuOf = (s: Server) => cpuSeconds(s.pid) + s.workerPids.reduce((t, p) => t + cpuSeconds(p), 0);

/** Median time of `n` scrapes of the node's /metrics, ms. */
async function scrapeMs(url: string, n: number) {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await (await fetch(`${url}/metrics`)).text();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** Joins and holds `count` idle peers (no media), 20 at a time. */
async function hold(url: string, count: number, prefix: string) {
  const toks = tokens(count, prefix, Math.max(1, Math.ceil(count / 20)));
  const held: Client[] = [];
  for (let i = 0; i < count; i += 20) held.push(...(await Promise.all(toks.slice(i, i + 20).map((t) => join(url, t)))));
  return held;
}

/** One server's numbers: throughput, latency, CPU and memory per join or peer. */
async function measure(server: Server, o: SignalingOptions) {
  const seconds = o.smoke ? 0.5 : 5;
  const url = server.url;
  await closedLoop(url, tokens(o.smoke ? 20 : 300, 'warm', 10), 8, o.smoke ? 0.3 : 2);
  const closed = [];
  for (const concurrency of o.smoke ? [4] : [1, 4, 16, 64]) {
    const cpu0 = cpuOf(server);
    const r = await closedLoop(url, tokens(o.smoke ? 400 : 20_000, `c${concurrency}`, 50), concurrency, seconds);
    closed.push({ concurrency, ...r, cpuMsPerJoin: ((cpuOf(server) - cpu0) * 1000) / r.joins });
    await sleep(300);
  }
  const open = [];
  for (const rate of o.smoke ? [50] : [100, 200, 400]) {
    open.push(await openLoop(url, tokens(Math.ceil(rate * seconds), `o${rate}`, 50), rate, seconds));
    await sleep(300);
  }
  // Memory per idle peer, apart for the server's own process and its worker.
  const peers = o.smoke ? 40 : 1000;
  await sleep(500);
  const mem = async () => {
    const m = await server.memoryAfterGc();
    return { process: m.rss, heap: m.heapUsed + m.external, worker: rssBytes(server.workerPids[0]) };
  };
  const before = await mem();
  const held = await hold(url, peers, 'idle');
  await sleep(1000);
  const during = await mem();
  const scrapeWithPeers = server.name === 'node' ? await scrapeMs(url, o.smoke ? 3 : 20) : undefined;
  await Promise.all(held.map((c) => c.leave()));
  await sleep(o.smoke ? 500 : 2000);
  const after = await mem();
  return {
    closed, open,
    memory: {
      idlePeers: peers,
      processKBPerPeer: (during.process - before.process) / peers / 1024,
      heapKBPerPeer: (during.heap - before.heap) / peers / 1024,
      workerKBPerPeer: (during.worker - before.worker) / peers / 1024,
      processKBAfterLeave: (after.process - before.process) / 1024,
      heapKBAfterLeave: (after.heap - before.heap) / 1024,
      workerKBAfterLeave: (after.worker - before.worker) / 1024,
    },
    scrapeWithPeers,
  };
}

/**
 * Calls of two joining new rooms and hanging up without a leave, one pair at a time and more,
 * with the node at its default log level (info, to a pipe that is read, as a log shipper reads
 * it) and its reconnect grace at 0, as the independent load generator measured it.
 */
async function measurePairs(server: Server, o: SignalingOptions) {
  const seconds = o.smoke ? 0.5 : 5;
  await pairsLoop(server.url, 4, o.smoke ? 0.3 : 2, 'pwarm');
  const pairs = [];
  for (const concurrency of o.smoke ? [1] : [1, 4, 16, 32]) {
    const cpu0 = cpuOf(server);
    const r = await pairsLoop(server.url, concurrency, seconds, `pairs${concurrency}`);
    pairs.push({ ...r, cpuMsPerJoin: ((cpuOf(server) - cpu0) * 1000) / r.joins });
    await sleep(300);
  }
  return pairs;
}

/** The node against bare mediasoup, in the same run, one after the other on the same machine. */
export async function signalingBench(o: SignalingOptions) {
  const pairs: Record<string, Awaited<ReturnType<typeof measurePairs>>> = {};
  for (const start of [() => startNode({ LOG_LEVEL: 'info', SIGNALING_RECONNECT_GRACE_MS: '0' }, { logs: 'drain' }), () => startBare()]) {
    const server = await start();
    try {
      pairs[server.name] = await measurePairs(server, o);
    } finally {
      await server.stop();
    }
  }
  const results: Record<string, Awaited<ReturnType<typeof measure>> & { scrapeFewPeers?: number }> = {};
  for (const start of [startNode, startBare]) {
    const server = await start();
    try {
      const scrapeFewPeers = server.name === 'node' ? await (async () => {
        const few = await hold(server.url, 10, 'few');
        const ms = await scrapeMs(server.url, o.smoke ? 3 : 20);
        await Promise.all(few.map((c) => c.leave()));
        await sleep(500);
        return ms;
      })() : undefined;
      results[server.name] = { ...(await measure(server, o)), scrapeFewPeers };
    } finally {
      await server.stop();
    }
  }
  const node = results.node;
  const bare = results['bare mediasoup'];
  return {
    node, bare, pairs,
    ratios: {
      closedLoop: node.closed.map((c, i) => ({ concurrency: c.concurrency, nodeOverBare: c.joinsPerSecond / bare.closed[i].joinsPerSecond })),
      pairs: pairs.node.map((c, i) => ({ concurrency: c.concurrency, nodeOverBare: c.joinsPerSecond / pairs['bare mediasoup'][i].joinsPerSecond })),
    },
  };
}
