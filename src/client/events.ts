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

/** Every event a Call emits, with its payload. A name not listed here is a type error. */
export interface CallEvents {
  participantJoined: Participant;
  participantLeft: Participant;
  trackAdded: RemoteTrack;
  trackRemoved: RemoteTrack;
  activeSpeaker: { participantId: string };
  connectionState: ConnectionState;
  qualityWarning: QualityWarning;
  data: { participantId: string; label: string; message: string };
  chat: { participantId: string; text: string; at: number };
  /** A message the platform sent into the call (for example "refund approved"). */
  systemMessage: { text: string; from: string; at: number };
  /** Someone captured a still of a participant's video (this one's, perhaps): tell the user. */
  snapshotTaken: { snapshotId: string; participantId: string; takenBy: string; at: number };
  /** The platform muted or unmuted one of this participant's sources. */
  mutedByPlatform: { source: Source; muted: boolean };
  /** What this participant receives, as reported to the node (every reportIntervalMs). */
  quality: { rttMs?: number; lossRate?: number; bitrateBps?: number; frozenRatio?: number; concealedRatio?: number };
  error: SfuError;
}

export type Emit = <K extends keyof CallEvents>(event: K, payload: CallEvents[K]) => void;
