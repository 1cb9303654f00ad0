import type { types } from 'mediasoup';
import type { RouterEntry } from '../media/room-media.js';
import type { PeerInfo, ProducerInfo } from './peer.js';

export type DataProducerInfo = PeerInfo['dataProducers'][number];

/** Where a consumable can be consumed on this node: the mediasoup object and the router it is on. */
export interface Located<T> {
  item: T;
  entry: RouterEntry;
}

/**
 * Something a room's peers can consume: a producer of a peer here, or of a peer hosted
 * elsewhere, brought here on first use. The room treats both alike. `peerId` is whose it is.
 */
export type Consumable =
  | { kind: 'producer'; id: string; peerId: string; info: ProducerInfo; locate(): Promise<Located<types.Producer>> }
  | { kind: 'dataProducer'; id: string; peerId: string; info: DataProducerInfo; locate(): Promise<Located<types.DataProducer>> };

/** Everything consumable in one room, by producer id. */
export class Catalogue {
  private readonly items = new Map<string, Consumable>();

  add(item: Consumable) {
    this.items.set(item.id, item);
  }

  remove(id: string) {
    return this.items.delete(id);
  }

  get(id: string) {
    return this.items.get(id);
  }

  /** What `peerId` may consume: everything but its own. */
  forPeer(peerId: string) {
    return [...this.items.values()].filter((c) => c.peerId !== peerId);
  }

  /** What `peerId` publishes. */
  ofPeer(peerId: string) {
    return [...this.items.values()].filter((c) => c.peerId === peerId);
  }
}
