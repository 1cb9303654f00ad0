import type { ParticipantRecord, TimelineEntry, TrackRecord } from '../contracts/records.js';
import type { RoomSettings } from '../rooms/room-settings.js';

/** Who is in a call, as the journal knows them (a stay that began and has not ended). */
export interface JournaledStay {
  identity: string;
  name: string;
  role: ParticipantRecord['role'];
  region: string;
  node: string;
  joinedAt: string;
  tracks: TrackRecord[];
}

/** A call whose room was live when the node last stopped: what the journal kept of it. */
export interface JournaledCall {
  settings: RoomSettings;
  timeline: TimelineEntry[];
  /** The stays that ended, as they were recorded. */
  records: ParticipantRecord[];
  /** The stays that had not ended. */
  present: JournaledStay[];
  /** When the journal last heard of the call, epoch ms. */
  lastAt: number;
}

/**
 * What a lone node writes down about each live call as it goes, so that a crash or a restart
 * does not leave it open for ever: on the next start the call is closed (participant.left with
 * node_restart, room.finished, call.record), or, for a room created ahead through the API,
 * taken up again with its call id and metadata. Writes are appended, never awaited by a call.
 * The timeline entry an event makes (`note`) goes in that event's own write: one row, not two.
 */
export interface CallJournal {
  started(settings: RoomSettings, note?: TimelineEntry): void;
  noted(callId: string, entry: TimelineEntry): void;
  joined(callId: string, stay: JournaledStay, note?: TimelineEntry): void;
  published(callId: string, identity: string, track: TrackRecord): void;
  left(callId: string, record: ParticipantRecord, note?: TimelineEntry): void;
  /** The call's record is saved: its journal goes. */
  ended(callId: string): void;
  /** The calls journaled and never ended (read once, at start). */
  open(): Promise<JournaledCall[]>;
  /** This node is alive now (written every few seconds: a crash's time is the last of these). */
  alive(at: number): void;
  lastAlive(): number;
}
