import type { RoomSettings } from './room-settings.js';
import type { RoomKey } from './room-key.js';
import type { Room } from './room.js';

/** A node as clients and the API name it. */
export interface NodeRef {
  id: string;
  region: string;
  /** Base URL clients use to reach the node (http(s)://host:port). */
  url: string;
}

/** One region's endpoint, for clients to measure their round trip to (Call.preflight). */
export interface Endpoint {
  region: string;
  name: string;
  url: string;
}

/** What the streams piped in from other nodes have received, since the node started. */
export interface PipeReceptionTotals {
  /** RTP packets that arrived, first sends and retransmissions. */
  packets: number;
  /** Packets missing at a receiver report: mediasoup's packetsLost, expected minus first sends received. */
  lost: number;
  /** Retransmissions taken in for a missing packet: mediasoup's packetsRepaired (not a subset of `lost`). */
  repaired: number;
  /** Packets this node asked the other node to send again (NACKed). */
  nacked: number;
}

/**
 * Where rooms are, across the nodes that serve them: chosen once when the node starts, as
 * LiveKit's router is. A lone node (LocalDirectory) knows only its own rooms; in a cluster
 * (Cluster, over Redis) a room's parts on several nodes share one owner, one set of settings
 * and one call record. Nothing else in the node asks which mode it runs in.
 */
export interface RoomDirectory {
  /** This node. */
  readonly self: NodeRef;
  /**
   * Connects a new part of a room on this node to the rest of it (before its first peer). A
   * failure refuses the room.
   */
  attach(room: Room): Promise<void>;
  /**
   * The settings a new part of a room takes: those its owner published, so every node's part
   * shares one call id and metadata; `fresh` for a new call.
   */
  settingsFor(key: RoomKey, fresh: RoomSettings): Promise<RoomSettings>;
  /**
   * Reserves a new call of its tenant within `limit` rooms at once, atomically (concurrent
   * creations cannot all pass). Throws TENANT_LIMIT; the returned release runs if the room is
   * not created after all (a room that lives is released when it ends).
   */
  admit(settings: RoomSettings, limit: number): Promise<() => void>;
  /** The room's settings changed here (a recording started or stopped): its owner publishes them to the others. */
  publishSettings(room: Room): Promise<void>;
  /** Whether this node keeps the room's call record (alone: always; in a cluster: its owner). */
  owns(room: Room): boolean;
  /** A room's settings, here or as its owner published them; undefined when there is no such room. */
  settings(key: RoomKey): Promise<RoomSettings | undefined>;
  /** The nodes that host part of the room. */
  hosts(key: RoomKey): Promise<string[]>;
  /** The node that keeps the room's call record, if the room has one. */
  ownerOf(key: RoomKey): Promise<string | undefined>;
  /** A page of a tenant's rooms now, newest first. */
  tenantRooms(tenant: string, offset: number, limit: number): Promise<{ rooms: RoomSettings[]; total: number }>;
  /** One endpoint per region that takes rooms. */
  endpoints(): Promise<Endpoint[]>;
  /** A live node's base URL (where its files are served). */
  nodeUrl(nodeId: string): Promise<string | undefined>;
  /** Streams brought here from other nodes now, how they have arrived, and node-to-node messages dropped (metrics). */
  stats(): { pipedStreams: number; pipeReception: PipeReceptionTotals; dropped: Record<'unauthenticated' | 'stale' | 'malformed', number> };
  /** Shows this node to the others (after it listens). */
  start(): Promise<void>;
  /** No new rooms here: the others stop placing rooms on this node. */
  drain(): Promise<void>;
  stop(): Promise<void>;
}
