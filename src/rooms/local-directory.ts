import { CodedError } from '../common/errors.js';
import type { Endpoint, NodeRef, RoomDirectory } from './directory.js';
import type { RoomKey } from './room-key.js';
import type { RoomSettings } from './room-settings.js';
import type { Room } from './room.js';

/** A node that runs alone: every room is wholly here, and this node keeps every record. */
export class LocalDirectory implements RoomDirectory {
  private readonly rooms = new Map<RoomKey, Room>();
  /** Rooms admitted per tenant and not ended: counted when admitted, before any await. */
  private readonly admitted = new Map<string, number>();

  constructor(readonly self: NodeRef) {}

  async attach(room: Room) {
    this.rooms.set(room.id, room);
    room.once('closed', () => {
      if (this.rooms.get(room.id) === room) this.rooms.delete(room.id);
    });
  }

  async settingsFor(_key: RoomKey, fresh: RoomSettings) {
    return fresh;
  }

  async admit(settings: RoomSettings, limit: number) {
    const { tenant } = settings;
    const count = this.admitted.get(tenant) ?? 0;
    if (count >= limit) throw new CodedError('TENANT_LIMIT', `tenant ${tenant} has ${limit} rooms already`);
    this.admitted.set(tenant, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.admitted.get(tenant) ?? 1) - 1;
      if (left > 0) this.admitted.set(tenant, left);
      else this.admitted.delete(tenant);
    };
  }

  async publishSettings() {}

  owns() {
    return true;
  }

  async settings(key: RoomKey) {
    return this.rooms.get(key)?.settings;
  }

  async hosts(key: RoomKey) {
    return this.rooms.has(key) ? [this.self.id] : [];
  }

  async ownerOf(key: RoomKey) {
    return this.rooms.has(key) ? this.self.id : undefined;
  }

  async tenantRooms(tenant: string, offset: number, limit: number) {
    const all = [...this.rooms.values()].filter((r) => r.settings.tenant === tenant)
      .sort((a, b) => b.settings.createdAt - a.settings.createdAt || (a.id < b.id ? 1 : -1));
    return { rooms: all.slice(offset, offset + limit).map((r) => r.settings), total: all.length };
  }

  async endpoints(): Promise<Endpoint[]> {
    return [{ region: this.self.region, name: this.self.region, url: this.self.url }];
  }

  async nodeUrl(nodeId: string) {
    return nodeId === this.self.id ? this.self.url : undefined;
  }

  stats() {
    return { pipedStreams: 0, pipeReception: { packets: 0, lost: 0, repaired: 0, nacked: 0 }, dropped: { unauthenticated: 0, stale: 0, malformed: 0 } };
  }

  async start() {}

  async drain() {}

  async stop() {}
}
