import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisOutbox } from '../../src/platform/redis-outbox.js';
import { webhookEvent } from '../../src/platform/webhooks.js';
import { MAX_DELIVERIES } from '../../src/platform/store.js';
import { RedisServer } from '../helpers/redis-server.js';

describe('webhook deliveries and resends in the Redis outbox', () => {
  let redis: RedisServer;
  const log = pino({ level: 'silent' });
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    await redis?.down();
  });

  it('keeps the last deliveries, and sends a failure again once when two nodes ask at once', async () => {
    const [a, b] = [new RedisOutbox(redis.client(), 'node-a', 5000, log), new RedisOutbox(redis.client(), 'node-b', 5000, log)];
    for (let i = 0; i < MAX_DELIVERIES + 5; i++) {
      await a.add(webhookEvent('t', `room-${i}`, 'room.started', { room: `room-${i}`, callId: 'c' } as never), 1000);
    }
    const due = await a.due('t', Date.now(), 1000);
    expect(due).toHaveLength(MAX_DELIVERIES + 5);
    for (const entry of due.slice(1)) await a.delivered(entry);
    await a.fail(due[0], 'HTTP 500');
    const deliveries = await a.deliveries('t', 1000);
    expect(deliveries).toHaveLength(MAX_DELIVERIES);
    expect(deliveries[0]).toMatchObject({ room: `room-${MAX_DELIVERIES + 4}`, type: 'room.started', attempts: 1 });

    const failed = due[0].event.id;
    expect(await b.resend('other-tenant', failed, 1000)).toBe('missing');
    const answers = await Promise.all([a.resend('t', failed, 1000), b.resend('t', failed, 1000), a.resend('t', failed, 1000)]);
    expect(answers.sort()).toEqual(['missing', 'missing', 'queued']);
    expect(await a.failures('t', 10)).toEqual([]);
    expect((await a.due('t', Date.now() + 1, 10)).map((e) => e.event.id)).toEqual([failed]);
    expect((await a.pending()).t).toBe(1);
  });
});
