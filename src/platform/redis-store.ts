import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { keys } from '../cluster/keys.js';
import type { CallRecord, Note } from '../contracts/records.js';
import {
  decodeCursor, encodeCursor, callMatches, type CallPage, type CallQuery, type PlatformStore, type StoredFile, type UsageRow,
} from './store.js';

// Appends a note unless the call has ARGV[2] already: KEYS[1] notes list; ARGV[1] note; ARGV[3] ttl ms.
const ADD_NOTE = `
if redis.call('LLEN', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`;
// Takes one of a call's snapshot places: KEYS[1] the call's counter; ARGV[1] max; ARGV[2] ttl ms.
const RESERVE_SNAPSHOT = `
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if n > tonumber(ARGV[1]) then redis.call('DECR', KEYS[1]) return 0 end
return 1`;
type NoteRedis = Redis & {
  addNote(key: string, note: string, max: number, ttlMs: number): Promise<number>;
  reserveSnapshot(key: string, max: number, ttlMs: number): Promise<number>;
};

const MAX_SCAN = 5000;

/**
 * Cluster mode's store: call records and usage in Redis, kept for store.retentionDays. The
 * call.record webhook is the platform's durable copy; these are for the API.
 */
export class RedisPlatformStore implements PlatformStore {
  private readonly redis: NoteRedis;

  constructor(redis: Redis, private readonly retentionMs: number) {
    redis.defineCommand('addNote', { numberOfKeys: 1, lua: ADD_NOTE });
    redis.defineCommand('reserveSnapshot', { numberOfKeys: 1, lua: RESERVE_SNAPSHOT });
    this.redis = redis as NoteRedis;
  }

  async putFile(f: StoredFile) {
    await this.redis.multi()
      .set(keys.file(f.tenant, f.id), JSON.stringify(f), 'PX', this.retentionMs)
      .sadd(keys.callFiles(f.tenant, f.callId), f.id)
      .pexpire(keys.callFiles(f.tenant, f.callId), this.retentionMs)
      .exec();
  }

  async getFile(tenant: string, id: string) {
    const raw = await this.redis.get(keys.file(tenant, id));
    return raw ? (JSON.parse(raw) as StoredFile) : undefined;
  }

  async filesOfCall(tenant: string, callId: string) {
    const ids = (await this.redis.smembers(keys.callFiles(tenant, callId))).sort();
    const raws = ids.length ? await this.redis.mget(ids.map((id) => keys.file(tenant, id))) : [];
    return raws.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as StoredFile);
  }

  async reserveSnapshot(tenant: string, callId: string, max: number) {
    const key = keys.callSnapshots(tenant, callId);
    if ((await this.redis.reserveSnapshot(key, max, this.retentionMs)) !== 1) return undefined;
    return async () => void (await this.redis.decr(key));
  }

  async addNote(tenant: string, callId: string, note: Note, max: number) {
    return (await this.redis.addNote(keys.callNotes(tenant, callId), JSON.stringify(note), max, this.retentionMs)) === 1;
  }

  async notesOfCall(tenant: string, callId: string) {
    return (await this.redis.lrange(keys.callNotes(tenant, callId), 0, -1)).map((r) => JSON.parse(r) as Note);
  }

  async saveCall(r: CallRecord) {
    await this.redis.multi()
      .set(keys.call(r.tenant, r.callId), JSON.stringify(r), 'PX', this.retentionMs)
      .zadd(keys.tenantCalls(r.tenant), Date.parse(r.startedAt), r.callId)
      .exec();
  }

  async getCall(tenant: string, callId: string) {
    const raw = await this.redis.get(keys.call(tenant, callId));
    return raw ? (JSON.parse(raw) as CallRecord) : undefined;
  }

  async listCalls(tenant: string, q: CallQuery): Promise<CallPage> {
    const after = decodeCursor(q.cursor);
    const max = after ? `(${after.at + 1}` : q.to !== undefined ? `(${q.to}` : '+inf';
    const ids = await this.redis.zrevrangebyscore(keys.tenantCalls(tenant), max, q.from ?? 0, 'LIMIT', 0, MAX_SCAN);
    const calls: CallRecord[] = [];
    let last: CallRecord | undefined;
    for (let i = 0; i < ids.length && calls.length < q.limit; i += 100) {
      const chunk = ids.slice(i, i + 100);
      const raws = await this.redis.mget(chunk.map((id) => keys.call(tenant, id)));
      for (const raw of raws) {
        if (!raw) continue;
        const r = JSON.parse(raw) as CallRecord;
        // The cursor's own start time can hold several calls: skip up to and including it.
        if (after && (Date.parse(r.startedAt) > after.at || (Date.parse(r.startedAt) === after.at && r.callId >= after.callId))) continue;
        if (q.to !== undefined && Date.parse(r.startedAt) >= q.to) continue;
        last = r;
        if (!callMatches(r, q)) continue;
        calls.push(r);
        if (calls.length === q.limit) break;
      }
    }
    const more = calls.length === q.limit || ids.length === MAX_SCAN;
    return { calls, nextCursor: more && last ? encodeCursor(last) : null };
  }

  async addUsage(rows: UsageRow[]) {
    if (rows.length === 0) return;
    const tx = this.redis.multi();
    // The id keeps two identical rows apart in the set.
    for (const r of rows) tx.zadd(keys.tenantUsage(r.tenant), r.endAt, JSON.stringify({ id: randomUUID(), ...r }));
    await tx.exec();
  }

  async usage(tenant: string, from: number, to: number) {
    // Rows that end after `from`; those that start after `to` are dropped here.
    const raws = await this.redis.zrangebyscore(keys.tenantUsage(tenant), `(${from}`, '+inf');
    return raws.map((raw) => JSON.parse(raw) as UsageRow).filter((r) => r.startAt < to);
  }

  async prune(now = Date.now()) {
    // Index entries whose records expired; usage older than the retention period.
    const before = now - this.retentionMs;
    let cursor = '0';
    do {
      const [next, found] = await this.redis.scan(cursor, 'MATCH', 'sfu:tenant:*:calls', 'COUNT', 100);
      cursor = next;
      for (const key of found) await this.redis.zremrangebyscore(key, '-inf', before);
    } while (cursor !== '0');
    cursor = '0';
    do {
      const [next, found] = await this.redis.scan(cursor, 'MATCH', 'sfu:tenant:*:usage', 'COUNT', 100);
      cursor = next;
      for (const key of found) await this.redis.zremrangebyscore(key, '-inf', before);
    } while (cursor !== '0');
  }

  close() {}
}
