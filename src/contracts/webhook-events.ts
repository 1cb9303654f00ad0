/**
 * The webhook events, declared once: the call tracker sends them typed by these schemas,
 * docs/api.md documents them, and the tests check every delivered event against them.
 */
import { Type, type Static, type TObject, type TProperties } from '@sinclair/typebox';
import { Role } from '../auth/grants.js';
import { literals } from '../common/literals.js';
import { AssistantTurn, CallRecord, EvidenceClip, Iso, Metadata, QualityReport, QualitySummary, RecordingFile, TranscriptSegment, TriageOutcome } from './records.js';

/** Every event's data names its room and call. */
const event = <P extends TProperties>(description: string, data: TObject<P>) => ({
  description,
  data: Type.Composite([Type.Object({ room: Type.String(), callId: Type.String() }), data]),
});

const Participant = Type.Object({
  identity: Type.String(), name: Type.String(), role: Role, node: Type.String(), region: Type.String(), joinedAt: Iso,
});

export const webhookEvents = {
  'room.started': event('A call began: the room was created (by the API or its first join).', Type.Object({ metadata: Metadata, createdAt: Iso })),
  'room.finished': event('The call ended (empty timeout, DELETE, or the node shut down). Its record follows as call.record.', Type.Object({
    startedAt: Iso, endedAt: Iso, durationSeconds: Type.Number(),
  })),
  'participant.joined': event('A participant joined (a resumed connection is not a new join).', Participant),
  'participant.left': event('A participant left, for `reason` (see ParticipantRecord.leaveReason).', Type.Composite([Participant, Type.Object({ leftAt: Iso, reason: Type.String() })])),
  'track.published': event('A participant started sending a track.', Type.Object({
    identity: Type.String(), trackId: Type.String(), kind: literals(['audio', 'video']), source: Type.Union([Type.String(), Type.Null()]),
  })),
  'track.unpublished': event('A track stopped (closed, or its participant left).', Type.Object({ identity: Type.String(), trackId: Type.String() })),
  'call.record': event('The call\'s record, sent once when the room ends (also at GET /v1/calls/:callId).', Type.Omit(CallRecord, ['room', 'callId'])),
  'recording.finished': event('A recording ended on one node (stopped, or its room ended): its files there, and whether any track failed. A recording that spans nodes sends one from each.', Type.Object({
    recordingId: Type.String(), identity: Type.Union([Type.String(), Type.Null()]), node: Type.String(),
    status: literals(['complete', 'failed']), error: Type.Union([Type.String(), Type.Null()]), files: Type.Array(RecordingFile),
  })),
  'transcript.ready': event('The transcript of a call with captions, sent once after the call ended (it is also in call.record): every final caption, with its speaker, times and translations.', Type.Object({
    languages: Type.Array(Type.String(), { description: 'The languages spoken (primary subtags).' }),
    transcript: Type.Array(TranscriptSegment),
  })),
  'agent.handover': event('The voice assistant hands the buyer over to a person: page a seller. It carries the triage so far, the buyer\'s language, and the conversation.', Type.Object({
    buyer: Type.Union([Type.String(), Type.Null()], { description: 'The buyer\'s identity.' }),
    language: Type.String({ description: 'The buyer\'s language.' }),
    outcome: TriageOutcome,
    snapshots: Type.Array(Type.String(), { description: 'Snapshot ids of the call so far.' }),
    transcript: Type.Array(AssistantTurn),
  })),
  'evidence.ready': event('No seller came: the assistant recorded a clip of the problem; it is in the call record.', Type.Object({ evidence: EvidenceClip })),
  'quality.degraded': event('A participant\'s own reports have shown poor quality for more than 10 s (sent again only after it recovered).', Type.Object({
    identity: Type.String(), quality: Type.Union([QualityReport, Type.Null()]), summary: QualitySummary,
  })),
};

export type WebhookEventType = keyof typeof webhookEvents;
export const WEBHOOK_EVENTS = Object.keys(webhookEvents) as WebhookEventType[];
export type WebhookData<T extends WebhookEventType> = Static<(typeof webhookEvents)[T]['data']>;

/** The body of every webhook, as Standard Webhooks lays it out; the event id is the webhook-id header. */
export const WebhookBody = Type.Object({
  type: literals(WEBHOOK_EVENTS),
  timestamp: Type.String({ format: 'date-time', description: 'When it happened (ISO 8601).' }),
  data: Type.Record(Type.String(), Type.Unknown(), { description: 'As the event\'s type says; always with room and callId.' }),
}, { title: 'WebhookBody' });

/** An event in the outbox: its body, the id receivers deduplicate on, and whose it is. */
export interface WebhookEvent {
  id: string;
  tenant: string;
  /** Events of one room are delivered in order. */
  room: string;
  type: WebhookEventType;
  timestamp: string;
  data: Record<string, unknown>;
}

export const webhookBody = (event: WebhookEvent): string => JSON.stringify({ type: event.type, timestamp: event.timestamp, data: event.data });
