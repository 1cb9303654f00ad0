import type { RoomKey } from '../rooms/room-key.js';

/**
 * Every Redis key and channel the cluster uses (docs/cluster.md explains each), the platform's
 * records, usage and webhook outbox included. A room's keys hold its room key,
 * "<tenant>/<room name>": tenant ids are [a-z0-9-] and room names [A-Za-z0-9._:-] (the token
 * schema), so neither can forge another room's key.
 */
export const keys = {
  /** HASH: one node's NodeInfo. PX nodeTtlMs, refreshed by its heartbeat. */
  node: (id: string) => `sfu:node:${id}`,
  /** ZSET: node ids scored by heartbeat expiry time, to list live nodes without SCAN. */
  nodes: 'sfu:nodes',
  /** STRING: the node that owns a room. PX roomTtlMs, refreshed by the owner while the room lives. */
  room: (roomId: RoomKey) => `sfu:room:${roomId}`,
  /** HASH: peerId → JSON { nodeId, info } for every peer of a room, on any node. PX roomTtlMs. */
  roomPeers: (roomId: RoomKey) => `sfu:room:${roomId}:peers`,
  /** Pub/sub: signed events about one room between the nodes that host part of it. */
  roomBus: (roomId: RoomKey) => `sfu:bus:room:${roomId}`,
  /** Pub/sub: signed requests and replies addressed to one node. */
  nodeRpc: (id: string) => `sfu:bus:node:${id}`,
  /** STRING: a room's settings as JSON (tenant, name, callId, metadata, limits, createdAt), by its owner. PX roomTtlMs. */
  roomInfo: (roomId: RoomKey) => `sfu:room:${roomId}:info`,
  /** STRING: a new call admitted under its tenant's limit, until its owner publishes its settings. PX 30 s. */
  roomReservation: (roomId: RoomKey) => `sfu:room:${roomId}:reserved`,
  /** ZSET: a tenant's rooms now, room name scored by creation time (admission adds, the owner removes). */
  tenantRooms: (tenant: string) => `sfu:tenant:${tenant}:rooms`,
  /** STRING: one call record (JSON). PX store.retentionDays. */
  call: (tenant: string, callId: string) => `sfu:call:${tenant}:${callId}`,
  /** STRING: a recording file or snapshot (StoredFile JSON). PX store.retentionDays. */
  file: (tenant: string, id: string) => `sfu:file:${tenant}:${id}`,
  /** SET: the file ids of one call. PX store.retentionDays. */
  callFiles: (tenant: string, callId: string) => `sfu:call:${tenant}:${callId}:files`,
  /** STRING: snapshot places a call has taken (a script keeps it within limits.snapshotsPerCall). PX store.retentionDays. */
  callSnapshots: (tenant: string, callId: string) => `sfu:call:${tenant}:${callId}:snapshots`,
  /** LIST: the notes of one call (JSON), oldest first. PX store.retentionDays. */
  callNotes: (tenant: string, callId: string) => `sfu:call:${tenant}:${callId}:notes`,
  /** ZSET: a tenant's call ids scored by start time. */
  tenantCalls: (tenant: string) => `sfu:tenant:${tenant}:calls`,
  /** ZSET: a tenant's usage rows (JSON) scored by their end time. */
  tenantUsage: (tenant: string) => `sfu:tenant:${tenant}:usage`,
  /** STREAM with consumer group `deliverers`: webhook events waiting to be delivered. */
  webhooks: 'sfu:webhooks',
  /** HASH: tenant → webhook events queued and not yet settled (bounded by webhooks.maxPendingPerTenant). */
  webhooksPending: 'sfu:webhooks:pending',
  /** STRING: the node that delivers webhooks now (a lease, PX a few heartbeats). */
  webhookLeader: 'sfu:webhooks:leader',
  /** HASH: stream entry id → { attempts, nextAt } of deliveries being retried. */
  webhookAttempts: 'sfu:webhooks:attempts',
  /** LIST: a tenant's deliveries that failed for good (newest first, capped). */
  webhookFailures: (tenant: string) => `sfu:tenant:${tenant}:webhook-failures`,
  /** LIST (newest first, capped): the tenant's recent deliveries that succeeded. */
  webhookDeliveries: (tenant: string) => `sfu:tenant:${tenant}:webhook-deliveries`,
};
