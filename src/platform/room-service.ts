import type { RoomAllocator } from '../cluster/allocator.js';
import type { Config } from '../config/schema.js';
import type { NodeRef, RoomDirectory } from '../rooms/directory.js';
import { trackSource } from '../rooms/peer.js';
import { roomKey, splitRoomKey, type RoomKey } from '../rooms/room-key.js';
import type { RoomRegistry } from '../rooms/room-registry.js';
import { newRoomSettings, type RoomSettings } from '../rooms/room-settings.js';
import type { Tenant, Tenants } from '../tenants/tenants.js';
import type { ParticipantLedger } from './participant-ledger.js';
import type { Metadata, ParticipantView, RoomView } from '../contracts/records.js';
import { QualityTracker } from './quality.js';
import type { RoomHosts } from './room-hosts.js';
import { CodedError } from '../common/errors.js';

export interface CreateRoom {
  room: string;
  region?: string;
  metadata?: Metadata;
  maxParticipants?: number;
  emptyTimeoutSeconds?: number;
  captions?: boolean;
}

export interface RoomServiceDeps {
  rooms: RoomRegistry;
  hosts: RoomHosts;
  allocator: RoomAllocator;
  tenants: Tenants;
  config: Config;
  directory: RoomDirectory;
  ledger: ParticipantLedger;
}

const iso = (ms: number) => new Date(ms).toISOString();
export const roomNotFound = (room: string) => new CodedError('NOT_FOUND', `no room ${room}`);

/**
 * The platform API's operations on rooms, on any node: each is defined once, for one node's
 * part of a room, and RoomHosts runs it on every node that hosts a part.
 */
export class RoomService {
  private readonly rooms: RoomRegistry;
  private readonly hosts: RoomHosts;

  constructor(private readonly deps: RoomServiceDeps) {
    this.rooms = deps.rooms;
    this.hosts = deps.hosts;
    const { hosts } = deps;
    hosts.define('room.open', async ({ roomId }) => {
      await this.openForOthers(roomId);
      return null;
    });
    hosts.define('api.createRoom', async ({ roomId, settings }) => ({ created: await this.createHere(roomId, settings) }));
    hosts.define('api.describeRoom', async ({ roomId }) => ({ participants: this.describeHere(roomId) }));
    hosts.define('api.endRoom', async ({ roomId }) => ({ ended: this.endHere(roomId) }));
    hosts.define('api.removeParticipant', async ({ roomId, peerId }) => ({ removed: this.removeHere(roomId, peerId) }));
    hosts.define('api.mute', async ({ roomId, peerId, ...what }) => ({ tracks: await this.muteHere(roomId, peerId, what) }));
    hosts.define('api.message', async ({ roomId, text, from, language }) => ({ delivered: await this.messageHere(roomId, text, from, language) }));
  }

  /** Creates a room ahead of its participants, on the node placement chooses (near `region`). */
  async create(tenant: Tenant, req: CreateRoom): Promise<{ view: RoomView; node: NodeRef; created: boolean }> {
    const { config } = this.deps;
    if (req.metadata && Buffer.byteLength(JSON.stringify(req.metadata)) > config.limits.metadataBytes) {
      throw new CodedError('METADATA_TOO_LARGE', `metadata is over ${config.limits.metadataBytes} bytes of JSON`);
    }
    const key = roomKey(tenant.id, req.room);
    const { node } = await this.deps.allocator.allocate(key, req.region);
    const settings = newRoomSettings(tenant, req.room, {
      metadata: req.metadata, maxParticipants: req.maxParticipants, captions: req.captions,
      emptyTimeoutMs: (req.emptyTimeoutSeconds ?? config.rooms.emptyTimeoutSeconds) * 1000,
    });
    const { created } = await this.hosts.on(node.id, 'api.createRoom', { roomId: key, settings });
    const view = await this.get(tenant, req.room);
    return { view, node, created };
  }

  async list(tenant: Tenant, offset: number, limit: number): Promise<{ rooms: RoomView[]; total: number }> {
    const page = await this.deps.directory.tenantRooms(tenant.id, offset, limit);
    return { rooms: page.rooms.map(view), total: page.total };
  }

  /** The room's settings, here or as its owner published them; 404 when the tenant has no such room. */
  async settingsOf(tenant: Tenant, room: string): Promise<RoomSettings> {
    const settings = await this.deps.directory.settings(roomKey(tenant.id, room));
    if (!settings) throw roomNotFound(room);
    return settings;
  }

  /** A room with everyone in it, wherever they are hosted. */
  async get(tenant: Tenant, room: string): Promise<RoomView> {
    const settings = await this.settingsOf(tenant, room);
    const parts = await this.hosts.each(roomKey(tenant.id, room), 'api.describeRoom', { roomId: roomKey(tenant.id, room) });
    return { ...view(settings), participants: parts.flatMap((p) => p.participants).sort((a, b) => a.joinedAt.localeCompare(b.joinedAt)) };
  }

  /** Ends the call for everyone (disconnected, code ROOM_ENDED). */
  async end(tenant: Tenant, room: string) {
    await this.settingsOf(tenant, room);
    await this.hosts.eachOwnerLast(roomKey(tenant.id, room), 'api.endRoom', { roomId: roomKey(tenant.id, room) });
  }

  async removeParticipant(tenant: Tenant, room: string, peerId: string) {
    await this.settingsOf(tenant, room);
    const removed = await this.hosts.each(roomKey(tenant.id, room), 'api.removeParticipant', { roomId: roomKey(tenant.id, room), peerId });
    if (!removed.some((r) => r.removed)) throw new CodedError('NOT_FOUND', `no participant ${peerId} in room ${room}`);
  }

  async mute(tenant: Tenant, room: string, peerId: string, what: { trackId?: string; kind?: 'audio' | 'video'; muted: boolean }) {
    await this.settingsOf(tenant, room);
    const tracks = (await this.hosts.each(roomKey(tenant.id, room), 'api.mute', { roomId: roomKey(tenant.id, room), peerId, ...what })).flatMap((r) => r.tracks);
    if (tracks.length === 0) throw new CodedError('NOT_FOUND', `no matching track of ${peerId} in room ${room}`);
    return tracks;
  }

  async message(tenant: Tenant, room: string, text: string, from: string, language?: string) {
    await this.settingsOf(tenant, room);
    const delivered = await this.hosts.each(roomKey(tenant.id, room), 'api.message', { roomId: roomKey(tenant.id, room), text, from, ...(language ? { language } : {}) });
    return delivered.reduce((n, r) => n + r.delivered, 0);
  }

  // ---- this node's part ---------------------------------------------------------------------

  private async createHere(key: RoomKey, settings: RoomSettings) {
    const { room, created } = await this.rooms.getOrCreate(key, () => settings);
    if (created) room.closeIfEmpty(); // its empty timeout starts now
    return created;
  }

  /** The owner's part, opened because a participant joined its part elsewhere first. */
  private async openForOthers(key: RoomKey) {
    const { tenant, name } = splitRoomKey(key);
    const owner = this.deps.tenants.get(tenant);
    if (!owner) throw new CodedError('NOT_FOUND', `no tenant ${tenant} here`);
    const { room, created } = await this.rooms.getOrCreate(key, () => newRoomSettings(owner, name));
    // Open long enough for the participant that asked to show up here.
    if (created) setTimeout(room.hold(), 10_000).unref();
  }

  private describeHere(key: RoomKey): ParticipantView[] {
    const room = this.rooms.get(key);
    if (!room) return [];
    const { directory: { self }, ledger } = this.deps;
    return [...room.peers.values()].map((peer) => ({
      identity: peer.id,
      name: peer.claims.name,
      role: peer.claims.role,
      region: self.region,
      node: self.id,
      joinedAt: iso(peer.joinedAt),
      state: peer.suspended ? 'reconnecting' : 'active',
      tracks: [...peer.producers.values()].map((p) => ({ id: p.id, kind: p.kind, source: trackSource(p), muted: p.paused })),
      quality: qualityView(ledger.quality(peer)),
    }));
  }

  private endHere(key: RoomKey) {
    const room = this.rooms.get(key);
    if (!room) return 0;
    const count = room.peers.size;
    room.closeWithPeers('ROOM_ENDED', 'the platform ended the call', false);
    return count;
  }

  private removeHere(key: RoomKey, peerId: string) {
    const room = this.rooms.get(key);
    const peer = room?.peers.get(peerId);
    if (!room || !peer) return false;
    room.remove(peer, { code: 'REMOVED', message: 'the platform removed you from the call', rejoin: false });
    return true;
  }

  private async muteHere(key: RoomKey, peerId: string, { trackId, kind, muted }: { trackId?: string; kind?: 'audio' | 'video'; muted: boolean }) {
    const peer = this.rooms.get(key)?.peers.get(peerId);
    if (!peer) return [];
    const targets = [...peer.producers.values()].filter((p) => (trackId ? p.id === trackId : !kind || p.kind === kind));
    for (const producer of targets) {
      await (muted ? producer.pause() : producer.resume());
      peer.notify('producerMuted', { producerId: producer.id, muted });
    }
    return targets.map((p) => p.id);
  }

  private async messageHere(key: RoomKey, text: string, from: string, language?: string) {
    const room = this.rooms.get(key);
    if (!room) return 0;
    await room.sendMessage(text, from, language);
    return room.peers.size;
  }
}

function qualityView(quality: QualityTracker | undefined): ParticipantView['quality'] {
  const q = quality ?? new QualityTracker();
  return { latest: q.latest ?? null, poor: q.poor, summary: q.summary() };
}

function view(s: Readonly<RoomSettings>): RoomView {
  return {
    room: s.name, callId: s.callId, createdAt: iso(s.createdAt), metadata: s.metadata,
    maxParticipants: s.maxParticipants, emptyTimeoutSeconds: s.emptyTimeoutMs / 1000,
  };
}
