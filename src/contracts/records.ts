/**
 * What the platform API answers and the webhooks carry: call records, participants, quality,
 * usage and events. One TypeBox source for validation, types, the OpenAPI document and docs/api.md.
 */
import '../common/formats.js';
import { Type, type Static } from '@sinclair/typebox';
import { Role } from '../auth/grants.js';
import { literals } from '../common/literals.js';

export const Iso = Type.String({ format: 'date-time', description: 'ISO 8601 time.' });
const Ratio = Type.Number({ minimum: 0, maximum: 1 });

export const Metadata = Type.Record(Type.String({ maxLength: 64 }), Type.Union([Type.String({ maxLength: 1024 }), Type.Number(), Type.Boolean(), Type.Null()]), {
  title: 'Metadata',
  description: 'Business data for the call (order id, ticket id, the buyer\'s and seller\'s languages, ...): flat, strings, numbers and booleans, at most limits.metadataBytes as JSON.',
});
export type Metadata = Static<typeof Metadata>;

export const QualitySummary = Type.Object({
  rttMsP50: Type.Union([Type.Number(), Type.Null()], { description: 'Median round-trip time to the node over the session.' }),
  rttMsP95: Type.Union([Type.Number(), Type.Null()]),
  lossRate: Type.Union([Ratio, Type.Null()], { description: 'Share of packets lost on what the participant received (average).' }),
  bitrateBps: Type.Union([Type.Number(), Type.Null()], { description: 'Average receive bitrate.' }),
  poorSeconds: Type.Number({ description: 'Seconds the participant spent in poor quality (RTT over 400 ms, loss over 5 %, video frozen over 10 % or audio concealed over 5 % of a report).' }),
  frozenRatio: Type.Union([Ratio, Type.Null()], { description: 'Share of the time the video it received was frozen, as its browser measured.' }),
  concealedRatio: Type.Union([Ratio, Type.Null()], { description: 'Share of the audio it received that its browser had to conceal.' }),
  reportedSeconds: Type.Number({ description: 'Seconds covered by the client\'s quality reports.' }),
}, { title: 'QualitySummary' });
export type QualitySummary = Static<typeof QualitySummary>;

/** One point of a participant's quality over time (the call inspector's charts): averages over `seconds` of its client's reports from `at`. */
export const QualityPoint = Type.Object({
  at: Iso,
  seconds: Type.Number({ description: 'How much of reports the point covers (5 s a point; a stay longer than an hour has wider points).' }),
  sendBitrateBps: Type.Union([Type.Number(), Type.Null()], { description: 'What it sent, as its client measured.' }),
  recvBitrateBps: Type.Union([Type.Number(), Type.Null()], { description: 'What it received.' }),
  lossRate: Type.Union([Ratio, Type.Null()]),
  rttMs: Type.Union([Type.Number(), Type.Null()]),
  videoLayer: Type.Union([Type.Number(), Type.Null()], { description: 'The spatial layer the node forwarded to it (its highest across the video it received; 0 is the lowest), averaged over the point; null: no simulcast video.' }),
  frozenRatio: Type.Union([Ratio, Type.Null()]),
  concealedRatio: Type.Union([Ratio, Type.Null()]),
}, { title: 'QualityPoint' });
export type QualityPoint = Static<typeof QualityPoint>;

export const TrackRecord = Type.Object({
  id: Type.String(),
  kind: literals(['audio', 'video']),
  source: Type.Union([Type.String(), Type.Null()]),
  publishedAt: Iso,
  unpublishedAt: Type.Union([Iso, Type.Null()]),
}, { title: 'TrackRecord' });
export type TrackRecord = Static<typeof TrackRecord>;

/** Who a participant is and where it joined: the same in its record and in the live view. */
const ParticipantStay = {
  identity: Type.String(),
  name: Type.String(),
  role: Role,
  region: Type.String(),
  node: Type.String(),
  joinedAt: Iso,
};

/** One stay of a participant in a call, from join to leave (a participant who leaves and joins again has two). */
export const ParticipantRecord = Type.Object({
  ...ParticipantStay,
  leftAt: Type.Union([Iso, Type.Null()]),
  leaveReason: Type.Union([Type.String(), Type.Null()], { description: 'left, disconnected (the grace period ran out), replaced, KICKED, REMOVED, ROOM_ENDED, MEDIA_WORKER_DIED, NODE_SHUTDOWN, node_restart (the node stopped under the call: its leftAt is when it was last known alive), ...' }),
  tracks: Type.Array(TrackRecord),
  quality: QualitySummary,
  series: Type.Array(QualityPoint, { description: 'Its quality over time, oldest first: at most 720 points.' }),
}, { title: 'ParticipantRecord' });
export type ParticipantRecord = Static<typeof ParticipantRecord>;

export const TimelineEntry = Type.Object({
  at: Iso,
  type: literals(['room.started', 'participant.joined', 'participant.left', 'participant.reconnecting', 'participant.resumed', 'worker.died', 'node.restarted', 'message', 'room.finished'], {
    description: 'node.restarted: the node that kept the call stopped (a crash or a restart); the participants it hosted left with reason node_restart, and a room created through the API went on with the same call id.',
  }),
  identity: Type.Optional(Type.String()),
  detail: Type.Optional(Type.String()),
}, { title: 'TimelineEntry' });
export type TimelineEntry = Static<typeof TimelineEntry>;

/** One file of a recording: one track, from when it started until it stopped (or its ffmpeg was restarted). */
export const RecordingFile = Type.Object({
  fileId: Type.String({ description: 'GET /v1/files/:fileId downloads it.' }),
  recordingId: Type.String(),
  recordingOf: Type.Union([Type.String(), Type.Null()], { description: 'Whom its recording records: one identity, or null for everyone in the room.' }),
  identity: Type.String({ description: 'Whose track it is.' }),
  trackId: Type.String(),
  kind: literals(['audio', 'video']),
  codec: Type.String({ description: 'As the participant sent it, not transcoded: opus, VP8, VP9 or H264.' }),
  container: literals(['webm', 'mkv']),
  node: Type.String(),
  startedAt: Iso,
  endedAt: Type.Union([Iso, Type.Null()]),
  durationSeconds: Type.Union([Type.Number(), Type.Null()], { description: 'As ffprobe measures the finished file.' }),
  bytes: Type.Integer(),
  status: literals(['recording', 'complete', 'failed'], { description: 'failed: its ffmpeg stopped on its own (see error); what it wrote until then is kept.' }),
  error: Type.Union([Type.String(), Type.Null()]),
}, { title: 'RecordingFile' });
export type RecordingFile = Static<typeof RecordingFile>;

/** A still of a participant's video, captured as evidence. */
export const Snapshot = Type.Object({
  snapshotId: Type.String({ description: 'Also its file id: GET /v1/files/:snapshotId downloads the JPEG.' }),
  identity: Type.String({ description: 'Whose video it shows.' }),
  trackId: Type.String(),
  takenBy: Type.String({ description: 'The participant who asked for it, or "api".' }),
  takenAt: Iso,
  width: Type.Integer(),
  height: Type.Integer(),
  bytes: Type.Integer(),
  node: Type.String(),
}, { title: 'Snapshot' });
export type Snapshot = Static<typeof Snapshot>;

/** A recording as the API shows it: what it records, and its files so far on every node. */
export const RecordingView = Type.Object({
  recordingId: Type.String(),
  identity: Type.Union([Type.String(), Type.Null()], { description: 'null: everyone in the room.' }),
  startedAt: Iso,
  active: Type.Boolean(),
  files: Type.Array(RecordingFile),
}, { title: 'RecordingView' });
export type RecordingView = Static<typeof RecordingView>;

/** RTP sent to a service outside the call. */
export const ForwardView = Type.Object({
  forwardId: Type.String(),
  identity: Type.String(),
  host: Type.String(),
  srtp: Type.Boolean(),
  streams: Type.Array(Type.Object({
    kind: literals(['audio', 'video']), trackId: Type.String(), port: Type.Integer(), rtcpPort: Type.Integer(),
    payloadType: Type.Integer(), mimeType: Type.String(), clockRate: Type.Integer(), channels: Type.Optional(Type.Integer()), ssrc: Type.Integer(),
  })),
  sdp: Type.String({ description: 'What ffmpeg or GStreamer takes to receive it (with the SRTP key when srtp is on).' }),
  startedAt: Iso,
}, { title: 'Forward' });
export type ForwardView = Static<typeof ForwardView>;

/** Something the platform or a bot wrote into the call (POST /v1/rooms/:room/notes), such as a triage summary. */
export const Note = Type.Object({
  at: Iso,
  author: Type.String({ maxLength: 64 }),
  kind: Type.String({ maxLength: 64, description: 'What sort of note: triage, resolution, ...' }),
  text: Type.String({ maxLength: 4000 }),
  data: Type.Record(Type.String({ maxLength: 64 }), Type.Union([Type.String({ maxLength: 1024 }), Type.Number(), Type.Boolean(), Type.Null()]), { description: 'Flat fields for machines: category, remedy, ...' }),
}, { title: 'Note' });
export type Note = Static<typeof Note>;

/** One final caption of the call: who said what, when, and its translations. */
export const TranscriptSegment = Type.Object({
  segmentId: Type.String(),
  identity: Type.String({ description: 'Who spoke.' }),
  language: Type.String(),
  text: Type.String({ description: 'What was recognised, in the language it was spoken in.' }),
  startedAt: Iso,
  endedAt: Iso,
  translations: Type.Record(Type.String(), Type.String(), { description: 'By primary language subtag: the languages of the call\'s participants at the time.' }),
  untranslated: Type.Record(Type.String(), Type.String(), { description: 'For a language no engine translated into: why.' }),
}, { title: 'TranscriptSegment' });
export type TranscriptSegment = Static<typeof TranscriptSegment>;

/** One turn of the voice assistant's conversation, as it heard or said it. */
export const AssistantTurn = Type.Object({
  from: literals(['buyer', 'assistant']),
  text: Type.String({ maxLength: 4000 }),
  language: Type.String({ maxLength: 35 }),
  at: Iso,
}, { title: 'AssistantTurn' });
export type AssistantTurn = Static<typeof AssistantTurn>;

/** The categories an after-sales problem falls into, and the standard remedies (src/agents/policy.ts maps one to the other). */
export const CATEGORY_NAMES = ['damaged_in_transit', 'defective', 'wrong_item_or_size', 'how_to_use', 'changed_mind'] as const;
export const REMEDY_NAMES = ['replacement_part', 'partial_refund', 'usage_guide', 'return'] as const;

/** What the assistant's triage decided. */
export const TriageOutcome = Type.Object({
  category: Type.Union([literals([...CATEGORY_NAMES]), Type.Null()]),
  remedy: Type.Union([literals([...REMEDY_NAMES]), Type.Null()]),
  accepted: Type.Boolean({ description: 'The buyer accepted the remedy.' }),
  handover: Type.Boolean({ description: 'A person takes over.' }),
  orderId: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
  summary: Type.String({ maxLength: 4000, description: 'One paragraph for the ticket, in English.' }),
}, { title: 'TriageOutcome' });
export type TriageOutcome = Static<typeof TriageOutcome>;

/** A clip the assistant recorded of the buyer when no seller came: evidence for the seller, hours later. */
export const EvidenceClip = Type.Object({
  evidenceId: Type.String(),
  identity: Type.String({ description: 'Whom it shows.' }),
  startedAt: Iso,
  endedAt: Iso,
  files: Type.Array(RecordingFile, { description: 'The clip, a file per track (GET /v1/files/:fileId).' }),
  snapshots: Type.Array(Type.String(), { description: 'The snapshot ids of the call so far.' }),
  transcript: Type.Array(TranscriptSegment, { description: 'What the buyer said during the clip, with its translations.' }),
  summary: Type.Union([Type.String(), Type.Null()], { description: 'The triage summary, if there was one.' }),
}, { title: 'EvidenceClip' });
export type EvidenceClip = Static<typeof EvidenceClip>;

/** The voice assistant in a call: its conversation, what it decided, and the evidence it kept. */
export const AssistantRecord = Type.Object({
  dispatches: Type.Integer({ description: 'How many times it was dispatched to the call (more than one: a worker died and another went on).' }),
  turns: Type.Array(AssistantTurn, { description: 'The conversation, oldest first (at most 500 turns).' }),
  outcome: Type.Union([TriageOutcome, Type.Null()]),
  handedOverAt: Type.Union([Iso, Type.Null()]),
  evidence: Type.Array(EvidenceClip),
}, { title: 'AssistantRecord' });
export type AssistantRecord = Static<typeof AssistantRecord>;

/** A room's assistant now (GET, POST and DELETE /v1/rooms/:room/agents). */
export const AgentView = Type.Object({
  jobId: Type.String(),
  state: literals(['waiting', 'in-call', 'ended'], { description: 'waiting: for a worker to take the job; in-call: the assistant is in the call; ended: it left, or was stopped.' }),
  reason: literals(['buyer-joined', 'seller-wait', 'request'], { description: 'What dispatched it.' }),
  dispatchedAt: Iso,
}, { title: 'AgentView' });
export type AgentView = Static<typeof AgentView>;

/** One call: one life of a room, from its creation to its end. */
export const CallRecord = Type.Object({
  callId: Type.String(),
  tenant: Type.String(),
  room: Type.String(),
  metadata: Metadata,
  startedAt: Iso,
  endedAt: Iso,
  durationSeconds: Type.Number(),
  regions: Type.Array(Type.String()),
  nodes: Type.Array(Type.String()),
  timeline: Type.Array(TimelineEntry),
  participants: Type.Array(ParticipantRecord),
  recordings: Type.Array(RecordingFile),
  snapshots: Type.Array(Snapshot),
  notes: Type.Array(Note),
  transcript: Type.Array(TranscriptSegment, { description: 'The final captions, in order (rooms with captions; at most 2,000 segments). Kept as long as the record, as the recordings are.' }),
  assistant: Type.Optional(AssistantRecord),
}, { title: 'CallRecord' });
export type CallRecord = Static<typeof CallRecord>;

/** What a participant's client reports every few seconds (the reportQuality request). */
export const QualityReport = Type.Object({
  intervalMs: Type.Integer({ minimum: 100, maximum: 60_000, description: 'How long this report covers.' }),
  rttMs: Type.Optional(Type.Number({ minimum: 0, maximum: 60_000 })),
  lossRate: Type.Optional(Ratio),
  bitrateBps: Type.Optional(Type.Number({ minimum: 0, maximum: 1e10, description: 'What it received over the interval.' })),
  sendBitrateBps: Type.Optional(Type.Number({ minimum: 0, maximum: 1e10, description: 'What it sent over the interval.' })),
  frozenRatio: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Share of the interval the video it received was frozen.' })),
  concealedRatio: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Share of the audio it received that was concealed in the interval.' })),
}, { additionalProperties: false, title: 'QualityReport' });
export type QualityReport = Static<typeof QualityReport>;

/** Usage, summed over a time range (one tenant, or one room of it). */
export const Usage = Type.Object({
  participantSeconds: Type.Record(Type.String(), Type.Number(), { description: 'By role.' }),
  mediaSeconds: Type.Object({ audio: Type.Number(), video: Type.Number() }, { description: 'Published track time, by kind.' }),
  bytesIn: Type.Number({ description: 'Bytes the node received from participants (transport stats).' }),
  bytesOut: Type.Number({ description: 'Bytes the node sent to participants (transport stats).' }),
  speechSeconds: Type.Number({ description: 'Audio sent to speech-to-text for captions, seconds.' }),
  translatedCharacters: Type.Number({ description: 'Characters translated (captions, chat and system messages), counted once per target language.' }),
  agentSeconds: Type.Number({ description: 'Time the voice assistant spent in calls, seconds.' }),
  recordingSeconds: Type.Number({ description: 'Recorded track time (each file as long as it plays), seconds.' }),
}, { title: 'Usage' });
export type Usage = Static<typeof Usage>;

/** Usage priced with the tenant's rate card (tenants[].rates). */
export const Cost = Type.Object({
  currency: Type.String({ description: 'ISO 4217, as the rate card says.' }),
  lines: Type.Array(Type.Object({
    item: literals(['participantMinutes', 'recordingMinutes', 'egressGigabytes', 'speechMinutes', 'agentMinutes', 'translationThousandCharacters']),
    unit: Type.String(),
    quantity: Type.Number(),
    unitPrice: Type.Number(),
    amount: Type.Number({ description: 'quantity × unitPrice, to a millionth of the currency unit.' }),
  })),
  total: Type.Number(),
}, { title: 'Cost' });
export type Cost = Static<typeof Cost>;

/** A participant as the API shows it now. */
export const ParticipantView = Type.Object({
  ...ParticipantStay,
  state: literals(['active', 'reconnecting'], { description: 'reconnecting: its socket dropped; it has signaling.reconnectGraceMs to resume.' }),
  tracks: Type.Array(Type.Object({ id: Type.String(), kind: literals(['audio', 'video']), source: Type.Union([Type.String(), Type.Null()]), muted: Type.Boolean() })),
  quality: Type.Object({
    latest: Type.Union([QualityReport, Type.Null()], { description: 'The client\'s last report.' }),
    poor: Type.Boolean({ description: 'The last report was poor quality.' }),
    summary: QualitySummary,
  }),
}, { title: 'ParticipantView' });
export type ParticipantView = Static<typeof ParticipantView>;

/** A room as the API shows it. */
export const RoomView = Type.Object({
  room: Type.String(),
  callId: Type.String(),
  createdAt: Iso,
  metadata: Metadata,
  maxParticipants: Type.Integer(),
  emptyTimeoutSeconds: Type.Number(),
  participants: Type.Optional(Type.Array(ParticipantView, { description: 'In GET /v1/rooms/:room only.' })),
}, { title: 'RoomView' });
export type RoomView = Static<typeof RoomView>;
