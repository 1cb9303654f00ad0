/** What each node publishes about itself in the registry. */
export interface NodeInfo {
  id: string;
  region: string;
  /** Base URL clients use to reach this node (http(s)://host:port). */
  url: string;
  /** The address in this node's ICE candidates. */
  mediaAddress: string;
  capacity: number;
  /** Peers joined here now. */
  peers: number;
  rooms: number;
  draining: boolean;
  startedAt: number;
  heartbeatAt: number;
}

export const toHash = (n: NodeInfo): Record<string, string> =>
  Object.fromEntries(Object.entries(n).map(([k, v]) => [k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v)]));

export function fromHash(h: Record<string, string>): NodeInfo | undefined {
  if (!h.id) return undefined;
  return {
    id: h.id,
    region: h.region,
    url: h.url,
    mediaAddress: h.mediaAddress,
    capacity: Number(h.capacity),
    peers: Number(h.peers),
    rooms: Number(h.rooms),
    draining: h.draining === '1',
    startedAt: Number(h.startedAt),
    heartbeatAt: Number(h.heartbeatAt),
  };
}
