import type { NodeInfo } from './node-info.js';

/** Where a room lives. */
export interface Placement {
  roomId: string;
  node: Pick<NodeInfo, 'id' | 'region' | 'url'>;
  local: boolean;
}

/**
 * Decides which node hosts a room. The local router (one node, no Redis) always answers
 * "here"; the Redis router places rooms across the cluster and keeps placements alive.
 */
export interface RoomRouter {
  readonly self: Pick<NodeInfo, 'id' | 'region' | 'url'>;
  /** Finds the room's node, placing it near `region` when it has none. Atomic across nodes. */
  place(roomId: string, region?: string): Promise<Placement>;
}

export class LocalRoomRouter implements RoomRouter {
  constructor(readonly self: Pick<NodeInfo, 'id' | 'region' | 'url'>) {}

  async place(roomId: string): Promise<Placement> {
    return { roomId, node: this.self, local: true };
  }
}
