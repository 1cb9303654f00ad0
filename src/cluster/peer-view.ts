import type { Peer } from '../rooms/peer.js';
import type { PeerInfo } from '../rooms/room.js';

/** What other nodes learn about a local peer: its full current info and when it joined. */
export interface PeerView {
  info: PeerInfo;
  joinedAt: number;
}

export const peerView = (peer: Peer): PeerView => ({ info: peer.info(), joinedAt: peer.joinedAt });

/** A peer's entry in sfu:room:<id>:peers (written by the span at once, and by every heartbeat). */
export const storedPeer = (nodeId: string, peer: Peer) => JSON.stringify({ nodeId, ...peerView(peer) });
