import type { NodeInfo } from './node-info.js';
import type { Regions } from './regions.js';

/** Picks the node for a new room, or none. Pluggable: the Redis router takes any selector. */
export type NodeSelector = (nodes: readonly NodeInfo[], want: { region: string }, regions: Regions) => NodeInfo | undefined;

/**
 * The nearest region that has room, then the least-loaded node in it. Draining and full
 * nodes never get new rooms; a node whose media processes are all taken (it could not record
 * or caption the call) gets one only when no node can.
 */
export const nearestLeastLoaded: NodeSelector = (nodes, { region }, regions) => {
  const open = nodes.filter((n) => !n.draining && n.peers < n.capacity);
  const cost = (n: NodeInfo) => [n.egressFull ? 1 : 0, regions.rttMs(region, n.region), n.peers / n.capacity, n.id] as const;
  return open.sort((a, b) => {
    const [ea, ra, la, ia] = cost(a);
    const [eb, rb, lb, ib] = cost(b);
    return ea - eb || ra - rb || la - lb || ia.localeCompare(ib);
  })[0];
};
