import type { SfuError } from './errors.js';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';
export type Source = 'camera' | 'microphone' | 'screen';
/** VP8 and H264 send simulcast (three encodings); VP9 sends one SVC encoding with three spatial layers. */
export type VideoCodec = 'VP8' | 'VP9' | 'H264';

/** This participant, as the node admitted it (Call.self). */
export interface Session {
  /** The token's identity: others see it as participantId. */
  peerId: string;
  roomId: string;
  role: string;
  /** What the token allows (the role's defaults, or its own grants). */
  grants: { publishAudio: boolean; publishVideo: boolean; publishData: boolean; subscribe: boolean; admin: boolean; snapshot: boolean; ingest: boolean };
  /** The business data the platform gave the room (order id, ticket id, languages). */
  metadata: Record<string, string | number | boolean | null>;
}

export interface Participant {
  id: string;
  name: string;
  role: string;
  /** The language it speaks and reads (BCP-47), in a room with captions. */
  language?: string;
}

export interface RemoteTrack {
  participantId: string;
  consumerId: string;
  producerId: string;
  kind: 'audio' | 'video';
  source?: string;
  track: MediaStreamTrack;
}

/** What this participant receives from another is poor, as its own browser measured it. */
export interface QualityWarning {
  /** Whose track it is. */
  participantId: string;
  kind: 'audio' | 'video';
  /** video-frozen: over 10% of the last interval frozen; audio-concealed: over 5% of the audio made up for lost packets. */
  reason: 'video-frozen' | 'audio-concealed';
  /** The frozen or concealed share of the last interval, 0 to 1. */
  ratio: number;
}

/** A still of a participant's video, kept as evidence with the call (Call.takeSnapshot). */
export interface Snapshot {
  snapshotId: string;
  participantId: string;
  takenBy: string;
  takenAt: string;
  width: number;
  height: number;
  /** A signed link to the JPEG; it expires at `expiresAt` (epoch seconds). */
  url: string;
  expiresAt: number;
}

/** What the node adds to a text in a room with captions: the original's language, and the text in the room's other languages. */
export interface Translations {
  /** The language it was spoken or written in (BCP-47). */
  language?: string;
  /** The text in each other language of the room, by primary language subtag (es, zh). */
  translations?: Record<string, string>;
  /** For a language of the room no engine translates into: why (the original text stands). */
  untranslated?: Record<string, string>;
}

/** A participant's speech as text. An interim caption is replaced by the next one with its segmentId, until the final one. */
export interface Caption {
  segmentId: string;
  participantId: string;
  language: string;
  text: string;
  final: boolean;
  /** When the speech began and ended (so far, for an interim caption), epoch ms. */
  startMs: number;
  endMs: number;
  /** On final captions: the text in the room's other languages. */
  translations: Record<string, string>;
  untranslated: Record<string, string>;
}

/** Whether a participant's speech is being captioned, and if not, why. */
export interface CaptionStatus {
  participantId: string;
  /** on; restarting (its recogniser stopped and is starting again); unavailable (code says why: CAPTIONS_FULL, NO_ENGINE…); off. */
  state: 'on' | 'unavailable' | 'restarting' | 'off';
  code?: string;
  message?: string;
}

/** Every event a Call emits, with its payload. A name not listed here is a type error. */
export interface CallEvents {
  participantJoined: Participant;
  participantLeft: Participant;
  /** A participant changed its language (setLanguage). */
  participantUpdated: Participant;
  trackAdded: RemoteTrack;
  trackRemoved: RemoteTrack;
  activeSpeaker: { participantId: string };
  connectionState: ConnectionState;
  qualityWarning: QualityWarning;
  data: { participantId: string; label: string; message: string };
  /** A chat message; in a room with captions, with its translations (the original text always stays in `text`). */
  chat: { participantId: string; text: string; at: number } & Translations;
  /** A message the platform sent into the call (for example "refund approved"). */
  systemMessage: { text: string; from: string; at: number } & Translations;
  /** Someone's speech as text (rooms with captions). */
  caption: Caption;
  /** Captions were turned on mid-call (the voice assistant hears through them): tell the user, as for call.captions. */
  captionsChanged: { enabled: boolean };
  /** Captions of a participant started, stopped, or are unavailable (and why). */
  captionStatus: CaptionStatus;
  /** Someone captured a still of a participant's video (this one's, perhaps): tell the user. */
  snapshotTaken: { snapshotId: string; participantId: string; takenBy: string; at: number };
  /** The platform muted or unmuted one of this participant's sources. */
  mutedByPlatform: { source: Source; muted: boolean };
  /** What this participant receives, as reported to the node (every reportIntervalMs). */
  quality: { rttMs?: number; lossRate?: number; bitrateBps?: number; sendBitrateBps?: number; frozenRatio?: number; concealedRatio?: number };
  error: SfuError;
}

export type Emit = <K extends keyof CallEvents>(event: K, payload: CallEvents[K]) => void;
