import type { Config } from '../config/schema.js';
import type { Logger } from '../logging/logger.js';
import { RoomMedia } from '../media/room-media.js';
import type { WorkerPool } from '../media/worker-pool.js';
import { SignalingError } from '../signaling/errors.js';
import { Room, type RoomConfig, type RoomSettings } from './room.js';

export interface RoomRegistryOptions {
  pool: WorkerPool;
  media: Config['media'];
  limits: RoomConfig & { roomsPerNode: number };
  log: Logger;
  /**
   * Runs for each new room before its first peer enters. Cluster mode connects the room to
   * the other nodes that host part of it here (its span); a failure refuses the room.
   */
  attach?: (room: Room) => Promise<void>;
  /**
   * The settings a room created here takes: in a cluster, those its owner published (so every
   * node's part of a room shares one call id and metadata), else `fresh`.
   */
  settingsFor?: (roomId: string, fresh: RoomSettings) => Promise<RoomSettings>;
  /** Refuses a new call its tenant may not have (TENANT_LIMIT). */
  admit?: (settings: RoomSettings) => Promise<void>;
  /** Sees every new room once it is attached, before its first peer (the platform's call tracking). */
  observe?: (room: Room) => void;
}

/** The rooms hosted on this node. Concurrent joins of a new room share one creation. */
export class RoomRegistry {
  private readonly rooms = new Map<string, Room>();
  private readonly creating = new Map<string, Promise<Room>>();
  /** False while the node is shutting down: no new rooms. */
  acceptingRooms = true;

  constructor(private readonly options: RoomRegistryOptions) {}

  get size() {
    return this.rooms.size;
  }

  values() {
    return this.rooms.values();
  }

  get(roomId: string) {
    return this.rooms.get(roomId);
  }

  /** Peers joined on this node, in every room. */
  get peerCount() {
    let n = 0;
    for (const room of this.rooms.values()) n += room.peers.size;
    return n;
  }

  /** The room with this id, created with `settings` if it does not exist (`created` says which). */
  async getOrCreate(roomId: string, settings: () => RoomSettings): Promise<{ room: Room; created: boolean }> {
    const existing = this.rooms.get(roomId);
    if (existing && !existing.closed) return { room: existing, created: false };
    let pending = this.creating.get(roomId);
    if (pending) return { room: await pending, created: false };
    pending = this.create(roomId, settings()).finally(() => this.creating.delete(roomId));
    this.creating.set(roomId, pending);
    return { room: await pending, created: true };
  }

  private async create(roomId: string, fresh: RoomSettings): Promise<Room> {
    const { pool, media: mediaConfig, limits, log: nodeLog, attach, admit, settingsFor } = this.options;
    if (!this.acceptingRooms) throw new SignalingError('NODE_UNAVAILABLE', 'this node is not accepting new rooms');
    if (pool.aliveCount === 0) throw new SignalingError('NODE_UNAVAILABLE', 'no live media worker');
    if (this.rooms.size + this.creating.size >= limits.roomsPerNode) throw new SignalingError('NODE_FULL', `this node hosts ${limits.roomsPerNode} rooms already`);
    const settings = settingsFor ? await settingsFor(roomId, fresh) : fresh;
    // Only a new call counts against its tenant; another node's part of a call does not.
    if (settings === fresh) await admit?.(settings);
    const log = nodeLog.child({ roomId });
    let room: Room | undefined;
    const media = await RoomMedia.create(pool, mediaConfig, log, (reason) => {
      log.error({ reason }, 'room lost a router; peers must rejoin');
      room?.closeWithPeers('MEDIA_WORKER_DIED', `${reason}; join again`);
    });
    room = new Room(roomId, settings, media, log, limits, (closed) => {
      if (this.rooms.get(roomId) === closed) this.rooms.delete(roomId);
      log.info('room closed');
    });
    if (attach) {
      try {
        await attach(room);
      } catch (err) {
        room.close();
        throw new SignalingError('NODE_UNAVAILABLE', `cannot reach the cluster for room ${roomId}: ${(err as Error).message}`);
      }
    }
    this.options.observe?.(room);
    this.rooms.set(roomId, room);
    log.info({ worker: media.routers[0].slot.index }, 'room created');
    return room;
  }

  /** This tenant's rooms on this node. */
  ofTenant(tenant: string) {
    return [...this.rooms.values()].filter((r) => r.settings.tenant === tenant);
  }

  closeAll(code: string, message: string) {
    for (const room of [...this.rooms.values()]) room.closeWithPeers(code, message);
  }
}
