import type { Config } from '../config/schema.js';
import type { Logger } from '../logging/logger.js';
import { RoomMedia } from '../media/room-media.js';
import type { WorkerPool } from '../media/worker-pool.js';
import { SignalingError } from '../signaling/errors.js';
import { Room, type RoomLink } from './room.js';

/** The rooms hosted on this node. Concurrent joins of a new room share one creation. */
export class RoomRegistry {
  private readonly rooms = new Map<string, Room>();
  private readonly creating = new Map<string, Promise<Room>>();
  /** False while the node is shutting down: no new rooms. */
  acceptingRooms = true;
  /** In cluster mode: connects each new room to the other nodes that host part of it. */
  linkFactory?: (room: Room) => Promise<RoomLink>;

  constructor(private readonly pool: WorkerPool, private readonly media: Config['media'], private readonly log: Logger) {}

  get size() {
    return this.rooms.size;
  }

  values() {
    return this.rooms.values();
  }

  get(roomId: string) {
    return this.rooms.get(roomId);
  }

  /** `owned`: this node holds the room's placement (in cluster mode it may host only part of it). */
  async getOrCreate(roomId: string, owned = true): Promise<Room> {
    const existing = this.rooms.get(roomId);
    let pending = existing && !existing.closed ? Promise.resolve(existing) : this.creating.get(roomId);
    if (!pending) {
      pending = this.create(roomId).finally(() => this.creating.delete(roomId));
      this.creating.set(roomId, pending);
    }
    const room = await pending;
    // The owner may have died and this node taken the placement over.
    room.owned ||= owned;
    return room;
  }

  private async create(roomId: string): Promise<Room> {
    if (!this.acceptingRooms) throw new SignalingError('NODE_UNAVAILABLE', 'this node is not accepting new rooms');
    if (this.pool.aliveCount === 0) throw new SignalingError('NODE_UNAVAILABLE', 'no live media worker');
    const log = this.log.child({ roomId });
    let room: Room | undefined;
    const media = await RoomMedia.create(this.pool, this.media, log, (reason) => {
      log.error({ reason }, 'room lost a router; peers must rejoin');
      room?.closeWithPeers('MEDIA_WORKER_DIED', `${reason}; join again`);
    });
    room = new Room(roomId, media, log, (closed) => {
      if (this.rooms.get(roomId) === closed) this.rooms.delete(roomId);
      log.info('room closed');
    });
    if (this.linkFactory) {
      try {
        room.link = await this.linkFactory(room);
      } catch (err) {
        room.close();
        throw new SignalingError('NODE_UNAVAILABLE', `cannot reach the cluster for room ${roomId}: ${(err as Error).message}`);
      }
    }
    this.rooms.set(roomId, room);
    log.info({ worker: media.routers[0].slot.index }, 'room created');
    return room;
  }

  closeAll(code: string, message: string) {
    for (const room of [...this.rooms.values()]) room.closeWithPeers(code, message);
  }
}
