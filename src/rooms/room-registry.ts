import type { Config } from '../config/schema.js';
import type { Logger } from '../logging/logger.js';
import { RoomMedia } from '../media/room-media.js';
import type { WorkerPool } from '../media/worker-pool.js';
import type { RoomDirectory } from './directory.js';
import type { RoomKey } from './room-key.js';
import { Room, type RoomConfig, type RoomSettings } from './room.js';
import { CodedError } from '../common/errors.js';

export interface RoomRegistryOptions {
  pool: WorkerPool;
  media: Config['media'];
  limits: RoomConfig & { roomsPerNode: number };
  log: Logger;
  /** Where rooms are across the nodes (a lone node's own, or the cluster's). */
  directory: RoomDirectory;
  /** How many rooms at once this tenant may have (TENANT_LIMIT beyond). */
  tenantRoomLimit(tenant: string): number;
  /** Every new room, once attached and before its first peer: what follows rooms subscribes to their events here. */
  observe(room: Room): void;
}

/** The rooms hosted on this node. Concurrent joins of a new room share one creation. */
export class RoomRegistry {
  private readonly rooms = new Map<RoomKey, Room>();
  private readonly creating = new Map<RoomKey, Promise<Room>>();
  /** False while the node is shutting down: no new rooms. */
  acceptingRooms = true;

  constructor(private readonly options: RoomRegistryOptions) {}

  get size() {
    return this.rooms.size;
  }

  values() {
    return this.rooms.values();
  }

  get(roomId: RoomKey) {
    return this.rooms.get(roomId);
  }

  /** Peers joined on this node, in every room. */
  get peerCount() {
    let n = 0;
    for (const room of this.rooms.values()) n += room.peers.size;
    return n;
  }

  /** The room with this id, created with `settings` if it does not exist (`created` says which). */
  async getOrCreate(roomId: RoomKey, settings: () => RoomSettings): Promise<{ room: Room; created: boolean }> {
    const existing = this.rooms.get(roomId);
    if (existing && !existing.closed) return { room: existing, created: false };
    let pending = this.creating.get(roomId);
    if (pending) return { room: await pending, created: false };
    pending = this.create(roomId, settings()).finally(() => this.creating.delete(roomId));
    this.creating.set(roomId, pending);
    return { room: await pending, created: true };
  }

  private async create(roomId: RoomKey, fresh: RoomSettings): Promise<Room> {
    const { pool, media: mediaConfig, limits, log: nodeLog, directory } = this.options;
    if (!this.acceptingRooms) throw new CodedError('NODE_UNAVAILABLE', 'this node is not accepting new rooms');
    if (pool.aliveCount === 0) throw new CodedError('NODE_UNAVAILABLE', 'no live media worker');
    if (this.rooms.size + this.creating.size >= limits.roomsPerNode) throw new CodedError('NODE_FULL', `this node hosts ${limits.roomsPerNode} rooms already`);
    const settings = await directory.settingsFor(roomId, fresh);
    // Only a new call counts against its tenant; another node's part of a call does not.
    const release = settings === fresh ? await directory.admit(settings, this.options.tenantRoomLimit(settings.tenant)) : undefined;
    const log = nodeLog.child({ roomId });
    let room: Room | undefined;
    try {
      const media = await RoomMedia.create(pool, mediaConfig, log, (reason) => {
        log.error({ reason }, 'room lost a router; peers must rejoin');
        room?.closeWithPeers('MEDIA_WORKER_DIED', `${reason}; join again`);
      });
      room = new Room(roomId, settings, media, log, limits, (closed) => {
        if (this.rooms.get(roomId) === closed) this.rooms.delete(roomId);
        release?.();
        log.info('room closed');
      });
      try {
        await directory.attach(room);
      } catch (err) {
        throw new CodedError('NODE_UNAVAILABLE', `cannot reach the cluster for room ${roomId}: ${(err as Error).message}`);
      }
    } catch (err) {
      if (room) room.close();
      else release?.();
      throw err;
    }
    this.options.observe(room);
    this.rooms.set(roomId, room);
    log.info({ worker: room.media.routers[0].slot.index }, 'room created');
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
