import { randomUUID } from 'node:crypto';
import type { RoomAllocator, NodeRef } from '../cluster/allocator.js';
import type { NodeMethod, NodeRequest, NodeResponse } from '../cluster/bus-messages.js';
import type { Cluster } from '../cluster/cluster.js';
import { RemoteError } from '../cluster/cluster-bus.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logging/logger.js';
import { trackSource } from '../rooms/peer.js';
import type { Room, RoomSettings } from '../rooms/room.js';
import type { RoomRegistry } from '../rooms/room-registry.js';
import { roomKey, splitRoomKey, type Tenant } from '../tenants/tenants.js';
import { ApiError, isApiErrorCode } from './api-errors.js';
import type { Metadata, ParticipantView, RoomView } from './records.js';

export interface CreateRoom {
  room: string;
  region?: string;
  metadata?: Metadata;
  maxParticipants?: number;
  emptyTimeoutSeconds?: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The platform API's operations on rooms, on any node: done here for the part of a room this
 * node hosts, and forwarded over the signed bus to the nodes that host the rest (cluster mode).
 */
export class RoomService {
  constructor(
    private readonly rooms: RoomRegistry,
    private readonly allocator: RoomAllocator,
    private readonly config: Config,
    private readonly self: NodeRef,
    private readonly cluster: Cluster | undefined,
    private readonly log: Logger,
  ) {
    const bus = cluster?.bus;
    if (!bus) return;
    bus.onRpc('room.open', async ({ roomId }) => {
      await this.openForOthers(roomId);
      return null;
    });
    bus.onRpc('api.createRoom', async ({ roomId, settings }) => ({ created: await this.createHere(roomId, settings) }));
    bus.onRpc('api.describeRoom', async ({ roomId }) => ({ participants: this.describeHere(roomId) }));
    bus.onRpc('api.endRoom', async ({ roomId }) => ({ ended: this.endHere(roomId) }));
    bus.onRpc('api.removeParticipant', async ({ roomId, identity }) => ({ removed: this.removeHere(roomId, identity) }));
    bus.onRpc('api.mute', async ({ roomId, identity, trackId, kind, muted }) => ({ tracks: await this.muteHere(roomId, identity, { trackId, kind, muted }) }));
    bus.onRpc('api.message', async ({ roomId, text, from }) => ({ delivered: this.messageHere(roomId, text, from) }));
  }

  /** Creates a room ahead of its participants, on the node placement chooses (near `region`). */
  async create(tenant: Tenant, req: CreateRoom): Promise<{ view: RoomView; node: NodeRef; created: boolean }> {
    if (req.metadata && Buffer.byteLength(JSON.stringify(req.metadata)) > this.config.limits.metadataBytes) {
      throw new ApiError('METADATA_TOO_LARGE', `metadata is over ${this.config.limits.metadataBytes} bytes of JSON`);
    }
    const key = roomKey(tenant.id, req.room);
    const { node } = await this.allocator.allocate(key, req.region);
    const settings: RoomSettings = {
      tenant: tenant.id, name: req.room, callId: randomUUID(), metadata: req.metadata ?? {},
      maxParticipants: Math.min(req.maxParticipants ?? tenant.limits.participantsPerRoom, tenant.limits.participantsPerRoom),
      emptyTimeoutMs: (req.emptyTimeoutSeconds ?? this.config.rooms.emptyTimeoutSeconds) * 1000,
      createdAt: Date.now(),
    };
    const created = node.id === this.self.id
      ? await this.createHere(key, settings)
      : (await this.forward(node.id, 'api.createRoom', { roomId: key, settings })).created;
    const view = await this.get(tenant, req.room);
    return { view, node, created };
  }

  async list(tenant: Tenant, offset: number, limit: number): Promise<{ rooms: RoomView[]; total: number }> {
    if (this.cluster) {
      const page = await this.cluster.store.tenantRooms(tenant.id, offset, limit);
      return { rooms: page.rooms.map((s) => this.view(s)), total: page.total };
    }
    const all = this.rooms.ofTenant(tenant.id).sort((a, b) => b.settings.createdAt - a.settings.createdAt || (a.id < b.id ? 1 : -1));
    return { rooms: all.slice(offset, offset + limit).map((r) => this.view(r.settings)), total: all.length };
  }

  /** The room's settings, here or as its owner published them; 404 when the tenant has no such room. */
  private async settingsOf(key: string, room: string): Promise<RoomSettings> {
    const settings = this.rooms.get(key)?.settings ?? (await this.cluster?.store.settings(key));
    if (!settings) throw notFound(room);
    return settings;
  }

  /** A room with everyone in it, wherever they are hosted. */
  async get(tenant: Tenant, room: string): Promise<RoomView> {
    const key = roomKey(tenant.id, room);
    const settings = await this.settingsOf(key, room);
    const parts = await this.onHosts(key, (node) => (node === this.self.id
      ? Promise.resolve(this.describeHere(key))
      : this.forward(node, 'api.describeRoom', { roomId: key }).then((r) => r.participants)));
    return { ...this.view(settings), participants: parts.flat().sort((a, b) => a.joinedAt.localeCompare(b.joinedAt)) };
  }

  /** Ends the call for everyone (disconnected, code ROOM_ENDED). */
  async end(tenant: Tenant, room: string) {
    const key = roomKey(tenant.id, room);
    await this.settingsOf(key, room);
    await this.onHosts(key, (node) => (node === this.self.id
      ? Promise.resolve(this.endHere(key))
      : this.forward(node, 'api.endRoom', { roomId: key }).then((r) => r.ended)));
  }

  async removeParticipant(tenant: Tenant, room: string, identity: string) {
    const key = roomKey(tenant.id, room);
    await this.settingsOf(key, room);
    const removed = await this.onHosts(key, (node) => (node === this.self.id
      ? Promise.resolve(this.removeHere(key, identity))
      : this.forward(node, 'api.removeParticipant', { roomId: key, identity }).then((r) => r.removed)));
    if (!removed.includes(true)) throw new ApiError('NOT_FOUND', `no participant ${identity} in room ${room}`);
  }

  async mute(tenant: Tenant, room: string, identity: string, what: { trackId?: string; kind?: 'audio' | 'video'; muted: boolean }) {
    const key = roomKey(tenant.id, room);
    await this.settingsOf(key, room);
    const tracks = await this.onHosts(key, (node) => (node === this.self.id
      ? this.muteHere(key, identity, what)
      : this.forward(node, 'api.mute', { roomId: key, identity, ...what }).then((r) => r.tracks)));
    const all = tracks.flat();
    if (all.length === 0) throw new ApiError('NOT_FOUND', `no matching track of ${identity} in room ${room}`);
    return all;
  }

  async message(tenant: Tenant, room: string, text: string, from: string) {
    const key = roomKey(tenant.id, room);
    await this.settingsOf(key, room);
    const delivered = await this.onHosts(key, (node) => (node === this.self.id
      ? Promise.resolve(this.messageHere(key, text, from))
      : this.forward(node, 'api.message', { roomId: key, text, from }).then((r) => r.delivered)));
    return delivered.reduce((a, b) => a + b, 0);
  }

  /**
   * An operation on another node's part of a room. Its refusals keep their code (a full node is
   * NODE_FULL wherever it is asked from); a node that cannot be reached is NODE_UNREACHABLE.
   */
  private async forward<M extends NodeMethod>(node: string, method: M, data: NodeRequest<M>): Promise<NodeResponse<M>> {
    try {
      return await this.cluster!.bus.rpc(node, method, data);
    } catch (err) {
      if (err instanceof RemoteError && err.code && isApiErrorCode(err.code)) throw new ApiError(err.code, err.message);
      throw new ApiError('NODE_UNREACHABLE', `node ${node} did not answer ${method}: ${(err as Error).message}`);
    }
  }

  // ---- this node's part ---------------------------------------------------------------------

  /** Runs `op` for every node that hosts part of the room (just this one, alone). */
  private async onHosts<T>(key: string, op: (node: string) => Promise<T>): Promise<T[]> {
    const hosts = this.cluster ? await this.cluster.store.hosts(key) : [this.self.id];
    if (this.rooms.get(key) && !hosts.includes(this.self.id)) hosts.push(this.self.id);
    return Promise.all(hosts.map(op));
  }

  private async createHere(key: string, settings: RoomSettings) {
    const { room, created } = await this.rooms.getOrCreate(key, () => settings);
    if (created) room.closeIfEmpty(); // its empty timeout starts now
    return created;
  }

  /** The owner's part, opened because a participant joined its part elsewhere first. */
  private async openForOthers(key: string) {
    const { tenant, room: name } = splitRoomKey(key);
    const { room, created } = await this.rooms.getOrCreate(key, () => ({
      tenant, name, callId: randomUUID(), metadata: {}, maxParticipants: this.config.limits.peersPerRoom, emptyTimeoutMs: 0, createdAt: Date.now(),
    }));
    // Open long enough for the participant that asked to show up here.
    if (created) setTimeout(room.hold(), 10_000).unref();
  }

  private describeHere(key: string): ParticipantView[] {
    const room = this.rooms.get(key);
    if (!room) return [];
    return [...room.peers.values()].map((peer) => ({
      identity: peer.id,
      name: peer.claims.name,
      role: peer.claims.role,
      region: this.self.region,
      node: this.self.id,
      joinedAt: iso(peer.joinedAt),
      state: peer.suspended ? 'reconnecting' : 'active',
      tracks: [...peer.producers.values()].map((p) => ({ id: p.id, kind: p.kind, source: trackSource(p), muted: p.paused })),
      quality: { latest: peer.quality.latest ?? null, poor: peer.quality.poor, summary: peer.quality.summary() },
    }));
  }

  private endHere(key: string) {
    const room = this.rooms.get(key);
    if (!room) return 0;
    const count = room.peers.size;
    room.closeWithPeers('ROOM_ENDED', 'the platform ended the call', false);
    return count;
  }

  private removeHere(key: string, identity: string) {
    const room = this.rooms.get(key);
    const peer = room?.peers.get(identity);
    if (!room || !peer) return false;
    room.remove(peer, { code: 'REMOVED', message: 'the platform removed you from the call', rejoin: false });
    return true;
  }

  private async muteHere(key: string, identity: string, { trackId, kind, muted }: { trackId?: string; kind?: 'audio' | 'video'; muted: boolean }) {
    const peer = this.rooms.get(key)?.peers.get(identity);
    if (!peer) return [];
    const targets = [...peer.producers.values()].filter((p) => (trackId ? p.id === trackId : !kind || p.kind === kind));
    for (const producer of targets) {
      await (muted ? producer.pause() : producer.resume());
      peer.notify('producerMuted', { producerId: producer.id, muted });
    }
    return targets.map((p) => p.id);
  }

  private messageHere(key: string, text: string, from: string) {
    const room = this.rooms.get(key);
    if (!room) return 0;
    room.sendMessage(text, from);
    return room.peers.size;
  }

  private view(s: RoomSettings): RoomView {
    return {
      room: s.name, callId: s.callId, createdAt: iso(s.createdAt), metadata: s.metadata,
      maxParticipants: s.maxParticipants, emptyTimeoutSeconds: s.emptyTimeoutMs / 1000,
    };
  }
}

const notFound = (room: string) => new ApiError('NOT_FOUND', `no room ${room}`);
