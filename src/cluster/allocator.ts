import type { NodeRef } from '../rooms/directory.js';

export type { NodeRef } from '../rooms/directory.js';

/**
 * Where a join for a room is served, decided before the session enters any room:
 * - local: this node hosts the room (it holds, or just took, its placement);
 * - span: another node holds it, in another region; the participant stays here and the
 *   nodes pipe media between them;
 * - redirect: the client must join on `node` instead.
 */
export type Allocation =
  | { kind: 'local'; node: NodeRef }
  | { kind: 'span'; node: NodeRef }
  | { kind: 'redirect'; node: NodeRef };

/**
 * Decides which node hosts a room, chosen once when the node starts: the local allocator
 * (one node, no Redis) always answers local; the cluster's places rooms near the buyer.
 */
export interface RoomAllocator {
  readonly self: NodeRef;
  /** Finds the room's node, placing it near `region` when it has none. Atomic across nodes. */
  allocate(roomId: string, region?: string): Promise<Allocation>;
}

export class LocalAllocator implements RoomAllocator {
  constructor(readonly self: NodeRef) {}

  async allocate(): Promise<Allocation> {
    return { kind: 'local', node: this.self };
  }
}
