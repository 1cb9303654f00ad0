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

describe('SqliteStore call journal', () => {
  const dirs: string[] = [];
  const fileIn = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'journal-'));
    dirs.push(dir);
    return path.join(dir, 'sfu.sqlite');
  };
  const settings = { tenant: 't', name: 'r', callId: 'call-1', metadata: {}, maxParticipants: 10, emptyTimeoutMs: 0, createdAt: 1_000, recordings: [], captions: false };
  const stay = { identity: 'buyer', name: 'Buyer', role: 'buyer' as const, region: 'eu', node: 'n1', joinedAt: new Date(1_000).toISOString(), tracks: [] };
  const entry = (type: 'room.started' | 'participant.joined' | 'participant.left' | 'message', identity?: string) => ({ at: new Date(1_000).toISOString(), type, ...(identity ? { identity } : {}) });
  afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('gives back the timeline in the order it was written, the entries written with their events and on their own alike', async () => {
    const file = fileIn();
    const store = new SqliteStore(file, 86_400_000);
    store.started(settings as never, entry('room.started'));
    store.joined('call-1', stay, entry('participant.joined', 'buyer'));
    store.noted('call-1', entry('message', 'buyer'));
    store.joined('call-1', { ...stay, identity: 'seller', role: 'seller' }); // the timeline was full: no entry
    store.left('call-1', { identity: 'buyer' } as never, entry('participant.left', 'buyer'));
    store.close();
    const again = new SqliteStore(file, 86_400_000);
    const [call] = await again.open();
    again.close();
    expect(call.timeline.map((t) => `${t.type}:${t.identity ?? ''}`)).toEqual(['room.started:', 'participant.joined:buyer', 'message:buyer', 'participant.left:buyer']);
    expect(call.present.map((s) => s.identity)).toEqual(['seller']);
    expect(call.records.map((r) => r.identity)).toEqual(['buyer']);
  });

  it('reads a journal written before its rows carried timeline entries, and writes on to it', async () => {
    const file = fileIn();
    // The older layout: no note column; every entry a row of its own.
    const { DatabaseSync } = await import('node:sqlite');
    const old = new DatabaseSync(file);
    old.exec('create table call_journal (seq integer primary key autoincrement, call_id text not null, kind text not null, at integer not null, body text not null)');
    const row = old.prepare('insert into call_journal (call_id, kind, at, body) values (?, ?, ?, ?)');
    row.run('call-1', 'started', 1_000, JSON.stringify(settings));
    row.run('call-1', 'noted', 1_000, JSON.stringify(entry('room.started')));
    row.run('call-1', 'noted', 1_000, JSON.stringify(entry('participant.joined', 'buyer')));
    row.run('call-1', 'joined', 1_000, JSON.stringify(stay));
    old.close();
    const store = new SqliteStore(file, 86_400_000);
    store.left('call-1', { identity: 'buyer' } as never, entry('participant.left', 'buyer'));
    const [call] = await store.open();
    store.close();
    expect(call.timeline.map((t) => t.type)).toEqual(['room.started', 'participant.joined', 'participant.left']);
    expect(call.present).toEqual([]);
    expect(call.records.map((r) => r.identity)).toEqual(['buyer']);
  });
});
