import { spawn, type ChildProcess } from 'node:child_process';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentJob } from '../../src/agents/jobs.js';
import { RedisAgentQueue, RedisJobSource } from '../../src/agents/redis-queue.js';
import { ClusterNode, token } from '../helpers/cluster-node.js';
import { RedisServer } from '../helpers/redis-server.js';
import { spokenFrames } from '../helpers/speech-clips.js';
import { WeriftPeer } from '../helpers/werift-peer.js';

const job = (n: number): AgentJob => ({ jobId: `job-${n}`, tenant: 'default', room: `r-${n}`, callId: `c-${n}`, url: 'http://127.0.0.1:1', token: 't', attempt: 0 });
const chatFrom = (p: WeriftPeer, from = 'assistant') => p.client.notificationsOf('chat').filter((m) => m.peerId === from).map((m) => m.text);

/** Assistant jobs through a private redis-server: taken once, given again when their worker dies, cancelled. */
describe('assistant jobs in Redis', () => {
  let redis: RedisServer;
  const clients: Redis[] = [];
  const client = () => {
    const c = redis.client();
    clients.push(c);
    return c;
  };
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await redis?.down();
  });

  it('each job is taken by exactly one worker, however many ask at once', async () => {
    const queue = new RedisAgentQueue(client(), 2000);
    const taken = new Map<string, string[]>();
    const sources = ['w1', 'w2', 'w3'].map((id) => new RedisJobSource(client(), id, 2000, 10));
    for (const s of sources) s.start(20, { job: (j) => taken.set(j.jobId, [...(taken.get(j.jobId) ?? []), s.workerId]), cancelled: () => undefined });
    await Promise.all(Array.from({ length: 30 }, (_, i) => queue.enqueue(job(i))));
    const deadline = Date.now() + 10_000;
    while (taken.size < 30 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    // Who took what, before any stops: a worker that stops hands its jobs to the others still
    // running (stop() puts them back at once), which is a second take by design, not a race.
    const beforeStopping = [...taken.values()].map((workers) => [...workers]);
    for (const s of sources) await s.stop().catch(() => undefined);
    expect(beforeStopping).toHaveLength(30);
    expect(beforeStopping.filter((workers) => workers.length !== 1)).toEqual([]);
    // More than one worker took part.
    expect(new Set(beforeStopping.flat()).size).toBeGreaterThan(1);
  });

  it('a worker that stops renewing loses its job to another, with one more attempt; a cancelled job is taken away', async () => {
    const admin = client();
    await admin.flushall();
    const queue = new RedisAgentQueue(client(), 600);
    const dying = client();
    const first: AgentJob[] = [];
    const a = new RedisJobSource(dying, 'dies', 600, 20);
    a.start(1, { job: (j) => first.push(j), cancelled: () => undefined });
    await queue.enqueue(job(100));
    const until = async (check: () => boolean) => {
      const deadline = Date.now() + 10_000;
      while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(check()).toBe(true);
    };
    await until(() => first.length === 1);
    // The worker dies: its connection is gone, its leases run out.
    dying.disconnect();
    const second: AgentJob[] = [];
    const cancelled: string[] = [];
    const b = new RedisJobSource(client(), 'lives', 600, 20);
    b.start(2, { job: (j) => second.push(j), cancelled: (id) => cancelled.push(id) });
    await until(() => second.length === 1);
    expect(second[0]).toMatchObject({ jobId: 'job-100', attempt: 1 });
    await queue.cancel('job-100');
    await until(() => cancelled.includes('job-100'));
    expect(await queue.counts()).toEqual({ waiting: 0, running: 0 });
    await b.stop();
  });
});

/**
 * A node in cluster mode without workers of its own, and agent workers started apart
 * (npm run agent's program) that take its jobs from Redis; one is killed mid-call.
 */
describe('agent workers apart from the nodes', () => {
  let redis: RedisServer;
  let node: ClusterNode;
  const workers: ChildProcess[] = [];
  const peers: WeriftPeer[] = [];
  const env = {
    TENANTS: JSON.stringify([{ id: 'default', assistant: { join: 'buyer-joined', voice: 'flite' } }]),
    AGENT_LEASE_MS: '1500',
  };
  const startWorker = () => {
    const w = spawn(process.execPath, ['--import', 'tsx', 'src/agents/worker/main.ts'], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'warn', REDIS_URL: redis.url, ...env },
    });
    workers.push(w);
    return w;
  };

  beforeAll(async () => {
    redis = await RedisServer.start();
    node = await ClusterNode.start('solo', 'us-west', redis.url, { ...env, AGENT_WORKERS: '0' });
  }, 90_000);
  afterAll(async () => {
    for (const p of peers) await p.close().catch(() => undefined);
    for (const w of workers) w.kill('SIGKILL');
    await node?.stop();
    await redis?.down();
  });

  it('a worker takes the job from Redis; killed mid-call, another takes it over and goes on', async () => {
    const first = startWorker();
    await node.place('far-1', 'us-west');
    const buyer = await WeriftPeer.connect(node.ws, token({ room: 'far-1', identity: 'buyer', role: 'buyer', region: 'us-west', language: 'en' }));
    peers.push(buyer);
    await buyer.client.request('subscribeChat', {});
    await buyer.publish({ video: false, data: false });
    await buyer.client.until(() => chatFrom(buyer).some((l) => /What went wrong/.test(l)), 'the greeting', 40_000);
    first.kill('SIGKILL');
    startWorker();
    await buyer.client.until(() => buyer.client.notificationsOf('peerJoined').filter((p) => p.id === 'assistant').length >= 2, 'the assistant back', 40_000);
    buyer.say(spokenFrames('it does not work'));
    await buyer.client.until(() => chatFrom(buyer).some((l) => /order number/.test(l)), 'the next question', 40_000);
    expect(chatFrom(buyer).filter((l) => /What went wrong/.test(l))).toHaveLength(1);
  });
});
