import type { CallRecord, ParticipantRecord, RecordingFile } from '../contracts/records.js';
import type { WebhookEvent } from '../contracts/webhook-events.js';
import type { Logger } from '../logging/logger.js';
import type { RoomSettings } from '../rooms/room-settings.js';
import type { CallJournal, JournaledCall } from './call-journal.js';
import { QualityTracker } from './quality.js';
import { recordingUsage, type PlatformStore, type StoredFile, type UsageRow } from './store.js';
import { webhookEvent } from './webhooks.js';

export interface RecoveryDeps {
  journal: CallJournal;
  store: PlatformStore;
  emit(event: WebhookEvent): void;
  /** This node: only its own files are finished here. */
  node: string;
  region: string;
  /** Finishes a recording file its writer never closed (the node stopped under it). */
  finishFile(file: StoredFile & { kind: 'recording' }, endedAt: number): Promise<StoredFile & { kind: 'recording' }>;
  /** A room created ahead through the API, opened again with its settings (its call goes on). */
  reopen(settings: RoomSettings, call: JournaledCall): Promise<void>;
  log: Logger;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * On start, a lone node closes what it left open when it last stopped (a crash, a kill -9, a
 * power cut): every journaled call's participants leave with reason node_restart at the time
 * the node was last known alive, its recording files are finished and reported, and the call
 * ends with room.finished and call.record, or, if its room was created ahead through the API,
 * the room opens again with the same call id and metadata for its participants to come back to.
 */
export async function recoverCalls(deps: RecoveryDeps) {
  const calls = await deps.journal.open();
  if (calls.length === 0) return;
  const lastAlive = deps.journal.lastAlive();
  for (const call of calls) {
    try {
      await recoverCall(call, Math.max(lastAlive, call.lastAt), deps);
    } catch (err) {
      deps.log.error({ err, callId: call.settings.callId }, 'could not close a call left open by a restart');
    }
  }
  deps.log.info({ calls: calls.length }, 'calls left open by the last stop were closed or taken up again');
}

async function recoverCall(call: JournaledCall, stoppedAt: number, deps: RecoveryDeps) {
  const { settings } = call;
  const { tenant, name: room, callId, metadata, createdAt } = settings;
  const send = (type: Parameters<typeof webhookEvent>[2], data: object) => deps.emit(webhookEvent(tenant, room, type, { room, callId, ...data } as never));
  const noQuality = new QualityTracker().summary();
  const at = iso(stoppedAt);

  // Who was there: they left when the node stopped.
  const left: ParticipantRecord[] = call.present.map((stay) => ({
    ...stay, leftAt: at, leaveReason: 'node_restart', quality: noQuality, series: [],
    tracks: stay.tracks.map((t) => ({ ...t, unpublishedAt: t.unpublishedAt ?? at })),
  }));
  for (const r of left) {
    send('participant.left', { identity: r.identity, name: r.name, role: r.role, node: r.node, region: r.region, joinedAt: r.joinedAt, leftAt: at, reason: 'node_restart' });
  }
  // Their time is billed up to the stop (the bytes they moved since the last sample are not known).
  await deps.store.addUsage(left.flatMap((r): UsageRow[] => [
    { tenant, room, callId, kind: 'participant', role: r.role, startAt: Date.parse(r.joinedAt), endAt: stoppedAt, bytesIn: 0, bytesOut: 0 },
    ...r.tracks.map((t): UsageRow => ({ tenant, room, callId, kind: t.kind, role: null, startAt: Date.parse(t.publishedAt), endAt: stoppedAt, bytesIn: 0, bytesOut: 0 })),
  ]));

  // The files the node was writing: finished as they are, reported per recording.
  const files = await deps.store.filesOfCall(tenant, callId);
  const open = files.filter((f): f is StoredFile & { kind: 'recording' } => f.kind === 'recording' && f.info.status === 'recording' && f.node === deps.node);
  const finished = await Promise.all(open.map(async (f) => {
    const done = await deps.finishFile(f, stoppedAt);
    await deps.store.putFile(done);
    const used = recordingUsage(done);
    if (used) await deps.store.addUsage([used]);
    return done.info;
  }));
  const byRecording = new Map<string, RecordingFile[]>();
  for (const f of finished) byRecording.set(f.recordingId, [...(byRecording.get(f.recordingId) ?? []), f]);
  for (const [recordingId, recorded] of byRecording) {
    const failed = recorded.find((f) => f.status === 'failed');
    send('recording.finished', {
      recordingId, identity: recorded[0].recordingOf, node: deps.node, status: failed ? 'failed' : 'complete',
      error: failed ? failed.error : null, files: recorded,
    });
  }

  const timeline = [...call.timeline, ...left.map((r) => ({ at, type: 'participant.left' as const, identity: r.identity, detail: 'node_restart' })), { at, type: 'node.restarted' as const }];
  const records = [...call.records, ...left];
  // A room created ahead (it has an empty timeout) goes on: its participants come back to the same call.
  if (settings.emptyTimeoutMs > 0) {
    await deps.reopen(settings, { ...call, timeline, records, present: [] });
    deps.log.info({ callId, room }, 'a call created ahead goes on after the restart');
    return;
  }
  const [all, notes] = await Promise.all([deps.store.filesOfCall(tenant, callId), deps.store.notesOfCall(tenant, callId)]);
  const record: CallRecord = {
    callId, tenant, room, metadata,
    startedAt: iso(createdAt), endedAt: at, durationSeconds: Math.max(0, (stoppedAt - createdAt) / 1000),
    regions: [...new Set([deps.region, ...records.map((r) => r.region)])], nodes: [...new Set([deps.node, ...records.map((r) => r.node)])],
    timeline: [...timeline, { at, type: 'room.finished' }], participants: records,
    recordings: all.flatMap((f) => (f.kind === 'recording' ? [f.info] : [])),
    snapshots: all.flatMap((f) => (f.kind === 'snapshot' ? [f.info] : [])),
    notes,
    transcript: [],
  };
  send('room.finished', { startedAt: record.startedAt, endedAt: record.endedAt, durationSeconds: record.durationSeconds });
  send('call.record', record);
  await deps.store.saveCall(record);
  deps.journal.ended(callId);
}
