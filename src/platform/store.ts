import type { Role } from '../auth/grants.js';
import type { CallRecord, Note, RecordingFile, Snapshot, Usage } from '../contracts/records.js';
import type { WebhookEvent } from '../contracts/webhook-events.js';

/**
 * One span of use: a participant's stay (kind participant, by role), a published track (by
 * kind), a participant's audio captioned (speech), an assistant in a call (agent), a track
 * recorded (recording, as long as its file plays); or a count
 * at one time (translation: `units` characters, at startAt).
 */
export interface UsageRow {
  tenant: string;
  room: string;
  callId: string;
  kind: 'participant' | 'audio' | 'video' | 'speech' | 'agent' | 'translation' | 'recording';
  role: Role | null;
  startAt: number;
  endAt: number;
  /** Transport bytes of a participant's stay (0 for tracks). */
  bytesIn: number;
  bytesOut: number;
  /** What a count row counts (translated characters). */
  units?: number;
}

export interface CallQuery {
  /** Calls that started at or after this (epoch ms). */
  from?: number;
  /** Calls that started before this. */
  to?: number;
  /** Every key must match the record's metadata (as strings). */
  metadata?: Record<string, string>;
  /** Calls this participant was in. */
  identity?: string;
  limit: number;
  /** From a previous answer's nextCursor. */
  cursor?: string;
}

export interface CallPage {
  calls: CallRecord[];
  nextCursor: string | null;
}

/** A recording file or snapshot: where it is (which node, which path) and what it is. */
export type StoredFile = {
  id: string;
  tenant: string;
  callId: string;
  room: string;
  node: string;
  /** Absolute, on that node. */
  path: string;
  contentType: string;
} & ({ kind: 'recording'; info: RecordingFile } | { kind: 'snapshot'; info: Snapshot });

/** Where call records, usage, evidence files and notes live: SQLite on a single node, Redis in a cluster. */
export interface PlatformStore {
  /** Adds or updates a file (a recording's file changes as it finishes). */
  putFile(file: StoredFile): Promise<void>;
  /** The file, if it is `tenant`'s. */
  getFile(tenant: string, id: string): Promise<StoredFile | undefined>;
  filesOfCall(tenant: string, callId: string): Promise<StoredFile[]>;
  /**
   * Takes one of a call's `max` snapshot places, atomically for every node that shares this
   * store; undefined when all are taken. The function it returns gives the place back (the
   * snapshot failed).
   */
  reserveSnapshot(tenant: string, callId: string, max: number): Promise<(() => Promise<void>) | undefined>;
  /** Adds a note to a call; false when the call has `max` already. */
  addNote(tenant: string, callId: string, note: Note, max: number): Promise<boolean>;
  notesOfCall(tenant: string, callId: string): Promise<Note[]>;
  saveCall(record: CallRecord): Promise<void>;
  getCall(tenant: string, callId: string): Promise<CallRecord | undefined>;
  listCalls(tenant: string, query: CallQuery): Promise<CallPage>;
  addUsage(rows: UsageRow[]): Promise<void>;
  /** Rows of `tenant` that overlap [from, to). */
  usage(tenant: string, from: number, to: number): Promise<UsageRow[]>;
  /** Drops what is older than the retention period. */
  prune(now?: number): Promise<void>;
  close(): void;
}

/** A delivery waiting in the outbox. `ref` is the outbox's own handle. */
export interface OutboxEntry {
  ref: string;
  event: WebhookEvent;
  attempts: number;
  nextAt: number;
}

export interface FailedDelivery {
  event: WebhookEvent;
  attempts: number;
  lastError: string;
  failedAt: string;
}

/** A delivery that succeeded, as the console lists it. */
export interface Delivery {
  eventId: string;
  type: string;
  room: string;
  attempts: number;
  deliveredAt: string;
}

/** Recent successful deliveries kept per tenant. */
export const MAX_DELIVERIES = 200;

/** What sending a failed event again did: queued it, found no such failure, or found the tenant's backlog full. */
export type Resent = 'queued' | 'missing' | 'full';

/**
 * Webhook events waiting to be delivered, durably: a restart loses none. Events of one room
 * come out in order, one at a time: the next is due only once the one before it is settled.
 * Each tenant's backlog is bounded: past webhooks.maxPendingPerTenant, a new event goes
 * straight to the tenant's failures (listed, never silently dropped).
 */
export interface Outbox {
  /** Queues an event; false when its tenant's backlog is full (the event is listed as failed). */
  add(event: WebhookEvent, maxPending: number): Promise<boolean>;
  /** For each of `tenant`'s rooms with undelivered events, its oldest one if it is due by `now`, oldest first. */
  due(tenant: string, now: number, limit: number): Promise<OutboxEntry[]>;
  /** The entry was delivered: it leaves the outbox and joins the tenant's recent deliveries (the last MAX_DELIVERIES). */
  delivered(entry: OutboxEntry): Promise<void>;
  deliveries(tenant: string, limit: number): Promise<Delivery[]>;
  /** Takes one of the tenant's failures out of the list and queues it again, with the same event id. Once: a second call finds it missing. */
  resend(tenant: string, eventId: string, maxPending: number): Promise<Resent>;
  retry(entry: OutboxEntry, nextAt: number, error: string): Promise<void>;
  /** Gives up on an event: it is kept, listable, and the room's next event may go. */
  fail(entry: OutboxEntry, error: string): Promise<void>;
  failures(tenant: string, limit: number): Promise<FailedDelivery[]>;
  /** Events not delivered yet, by tenant (for /metrics and the API). */
  pending(): Promise<Record<string, number>>;
}

/** Sums rows over [from, to): time by overlap, and a stay's bytes in proportion to its overlap. */
export function sumUsage(rows: readonly UsageRow[], from: number, to: number): Usage {
  const usage: Usage = { participantSeconds: {}, mediaSeconds: { audio: 0, video: 0 }, bytesIn: 0, bytesOut: 0, speechSeconds: 0, translatedCharacters: 0, agentSeconds: 0, recordingSeconds: 0 };
  for (const r of rows) {
    if (r.kind === 'translation') {
      if (r.startAt >= from && r.startAt < to) usage.translatedCharacters += r.units ?? 0;
      continue;
    }
    const overlap = Math.max(0, Math.min(r.endAt, to) - Math.max(r.startAt, from));
    if (overlap === 0) continue;
    const seconds = overlap / 1000;
    if (r.kind === 'participant') {
      const role = r.role ?? 'unknown';
      usage.participantSeconds[role] = (usage.participantSeconds[role] ?? 0) + seconds;
      const share = r.endAt > r.startAt ? overlap / (r.endAt - r.startAt) : 1;
      usage.bytesIn += Math.round(r.bytesIn * share);
      usage.bytesOut += Math.round(r.bytesOut * share);
    } else if (r.kind === 'speech') usage.speechSeconds += seconds;
    else if (r.kind === 'agent') usage.agentSeconds += seconds;
    else if (r.kind === 'recording') usage.recordingSeconds += seconds;
    else usage.mediaSeconds[r.kind] += seconds;
  }
  usage.speechSeconds = Number(usage.speechSeconds.toFixed(3));
  usage.agentSeconds = Number(usage.agentSeconds.toFixed(3));
  usage.recordingSeconds = Number(usage.recordingSeconds.toFixed(3));
  for (const role of Object.keys(usage.participantSeconds)) usage.participantSeconds[role] = Number(usage.participantSeconds[role].toFixed(3));
  usage.mediaSeconds.audio = Number(usage.mediaSeconds.audio.toFixed(3));
  usage.mediaSeconds.video = Number(usage.mediaSeconds.video.toFixed(3));
  return usage;
}

/** A finished recording file as usage: the time its file plays, from when it started (none for a file with no media). */
export function recordingUsage(file: StoredFile & { kind: 'recording' }): UsageRow | undefined {
  const seconds = file.info.durationSeconds;
  if (!seconds) return undefined;
  const startAt = Date.parse(file.info.startedAt);
  return { tenant: file.tenant, room: file.room, callId: file.callId, kind: 'recording', role: null, startAt, endAt: startAt + Math.round(seconds * 1000), bytesIn: 0, bytesOut: 0 };
}

/** Whether every key of `want` is in `metadata` with the same value, compared as strings. */
export const metadataMatches = (metadata: Record<string, unknown>, want: Record<string, string> = {}) =>
  Object.entries(want).every(([k, v]) => metadata[k] !== undefined && metadata[k] !== null && String(metadata[k]) === v);

/** Whether a call record is one the query asks for (its metadata, its participants). */
export const callMatches = (r: CallRecord, q: CallQuery) =>
  metadataMatches(r.metadata, q.metadata) && (q.identity === undefined || r.participants.some((p) => p.identity === q.identity));

/** Cursors page from the newest call to the oldest: "<startedAt>:<callId>". */
export const encodeCursor = (r: CallRecord) => `${Date.parse(r.startedAt)}:${r.callId}`;
export function decodeCursor(cursor: string | undefined): { at: number; callId: string } | undefined {
  if (!cursor) return undefined;
  const i = cursor.indexOf(':');
  const at = Number(cursor.slice(0, i));
  return Number.isFinite(at) && i > 0 ? { at, callId: cursor.slice(i + 1) } : undefined;
}
