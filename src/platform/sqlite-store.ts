import fs from 'node:fs';
import path from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { CallRecord, Note, ParticipantRecord, TimelineEntry, TrackRecord } from '../contracts/records.js';
import type { RoomSettings } from '../rooms/room-settings.js';
import type { CallJournal, JournaledCall, JournaledStay } from './call-journal.js';
import type { WebhookEvent } from '../contracts/webhook-events.js';
import {
  decodeCursor, encodeCursor, MAX_DELIVERIES, callMatches, type Delivery, type Resent,
  type CallPage, type CallQuery, type FailedDelivery, type Outbox, type OutboxEntry, type PlatformStore, type StoredFile, type UsageRow,
} from './store.js';

/** Calls scanned per page at most while filtering by metadata: a page costs a bounded amount. */
const MAX_SCAN = 5000;
/** The outcome of a write nobody waits on. */
const ignore = () => undefined;

const SCHEMA = `
create table if not exists calls (
  call_id text primary key, tenant text not null, room text not null,
  started_at integer not null, ended_at integer not null, record text not null);
create index if not exists calls_by_tenant on calls (tenant, started_at desc, call_id desc);
create table if not exists usage (
  id integer primary key, tenant text not null, room text not null, call_id text not null, kind text not null,
  role text, start_at integer not null, end_at integer not null, bytes_in integer not null, bytes_out integer not null, units integer not null default 0);
create index if not exists usage_by_tenant on usage (tenant, end_at);
create table if not exists outbox (
  seq integer primary key autoincrement, id text not null unique, tenant text not null, room text not null,
  body text not null, attempts integer not null default 0, next_at integer not null, last_error text);
create index if not exists outbox_by_room on outbox (tenant, room, seq);
create table if not exists webhook_failures (
  id text primary key, tenant text not null, body text not null, attempts integer not null,
  last_error text not null, failed_at integer not null);
create index if not exists failures_by_tenant on webhook_failures (tenant, failed_at desc);
create table if not exists webhook_deliveries (
  seq integer primary key autoincrement, tenant text not null, id text not null, type text not null, room text not null,
  attempts integer not null, delivered_at integer not null);
create index if not exists deliveries_by_tenant on webhook_deliveries (tenant, seq);
create table if not exists files (
  id text primary key, tenant text not null, call_id text not null, created_at integer not null, file text not null);
create index if not exists files_by_call on files (tenant, call_id, created_at);
create table if not exists notes (
  id integer primary key, tenant text not null, call_id text not null, at integer not null, note text not null);
create index if not exists notes_by_call on notes (tenant, call_id, id);
create table if not exists node_meta (key text primary key, value text not null);
create table if not exists call_journal (
  seq integer primary key autoincrement, call_id text not null, kind text not null, at integer not null, body text not null, note text);
create index if not exists call_journal_by_call on call_journal (call_id, seq);
`;

/**
 * The single node's durable store (Node's built-in SQLite): call records, usage, and the
 * webhook outbox, in one file. Writes are synchronous and small; WAL keeps readers unblocked.
 */
export class SqliteStore implements PlatformStore, Outbox, CallJournal {
  private readonly db: DatabaseSync;
  /** Prepared once each: preparing costs more than running these small statements. */
  private readonly statements = new Map<string, StatementSync>();

  constructor(file: string, private readonly retentionMs: number) {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.db = new DatabaseSync(file);
    this.db.exec('pragma journal_mode = wal; pragma synchronous = normal; pragma busy_timeout = 5000;');
    this.db.exec(SCHEMA);
    // A file from before usage counted units (translated characters).
    const columns = this.db.prepare('pragma table_info(usage)').all() as Array<{ name: string }>;
    if (!columns.some((c) => c.name === 'units')) this.db.exec('alter table usage add column units integer not null default 0');
    // A file from before a journal row could carry its event's timeline entry.
    const journalColumns = this.db.prepare('pragma table_info(call_journal)').all() as Array<{ name: string }>;
    if (!journalColumns.some((c) => c.name === 'note')) this.db.exec('alter table call_journal add column note text');
  }

  /** The statement for this SQL text (a fixed set: the texts below, never built from input). */
  private sql(text: string): StatementSync {
    let statement = this.statements.get(text);
    if (!statement) this.statements.set(text, (statement = this.db.prepare(text)));
    return statement;
  }

  /**
   * A value this node keeps across restarts (its id, its link key): the stored one, or
   * `create()`'s, stored now.
   */
  keep(key: string, create: () => string): string {
    const row = this.sql('select value from node_meta where key = ?').get(key) as { value: string } | undefined;
    if (row) return row.value;
    const value = create();
    this.sql('insert into node_meta (key, value) values (?, ?)').run(key, value);
    return value;
  }

  // ---- group commit ---------------------------------------------------------------------------

  private queued: Array<{ write: () => void; done: (err?: unknown) => void }> = [];

  /**
   * A call record or usage write, committed with the others of the next 10 ms in one
   * transaction: a commit costs three times the small insert it carries (30 µs against 10 µs
   * here), and calls end and participants leave in bursts. Resolves once committed; the reads
   * of calls and usage flush first, so they see every write made before them.
   */
  private grouped(write: () => void): Promise<void> {
    return new Promise((resolve, reject) => this.enqueue(write, (err) => (err ? reject(err) : resolve())));
  }

  /** The same, for a write nobody waits on (the journal's): no promise made per write. */
  private enqueue(write: () => void, done: (err?: unknown) => void = ignore) {
    if (this.queued.length === 0) setTimeout(() => this.flush(), 10);
    this.queued.push({ write, done });
  }

  private flush() {
    // Inside another method's transaction they wait for the timer: they are not its business.
    if (this.queued.length === 0 || !this.db.isOpen || this.db.isTransaction) return;
    const batch = this.queued.splice(0);
    try {
      this.db.exec('begin');
      for (const { write } of batch) write();
      this.db.exec('commit');
      for (const { done } of batch) done();
    } catch {
      this.db.exec('rollback');
      // One bad write must not take the others with it: each on its own, with its own answer.
      for (const { write, done } of batch) {
        try {
          write();
          done();
        } catch (err) {
          done(err);
        }
      }
    }
  }

  // ---- call records -------------------------------------------------------------------------

  saveCall(r: CallRecord) {
    const record = JSON.stringify(r);
    return this.grouped(() => this.sql('insert or replace into calls (call_id, tenant, room, started_at, ended_at, record) values (?, ?, ?, ?, ?, ?)')
      .run(r.callId, r.tenant, r.room, Date.parse(r.startedAt), Date.parse(r.endedAt), record));
  }

  async getCall(tenant: string, callId: string) {
    this.flush(); // calls and usage written just before are read too
    const row = this.sql('select record from calls where tenant = ? and call_id = ?').get(tenant, callId) as { record: string } | undefined;
    return row ? (JSON.parse(row.record) as CallRecord) : undefined;
  }

  async listCalls(tenant: string, q: CallQuery): Promise<CallPage> {
    this.flush(); // calls and usage written just before are read too
    const after = decodeCursor(q.cursor);
    const rows = this.sql(`
      select record from calls
      where tenant = ? and started_at >= ? and started_at < ?
        and (? is null or started_at < ? or (started_at = ? and call_id < ?))
      order by started_at desc, call_id desc limit ?`)
      .all(tenant, q.from ?? 0, q.to ?? Number.MAX_SAFE_INTEGER, after?.at ?? null, after?.at ?? 0, after?.at ?? 0, after?.callId ?? '', MAX_SCAN) as Array<{ record: string }>;
    const calls: CallRecord[] = [];
    let last: CallRecord | undefined;
    for (const { record } of rows) {
      last = JSON.parse(record) as CallRecord;
      if (!callMatches(last, q)) continue;
      calls.push(last);
      if (calls.length === q.limit) break;
    }
    const more = calls.length === q.limit || rows.length === MAX_SCAN;
    return { calls, nextCursor: more && last ? encodeCursor(last) : null };
  }

  // ---- usage --------------------------------------------------------------------------------

  addUsage(rows: UsageRow[]) {
    return this.grouped(() => {
      const insert = this.sql('insert into usage (tenant, room, call_id, kind, role, start_at, end_at, bytes_in, bytes_out, units) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
      for (const r of rows) insert.run(r.tenant, r.room, r.callId, r.kind, r.role, r.startAt, r.endAt, r.bytesIn, r.bytesOut, r.units ?? 0);
    });
  }

  async usage(tenant: string, from: number, to: number) {
    this.flush(); // calls and usage written just before are read too
    const rows = this.sql('select * from usage where tenant = ? and end_at > ? and start_at < ?').all(tenant, from, to) as Array<Record<string, unknown>>;
    return rows.map((r): UsageRow => ({
      tenant: r.tenant as string, room: r.room as string, callId: r.call_id as string, kind: r.kind as UsageRow['kind'],
      role: (r.role as UsageRow['role']) ?? null, startAt: Number(r.start_at), endAt: Number(r.end_at),
      bytesIn: Number(r.bytes_in), bytesOut: Number(r.bytes_out), units: Number(r.units ?? 0),
    }));
  }

  // ---- evidence files and notes -----------------------------------------------------------

  async putFile(f: StoredFile) {
    this.sql('insert into files (id, tenant, call_id, created_at, file) values (?, ?, ?, ?, ?) on conflict(id) do update set file = excluded.file')
      .run(f.id, f.tenant, f.callId, Date.now(), JSON.stringify(f));
  }

  async getFile(tenant: string, id: string) {
    const row = this.sql('select file from files where tenant = ? and id = ?').get(tenant, id) as { file: string } | undefined;
    return row ? (JSON.parse(row.file) as StoredFile) : undefined;
  }

  async filesOfCall(tenant: string, callId: string) {
    const rows = this.sql('select file from files where tenant = ? and call_id = ? order by created_at, id').all(tenant, callId) as Array<{ file: string }>;
    return rows.map((r) => JSON.parse(r.file) as StoredFile);
  }

  /** Snapshot places taken per call, counted from the stored ones on first use (one process owns this file). */
  private readonly snapshotPlaces = new Map<string, number>();

  async reserveSnapshot(tenant: string, callId: string, max: number) {
    const key = `${tenant}\n${callId}`;
    let taken = this.snapshotPlaces.get(key);
    if (taken === undefined) {
      const stored = this.sql('select count(*) as n from files where tenant = ? and call_id = ? and json_extract(file, \'$.kind\') = \'snapshot\'').get(tenant, callId) as { n: number };
      taken = Number(stored.n);
    }
    if (taken >= max) return undefined;
    this.snapshotPlaces.set(key, taken + 1);
    // A long-lived node forgets the oldest calls' counts (they are counted again from the store).
    if (this.snapshotPlaces.size > 10_000) this.snapshotPlaces.delete(this.snapshotPlaces.keys().next().value!);
    return async () => {
      const now = this.snapshotPlaces.get(key);
      if (now !== undefined) this.snapshotPlaces.set(key, Math.max(0, now - 1));
    };
  }

  async addNote(tenant: string, callId: string, note: Note, max: number) {
    // One statement: the count and the insert cannot interleave with another note.
    const r = this.sql(`insert into notes (tenant, call_id, at, note) select ?, ?, ?, ?
      where (select count(*) from notes where tenant = ? and call_id = ?) < ?`).run(tenant, callId, Date.parse(note.at), JSON.stringify(note), tenant, callId, max);
    return Number(r.changes) === 1;
  }

  async notesOfCall(tenant: string, callId: string) {
    const rows = this.sql('select note from notes where tenant = ? and call_id = ? order by id').all(tenant, callId) as Array<{ note: string }>;
    return rows.map((r) => JSON.parse(r.note) as Note);
  }

  async prune(now = Date.now()) {
    this.flush(); // calls and usage written just before are read too
    const before = now - this.retentionMs;
    this.sql('delete from files where created_at < ?').run(before);
    this.sql('delete from notes where at < ?').run(before);
    this.sql('delete from calls where ended_at < ?').run(before);
    this.sql('delete from usage where end_at < ?').run(before);
    this.sql('delete from webhook_failures where failed_at < ?').run(before);
    this.sql('delete from webhook_deliveries where delivered_at < ?').run(before);
  }

  // ---- the live calls' journal ------------------------------------------------------------------

  private journal(callId: string, kind: string, body: unknown, note?: TimelineEntry) {
    const at = Date.now();
    const text = JSON.stringify(body);
    const noteText = note ? JSON.stringify(note) : null;
    this.enqueue(() => this.sql('insert into call_journal (call_id, kind, at, body, note) values (?, ?, ?, ?, ?)').run(callId, kind, at, text, noteText));
  }

  started(settings: RoomSettings, note?: TimelineEntry) {
    this.journal(settings.callId, 'started', settings, note);
  }

  noted(callId: string, entry: TimelineEntry) {
    this.journal(callId, 'noted', entry);
  }

  joined(callId: string, stay: JournaledStay, note?: TimelineEntry) {
    this.journal(callId, 'joined', stay, note);
  }

  published(callId: string, identity: string, track: TrackRecord) {
    this.journal(callId, 'published', { identity, track });
  }

  left(callId: string, record: ParticipantRecord, note?: TimelineEntry) {
    this.journal(callId, 'left', record, note);
  }

  ended(callId: string) {
    this.enqueue(() => this.sql('delete from call_journal where call_id = ?').run(callId));
  }

  async open(): Promise<JournaledCall[]> {
    this.flush();
    const rows = this.sql('select call_id, kind, at, body, note from call_journal order by seq').all() as Array<{ call_id: string; kind: string; at: number; body: string; note: string | null }>;
    const calls = new Map<string, JournaledCall & { stays: Map<string, JournaledStay> }>();
    for (const row of rows) {
      const body = JSON.parse(row.body);
      if (row.kind === 'started') {
        calls.set(row.call_id, { settings: body, timeline: [], records: [], present: [], stays: new Map(), lastAt: row.at });
      }
      const call = calls.get(row.call_id);
      if (!call) continue;
      call.lastAt = Math.max(call.lastAt, row.at);
      if (row.note) call.timeline.push(JSON.parse(row.note));
      if (row.kind === 'noted') call.timeline.push(body);
      else if (row.kind === 'joined') call.stays.set(body.identity, body);
      else if (row.kind === 'published') call.stays.get(body.identity)?.tracks.push(body.track);
      else if (row.kind === 'left') {
        call.records.push(body);
        call.stays.delete(body.identity);
      }
    }
    return [...calls.values()].map(({ stays, ...call }) => ({ ...call, present: [...stays.values()] }));
  }

  alive(at: number) {
    this.sql('insert into node_meta (key, value) values (\'alive-at\', ?) on conflict(key) do update set value = excluded.value').run(String(at));
  }

  lastAlive() {
    const row = this.sql('select value from node_meta where key = \'alive-at\'').get() as { value: string } | undefined;
    return row ? Number(row.value) : 0;
  }

  // ---- webhook outbox -----------------------------------------------------------------------

  /** Each tenant's undelivered events, counted once from the file and kept as they come and go. */
  private pendingByTenant?: Map<string, number>;

  private backlog(): Map<string, number> {
    if (!this.pendingByTenant) {
      const rows = this.sql('select tenant, count(*) as n from outbox group by tenant').all() as Array<{ tenant: string; n: number }>;
      this.pendingByTenant = new Map(rows.map((r) => [r.tenant, Number(r.n)]));
    }
    return this.pendingByTenant;
  }

  private counted(tenant: string, delta: number) {
    const backlog = this.backlog();
    const n = (backlog.get(tenant) ?? 0) + delta;
    if (n > 0) backlog.set(tenant, n);
    else backlog.delete(tenant);
  }

  async add(event: WebhookEvent, maxPending: number) {
    if ((this.backlog().get(event.tenant) ?? 0) >= maxPending) {
      this.sql('insert or replace into webhook_failures (id, tenant, body, attempts, last_error, failed_at) values (?, ?, ?, ?, ?, ?)')
        .run(event.id, event.tenant, JSON.stringify(event), 0, `not queued: the tenant has ${maxPending} undelivered events (webhooks.maxPendingPerTenant)`, Date.now());
      return false;
    }
    const r = this.sql('insert or ignore into outbox (id, tenant, room, body, next_at) values (?, ?, ?, ?, ?)')
      .run(event.id, event.tenant, event.room, JSON.stringify(event), Date.now());
    if (Number(r.changes) === 1) this.counted(event.tenant, 1);
    return true;
  }

  async due(tenant: string, now: number, limit: number): Promise<OutboxEntry[]> {
    // The head of each of the tenant's rooms' queues, when it is due.
    const rows = this.sql(`
      select o.seq, o.body, o.attempts, o.next_at from outbox o
      join (select min(seq) as seq from outbox where tenant = ? group by room) heads on heads.seq = o.seq
      where o.next_at <= ? order by o.next_at limit ?`).all(tenant, now, limit) as Array<{ seq: number; body: string; attempts: number; next_at: number }>;
    return rows.map((r) => ({ ref: String(r.seq), event: JSON.parse(r.body), attempts: r.attempts, nextAt: r.next_at }));
  }

  async delivered(entry: OutboxEntry) {
    const { event } = entry;
    this.db.exec('begin');
    try {
      const r = this.sql('delete from outbox where seq = ?').run(Number(entry.ref));
      this.sql('insert into webhook_deliveries (tenant, id, type, room, attempts, delivered_at) values (?, ?, ?, ?, ?, ?)')
        .run(event.tenant, event.id, event.type, event.room, entry.attempts + 1, Date.now());
      this.sql(`delete from webhook_deliveries where tenant = ? and seq <= (
        select seq from webhook_deliveries where tenant = ? order by seq desc limit 1 offset ?)`).run(event.tenant, event.tenant, MAX_DELIVERIES);
      this.db.exec('commit');
      if (Number(r.changes) === 1) this.counted(event.tenant, -1);
    } catch (err) {
      this.db.exec('rollback');
      throw err;
    }
  }

  async deliveries(tenant: string, limit: number): Promise<Delivery[]> {
    const rows = this.sql('select id, type, room, attempts, delivered_at from webhook_deliveries where tenant = ? order by seq desc limit ?')
      .all(tenant, limit) as Array<{ id: string; type: string; room: string; attempts: number; delivered_at: number }>;
    return rows.map((r) => ({ eventId: r.id, type: r.type, room: r.room, attempts: r.attempts, deliveredAt: new Date(r.delivered_at).toISOString() }));
  }

  async resend(tenant: string, eventId: string, maxPending: number): Promise<Resent> {
    const row = this.sql('select body from webhook_failures where tenant = ? and id = ?').get(tenant, eventId) as { body: string } | undefined;
    if (!row) return 'missing';
    // Synchronous from here to the add: two resends of one failure cannot both take it.
    this.sql('delete from webhook_failures where tenant = ? and id = ?').run(tenant, eventId);
    return (await this.add(JSON.parse(row.body), maxPending)) ? 'queued' : 'full';
  }

  async retry(entry: OutboxEntry, nextAt: number, error: string) {
    this.sql('update outbox set attempts = attempts + 1, next_at = ?, last_error = ? where seq = ?').run(nextAt, error, Number(entry.ref));
  }

  async fail(entry: OutboxEntry, error: string) {
    this.db.exec('begin');
    try {
      this.sql('insert or replace into webhook_failures (id, tenant, body, attempts, last_error, failed_at) values (?, ?, ?, ?, ?, ?)')
        .run(entry.event.id, entry.event.tenant, JSON.stringify(entry.event), entry.attempts + 1, error, Date.now());
      const r = this.sql('delete from outbox where seq = ?').run(Number(entry.ref));
      this.db.exec('commit');
      if (Number(r.changes) === 1) this.counted(entry.event.tenant, -1);
    } catch (err) {
      this.db.exec('rollback');
      throw err;
    }
  }

  async failures(tenant: string, limit: number): Promise<FailedDelivery[]> {
    const rows = this.sql('select body, attempts, last_error, failed_at from webhook_failures where tenant = ? order by failed_at desc limit ?')
      .all(tenant, limit) as Array<{ body: string; attempts: number; last_error: string; failed_at: number }>;
    return rows.map((r) => ({ event: JSON.parse(r.body), attempts: r.attempts, lastError: r.last_error, failedAt: new Date(r.failed_at).toISOString() }));
  }

  async pending(): Promise<Record<string, number>> {
    return Object.fromEntries(this.backlog());
  }

  close() {
    this.flush();
    this.db.close();
  }
}
