import type { AssistantRecord, ParticipantRecord, CallRecord, TimelineEntry, TranscriptSegment } from '../contracts/records.js';
import type { Logger } from '../logging/logger.js';
import { trackSource, type Peer } from '../rooms/peer.js';
import type { Room } from '../rooms/room.js';
import type { CallJournal, JournaledCall } from './call-journal.js';
import type { ParticipantLedger, Where } from './participant-ledger.js';
import type { WebhookData, WebhookEvent, WebhookEventType } from '../contracts/webhook-events.js';
import type { PlatformStore } from './store.js';
import type { UsageMeter } from './usage.js';
import { webhookEvent } from './webhooks.js';

/** A call's timeline and participants are bounded whatever happens in it. */
const MAX_TIMELINE = 2000;
const MAX_PARTICIPANTS = 1000;
const MAX_TRANSCRIPT = 2000;
const iso = (ms = Date.now()) => new Date(ms).toISOString();

export interface TrackerDeps {
  /** Queues a webhook event (fire and forget: the outbox is durable). */
  emit(event: WebhookEvent): void;
  /** Whether the room's tenant has a webhook at all (no event is built for one that has none). */
  hooked: boolean;
  store: PlatformStore;
  usage: UsageMeter;
  ledger: ParticipantLedger;
  where: Where;
  /** Whether this node keeps the room's call record (always, alone; the room's owner, in a cluster). */
  isOwner(room: Room): boolean;
  /** Resolves once the room's recordings, on every node, have finished their files (bounded). */
  evidenceSettled(room: Room): Promise<void>;
  /** The assistant's part of the record (its conversation, outcome and evidence), if the call had one. */
  assistantRecord(room: Room): AssistantRecord | undefined;
  /** Work that must finish before the node stops (writing the record). */
  finishing(work: Promise<void>): void;
  /** Where a lone node writes the call down as it goes (absent in a cluster). */
  journal?: CallJournal;
  /** What the journal kept of this call before the node restarted (a room created ahead, taken up again). */
  resumed?: JournaledCall;
  log: Logger;
}

const participant = (peer: Peer, where: TrackerDeps['where']) => ({
  identity: peer.id, name: peer.claims.name, role: peer.claims.role, node: where.node, region: where.region, joinedAt: iso(peer.joinedAt),
});

/**
 * Follows one room through its life (one call): webhooks for what happens to the participants
 * hosted here, usage for them, and, on the node that keeps the call record, the timeline and
 * every participant's record (those hosted elsewhere arrive with their leaving), saved and
 * sent as call.record when the room ends.
 */
export function trackCall(room: Room, deps: TrackerDeps) {
  const { tenant, name, callId, metadata, createdAt } = room.settings;
  const { where } = deps;
  const { journal, resumed } = deps;
  const timeline: TimelineEntry[] = [...(resumed?.timeline ?? [])];
  const records: ParticipantRecord[] = [...(resumed?.records ?? [])];
  const transcript: TranscriptSegment[] = [];
  const nodes = new Set([where.node]);
  const regions = new Set([where.region]);
  /** The tracks of each peer here that the platform was told of, so each unpublish is told once. */
  const published = new Map<Peer, Set<string>>();
  let workerDied = false;

  /** A timeline entry, journaled on its own unless `journaled` (it then goes in the event's own journal write). */
  const note = (type: TimelineEntry['type'], identity?: string, detail?: string, journaled = false) => {
    if (timeline.length >= MAX_TIMELINE) return undefined;
    const entry: TimelineEntry = { at: iso(), type, ...(identity ? { identity } : {}), ...(detail ? { detail } : {}) };
    timeline.push(entry);
    if (owner && !journaled) journal?.noted(callId, entry);
    return entry;
  };
  const send = <T extends WebhookEventType>(type: T, data: Omit<WebhookData<T>, 'room' | 'callId'>) => {
    if (deps.hooked) deps.emit(webhookEvent(tenant, name, type, { room: name, callId, ...data } as WebhookData<T>));
  };
  const keep = (record: ParticipantRecord, entry?: TimelineEntry) => {
    if (records.length < MAX_PARTICIPANTS) records.push(record);
    nodes.add(record.node);
    regions.add(record.region);
    if (owner) journal?.left(callId, record, entry);
  };

  // Alone, this node always keeps the record; the journal is a lone node's.
  const owner = deps.isOwner(room);
  if (owner && resumed) {
    for (const r of records) nodes.add(r.node), regions.add(r.region);
    note('node.restarted', undefined, `the call went on after node ${where.node} restarted`);
  } else if (owner) {
    const entry = note('room.started', undefined, undefined, true);
    journal?.started(room.settings, entry);
    send('room.started', { metadata, createdAt: iso(createdAt) });
  }

  room.on('peerJoined', (peer) => {
    const entry = note('participant.joined', peer.id, undefined, true);
    deps.usage.join(room, peer);
    const stay = participant(peer, where);
    if (owner) journal?.joined(callId, { ...stay, tracks: [] }, entry);
    send('participant.joined', stay);
    published.set(peer, new Set());
  });
  room.on('trackPublished', (peer, producer) => {
    if (owner) journal?.published(callId, peer.id, { id: producer.id, kind: producer.kind, source: trackSource(producer), publishedAt: iso(), unpublishedAt: null });
    published.get(peer)?.add(producer.id);
    send('track.published', { identity: peer.id, trackId: producer.id, kind: producer.kind, source: trackSource(producer) });
  });
  room.on('trackUnpublished', (peer, trackId) => {
    if (published.get(peer)?.delete(trackId)) send('track.unpublished', { identity: peer.id, trackId });
  });
  const degraded = (r: Room, peer: Peer) => {
    if (r !== room) return;
    const quality = deps.ledger.quality(peer);
    send('quality.degraded', { identity: peer.id, quality: quality?.latest ?? null, summary: quality!.summary() });
  };
  deps.ledger.on('degraded', degraded);
  room.on('peerLeaving', (peer) => deps.usage.leaving(peer));
  room.on('peerSuspended', (peer) => note('participant.reconnecting', peer.id));
  room.on('peerResumed', (peer) => note('participant.resumed', peer.id));
  room.on('peerLeft', (peer, reason) => {
    const leftAt = Date.now();
    if (reason === 'MEDIA_WORKER_DIED' && !workerDied) {
      workerDied = true;
      note('worker.died', undefined, `on node ${where.node}`);
    }
    keep(deps.ledger.record(peer, where, reason, leftAt), note('participant.left', peer.id, reason, true));
    for (const id of published.get(peer) ?? []) send('track.unpublished', { identity: peer.id, trackId: id });
    published.delete(peer);
    send('participant.left', { ...participant(peer, where), leftAt: iso(leftAt), reason });
    void deps.usage.leave(peer, leftAt);
  });
  room.on('remoteJoined', (info) => note('participant.joined', info.id, 'hosted on another node'));
  room.on('remoteLeft', (peerId, record) => {
    if (!record) return void note('participant.left', peerId);
    keep(record, note('participant.left', peerId, record.leaveReason ?? undefined, true));
  });
  room.on('message', (text, from) => note('message', from, text));
  // Every node's finals reach every node's part of the room; the owner keeps them for the record.
  room.on('caption', (c) => {
    if (!c.final || transcript.length >= MAX_TRANSCRIPT) return;
    transcript.push({
      segmentId: c.segmentId, identity: c.peerId, language: c.language, text: c.text, startedAt: iso(c.startMs), endedAt: iso(c.endMs),
      translations: c.translations ?? {}, untranslated: c.untranslated ?? {},
    });
  });
  room.on('closed', () => {
    deps.ledger.off('degraded', degraded);
    if (!deps.isOwner(room)) return;
    const endedAt = Date.now();
    note('room.finished');
    deps.finishing(finish(endedAt).catch((err) => deps.log.error({ err, callId }, 'could not write the call record')));
  });

  /** The record, once the evidence is in: files and notes may come from any node, through the store. */
  async function finish(endedAt: number) {
    await deps.evidenceSettled(room);
    const [files, notes] = await Promise.all([deps.store.filesOfCall(tenant, callId), deps.store.notesOfCall(tenant, callId)]);
    const record: CallRecord = {
      callId, tenant, room: name, metadata,
      startedAt: iso(createdAt), endedAt: iso(endedAt), durationSeconds: (endedAt - createdAt) / 1000,
      regions: [...regions], nodes: [...nodes], timeline, participants: records,
      recordings: files.flatMap((f) => (f.kind === 'recording' ? [f.info] : [])),
      snapshots: files.flatMap((f) => (f.kind === 'snapshot' ? [f.info] : [])),
      notes,
      transcript: [...transcript].sort((a, b) => a.startedAt.localeCompare(b.startedAt)),
    };
    const assistant = deps.assistantRecord(room);
    if (assistant) record.assistant = assistant;
    send('room.finished', { startedAt: record.startedAt, endedAt: record.endedAt, durationSeconds: record.durationSeconds });
    send('call.record', record);
    if (room.settings.captions) send('transcript.ready', { languages: [...new Set(record.transcript.map((t) => t.language.split('-')[0]))], transcript: record.transcript });
    await deps.store.saveCall(record);
    journal?.ended(callId);
  }
}
