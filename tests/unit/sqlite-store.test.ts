import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CallRecord } from '../../src/contracts/records.js';
import { SqliteStore } from '../../src/platform/sqlite-store.js';
import type { UsageRow } from '../../src/platform/store.js';

const call = (callId: string): CallRecord => ({
  callId, tenant: 't', room: 'r', metadata: {}, startedAt: new Date(1_000).toISOString(), endedAt: new Date(2_000).toISOString(),
  durationSeconds: 1, regions: [], nodes: [], timeline: [], participants: [], recordings: [], snapshots: [], notes: [], transcript: [],
});
const usage = (tenant: string): UsageRow => ({ tenant, room: 'r', callId: 'c', kind: 'participant', role: 'buyer', startAt: 1_000, endAt: 61_000, bytesIn: 1, bytesOut: 2 });

describe('SqliteStore group commit', () => {
  const stores: SqliteStore[] = [];
  const open = (file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'store-')), 'sfu.sqlite')) => {
    const store = new SqliteStore(file, 86_400_000);
    stores.push(store);
    return { store, file };
  };
  afterEach(() => stores.splice(0).forEach((s) => s.close()));

  it('commits a burst of writes together, and a read sees a write it was not awaited for', async () => {
    const { store } = open();
    const saved = Array.from({ length: 50 }, (_, i) => store.saveCall(call(`call-${i}`)));
    void store.addUsage([usage('t')]);
    // Not awaited: the read flushes what waits before it.
    expect((await store.getCall('t', 'call-49'))?.callId).toBe('call-49');
    expect(await store.usage('t', 0, 100_000)).toEqual([{ ...usage('t'), units: 0 }]);
    await Promise.all(saved);
    expect((await store.listCalls('t', { limit: 100 })).calls).toHaveLength(50);
  });

  it('one failing write is refused alone: the others of its group are kept', async () => {
    const { store } = open();
    const results = await Promise.allSettled([
      store.saveCall(call('kept-1')),
      store.addUsage([usage(null as unknown as string)]), // tenant is NOT NULL
      store.saveCall(call('kept-2')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((await store.listCalls('t', { limit: 10 })).calls.map((c) => c.callId).sort()).toEqual(['kept-1', 'kept-2']);
  });

  it('close commits what still waits', async () => {
    const { store, file } = open();
    void store.saveCall(call('last'));
    store.close();
    stores.pop();
    const again = open(file).store;
    expect((await again.getCall('t', 'last'))?.callId).toBe('last');
  });
});
