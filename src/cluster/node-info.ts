import type { Signer } from './signer.js';

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
  /** Its media processes (recordings, snapshots, captions) are all taken: placement prefers others. */
  egressFull?: boolean;
  startedAt: number;
  heartbeatAt: number;
}

const FIELDS = ['id', 'region', 'url', 'mediaAddress', 'capacity', 'peers', 'rooms', 'draining', 'egressFull', 'startedAt', 'heartbeatAt'] as const;
const context = (id: string) => `node:${id}`;
const canonical = (h: Record<string, string>) => FIELDS.map((f) => h[f] ?? '').join('\n');

/** The registry hash of a node, signed: a node entry that someone else wrote does not verify. */
export function toHash(n: NodeInfo, signer: Signer): Record<string, string> {
  const h = Object.fromEntries(FIELDS.map((f) => [f, typeof n[f] === 'boolean' ? (n[f] ? '1' : '0') : String(n[f])]));
  return { ...h, sig: signer.sign(context(n.id), canonical(h)) };
}

/** A node entry read back from Redis; undefined unless it is whole and signed by a cluster member. */
export function fromHash(h: Record<string, string>, signer: Signer): NodeInfo | undefined {
  if (!h.id || !signer.verify(context(h.id), canonical(h), h.sig)) return undefined;
  const n = {
    id: h.id,
    region: h.region,
    url: h.url,
    mediaAddress: h.mediaAddress,
    capacity: Number(h.capacity),
    peers: Number(h.peers),
    rooms: Number(h.rooms),
    draining: h.draining === '1',
    egressFull: h.egressFull === '1',
    startedAt: Number(h.startedAt),
    heartbeatAt: Number(h.heartbeatAt),
  };
  return [n.capacity, n.peers, n.rooms, n.startedAt, n.heartbeatAt].every(Number.isFinite) ? n : undefined;
}
