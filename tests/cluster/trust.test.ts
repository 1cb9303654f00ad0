import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterNode, token } from '../helpers/cluster-node.js';
import { RedisServer } from '../helpers/redis-server.js';
import { SignalingClient } from '../helpers/signaling-client.js';
import { waitFor } from '../helpers/werift-peer.js';

/**
 * Someone who can write to Redis but does not hold the cluster secret: fake node entries,
 * garbage owners and peer entries, replayed entries, and floods of junk messages.
 */
describe('the cluster trusts only what cluster members signed', () => {
  let redis: RedisServer;
  let db: Redis;
  let a: ClusterNode;
  let b: ClusterNode;
  const clients: SignalingClient[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    db = redis.client();
    [a, b] = await Promise.all([ClusterNode.start('ta', 'us-west', redis.url), ClusterNode.start('tb', 'us-west', redis.url)]);
  }, 90_000);
  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all([a, b].map((n) => n?.stop()));
    db?.disconnect();
    await redis?.down();
  });

  /** Joins through `node`, following one REDIRECT, which must point at a cluster member. */
  const join = async (node: ClusterNode, room: string, identity: string) => {
    const c = await SignalingClient.connect(node.ws);
    clients.push(c);
    const frame = await c.raw(JSON.stringify({ type: 'request', id: 1, method: 'join', data: { token: token({ room, identity, role: 'buyer' }) } }));
    if (frame.ok) return frame.data;
    expect(frame.error.code).toBe('REDIRECT');
    const target = [a, b].find((n) => n.url === frame.error.redirect.url);
    expect(target, `redirected to ${frame.error.redirect.url}`).toBeDefined();
    return join(target!, room, identity);
  };
  const fakeNode = async (id: string, sig?: string) => {
    await db.hset(`sfu:node:${id}`, {
      id, region: 'us-west', url: 'http://evil.example:1', mediaAddress: '203.0.113.9', capacity: '100000', peers: '0', rooms: '0',
      draining: '0', startedAt: String(Date.now()), heartbeatAt: String(Date.now()), ...(sig ? { sig } : {}),
    });
    await db.zadd('sfu:nodes', Date.now() + 600_000, id);
  };

  it('a fake node entry (unsigned or badly signed) is never a placement or a redirect target', async () => {
    await fakeNode('evil');
    await fakeNode('forged', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    await db.set('sfu:room:default/trap', 'evil', 'PX', 600_000);
    await db.set('sfu:room:default/trap2', 'forged', 'PX', 600_000);
    for (const room of ['trap', 'trap2']) {
      // Served here or redirected to b: never to evil.example.
      expect((await join(a, room, `victim-${room}`)).roomId).toBe(room);
      const owner = await db.get(`sfu:room:default/${room}`);
      expect(['ta', 'tb']).toContain(owner);
    }
    // Placement through the API skips them too, even though they claim far more capacity.
    for (let i = 0; i < 10; i++) expect(['ta', 'tb']).toContain((await a.place(`api-${i}`, 'us-west')).node.id);
  });

  it('a garbage owner does not make its room unavailable', async () => {
    await db.set('sfu:room:default/garbage', '{{{not a node', 'PX', 600_000);
    expect((await join(b, 'garbage', 'g1')).roomId).toBe('garbage');
    expect(['ta', 'tb']).toContain(await db.get('sfu:room:default/garbage'));
  });

  it('garbage and replayed peer entries are not shown to anyone', async () => {
    await join(a, 'honest', 'real-peer');
    const stored = await db.hgetall('sfu:room:default/honest:peers');
    // The real, signed entry copied into another room and under another id; and junk.
    await db.hset('sfu:room:default/copied:peers', 'real-peer', stored['real-peer'], 'impostor', stored['real-peer'], 'junk', 'not json', 'ghost', JSON.stringify({ nodeId: 'ta', info: { id: 'ghost', name: 'g', role: 'buyer', producers: [], dataProducers: [] }, joinedAt: 1 }));
    // A newcomer, whose node's span reads the stored peers when the room opens there.
    expect((await join(a, 'copied', 'newcomer')).peers).toEqual([]);
  });

  it('20,000 junk messages are dropped and counted, with a bounded number of log lines', async () => {
    const logsBefore = a.logs.length;
    const pipeline = db.pipeline();
    for (let i = 0; i < 20_000; i++) pipeline.publish('sfu:bus:node:ta', i % 3 ? `junk-${i}` : JSON.stringify({ body: '{}', sig: 'x' }));
    await pipeline.exec();
    const dropped = async () => Number(/sfu_cluster_messages_dropped_total\{reason="unauthenticated"\} (\d+)/.exec(await (await fetch(`${a.url}/metrics`)).text())?.[1] ?? 0);
    await waitFor(async () => (await dropped()) >= 20_000, 'every junk message counted', 30_000);
    const lines = a.logs.slice(logsBefore).split('\n').filter((l) => l.includes('dropped a cluster message'));
    expect(lines.length).toBeLessThanOrEqual(10);
    // The node still works.
    expect((await join(a, 'after-junk', 'still-fine')).roomId).toBe('after-junk');
  });
});
