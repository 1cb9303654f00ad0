import type { NodeRef } from '../rooms/directory.js';
import type { Allocation, RoomAllocator } from './allocator.js';
import type { NodeInfo } from './node-info.js';
import type { NodeSelector } from './node-selector.js';
import type { Regions } from './regions.js';

/** Who owns each room, with an atomic claim (the Redis room store; a fake in unit tests). */
export interface PlacementStore {
  owner(roomId: string): Promise<string | null>;
  /** Claims the room for `candidate` if its owner is still `seen` (none: ''); returns the owner now. */
  claim(roomId: string, candidate: string, seen: string): Promise<string>;
}

/** The live nodes, as they registered themselves (the Redis node registry; a fake in unit tests). */
export interface NodeList {
  list(): Promise<NodeInfo[]>;
  get(id: string): Promise<NodeInfo | undefined>;
}
import { CodedError } from '../common/errors.js';

/** Rounds of "owner not live: claim over it" before giving up (a garbage owner takes one). */
const CLAIM_ROUNDS = 3;

/** Places rooms across the cluster: near the buyer, on the least-loaded node, exactly once. */
export class ClusterAllocator implements RoomAllocator {
  constructor(
    readonly self: NodeRef,
    private readonly store: PlacementStore,
    private readonly registry: NodeList,
    private readonly regions: Regions,
    private readonly select: NodeSelector,
    /** cluster.spanRegions: a participant in another region than the room's stays on its node. */
    private readonly spanRegions: boolean,
  ) {}

  async allocate(roomId: string, region = this.self.region): Promise<Allocation> {
    try {
      // Only signed, live registry entries count: an owner that is not one is claimed over.
      for (let round = 0; round < CLAIM_ROUNDS; round++) {
        const nodes = await this.registry.list();
        const owner = await this.store.owner(roomId);
        const current = owner && nodes.find((n) => n.id === owner);
        if (current) return this.outcome(current);
        const candidate = this.select(nodes, { region }, this.regions);
        if (!candidate) throw new CodedError('NODE_UNAVAILABLE', 'no node in the cluster can take a new room');
        const winner = await this.store.claim(roomId, candidate.id, owner ?? '');
        const node = nodes.find((n) => n.id === winner) ?? (await this.registry.get(winner));
        if (node) return this.outcome(node);
      }
      throw new CodedError('NODE_UNAVAILABLE', `room ${roomId} is owned by a node that just left; join again`);
    } catch (err) {
      if (err instanceof CodedError) throw err;
      throw new CodedError('NODE_UNAVAILABLE', `the cluster store is unreachable: ${(err as Error).message}`);
    }
  }

  private outcome(owner: NodeInfo): Allocation {
    const node = { id: owner.id, region: owner.region, url: owner.url };
    if (owner.id === this.self.id) return { kind: 'local', node };
    if (this.spanRegions && owner.region !== this.self.region) return { kind: 'span', node };
    return { kind: 'redirect', node };
  }
}
