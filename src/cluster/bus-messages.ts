/**
 * Node-to-node messages: the single source of truth, as src/contracts/protocol.ts is for
 * clients. The bus validates every message against these schemas on receipt; a malformed one
 * is dropped and counted, never thrown.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { types } from 'mediasoup';
import { AgentView, ForwardView, ParticipantRecord, ParticipantView, Snapshot } from '../contracts/records.js';
import { RoomKeySchema } from '../rooms/room-key.js';
import { Language } from '../common/languages.js';
import { RecordingSpec, RoomSettings } from '../rooms/room-settings.js';
import { shapes } from '../contracts/protocol.js';

const { Id, PeerId, AppData, Kind, PeerInfo, RtpParameters, SctpStreamParameters } = shapes;
/** Every message names its room by its key (tenant and name), never by the bare name clients see. */
const RoomId = RoomKeySchema;
const SrtpParameters = Type.Unsafe<types.SrtpParameters>(Type.Object({
  cryptoSuite: Type.String({ maxLength: 64 }),
  keyBase64: Type.String({ maxLength: 256 }),
}));
/** One end of a pipe between two nodes. */
const PipeTuple = Type.Object({ ip: Type.String({ maxLength: 64 }), port: Type.Integer({ minimum: 1, maximum: 65535 }), srtpParameters: SrtpParameters });

/** Published on a room's channel to every node that hosts part of the room. */
export const roomMessages = {
  /** A peer's full current view: every change sends it whole, so a lost message heals with the next. */
  peer: Type.Object({ info: PeerInfo, joinedAt: Type.Integer({ minimum: 0 }) }),
  /** A peer left; its host sends its record along, for the call record the room's owner keeps. */
  peerLeft: Type.Object({ peerId: PeerId, record: Type.Optional(ParticipantRecord) }),
  /** A snapshot of one of the sender's peers was taken: the other nodes tell their peers. */
  snapshot: Type.Object({ snapshotId: Id, peerId: PeerId, takenBy: Type.String({ maxLength: 128 }), at: Type.Integer() }),
  /** A caption of one of the sender's peers: the other nodes tell their peers (and the owner keeps it for the transcript). */
  caption: shapes.Caption,
  /** Captions were turned on mid-call by the sender: the other nodes caption their peers too. */
  captions: Type.Object({ enabled: Type.Literal(true) }),
};

/** Requests to one node, each with its answer. */
export const nodeRequests = {
  /** Open our end of a pipe for `roomId` and connect it to yours; answers with our end. */
  'pipe.connect': { request: Type.Object({ roomId: RoomId, tuple: PipeTuple }), response: PipeTuple },
  /** Consume one of your producers into the pipe; answers with what to produce on our side. */
  'pipe.consume': {
    request: Type.Object({ roomId: RoomId, producerId: Id }),
    response: Type.Object({ kind: Kind, rtpParameters: RtpParameters, paused: Type.Boolean(), appData: AppData }),
  },
  'pipe.consumeData': {
    request: Type.Object({ roomId: RoomId, dataProducerId: Id }),
    response: Type.Object({ sctpStreamParameters: SctpStreamParameters, label: Type.String(), protocol: Type.String(), appData: AppData }),
  },
  /** This node's part of the room ended: close the pipes to it. */
  'pipe.close': { request: Type.Object({ roomId: RoomId }), response: Type.Null() },
  /** To a room's owner: open your part of the room (a participant joined its part elsewhere first). */
  'room.open': { request: Type.Object({ roomId: RoomId }), response: Type.Null() },
  // The platform API, forwarded to the nodes that host (part of) a room.
  'api.createRoom': { request: Type.Object({ roomId: RoomId, settings: RoomSettings }), response: Type.Object({ created: Type.Boolean() }) },
  'api.describeRoom': { request: Type.Object({ roomId: RoomId }), response: Type.Object({ participants: Type.Array(ParticipantView) }) },
  'api.endRoom': { request: Type.Object({ roomId: RoomId }), response: Type.Object({ ended: Type.Integer() }) },
  'api.removeParticipant': { request: Type.Object({ roomId: RoomId, peerId: PeerId }), response: Type.Object({ removed: Type.Boolean() }) },
  'api.mute': {
    request: Type.Object({ roomId: RoomId, peerId: PeerId, trackId: Type.Optional(Id), kind: Type.Optional(Kind), muted: Type.Boolean() }),
    response: Type.Object({ tracks: Type.Array(Id) }),
  },
  'api.message': { request: Type.Object({ roomId: RoomId, text: Type.String({ maxLength: 2000 }), from: Type.String({ maxLength: 64 }), language: Type.Optional(Language) }), response: Type.Object({ delivered: Type.Integer() }) },
  /** To the room's owner: its assistant (dispatched now if `start` and none is), or stopped. */
  'api.agent': {
    request: Type.Object({ roomId: RoomId, action: Type.Union([Type.Literal('start'), Type.Literal('stop'), Type.Literal('get')]) }),
    response: Type.Object({ agent: Type.Union([AgentView, Type.Null()]), created: Type.Boolean() }),
  },
  /** `admit`: to the room's owner, which decides within limits.recordingsPerRoom; the others follow it. */
  'api.startRecording': { request: Type.Object({ roomId: RoomId, spec: RecordingSpec, admit: Type.Boolean() }), response: Type.Object({ started: Type.Boolean() }) },
  'api.stopRecording': { request: Type.Object({ roomId: RoomId, recordingId: Id }), response: Type.Object({ stopped: Type.Boolean() }) },
  /** Answered by the node that hosts `peerId` (the others answer null). */
  'api.snapshot': {
    request: Type.Object({ roomId: RoomId, peerId: PeerId, trackId: Type.Optional(Id), takenBy: Type.String({ maxLength: 128 }) }),
    response: Type.Object({ snapshot: Type.Union([Snapshot, Type.Null()]) }),
  },
  'api.forward': {
    request: Type.Object({
      roomId: RoomId, peerId: PeerId, host: Type.String({ maxLength: 64 }), audioPort: Type.Optional(Type.Integer()), videoPort: Type.Optional(Type.Integer()),
      srtp: Type.Optional(Type.Boolean()), keyframeIntervalMs: Type.Optional(Type.Integer()),
    }),
    response: Type.Object({ forward: Type.Union([ForwardView, Type.Null()]) }),
  },
  'api.stopForward': { request: Type.Object({ roomId: RoomId, forwardId: Id }), response: Type.Object({ stopped: Type.Boolean() }) },
  'api.listForwards': { request: Type.Object({ roomId: RoomId }), response: Type.Object({ forwards: Type.Array(ForwardView) }) },
} satisfies Record<string, { request: TSchema; response: TSchema }>;

export type RoomMessageType = keyof typeof roomMessages;
export type RoomMessage = { [T in RoomMessageType]: { type: T; data: Static<(typeof roomMessages)[T]> } }[RoomMessageType];
export type NodeMethod = keyof typeof nodeRequests;
export type NodeRequest<M extends NodeMethod> = Static<(typeof nodeRequests)[M]['request']>;
export type NodeResponse<M extends NodeMethod> = Static<(typeof nodeRequests)[M]['response']>;
export type PipeTuple = Static<typeof PipeTuple>;

/** Every signed message, before its data is checked by type. */
export const Envelope = Type.Object({
  from: Type.String({ minLength: 1, maxLength: 64 }),
  ts: Type.Integer(),
  type: Type.String({ maxLength: 64 }),
  data: Type.Unknown(),
  id: Type.Optional(Type.String({ maxLength: 64 })),
  replyTo: Type.Optional(Type.String({ maxLength: 256 })),
  error: Type.Optional(Type.String({ maxLength: 1024 })),
  /** The stable code of the error a reply carries, when the handler's error had one. */
  code: Type.Optional(Type.String({ maxLength: 64 })),
});
export type Envelope = Static<typeof Envelope>;
