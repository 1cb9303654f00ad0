import type { Static } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { Redis } from 'ioredis';
import { shapes } from '../contracts/protocol.js';
import { roomKey, type RoomKey } from '../rooms/room-key.js';
import { RoomSettings } from '../rooms/room-settings.js';
import type { PlacementStore } from './cluster-allocator.js';
import { keys } from './keys.js';
import type { Signer } from './signer.js';

/** A peer's entry in a room's peers hash: where it is, what it publishes, when it joined. */
export const StoredPeer = Type.Object({
  nodeId: Type.String({ minLength: 1, maxLength: 64 }),
  info: shapes.PeerInfo,
  joinedAt: Type.Integer({ minimum: 0 }),
});
export type StoredPeer = Static<typeof StoredPeer>;
const storedPeerCheck = TypeCompiler.Compile(StoredPeer);

/** What the heartbeat refreshes for one room this node hosts part of. */
export interface HostedRoom {
  roomId: RoomKey;
  /** This node held the room's placement at the last refresh. */
  owner: boolean;
  /** This node's peers in the room, as they would be stored. */
  peers(): StoredPeer[];
  /** The room's settings, which its owner keeps in Redis for the other nodes and the API. */
  settings: RoomSettings;
}

const settingsCheck = TypeCompiler.Compile(RoomSettings);

// The claim is one Lua script, so it is atomic in Redis: it sets the candidate only if the
// owner is still what the caller saw (and, having checked the signed registry, found not
// live), so when nodes race for a room the first claim wins and every other node follows.
// KEYS[1] room key; ARGV[1] candidate node id; ARGV[2] ttl ms; ARGV[3] the owner the caller saw, '' for none.
const CLAIM = `
local owner = redis.call('GET', KEYS[1])
if owner and owner ~= ARGV[3] then return owner end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ARGV[1]`;

// Extends the placement this node holds. A missing key (Redis restarted and lost it) is
// claimed back only by the node that held it. Returns 1 when this node is the owner.
// KEYS[1] room key; ARGV[1] node id; ARGV[2] ttl ms; ARGV[3] '1' if this node held it.
const REFRESH = `
local owner = redis.call('GET', KEYS[1])
if owner == ARGV[1] or (not owner and ARGV[3] == '1') then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`;

// Deletes a peer's entry only if this node wrote it: the peer may have moved to another node.
// KEYS[1] room peers hash; ARGV[1] peer id; ARGV[2] node id.
const DELETE_OWN_PEER = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if raw and cjson.decode(raw).nodeId == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end
return 0`;

// Admits a new call of a tenant within its limit, atomically: concurrent creations of rooms
// cannot all pass a count that each read before any of them was added. Counts the tenant's
// listed rooms that still exist (settings published, or a reservation not yet expired),
// sweeps the rest, and lists the new one with a short reservation until its settings land.
// KEYS[1] tenant rooms zset; ARGV[1] limit; ARGV[2] room name; ARGV[3] createdAt; ARGV[4] key
// prefix of the tenant's rooms ("sfu:room:<tenant>/"); ARGV[5] reservation ttl ms.
const RESERVE = `
local names = redis.call('ZRANGE', KEYS[1], 0, -1)
local live = 0
for _, n in ipairs(names) do
  if n ~= ARGV[2] then
    if redis.call('EXISTS', ARGV[4] .. n .. ':info') == 1 or redis.call('EXISTS', ARGV[4] .. n .. ':reserved') == 1 then
      live = live + 1
    else
      redis.call('ZREM', KEYS[1], n)
    end
  end
end
if live >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
redis.call('SET', ARGV[4] .. ARGV[2] .. ':reserved', '1', 'PX', ARGV[5])
return 1`;

/** A reservation lasts until the owner publishes the room's settings, or this long. */
const RESERVATION_MS = 30_000;

type StoreRedis = Redis & {
  reserveTenantRoom(key: string, limit: number, name: string, createdAt: number, prefix: string, ttlMs: number): Promise<number>;
  claimRoom(key: string, nodeId: string, ttlMs: number, seen: string): Promise<string>;
  refreshRoom(key: string, nodeId: string, ttlMs: number, held: '0' | '1'): Promise<number>;
  deleteOwnPeer(key: string, peerId: string, nodeId: string): Promise<number>;
};

/**
 * The only writer of room state in Redis: who owns each room (sfu:room:<id>) and which peers
 * are in it on which node (sfu:room:<id>:peers). Peers are written when they change; the
 * heartbeat only extends expiries, and rewrites a room's peers when Redis has lost them.
 */
export class RoomStore implements PlacementStore {
  private readonly redis: StoreRedis;

  constructor(redis: Redis, private readonly nodeId: string, private readonly signer: Signer, private readonly roomTtlMs: number) {
    redis.defineCommand('claimRoom', { numberOfKeys: 1, lua: CLAIM });
    redis.defineCommand('refreshRoom', { numberOfKeys: 1, lua: REFRESH });
    redis.defineCommand('deleteOwnPeer', { numberOfKeys: 1, lua: DELETE_OWN_PEER });
    redis.defineCommand('reserveTenantRoom', { numberOfKeys: 1, lua: RESERVE });
    this.redis = redis as StoreRedis;
  }

  owner(roomId: RoomKey): Promise<string | null> {
    return this.redis.get(keys.room(roomId));
  }

  /** Claims the room for `candidate` if its owner is still `seen` (none: ''); returns the owner now. */
  claim(roomId: RoomKey, candidate: string, seen: string): Promise<string> {
    return this.redis.claimRoom(keys.room(roomId), candidate, this.roomTtlMs, seen);
  }

  /** A peer's entry as stored: signed for this room and this peer, so it cannot be copied to another. */
  private encode(roomId: RoomKey, peer: StoredPeer) {
    const body = JSON.stringify({ nodeId: peer.nodeId, info: peer.info, joinedAt: peer.joinedAt });
    return JSON.stringify({ ...peer, sig: this.signer.sign(`peer:${roomId}:${peer.info.id}`, body) });
  }

  private decode(roomId: RoomKey, peerId: string, raw: string): StoredPeer | undefined {
    try {
      const { sig, ...entry } = JSON.parse(raw);
      if (!storedPeerCheck.Check(entry) || entry.info.id !== peerId) return undefined;
      const body = JSON.stringify({ nodeId: entry.nodeId, info: entry.info, joinedAt: entry.joinedAt });
      return this.signer.verify(`peer:${roomId}:${peerId}`, body, sig) ? entry : undefined;
    } catch {
      return undefined;
    }
  }

  // ---- room settings and the tenant's room list ----------------------------------------------

  /** The owner publishes a room's settings and lists it under its tenant (its reservation is done). */
  async putSettings(roomId: RoomKey, settings: RoomSettings) {
    await this.redis.multi()
      .set(keys.roomInfo(roomId), JSON.stringify(settings), 'PX', this.roomTtlMs)
      .zadd(keys.tenantRooms(settings.tenant), settings.createdAt, settings.name)
      .del(keys.roomReservation(roomId))
      .exec();
  }

  /** Lists a new call under its tenant if the tenant has fewer than `limit` rooms; false when it has not. */
  async reserveTenantRoom(roomId: RoomKey, settings: RoomSettings, limit: number): Promise<boolean> {
    const prefix = keys.room(roomKey(settings.tenant, ''));
    return (await this.redis.reserveTenantRoom(keys.tenantRooms(settings.tenant), limit, settings.name, settings.createdAt, prefix, RESERVATION_MS)) === 1;
  }

  /** A reserved room that was not created after all. */
  async releaseTenantRoom(roomId: RoomKey, settings: RoomSettings) {
    const [[, reserved]] = (await this.redis.multi().del(keys.roomReservation(roomId)).exec()) ?? [[null, 0]];
    if (reserved === 1 && !(await this.redis.exists(keys.roomInfo(roomId)))) await this.redis.zrem(keys.tenantRooms(settings.tenant), settings.name);
  }

  async settings(roomId: RoomKey): Promise<RoomSettings | undefined> {
    return parseSettings(await this.redis.get(keys.roomInfo(roomId)));
  }

  /** The owner's part closed: the room is gone from its tenant's list. */
  async removeSettings(roomId: RoomKey, settings: RoomSettings) {
    await this.redis.multi().del(keys.roomInfo(roomId)).zrem(keys.tenantRooms(settings.tenant), settings.name).exec();
  }

  /**
   * A page of a tenant's rooms, newest first, with their settings. Entries whose owner died
   * (their settings expired) are dropped from the list as they are met.
   */
  async tenantRooms(tenant: string, offset: number, limit: number): Promise<{ rooms: RoomSettings[]; total: number }> {
    const names = await this.redis.zrevrange(keys.tenantRooms(tenant), offset, offset + limit - 1);
    const [raws, reserved] = names.length
      ? await Promise.all([this.redis.mget(names.map((n) => keys.roomInfo(roomKey(tenant, n)))), this.redis.mget(names.map((n) => keys.roomReservation(roomKey(tenant, n))))])
      : [[], []];
    const rooms: RoomSettings[] = [];
    const gone: string[] = [];
    raws.forEach((raw, i) => {
      const s = parseSettings(raw);
      if (s) rooms.push(s);
      else if (!reserved[i]) gone.push(names[i]);
    });
    if (gone.length) await this.redis.zrem(keys.tenantRooms(tenant), ...gone);
    return { rooms, total: await this.redis.zcard(keys.tenantRooms(tenant)) };
  }

  /** How many rooms a tenant has now, across the cluster (stale entries are swept first). */
  async tenantRoomCount(tenant: string): Promise<number> {
    const names = await this.redis.zrange(keys.tenantRooms(tenant), 0, -1);
    if (names.length === 0) return 0;
    const [exists, reserved] = await Promise.all([
      this.redis.mget(names.map((n) => keys.roomInfo(roomKey(tenant, n)))), this.redis.mget(names.map((n) => keys.roomReservation(roomKey(tenant, n)))),
    ]);
    const gone = names.filter((_, i) => !exists[i] && !reserved[i]);
    if (gone.length) await this.redis.zrem(keys.tenantRooms(tenant), ...gone);
    return names.length - gone.length;
  }

  /** The nodes that host part of a room: its owner and every node with a peer in it. */
  async hosts(roomId: RoomKey): Promise<string[]> {
    const [owner, peers] = await Promise.all([this.owner(roomId), this.peers(roomId)]);
    return [...new Set([...(owner ? [owner] : []), ...peers.map((p) => p.nodeId)])];
  }

  async putPeer(roomId: RoomKey, peerId: string, peer: StoredPeer) {
    await this.redis.multi()
      .hset(keys.roomPeers(roomId), peerId, this.encode(roomId, peer))
      .pexpire(keys.roomPeers(roomId), this.roomTtlMs)
      .exec();
  }

  async deletePeer(roomId: RoomKey, peerId: string) {
    await this.redis.deleteOwnPeer(keys.roomPeers(roomId), peerId, this.nodeId);
  }

  /** Every stored peer of the room; entries that do not parse or verify are skipped. */
  async peers(roomId: RoomKey): Promise<StoredPeer[]> {
    const stored = await this.redis.hgetall(keys.roomPeers(roomId));
    return Object.entries(stored).map(([peerId, raw]) => this.decode(roomId, peerId, raw)).filter((p): p is StoredPeer => Boolean(p));
  }

  /**
   * The heartbeat's share for rooms: extends every placement this node holds and every peers
   * hash, in one round trip (three commands a room whatever its size, five for the rooms it
   * owns), and a second only for rooms whose entries Redis no longer has. Returns, per room,
   * whether this node owns it now.
   */
  async refresh(rooms: readonly HostedRoom[]): Promise<Map<string, boolean>> {
    const owned = new Map<string, boolean>();
    if (rooms.length === 0) return owned;
    const tx = this.redis.pipeline();
    const local = rooms.map((room) => room.peers());
    rooms.forEach((room, i) => {
      (tx as unknown as StoreRedis).refreshRoom(keys.room(room.roomId), this.nodeId, this.roomTtlMs, room.owner ? '1' : '0');
      tx.pexpire(keys.roomPeers(room.roomId), this.roomTtlMs);
      // One of our entries stands for all of them: gone means Redis lost what we wrote.
      tx.hexists(keys.roomPeers(room.roomId), local[i][0]?.info.id ?? '');
      // The owner keeps the room's settings (and its place in the tenant's list) alive.
      if (room.owner) {
        tx.set(keys.roomInfo(room.roomId), JSON.stringify(room.settings), 'PX', this.roomTtlMs);
        tx.zadd(keys.tenantRooms(room.settings.tenant), room.settings.createdAt, room.settings.name);
      }
    });
    const results = (await tx.exec()) ?? [];
    const offsets: number[] = [];
    rooms.reduce((at, room) => (offsets.push(at), at + (room.owner ? 5 : 3)), 0);
    const rewrite = this.redis.multi();
    let lost = 0;
    rooms.forEach((room, i) => {
      const [ownErr, own] = results[offsets[i]];
      const [, present] = results[offsets[i] + 2];
      if (ownErr) throw ownErr;
      owned.set(room.roomId, own === 1);
      const peers = local[i];
      if (present === 0 && peers.length > 0) {
        lost++;
        rewrite.hset(keys.roomPeers(room.roomId), Object.fromEntries(peers.map((p) => [p.info.id, this.encode(room.roomId, p)])));
        rewrite.pexpire(keys.roomPeers(room.roomId), this.roomTtlMs);
      }
    });
    if (lost > 0) await rewrite.exec();
    return owned;
  }
}

function parseSettings(raw: string | null): RoomSettings | undefined {
  if (!raw) return undefined;
  try {
    const value = JSON.parse(raw);
    return settingsCheck.Check(value) ? (value as RoomSettings) : undefined;
  } catch {
    return undefined;
  }
}
