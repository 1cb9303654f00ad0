import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { Usage } from '../../src/contracts/records.js';
import { webhookEvent } from '../../src/platform/webhooks.js';
import { costOf } from '../../src/platform/cost.js';
import { MAX_POINTS, POINT_MS, QualitySeries } from '../../src/platform/quality-series.js';
import { SqliteStore } from '../../src/platform/sqlite-store.js';
import { MAX_DELIVERIES } from '../../src/platform/store.js';
import { ConsoleSessions } from '../../src/http/console-sessions.js';
import { Tenants } from '../../src/tenants/tenants.js';

const usage = (over: Partial<Usage> = {}): Usage => ({
  participantSeconds: { buyer: 90, seller: 30 }, mediaSeconds: { audio: 0, video: 0 }, bytesIn: 0, bytesOut: 2e9,
  speechSeconds: 60, translatedCharacters: 2500, agentSeconds: 120, recordingSeconds: 600, ...over,
});

describe('QualitySeries', () => {
  it('averages the reports of each 5 s by the time they cover, and leaves out what they did not say', () => {
    const s = new QualitySeries(0);
    s.add(1_000, 1_000, { rttMs: 100, lossRate: 0.1 });
    s.add(4_000, 3_000, { rttMs: 200 });
    s.add(6_000, 2_000, { rttMs: 50, videoLayer: 2 });
    expect(s.points()).toEqual([
      { at: new Date(0).toISOString(), seconds: 4, sendBitrateBps: null, recvBitrateBps: null, lossRate: 0.1, rttMs: 175, videoLayer: null, frozenRatio: null, concealedRatio: null },
      { at: new Date(POINT_MS).toISOString(), seconds: 2, sendBitrateBps: null, recvBitrateBps: null, lossRate: null, rttMs: 50, videoLayer: 2, frozenRatio: null, concealedRatio: null },
    ]);
  });

  it('stays within MAX_POINTS however long the stay: points merge two by two and keep the time they cover', () => {
    const s = new QualitySeries(0);
    const reports = MAX_POINTS * 3;
    for (let i = 1; i <= reports; i++) s.add(i * POINT_MS, POINT_MS, { rttMs: i % 2 === 0 ? 100 : 300 });
    const points = s.points();
    expect(points.length).toBeLessThanOrEqual(MAX_POINTS);
    expect(points.length).toBeGreaterThan(MAX_POINTS / 4);
    expect(points.reduce((a, p) => a + p.seconds, 0)).toBe((reports * POINT_MS) / 1000);
    // Wider points of alternating reports average to the middle.
    expect(points.slice(1, -1).every((p) => p.rttMs === 200)).toBe(true);
  });
});

describe('costOf', () => {
  const tenants = new Tenants({ ...loadConfig({}), tenants: [
    { id: 'priced', rates: { currency: 'EUR', participantMinute: 0.004, recordingMinute: 0.01, egressGigabyte: 0.05, speechMinute: 0.02, agentMinute: 0.03, translationThousandCharacters: 0.015 } },
    { id: 'free' },
  ] });

  it('prices each line of the rate card, and totals them', () => {
    const cost = costOf(usage(), tenants.get('priced')!.rates)!;
    expect(cost.currency).toBe('EUR');
    expect(Object.fromEntries(cost.lines.map((l) => [l.item, [l.quantity, l.amount]]))).toEqual({
      participantMinutes: [2, 0.008], recordingMinutes: [10, 0.1], egressGigabytes: [2, 0.1],
      speechMinutes: [1, 0.02], agentMinutes: [2, 0.06], translationThousandCharacters: [2.5, 0.0375],
    });
    expect(cost.total).toBe(0.3255);
  });

  it('prices nothing for a tenant without a rate card', () => {
    expect(costOf(usage(), tenants.get('free')!.rates)).toBeNull();
  });
});

describe('ConsoleSessions', () => {
  const tenants = new Tenants({ ...loadConfig({}), tenants: [{ id: 'shop', apiKeys: ['shop-key-0123456789abc'] }] });

  it('keeps at most max sessions (the oldest gives way) and forgets one past its time', () => {
    const sessions = new ConsoleSessions(tenants, 60_000, 3);
    const made = Array.from({ length: 5 }, () => sessions.create(tenants.get('shop')!, 1_000));
    expect(sessions.size).toBe(3);
    expect(sessions.get(made[0].id, 2_000)).toBeUndefined();
    expect(sessions.get(made[4].id, 2_000)?.tenant).toBe('shop');
    expect(sessions.get(made[4].id, 61_000)).toBeUndefined();
    expect(sessions.size).toBe(2);
  });

  it('makes only the operator\'s key (the default tenant) an operator session', () => {
    const sessions = new ConsoleSessions(tenants, 60_000, 3);
    expect(sessions.create(tenants.get('shop')!).operator).toBe(false);
    expect(sessions.create(tenants.get('default')!).operator).toBe(true);
  });
});

describe('webhook deliveries and resends in the SQLite outbox', () => {
  const open = () => new SqliteStore(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'store-')), 'sfu.sqlite'), 86_400_000);

  it('keeps the last MAX_DELIVERIES deliveries per tenant, newest first', async () => {
    const store = open();
    for (let i = 0; i < MAX_DELIVERIES + 20; i++) {
      await store.add(webhookEvent('t', `room-${i}`, 'room.started', { room: `room-${i}`, callId: 'c' } as never), 1000);
      const [entry] = await store.due('t', Date.now(), 1);
      await store.delivered(entry);
    }
    const all = await store.deliveries('t', 1000);
    expect(all).toHaveLength(MAX_DELIVERIES);
    expect(all[0].room).toBe(`room-${MAX_DELIVERIES + 19}`);
    expect(all[0].attempts).toBe(1);
    store.close();
  });

  it('sends a failure again once, however many ask at once, with its event id', async () => {
    const store = open();
    const event = webhookEvent('t', 'r', 'room.started', { room: 'r', callId: 'c' } as never);
    await store.add(event, 1000);
    await store.fail((await store.due('t', Date.now(), 1))[0], 'HTTP 500');
    // Another tenant cannot resend it.
    expect(await store.resend('other', event.id, 1000)).toBe('missing');
    const answers = await Promise.all(Array.from({ length: 5 }, () => store.resend('t', event.id, 1000)));
    expect(answers.filter((a) => a === 'queued')).toHaveLength(1);
    expect(answers.filter((a) => a === 'missing')).toHaveLength(4);
    expect((await store.due('t', Date.now(), 10)).map((e) => e.event.id)).toEqual([event.id]);
    expect(await store.failures('t', 10)).toEqual([]);
    store.close();
  });
});
