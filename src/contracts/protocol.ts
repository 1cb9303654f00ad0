/**
 * Signaling protocol v1: the single source of truth.
 *
 * Every request, response and notification is declared once here as a TypeBox schema.
 * The server validates with these schemas, TypeScript derives its types from them, and
 * docs/protocol.md is generated from them (tests fail when the document is stale).
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { types } from 'mediasoup';
import { Grants, Role } from '../auth/grants.js';
import { literals } from '../common/literals.js';
import { Language, languageTag } from '../common/languages.js';
import { EvidenceClip, Metadata, QualityReport, Snapshot, TriageOutcome } from './records.js';
import { codesOn } from '../common/errors.js';

export { PROTOCOL_VERSION, SIGNALING_PATH } from './url.js';

const Id = Type.String({ minLength: 1, maxLength: 64 });
/** A participant's identity: the token's `sub`, unique in the room (as long as tokens allow). */
const PeerId = Type.String({ minLength: 1, maxLength: 128 });
const RoomId = Type.String({ minLength: 1, maxLength: 128 });
const AppData = Type.Record(Type.String(), Type.Unknown(), { title: 'AppData', description: 'Free-form application data, echoed to other peers.' });
const Kind = literals(['audio', 'video']);
const Direction = literals(['send', 'recv']);

// mediasoup parameter shapes. Checked here for structure; mediasoup checks the semantics
// and its refusals come back as INVALID_PARAMETERS. Each schema's static type *is* the
// mediasoup type (Type.Unsafe keeps the runtime schema), so no cast sits between the wire
// and mediasoup.
const mediasoupShape = <T>(schema: TSchema) => Type.Unsafe<T>(schema);
type MediasoupStat = types.WebRtcTransportStat | types.PlainTransportStat | types.ProducerStat | types.ConsumerStat | types.DataProducerStat | types.DataConsumerStat;
const RtcpFeedback = Type.Object({ type: Type.String(), parameter: Type.Optional(Type.String()) });
const CodecParameters = Type.Record(Type.String(), Type.Union([Type.String(), Type.Number()]));
const RtpCodecCapability = Type.Object({
  kind: Kind,
  mimeType: Type.String(),
  preferredPayloadType: Type.Optional(Type.Integer()),
  clockRate: Type.Integer(),
  channels: Type.Optional(Type.Integer()),
  parameters: Type.Optional(CodecParameters),
  rtcpFeedback: Type.Optional(Type.Array(RtcpFeedback)),
});
const RtpHeaderExtension = Type.Object({
  kind: Kind,
  uri: Type.String(),
  preferredId: Type.Integer(),
  preferredEncrypt: Type.Optional(Type.Boolean()),
  direction: Type.Optional(Type.String()),
});
const RtpCapabilities = mediasoupShape<types.RtpCapabilities>(Type.Object({
  codecs: Type.Optional(Type.Array(RtpCodecCapability)),
  headerExtensions: Type.Optional(Type.Array(RtpHeaderExtension)),
}, { title: 'RtpCapabilities', description: 'mediasoup RtpCapabilities.' }));
const RtpParameters = mediasoupShape<types.RtpParameters>(Type.Object({
  mid: Type.Optional(Type.String()),
  codecs: Type.Array(Type.Object({
    mimeType: Type.String(),
    payloadType: Type.Integer(),
    clockRate: Type.Integer(),
    channels: Type.Optional(Type.Integer()),
    parameters: Type.Optional(CodecParameters),
    rtcpFeedback: Type.Optional(Type.Array(RtcpFeedback)),
  })),
  headerExtensions: Type.Optional(Type.Array(Type.Object({
    uri: Type.String(),
    id: Type.Integer(),
    encrypt: Type.Optional(Type.Boolean()),
    parameters: Type.Optional(CodecParameters),
  }))),
  encodings: Type.Optional(Type.Array(Type.Object({
    ssrc: Type.Optional(Type.Integer()),
    rid: Type.Optional(Type.String()),
    codecPayloadType: Type.Optional(Type.Integer()),
    rtx: Type.Optional(Type.Object({ ssrc: Type.Integer() })),
    dtx: Type.Optional(Type.Boolean()),
    scalabilityMode: Type.Optional(Type.String()),
    scaleResolutionDownBy: Type.Optional(Type.Number()),
    maxBitrate: Type.Optional(Type.Number()),
  }))),
  rtcp: Type.Optional(Type.Object({ cname: Type.Optional(Type.String()), reducedSize: Type.Optional(Type.Boolean()) })),
}, { title: 'RtpParameters', description: 'mediasoup RtpParameters.' }));
const DtlsParameters = mediasoupShape<types.DtlsParameters>(Type.Object({
  role: Type.Optional(literals(['auto', 'client', 'server'])),
  fingerprints: Type.Array(Type.Object({ algorithm: Type.String(), value: Type.String() }), { minItems: 1 }),
}, { title: 'DtlsParameters' }));
const IceParameters = mediasoupShape<types.IceParameters>(Type.Object({ usernameFragment: Type.String(), password: Type.String(), iceLite: Type.Optional(Type.Boolean()) }, { title: 'IceParameters' }));
const IceCandidate = mediasoupShape<types.IceCandidate>(Type.Object({
  foundation: Type.String(),
  priority: Type.Integer(),
  address: Type.String(),
  protocol: Type.Union([Type.Literal('udp'), Type.Literal('tcp')]),
  port: Type.Integer(),
  type: Type.String(),
  tcpType: Type.Optional(Type.String()),
}, { title: 'IceCandidate' }));
/** mediasoup 3.20 dropped SctpCapabilities; protocol v1 still accepts the field for one more version, and ignores it. */
const SctpCapabilities = Type.Object({ numStreams: Type.Object({ OS: Type.Integer({ minimum: 1, maximum: 65535 }), MIS: Type.Integer({ minimum: 1, maximum: 65535 }) }) }, {
  title: 'SctpCapabilities', description: 'Deprecated and ignored (mediasoup-client 3.20+ has no sctpCapabilities). Accepted until protocol v2.',
});
const SctpParameters = Type.Object({
  port: Type.Integer(),
  maxSendMessageSize: Type.Integer({ description: 'Largest message the server sends on this transport (bytes).' }),
  maxReceiveMessageSize: Type.Integer({ description: 'Largest message the server accepts on this transport (bytes).' }),
  OS: Type.Integer({ description: 'Deprecated: for mediasoup-client before 3.20. Removed in protocol v2.' }),
  MIS: Type.Integer({ description: 'Deprecated: for mediasoup-client before 3.20. Removed in protocol v2.' }),
  maxMessageSize: Type.Integer({ description: 'Deprecated: maxSendMessageSize, for mediasoup-client before 3.20. Removed in protocol v2.' }),
}, { title: 'SctpParameters', description: 'Pass as sctpParameters to device.createSendTransport / createRecvTransport.' });
/** What a client needs to make its side of a WebRTC transport (device.createSendTransport / createRecvTransport). */
const TransportOptions = Type.Object({
  transportId: Id,
  direction: Direction,
  iceParameters: IceParameters,
  iceCandidates: Type.Array(IceCandidate),
  dtlsParameters: DtlsParameters,
  sctpParameters: Type.Optional(SctpParameters),
}, { title: 'TransportOptions' });
const SctpStreamParameters = mediasoupShape<types.SctpStreamParameters>(Type.Object({
  streamId: Type.Integer({ minimum: 0, maximum: 65534 }),
  ordered: Type.Optional(Type.Boolean()),
  maxPacketLifeTime: Type.Optional(Type.Integer({ minimum: 0 })),
  maxRetransmits: Type.Optional(Type.Integer({ minimum: 0 })),
}, { title: 'SctpStreamParameters' }));
const ProducerInfo = Type.Object({ id: Id, kind: Kind, paused: Type.Boolean(), appData: AppData }, { title: 'ProducerInfo' });
const DataProducerInfo = Type.Object({ id: Id, label: Type.String(), protocol: Type.String(), appData: AppData }, { title: 'DataProducerInfo' });
const PeerInfo = Type.Object({
  id: PeerId,
  name: Type.String(),
  role: Role,
  language: Type.Optional(languageTag('The language it speaks and reads (its token\'s, or its tenant\'s; setLanguage changes it).')),
  producers: Type.Array(ProducerInfo),
  dataProducers: Type.Array(DataProducerInfo),
}, { title: 'PeerInfo' });
const Layers = Type.Object({ spatialLayer: Type.Integer({ minimum: 0 }), temporalLayer: Type.Optional(Type.Integer({ minimum: 0 })) }, { title: 'Layers' });
const Empty = Type.Object({}, { additionalProperties: false });
const AssistantTurnData = Type.Object({
  from: literals(['buyer', 'assistant']),
  text: Type.String({ maxLength: 4000 }),
  language: Language,
  at: Type.Integer({ description: 'Epoch milliseconds.' }),
}, { additionalProperties: false, title: 'AssistantTurn' });
const ProducerRef = Type.Object({ producerId: Id }, { additionalProperties: false });
const ConsumerRef = Type.Object({ consumerId: Id }, { additionalProperties: false });
const ConsumerParams = Type.Object({
  consumerId: Id,
  producerId: Id,
  peerId: PeerId,
  kind: Kind,
  type: Type.String({ description: 'simple, simulcast, svc or pipe.' }),
  rtpParameters: RtpParameters,
  producerPaused: Type.Boolean(),
  appData: AppData,
}, { title: 'ConsumerParams' });
const DataConsumerParams = Type.Object({
  dataConsumerId: Id,
  dataProducerId: Id,
  peerId: PeerId,
  label: Type.String(),
  protocol: Type.String(),
  sctpStreamParameters: SctpStreamParameters,
  appData: AppData,
}, { title: 'DataConsumerParams' });

/** What the node adds to a text in a room with captions: its language, and the text in the room's other languages. */
const Translated = Type.Object({
  language: Type.Optional(languageTag('The language it was written or spoken in.')),
  translations: Type.Optional(Type.Record(Type.String({ maxLength: 8 }), Type.String(), { description: 'The text in each other language of the room, by primary language subtag (es, zh).' })),
  untranslated: Type.Optional(Type.Record(Type.String({ maxLength: 8 }), Type.String(), { description: 'For a language of the room no engine translates into: why (the original text stands).' })),
});
const Caption = Type.Object({
  segmentId: Type.String({ maxLength: 64 }),
  peerId: PeerId,
  language: Language,
  text: Type.String({ maxLength: 4000 }),
  final: Type.Boolean(),
  startMs: Type.Integer({ description: 'When the speech began, epoch milliseconds (as the node heard it).' }),
  endMs: Type.Integer({ description: 'When it ended (for an interim caption: so far).' }),
  translations: Translated.properties.translations,
  untranslated: Translated.properties.untranslated,
}, { title: 'Caption' });

type Def = { description: string; data: TSchema; response: TSchema };
const req = <D extends TSchema, R extends TSchema>(description: string, data: D, response: R) => ({ description, data, response });

/** Client → server requests. Each gets one response with the same id. */
export const requests = {
  join: req(
    'Authenticate with a token and enter its room. Must be the first request. Returns what the client needs to load its mediasoup-client Device and the peers already there.',
    Type.Object({
      token: Type.String({ minLength: 1, maxLength: 8192 }),
      autoSubscribe: Type.Optional(Type.Boolean({ description: 'Default true: the server consumes every producer for this peer once it has a recv transport and RTP capabilities.' })),
      resume: Type.Optional(Type.Boolean({
        description: 'After a dropped socket: take back the participant this identity left behind, if it is still within signaling.reconnectGraceMs (the others see no leave and join). The response then carries `resumed`. Otherwise this is an ordinary join.',
      })),
      transports: Type.Optional(Type.Array(Direction, {
        maxItems: 2, uniqueItems: true,
        description: 'Create these transports with the join, as createTransport would (SCTP on), and save a round trip each: the answer\'s `transports` has the ones the token\'s grants allow (recv needs subscribe, send a publish grant). Not with `resume`, which keeps the old ones.',
      })),
    }, { additionalProperties: false }),
    Type.Object({
      peerId: PeerId,
      roomId: RoomId,
      role: Role,
      grants: Grants,
      routerRtpCapabilities: RtpCapabilities,
      peers: Type.Array(PeerInfo),
      metadata: Type.Optional(Metadata),
      captions: Type.Optional(Type.Object({
        enabled: Type.Boolean({ description: 'Everyone\'s speech in this room is recognised and shown as captions (and chat translated): tell the participant, as the demo does.' }),
        language: languageTag('The language this participant\'s speech is recognised in, and others\' translated into.'),
      }, { title: 'Captions' })),
      iceServers: Type.Array(Type.Object({
        urls: Type.Array(Type.String()),
        username: Type.Optional(Type.String()),
        credential: Type.Optional(Type.String()),
      }), { description: 'STUN and TURN servers for this participant\'s transports (RTCIceServer), with TURN credentials valid for turn.ttlSeconds. Give them to createSendTransport and createRecvTransport.' }),
      iceTransportPolicy: literals(['all', 'relay'], { description: 'relay: use only TURN (the token\'s relay claim, or the tenant\'s forceRelay).' }),
      transports: Type.Optional(Type.Array(TransportOptions, { description: 'The transports asked for with `transports`, as createTransport answers them.' })),
      assistant: Type.Optional(Type.Object({
        turns: Type.Array(AssistantTurnData),
        state: Type.Unknown({ description: 'What its engine kept (assistantSave).' }),
        outcome: Type.Union([TriageOutcome, Type.Null()]),
        handedOverAt: Type.Union([Type.Integer(), Type.Null()], { description: 'Epoch ms of its hand-over, if it handed over.' }),
        dispatches: Type.Integer({ description: 'Counts this dispatch: more than 1, another worker had the call before and this one goes on from the conversation so far.' }),
      }, { description: 'For the call\'s assistant (the assist grant): its conversation so far.' })),
      resumed: Type.Optional(Type.Object({
        transports: Type.Array(Type.Object({ transportId: Id, direction: Direction })),
        producerIds: Type.Array(Id),
        dataProducerIds: Type.Array(Id),
        consumers: Type.Array(ConsumerParams),
        dataConsumers: Type.Array(DataConsumerParams),
      }, {
        description: 'Present when the join resumed a participant: what it still has on the server. Keep these (restart ICE on a transport that disconnected); create the consumers you have not heard of (their notification may have been lost), drop the ones you have beyond these, and produce again what is missing. `peers` is the room now.',
      })),
    }),
  ),
  setRtpCapabilities: req(
    "Tell the server what this client can receive (the loaded Device's rtpCapabilities). Needed before consuming.",
    Type.Object({ rtpCapabilities: RtpCapabilities, sctpCapabilities: Type.Optional(SctpCapabilities) }, { additionalProperties: false }),
    Empty,
  ),
  createTransport: req(
    'Create a WebRTC transport for sending or receiving. ICE offers UDP and TCP candidates (UDP preferred) unless forceTcp is set.',
    Type.Object({
      direction: Direction,
      enableSctp: Type.Optional(Type.Boolean({ description: 'Default true: the transport carries data channels (sctpParameters in the response). A recv transport without SCTP receives no data.' })),
      sctpCapabilities: Type.Optional(SctpCapabilities),
      forceTcp: Type.Optional(Type.Boolean()),
    }, { additionalProperties: false }),
    TransportOptions,
  ),
  connectTransport: req(
    "Give the server the client's DTLS parameters. Once per transport.",
    Type.Object({ transportId: Id, dtlsParameters: DtlsParameters }, { additionalProperties: false }),
    Empty,
  ),
  closeTransport: req(
    'Close one of your transports, and every producer and consumer on it.',
    Type.Object({ transportId: Id }, { additionalProperties: false }),
    Empty,
  ),
  restartIce: req(
    'Restart ICE on a transport after a network change; returns new ICE parameters for the client.',
    Type.Object({ transportId: Id }, { additionalProperties: false }),
    Type.Object({ iceParameters: IceParameters }),
  ),
  produce: req(
    'Start sending a track on a send transport. Needs the publishAudio or publishVideo grant.',
    Type.Object({
      transportId: Id,
      kind: Kind,
      rtpParameters: RtpParameters,
      paused: Type.Optional(Type.Boolean()),
      appData: Type.Optional(AppData),
    }, { additionalProperties: false }),
    Type.Object({ producerId: Id }),
  ),
  produceData: req(
    'Open an SCTP data channel (chat, annotations) on a send transport that has SCTP (enableSctp, on by default). Needs publishData.',
    Type.Object({
      transportId: Id,
      sctpStreamParameters: SctpStreamParameters,
      label: Type.Optional(Type.String({ maxLength: 256 })),
      protocol: Type.Optional(Type.String({ maxLength: 256 })),
      appData: Type.Optional(AppData),
    }, { additionalProperties: false }),
    Type.Object({ dataProducerId: Id }),
  ),
  consume: req(
    'Subscribe to one producer by hand (for peers that joined with autoSubscribe false). The consumer also arrives as newConsumer. Needs subscribe.',
    ProducerRef,
    ConsumerParams,
  ),
  pauseProducer: req('Pause one of your producers (mute).', ProducerRef, Empty),
  resumeProducer: req('Resume one of your producers (unmute).', ProducerRef, Empty),
  closeProducer: req('Stop one of your producers.', ProducerRef, Empty),
  closeDataProducer: req('Close one of your data producers.', Type.Object({ dataProducerId: Id }, { additionalProperties: false }), Empty),
  pauseConsumer: req('Stop receiving a consumer for now.', ConsumerRef, Empty),
  resumeConsumer: req('Start receiving a consumer. Consumers are created paused; resume once the client-side consumer exists.', ConsumerRef, Empty),
  closeConsumer: req('Stop and remove a consumer.', ConsumerRef, Empty),
  setConsumerPreferredLayers: req(
    'Choose the simulcast/SVC spatial and temporal layer a video consumer should receive.',
    Type.Object({ consumerId: Id, spatialLayer: Type.Integer({ minimum: 0 }), temporalLayer: Type.Optional(Type.Integer({ minimum: 0 })) }, { additionalProperties: false }),
    Empty,
  ),
  requestKeyFrame: req('Ask the sender of a video consumer for a key frame.', ConsumerRef, Empty),
  setMaxSpatialLayer: req(
    'Before a sender turns off its higher simulcast or SVC layers (a weak uplink), it caps what its receivers get: every consumer of the producer on this node moves to `spatialLayer` or lower. The answer comes once they have switched (each on a key frame of its new layer) or after 1.5 s, so turning the layers off then leaves no receiver on a layer that stops. Without `spatialLayer` the cap is lifted and receivers get their own choice again. Receivers on other nodes are not moved.',
    Type.Object({ producerId: Id, spatialLayer: Type.Optional(Type.Integer({ minimum: 0, maximum: 15 })) }, { additionalProperties: false }),
    Type.Object({
      receivers: Type.Integer({ description: 'Consumers of the producer on this node.' }),
      switched: Type.Integer({ description: 'Of those, how many receive `spatialLayer` or lower (or nothing) at the answer.' }),
    }),
  ),
  getStats: req(
    'mediasoup statistics of one of your transports, producers, consumers, data producers or data consumers.',
    Type.Object({
      target: literals(['transport', 'producer', 'consumer', 'dataProducer', 'dataConsumer']),
      id: Id,
    }, { additionalProperties: false }),
    Type.Object({ stats: mediasoupShape<MediasoupStat[]>(Type.Array(Type.Record(Type.String(), Type.Unknown()))) }),
  ),
  reportQuality: req(
    'Report what this client receives, every few seconds (the SDK sends one every 5 s): round-trip time, loss, bitrate, and the shares of frozen video and concealed audio its browser measured. The node aggregates them into the call record and tells the platform when a participant stays in poor quality.',
    QualityReport,
    Empty,
  ),
  takeSnapshot: req(
    'Capture a still of a participant\'s video as evidence (a JPEG stored with the call, listed in its record). Takes the camera track unless producerId names one. Everyone in the room gets snapshotTaken. Needs the snapshot grant (sellers, agents and bots have it).',
    Type.Object({ peerId: PeerId, producerId: Type.Optional(Id) }, { additionalProperties: false }),
    Type.Composite([Snapshot, Type.Object({
      url: Type.String({ description: 'A signed link to the JPEG, valid for recording.linkTtlSeconds; no API key needed.' }),
      expiresAt: Type.Integer({ description: 'Epoch seconds.' }),
    })]),
  ),
  createPlainTransport: req(
    'For bots: a plain RTP transport to send media into the room without WebRTC (ffmpeg, GStreamer). Send RTP to the answered ip and port; the node takes it from the `source` you name, or (comedia, the default) from the address of the first packet, which it keeps. Then produce on it with your RTP parameters. Needs the ingest grant (bots have it).',
    Type.Object({
      rtcpMux: Type.Optional(Type.Boolean({ description: 'Default true: RTCP on the RTP port. false: a second port for RTCP (ffmpeg\'s rtp output sends RTCP to port + 1).' })),
      source: Type.Optional(Type.Object({
        ip: Type.String({ maxLength: 64 }),
        port: Type.Integer({ minimum: 1, maximum: 65535 }),
        rtcpPort: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
      }, {
        additionalProperties: false,
        description: 'Where your RTP will come from. Given, the node takes packets from that address only. Without it (comedia), the node takes the address of the first packet it receives, and keeps it: send soon after creating the transport.',
      })),
    }, { additionalProperties: false }),
    Type.Object({ transportId: Id, ip: Type.String(), port: Type.Integer(), rtcpPort: Type.Optional(Type.Integer()) }),
  ),
  sendChat: req(
    'Send a chat message through the node: it reaches everyone as chat on the "chat" data channel label, from you (bots, which have no data channel, and every client in a room with captions, where the node translates it first: the message carries `language` and `translations`). Needs publishData.',
    Type.Object({ text: Type.String({ minLength: 1, maxLength: 4000 }) }, { additionalProperties: false }),
    Empty,
  ),
  setLanguage: req(
    'Change the language this participant speaks and reads (BCP-47): its captions are recognised in it from now on, and others\' captions and chat are translated into it.',
    Type.Object({ language: Language }, { additionalProperties: false }),
    Empty,
  ),
  subscribeChat: req(
    'Receive the room\'s chat as chat notifications, without a data channel (bots): every message on the "chat" label, from now on.',
    Empty,
    Empty,
  ),
  assistantSave: req(
    'Keep the assistant\'s conversation with the call, so that a worker that takes the call over goes on from it: turns to add (at most 500 in all), its engine\'s state (at most 32 KB of JSON, replacing the last), its outcome. It goes in the call record. Needs assist.',
    Type.Object({
      turns: Type.Optional(Type.Array(AssistantTurnData, { maxItems: 20 })),
      state: Type.Optional(Type.Unknown()),
      outcome: Type.Optional(TriageOutcome),
    }, { additionalProperties: false }),
    Empty,
  ),
  handOver: req(
    'The assistant hands the buyer over to a person: the node sends the agent.handover webhook with the triage so far, the buyer\'s language and the conversation. Needs assist.',
    Type.Object({ outcome: TriageOutcome }, { additionalProperties: false }),
    Empty,
  ),
  startEvidence: req(
    'Start recording an evidence clip of a participant (its tracks, as a recording of it would). Needs assist.',
    Type.Object({ peerId: PeerId }, { additionalProperties: false }),
    Type.Object({ evidenceId: Id }),
  ),
  finishEvidence: req(
    'Finish the clip: its files, the call\'s snapshots, what the participant said during it (with translations) and the triage summary go in the call record, and evidence.ready is sent. Needs assist.',
    Type.Object({ evidenceId: Id }, { additionalProperties: false }),
    Type.Object({ evidence: EvidenceClip }),
  ),
  endCall: req('End the call for everyone: each participant gets disconnected with ROOM_ENDED. Needs assist.', Empty, Empty),
  kickPeer: req(
    'Remove another peer from the room. Needs the admin grant.',
    Type.Object({ peerId: PeerId }, { additionalProperties: false }),
    Empty,
  ),
  leave: req('Leave the room. The socket stays open and may join again.', Empty, Empty),
} satisfies Record<string, Def>;

type NDef = { description: string; data: TSchema };
const note = <D extends TSchema>(description: string, data: D) => ({ description, data });

/** Server → client notifications. */
export const notifications = {
  peerJoined: note('Another peer entered the room.', PeerInfo),
  peerLeft: note('A peer left the room.', Type.Object({ peerId: PeerId })),
  peerUpdated: note('A peer changed what others see of it other than its tracks: its language (setLanguage). The whole view, as in peerJoined.', PeerInfo),
  producerAdded: note('A peer started a producer (sent to every other peer, whether or not it auto-subscribes).', Type.Object({ peerId: PeerId, producer: ProducerInfo })),
  producerClosed: note('One of your producers ended without a closeProducer from you (for example its transport closed).', Type.Object({ producerId: Id, reason: Type.String() })),
  producerScore: note('Send quality of one of your producers, 0-10 per encoding.', Type.Object({
    producerId: Id, score: Type.Array(Type.Object({ ssrc: Type.Integer(), rid: Type.Optional(Type.String()), score: Type.Number() })),
  })),
  newConsumer: note('A consumer was created for you, paused: create it client-side, then send resumeConsumer.', ConsumerParams),
  consumerClosed: note('A consumer ended (its producer closed, or its transport).', Type.Object({ consumerId: Id, reason: Type.String() })),
  consumerPaused: note("A consumer's producer paused.", Type.Object({ consumerId: Id })),
  consumerResumed: note("A consumer's producer resumed.", Type.Object({ consumerId: Id })),
  consumerScore: note('Receive quality of a consumer, 0-10.', Type.Object({
    consumerId: Id, score: Type.Number(), producerScore: Type.Number(), producerScores: Type.Array(Type.Number()),
  })),
  consumerLayersChanged: note('The simulcast/SVC layers a consumer receives changed (null: none).', Type.Object({
    consumerId: Id, layers: Type.Union([Layers, Type.Null()]),
  })),
  newDataConsumer: note('A data consumer was created for you; open a data channel with its sctpStreamParameters.', DataConsumerParams),
  dataConsumerClosed: note('A data consumer ended.', Type.Object({ dataConsumerId: Id, reason: Type.String() })),
  activeSpeaker: note('The dominant speaker of the room changed.', Type.Object({ peerId: PeerId, producerId: Id })),
  systemMessage: note('A message from the platform into the call\'s chat (POST /v1/rooms/:room/messages), for example "refund approved". In a room with captions it carries its translations.', Type.Object({
    text: Type.String(), from: Type.String({ description: 'Who the platform says it is from; "system" by default.' }), at: Type.Integer({ description: 'Epoch milliseconds.' }),
    ...Translated.properties,
  })),
  caption: note('A participant\'s speech as text (rooms with captions). The first interim caption of a segment has no text: speech began. An interim caption is updated (same segmentId) until the final one; finals carry the text in every language of the room (translations, by primary language subtag), and, for a language no engine translates into, the reason (untranslated). The original text is always there.', Caption),
  captionsChanged: note('Captions were turned on mid-call (for the voice assistant, which hears through them): from now on what everyone says is transcribed, as the join answer\'s captions would have said. Tell the user.', Type.Object({ enabled: Type.Boolean() })),
  captionStatus: note('Whether a participant\'s speech is being captioned: on; unavailable (the node holds as many captioned participants as it may, CAPTIONS_FULL, or no engine recognises its language, NO_ENGINE; see message); restarting (its engine died and is restarted); off (its audio ended).', Type.Object({
    peerId: PeerId, state: literals(['on', 'unavailable', 'restarting', 'off']), code: Type.Optional(Type.String()), message: Type.Optional(Type.String()),
  })),
  producerMuted: note('The platform muted or unmuted one of your producers (POST /v1/rooms/:room/participants/:identity/mute). Show it; the SDK pauses or resumes the producer.', Type.Object({
    producerId: Id, muted: Type.Boolean(),
  })),
  snapshotTaken: note('Someone captured a still of a participant\'s video (takeSnapshot, or the platform\'s API). Tell the people in the call.', Type.Object({
    snapshotId: Id, peerId: PeerId, takenBy: Type.String(), at: Type.Integer({ description: 'Epoch milliseconds.' }),
  })),
  chat: note('A chat message, for a client that sent subscribeChat. Data-channel clients get the same message on the "chat" label instead.', Type.Object({
    peerId: PeerId, text: Type.String(), at: Type.Integer({ description: 'Epoch milliseconds, as the sender stamped it.' }),
    ...Translated.properties,
  })),
  disconnected: note('The server removed you from the room; the code says why: MEDIA_WORKER_DIED and NODE_SHUTDOWN (rejoin: true), DUPLICATE_IDENTITY, KICKED, REMOVED (the platform removed you), ROOM_ENDED (the platform ended the call). The socket stays open and may join again.', Type.Object({
    code: Type.String(), message: Type.String(), rejoin: Type.Boolean(),
  })),
} satisfies Record<string, NDef>;

export type Requests = typeof requests;
export type RequestMethod = keyof Requests;
export type RequestData<M extends RequestMethod> = Static<Requests[M]['data']>;
export type ResponseData<M extends RequestMethod> = Static<Requests[M]['response']>;
export type Notifications = typeof notifications;
export type NotificationMethod = keyof Notifications;
export type NotificationData<M extends NotificationMethod> = Static<Notifications[M]['data']>;

export const ErrorBody = Type.Object({
  code: literals(codesOn('signaling')),
  message: Type.String(),
  redirect: Type.Optional(Type.Object({ nodeId: Type.String(), region: Type.String(), url: Type.String() }, {
    title: 'Redirect', description: 'With REDIRECT: the node that hosts the room.',
  })),
});

/**
 * Chat on data channels: every participant's chat travels on a data producer labelled
 * CHAT_LABEL, one JSON text message per chat message. SDK clients, other protocol clients and
 * bots (sendChat, subscribeChat) all speak it, so they chat with each other.
 */
export const CHAT_LABEL = 'chat';
export const ChatMessage = Type.Object({
  type: Type.Literal('chat'),
  text: Type.String({ minLength: 1, maxLength: 4000 }),
  at: Type.Integer({ description: 'When it was sent, epoch milliseconds (the sender\'s clock).' }),
  ...Translated.properties,
}, { title: 'ChatMessage' });
export type ChatMessage = Static<typeof ChatMessage>;

/** Shapes other parts of the node reuse (the cluster bus carries peers and pipe parameters). */
export const shapes = { Id, PeerId, RoomId, AppData, Kind, PeerInfo, RtpParameters, SctpStreamParameters, Caption };

/** The wire envelopes. Every frame is one JSON object of one of these shapes. */
export const RequestEnvelope = Type.Object({
  type: Type.Literal('request'),
  id: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
  method: Type.String({ maxLength: 64 }),
  data: Type.Optional(Type.Unknown({ description: 'Defaults to {}. Schema per method, below.' })),
});
export const ResponseEnvelope = Type.Union([
  Type.Object({ type: Type.Literal('response'), id: Type.Integer(), ok: Type.Literal(true), data: Type.Unknown() }),
  Type.Object({
    type: Type.Literal('response'),
    id: Type.Union([Type.Integer(), Type.Null()], { description: 'null when the frame had no usable id (bad JSON).' }),
    ok: Type.Literal(false),
    error: ErrorBody,
  }),
]);

/** Discriminated unions over method, as the client sees them. */
export type ClientRequest = { [M in RequestMethod]: { type: 'request'; id: number; method: M; data: RequestData<M> } }[RequestMethod];
export type ServerResponse = Static<typeof ResponseEnvelope>;
