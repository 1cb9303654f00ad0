/**
 * Every Redis key and channel the cluster uses (docs/cluster.md explains each).
 * Room ids are restricted by the token schema to [A-Za-z0-9._:-], so they are safe in keys.
 */
export const keys = {
  /** HASH: one node's NodeInfo. PX nodeTtlMs, refreshed by its heartbeat. */
  node: (id: string) => `sfu:node:${id}`,
  /** ZSET: node ids scored by heartbeat expiry time, to list live nodes without SCAN. */
  nodes: 'sfu:nodes',
  /** STRING: the node that owns a room. PX roomTtlMs, refreshed by the owner while the room lives. */
  room: (roomId: string) => `sfu:room:${roomId}`,
  /** HASH: peerId → JSON { nodeId, info } for every peer of a room, on any node. PX roomTtlMs. */
  roomPeers: (roomId: string) => `sfu:room:${roomId}:peers`,
  /** Pub/sub: signed events about one room between the nodes that host part of it. */
  roomBus: (roomId: string) => `sfu:bus:room:${roomId}`,
  /** Pub/sub: signed requests and replies addressed to one node. */
  nodeRpc: (id: string) => `sfu:bus:node:${id}`,
};
