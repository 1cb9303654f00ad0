import { CodedError } from '../common/errors.js';
import type { AssistantRecord, AssistantTurn, EvidenceClip, TranscriptSegment, TriageOutcome } from '../contracts/records.js';
import type { WebhookData, WebhookEvent, WebhookEventType } from '../contracts/webhook-events.js';
import type { EvidenceService } from '../egress/evidence-service.js';
import type { Logger } from '../logging/logger.js';
import type { PlatformStore } from '../platform/store.js';
import { webhookEvent } from '../platform/webhooks.js';
import type { Peer } from '../rooms/peer.js';
import type { Room } from '../rooms/room.js';
import { newId } from '../rooms/room-settings.js';
import type { Tenants } from '../tenants/tenants.js';

/** Everything a call's assistant keeps is bounded, whatever it sends. */
const MAX_TURNS = 500;
const MAX_STATE_BYTES = 32 * 1024;
const MAX_EVIDENCE = 10;
/** What a participant said lately, for the clip's transcript. */
const MAX_HEARD = 200;
const iso = (ms: number) => new Date(ms).toISOString();

interface Turn { from: 'buyer' | 'assistant'; text: string; language: string; at: number }
interface Session {
  dispatches: number;
  turns: Turn[];
  state: unknown;
  outcome: TriageOutcome | null;
  handedOverAt: number | null;
  evidence: EvidenceClip[];
  clips: Map<string, { recordingId: string; identity: string; startedAt: number }>;
  heard: TranscriptSegment[];
}

export interface AssistantSessionsDeps {
  tenants: Tenants;
  evidence: Pick<EvidenceService, 'startRecording' | 'stopRecording' | 'recordings'>;
  store: Pick<PlatformStore, 'filesOfCall'>;
  /** Ends the call for everyone (DELETE /v1/rooms/:room). */
  endCall(room: Room): Promise<void>;
  emit(event: WebhookEvent): void;
  /** Whether a tenant has a webhook (no event is built for one that has none). */
  hooked(tenant: string): boolean;
  log: Logger;
}

/**
 * The node's side of each call's voice assistant: the conversation it keeps with the call (so a
 * worker that takes over goes on from it, and the call record has it), its hand-over, the
 * evidence clips it records, and the end of the call it may decide. The assistant itself runs in
 * an agent worker, a protocol client with the assist grant; this is what its requests reach.
 */
export class AssistantSessions {
  /** Weakly held: a room's session lives as long as the room (its record takes it after the room closed). */
  private readonly sessions = new WeakMap<Room, Session>();

  constructor(private readonly deps: AssistantSessionsDeps) {}

  /** A session for the room's assistant, new or the one it had. */
  open(room: Room) {
    let s = this.sessions.get(room);
    if (!s) {
      s = { dispatches: 0, turns: [], state: null, outcome: null, handedOverAt: null, evidence: [], clips: new Map(), heard: [] };
      const session = s;
      this.sessions.set(room, s);
      room.on('caption', (c) => {
        if (!c.final) return;
        session.heard.push({
          segmentId: c.segmentId, identity: c.peerId, language: c.language, text: c.text, startedAt: iso(c.startMs), endedAt: iso(c.endMs),
          translations: c.translations ?? {}, untranslated: c.untranslated ?? {},
        });
        if (session.heard.length > MAX_HEARD) session.heard.shift();
      });
    }
    return s;
  }

  /** The assistant's conversation so far, for its join answer; a join that is not a resumed connection is one more dispatch. */
  joinAnswer(room: Room, resumed: boolean) {
    const s = this.sessions.get(room) ?? this.open(room);
    if (!resumed) s.dispatches++;
    return { turns: s.turns, state: s.state, outcome: s.outcome, handedOverAt: s.handedOverAt, dispatches: s.dispatches };
  }

  private of(room: Room) {
    const s = this.sessions.get(room);
    if (!s) throw new CodedError('INVALID_STATE', 'no assistant was dispatched to this call');
    return s;
  }

  save(room: Room, { turns = [], state, outcome }: { turns?: Turn[]; state?: unknown; outcome?: TriageOutcome }) {
    const s = this.of(room);
    if (state !== undefined) {
      const bytes = Buffer.byteLength(JSON.stringify(state) ?? '');
      if (bytes > MAX_STATE_BYTES) throw new CodedError('BAD_REQUEST', `the assistant's state is ${bytes} bytes of JSON; at most ${MAX_STATE_BYTES}`);
      s.state = state;
    }
    s.turns.push(...turns.slice(0, Math.max(0, MAX_TURNS - s.turns.length)));
    if (outcome) s.outcome = outcome;
  }

  /** The buyer goes to a person: the platform is told, with what the assistant learnt. */
  async handOver(room: Room, outcome: TriageOutcome) {
    const s = this.of(room);
    s.outcome = outcome;
    s.handedOverAt ??= Date.now();
    const buyer = [...room.participants()].find((p) => p.role === 'buyer');
    const snapshots = await this.snapshots(room);
    const language = buyer?.language ?? this.deps.tenants.get(room.settings.tenant)?.language ?? 'en';
    this.send(room, 'agent.handover', { buyer: buyer?.id ?? null, language, outcome, snapshots, transcript: this.turns(s) });
    room.log.info({ category: outcome.category }, 'the assistant handed the buyer over');
  }

  async startEvidence(room: Room, subject: Peer | undefined, peerId: string) {
    const s = this.of(room);
    if (!subject && !room.participants().some((p) => p.id === peerId)) throw new CodedError('NOT_FOUND', `no participant ${peerId} in this call`);
    if (s.evidence.length + s.clips.size >= MAX_EVIDENCE) throw new CodedError('LIMIT_REACHED', `a call keeps at most ${MAX_EVIDENCE} evidence clips`);
    const tenant = this.deps.tenants.get(room.settings.tenant)!;
    const recording = await this.deps.evidence.startRecording(tenant, room.settings.name, peerId);
    const evidenceId = newId('ev');
    s.clips.set(evidenceId, { recordingId: recording.recordingId, identity: peerId, startedAt: Date.now() });
    return { evidenceId };
  }

  /** The clip's files, the call's snapshots and what its subject said during it: in the record, and evidence.ready. */
  async finishEvidence(room: Room, evidenceId: string) {
    const s = this.of(room);
    const clip = s.clips.get(evidenceId);
    if (!clip) throw new CodedError('NOT_FOUND', `no evidence clip ${evidenceId} is being recorded`);
    s.clips.delete(evidenceId);
    const tenant = this.deps.tenants.get(room.settings.tenant)!;
    const endedAt = Date.now();
    await this.deps.evidence.stopRecording(tenant, room.settings.name, clip.recordingId);
    const files = (await this.deps.evidence.recordings(tenant, room.settings.name)).find((r) => r.recordingId === clip.recordingId)?.files ?? [];
    const evidence: EvidenceClip = {
      evidenceId, identity: clip.identity, startedAt: iso(clip.startedAt), endedAt: iso(endedAt), files,
      snapshots: await this.snapshots(room),
      // Speech that began during the clip (its final caption may come just after).
      transcript: s.heard.filter((h) => h.identity === clip.identity && Date.parse(h.startedAt) >= clip.startedAt - 500 && Date.parse(h.startedAt) <= endedAt),
      summary: s.outcome?.summary ?? null,
    };
    s.evidence.push(evidence);
    this.send(room, 'evidence.ready', { evidence });
    return { evidence };
  }

  endCall(room: Room) {
    this.of(room);
    return this.deps.endCall(room);
  }

  /** What goes in the call record (nothing for a call the assistant never joined). */
  record(room: Room): AssistantRecord | undefined {
    const s = this.sessions.get(room);
    if (!s) return undefined;
    return { dispatches: s.dispatches, turns: this.turns(s), outcome: s.outcome, handedOverAt: s.handedOverAt === null ? null : iso(s.handedOverAt), evidence: s.evidence };
  }

  private send<T extends WebhookEventType>(room: Room, type: T, data: Omit<WebhookData<T>, 'room' | 'callId'>) {
    const { tenant, name, callId } = room.settings;
    if (this.deps.hooked(tenant)) this.deps.emit(webhookEvent(tenant, name, type, { room: name, callId, ...data } as WebhookData<T>));
  }

  private turns(s: Session): AssistantTurn[] {
    return s.turns.map((t) => ({ ...t, at: iso(t.at) }));
  }

  private async snapshots(room: Room) {
    const files = await this.deps.store.filesOfCall(room.settings.tenant, room.settings.callId);
    return files.flatMap((f) => (f.kind === 'snapshot' ? [f.info.snapshotId] : []));
  }
}
