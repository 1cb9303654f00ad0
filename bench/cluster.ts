/**
 * Cluster: three nodes sharing one redis-server. Join latency when every join goes through
 * Redis placement (each room placed on the node its first client reaches, in its region), next to one node
 * without Redis and bare mediasoup; then the Redis commands each node sends a second at rest,
 * with no peers and with 1,000 idle peers joined (heartbeats should not grow with peers).
 */
import { Redis } from 'ioredis';
import { RedisServer } from '../tests/helpers/redis-server.js';
import { closedLoop, join, openLoop, tokens, type Client } from './load.js';
import { sleep, startBare, startNode, type Server } from './proc.js';

async function commandsPerSecond(redis: Redis, seconds: number) {
  const processed = async () => Number(/total_commands_processed:(\d+)/.exec(await redis.info('stats'))![1]);
  const before = await processed();
  await sleep(seconds * 1000);
  return (await processed() - before - 1) / seconds; // minus our own INFO
}

/** Joins on several servers at once, each with rooms of its own: latency of all together. */
async function spread(servers: Server[], o: { rate: number; seconds: number; concurrency: number }, tag: string) {
  const closed = await Promise.all(servers.map((s, i) => closedLoop(s.url, tokens(5000, `${tag}c${i}`, 50), Math.max(1, Math.round(o.concurrency / servers.length)), o.seconds)));
  const open = await Promise.all(servers.map((s, i) => openLoop(s.url, tokens(Math.ceil((o.rate / servers.length) * o.seconds), `${tag}o${i}`, 50), o.rate / servers.length, o.seconds)));
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    closedJoinsPerSecond: closed.reduce((t, r) => t + r.joinsPerSecond, 0), closedP50: avg(closed.map((r) => r.p50)), closedP99: Math.max(...closed.map((r) => r.p99)),
    openRate: o.rate, openP50: avg(open.map((r) => r.p50)), openP99: Math.max(...open.map((r) => r.p99)), failed: open.reduce((t, r) => t + r.failed, 0),
  };
}

export async function clusterBench(o: { smoke: boolean }) {
  const plan = o.smoke ? { rate: 20, seconds: 0.5, concurrency: 3, peers: 30, restSeconds: 1 } : { rate: 60, seconds: 5, concurrency: 6, peers: 1000, restSeconds: 10 };
  const result: Record<string, unknown> = { plan };
  const redis = await RedisServer.start();
  const db = redis.client();
  const nodes: Server[] = [];
  try {
    // One node per region: a token without a region places its room in the region of the node
    // it reaches, so each client's rooms stay on its node (no redirects to follow).
    for (const [i, region] of ['eu-west', 'us-east', 'us-west'].entries()) nodes.push(await startNode({ REDIS_URL: redis.url, REGION: region, NODE_ID: `bench-${i + 1}` }));
    await sleep(1500);
    result.cluster = await spread(nodes, plan, 'cl');
    const idle = await commandsPerSecond(db, plan.restSeconds);
    // Idle peers, spread over the nodes in rooms of 10.
    const held: Client[] = [];
    const rooms = plan.peers / 10;
    const toks = tokens(plan.peers, 'rest', rooms); // token i is for room i % rooms
    for (let i = 0; i < plan.peers; i += 30) {
      held.push(...(await Promise.all(toks.slice(i, i + 30).map((t, j) => join(nodes[((i + j) % rooms) % nodes.length].url, t)))));
    }
    await sleep(2000);
    const withPeers = await commandsPerSecond(db, plan.restSeconds);
    await Promise.all(held.map((c) => c.leave()));
    result.redisCommandsPerNodePerSecond = { noPeers: idle / nodes.length, withPeers: withPeers / nodes.length, peers: plan.peers };
  } finally {
    for (const n of nodes) await n.stop();
    db.disconnect();
    await redis.down();
  }
  for (const [name, start] of [['single', () => startNode()], ['bare', () => startBare()]] as const) {
    const server = await start();
    try {
      result[name] = await spread([server], plan, name);
    } finally {
      await server.stop();
    }
  }
  return result as { plan: typeof plan; cluster: Spread; single: Spread; bare: Spread; redisCommandsPerNodePerSecond: { noPeers: number; withPeers: number; peers: number } };
}
type Spread = Awaited<ReturnType<typeof spread>>;
