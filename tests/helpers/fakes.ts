import type { NodeList, PlacementStore } from '../../src/cluster/cluster-allocator.js';
import type { NodeInfo } from '../../src/cluster/node-info.js';

/**
 * In-memory stand-ins for the cluster's Redis-backed parts, as LiveKit's FakeRouter is for its
 * allocator tests: same interfaces, same atomicity (a claim is one synchronous step), no Redis.
 */
export class FakePlacementStore implements PlacementStore {
  readonly owners = new Map<string, string>();
  /** Every claim, in order: [room, candidate, seen, winner]. */
  readonly claims: Array<[string, string, string, string]> = [];

  async owner(roomId: string) {
    return this.owners.get(roomId) ?? null;
  }

  async claim(roomId: string, candidate: string, seen: string) {
    const owner = this.owners.get(roomId);
    const winner = owner && owner !== seen ? owner : candidate;
    this.owners.set(roomId, winner);
    this.claims.push([roomId, candidate, seen, winner]);
    return winner;
  }
}

export class FakeNodeList implements NodeList {
  constructor(public nodes: NodeInfo[] = []) {}

  async list() {
    return this.nodes;
  }

  async get(id: string) {
    return this.nodes.find((n) => n.id === id);
  }
}

export const fakeNode = (id: string, region: string, peers = 0, extra: Partial<NodeInfo> = {}): NodeInfo => ({
  id, region, url: `http://${id}`, mediaAddress: '127.0.0.1', capacity: 100, peers, rooms: 0, draining: false, startedAt: 0, heartbeatAt: 0, ...extra,
});
