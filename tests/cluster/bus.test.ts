import { createHmac } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { ClusterBus } from '../../src/cluster/cluster-bus.js';
import { RedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/werift-peer.js';

describe('node-to-node messages are authenticated', () => {
  let redis: RedisServer;
  const conns: Redis[] = [];
  const log = pino({ level: 'silent' });
  const bus = (id: string, secret = 'shared-cluster-secret') => {
    const [pub, sub] = [redis.client(), redis.client()];
    conns.push(pub, sub);
    return new ClusterBus(pub, sub, id, secret, log);
  };

  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    for (const c of conns) c.disconnect();
    await redis.down();
  });

  it('delivers signed messages, drops forged and stale ones, and answers RPCs', async () => {
    const [a, b, mallory] = [bus('a'), bus('b'), bus('mallory', 'guessed-secret')];
    await Promise.all([a.start(), b.start(), mallory.start()]);
    const got: Array<[string, unknown, string]> = [];
    await b.subscribe('room-x', (type, data, from) => got.push([type, data, from]));

    await a.publish('room-x', 'peer', { id: 'buyer' });
    await mallory.publish('room-x', 'peer', { id: 'intruder' });
    // A correctly signed message replayed long after it was sent.
    const body = JSON.stringify({ from: 'a', ts: Date.now() - 120_000, type: 'peer', data: { id: 'replayed' } });
    const sig = createHmac('sha256', 'shared-cluster-secret').update(body).digest('base64url');
    await conns[0].publish('room-x', JSON.stringify({ body, sig }));
    await conns[0].publish('room-x', 'not json at all');

    await waitFor(() => b.rejected >= 3, 'rejections');
    expect(got).toEqual([['peer', { id: 'buyer' }, 'a']]);

    b.onRpc('add', async ({ x, y }) => x + y);
    expect(await a.rpc<number>('b', 'add', { x: 2, y: 3 })).toBe(5);
    await expect(a.rpc('b', 'nope', {})).rejects.toThrow(/no cluster method nope/);
    await expect(mallory.rpc('b', 'add', { x: 1, y: 1 }, 500)).rejects.toThrow(/did not answer/);
    for (const x of [a, b, mallory]) x.close();
  });
});
