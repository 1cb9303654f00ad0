import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { SignalingClient } from '../helpers/signaling-client.js';
import { startCall, waitFor, type WeriftPeer } from '../helpers/werift-peer.js';
import { roomKey } from '../../src/rooms/room-key.js';
import { sleep } from '../helpers/time.js';

const GRACE_MS = 1500;

/**
 * Reconnect with a grace period: a participant whose socket drops stays in the room for
 * signaling.reconnectGraceMs, and its client may take it back on a new socket (join with
 * resume). The others see no leave and join; after the grace period they see it leave.
 */
describe('resuming after a dropped socket', () => {
  let t: TestNode;
  let seller: WeriftPeer;
  let buyer: WeriftPeer;
  const clients: SignalingClient[] = [];
  const room = 'resume';
  const buyerId = `${room}-buyer`;
  const sellerSaw = (method: 'peerLeft' | 'peerJoined') => seller.client.notificationsOf(method).filter((d) => ('peerId' in d ? d.peerId : d.id) === buyerId);

  beforeAll(async () => {
    t = await startTestNode({ signaling: { reconnectGraceMs: GRACE_MS } });
    ({ seller, buyer } = await startCall(t.ws, room, (identity, role) => t.token({ room, identity, role })));
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await seller.close();
    await buyer.close();
    await t.close();
  });

  const resumeOn = async (token = t.token({ room, identity: buyerId, role: 'buyer' })) => {
    const c = await SignalingClient.connect(t.ws);
    clients.push(c);
    return { c, joined: await c.request('join', { token, resume: true }) };
  };

  it('a dropped socket resumes on a new one: same transports and consumers, media never stops, the others see nothing', async () => {
    const consumerIds = buyer.client.notificationsOf('newConsumer').map((c) => c.consumerId).sort();
    buyer.client.ws.terminate();
    await waitFor(() => t.node.rooms.get(roomKey('default', room))!.peers.get(buyerId)?.suspended === true, 'the buyer suspended');
    const during = buyer.received.video.packets;
    await waitFor(() => buyer.received.video.packets > during + 20, 'media while the socket is down');

    const { joined } = await resumeOn();
    expect(joined.resumed).toBeDefined();
    expect(joined.resumed!.transports).toEqual([{ transportId: buyer.recvTransportId, direction: 'recv' }]);
    expect(joined.resumed!.consumers.map((c) => c.consumerId).sort()).toEqual(consumerIds);
    expect(joined.peers.map((p) => p.id)).toEqual([`${room}-seller`]);
    const after = buyer.received.video.packets;
    await waitFor(() => buyer.received.video.packets > after + 20, 'media after the resume');
    await sleep(GRACE_MS + 300);
    expect(sellerSaw('peerLeft')).toEqual([]);
    expect(sellerSaw('peerJoined')).toHaveLength(1); // the original join only
  });

  it('a resume while the old socket still looks open takes over: the old socket closes with 4409', async () => {
    const { c: old } = await resumeOn();
    const { joined } = await resumeOn();
    expect(joined.resumed).toBeDefined();
    await old.until(() => old.closeCode !== undefined, 'the superseded socket to close');
    expect(old.closeCode).toBe(4409);
    expect(sellerSaw('peerLeft')).toEqual([]);
  });

  it('a token with other grants does not resume: it joins afresh', async () => {
    const { joined } = await resumeOn(t.token({ room, identity: buyerId, role: 'buyer', grants: { publishVideo: false } }));
    expect(joined.resumed).toBeUndefined();
    await waitFor(() => sellerSaw('peerLeft').length === 1 && sellerSaw('peerJoined').length === 2, 'the seller to see the replacement');
  });

  it('a participant that does not come back within the grace period leaves, and the others are told', async () => {
    const { c } = await resumeOn();
    const leftBefore = sellerSaw('peerLeft').length;
    c.ws.terminate();
    await sleep(GRACE_MS / 2);
    expect(sellerSaw('peerLeft')).toHaveLength(leftBefore);
    await waitFor(() => sellerSaw('peerLeft').length === leftBefore + 1, 'the buyer to leave after the grace period', GRACE_MS * 3);
    expect(t.node.rooms.get(roomKey('default', room))!.peers.has(buyerId)).toBe(false);
  });

  it('resume with nothing to resume is an ordinary join', async () => {
    const { joined } = await resumeOn(t.token({ room, identity: 'newcomer', role: 'buyer' }));
    expect(joined.resumed).toBeUndefined();
    expect(joined.peerId).toBe('newcomer');
  });
});
