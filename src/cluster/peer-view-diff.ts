import type { DataProducerInfo } from '../rooms/catalogue.js';
import type { PeerInfo, ProducerInfo } from '../rooms/peer.js';

/** What changed between two full views of a peer on another node. */
export interface PeerViewDiff {
  /** Producers and data producers it no longer has. */
  ended: string[];
  /** Producers whose pause state changed, with the new one. */
  paused: Array<{ id: string; paused: boolean }>;
  added: ProducerInfo[];
  dataAdded: DataProducerInfo[];
}

/**
 * Compares the latest full view of a peer with the one before it (none: it is new). Views are
 * sent whole on every change, so a lost or reordered one heals with the next: the diff is
 * always against what this node last applied.
 */
export function diffPeerView(before: PeerInfo | undefined, now: PeerInfo): PeerViewDiff {
  const producersBefore = new Map(before?.producers.map((p) => [p.id, p]));
  const producersNow = new Set(now.producers.map((p) => p.id));
  const dataBefore = new Set(before?.dataProducers.map((d) => d.id));
  const dataNow = new Set(now.dataProducers.map((d) => d.id));
  return {
    ended: [...[...producersBefore.keys()].filter((id) => !producersNow.has(id)), ...[...dataBefore].filter((id) => !dataNow.has(id))],
    paused: now.producers.flatMap((p) => {
      const known = producersBefore.get(p.id);
      return known && known.paused !== p.paused ? [{ id: p.id, paused: p.paused }] : [];
    }),
    added: now.producers.filter((p) => !producersBefore.has(p.id)),
    dataAdded: now.dataProducers.filter((d) => !dataBefore.has(d.id)),
  };
}
