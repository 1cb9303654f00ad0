import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { waitFor, WeriftPeer } from '../helpers/werift-peer.js';
import { roomKey } from '../../src/rooms/room-key.js';

describe('media through one node', () => {
  let t: TestNode;
  const peers: WeriftPeer[] = [];
  beforeAll(async () => {
    t = await startTestNode();
  });
  afterAll(async () => {
    await Promise.all(peers.map((p) => p.close()));
    await t.close();
  });

  it('forwards audio, video and data between two werift peers, decrypted end to end', async () => {
    const seller = await WeriftPeer.connect(t.ws, t.token({ room: 'ticket-1', identity: 'seller', role: 'seller' }));
    const buyer = await WeriftPeer.connect(t.ws, t.token({ room: 'ticket-1', identity: 'buyer', role: 'buyer' }));
    peers.push(seller, buyer);
    expect(buyer.join.peers.map((p) => p.id)).toEqual(['seller']);

    await seller.publish();
    await buyer.publish({ audio: false, video: false, data: true });
    const consumers = await buyer.subscribe({ consumers: 2, dataConsumers: 1 });
    expect(consumers.map((c) => c.kind).sort()).toEqual(['audio', 'video']);
    await seller.subscribe({ consumers: 0, dataConsumers: 1 });

    await waitFor(() => buyer.received.audio.packets > 50 && buyer.received.video.packets > 30, 'RTP at the buyer');
    // werift sends a 3-byte Opus frame (silence) every 20 ms.
    expect(buyer.received.audio.bytes).toBeGreaterThan(50 * 3 - 1);
    expect(buyer.received.video.bytes).toBeGreaterThan(30 * 500);

    // The SFU's own counters agree that it forwarded what the buyer decrypted.
    const video = consumers.find((c) => c.kind === 'video')!;
    const { stats } = await buyer.client.request('getStats', { target: 'consumer', id: video.consumerId });
    const outbound = stats.find((s) => s.type === 'outbound-rtp') as { packetCount: number; byteCount: number };
    expect(outbound.packetCount).toBeGreaterThan(30);

    // Chat crosses both ways over SCTP data channels.
    seller.sendMessage('hello from the seller');
    await waitFor(() => buyer.messages.includes('hello from the seller'), 'chat at the buyer');
    buyer.sendMessage('the hinge is cracked');
    await waitFor(() => seller.messages.includes('the hinge is cracked'), 'chat at the seller');
  });

  it('spreads a room over workers when a router is full, piping producers between them', async () => {
    const wide = await startTestNode({ media: { numWorkers: 2, maxPeersPerRouter: 1 } });
    try {
      const a = await WeriftPeer.connect(wide.ws, wide.token({ room: 'wide', identity: 'a', role: 'seller' }));
      const b = await WeriftPeer.connect(wide.ws, wide.token({ room: 'wide', identity: 'b' }));
      peers.push(a, b);
      const routers = wide.node.rooms.get(roomKey('default', 'wide'))!.media.routers;
      expect(routers.map((r) => r.slot.index).sort()).toEqual([0, 1]);
      await b.publish({ data: true, video: false });
      await a.publish({ data: true });
      await b.subscribe({ consumers: 2, dataConsumers: 1 });
      await a.subscribe({ consumers: 1, dataConsumers: 1 });
      await waitFor(() => b.received.video.packets > 20 && a.received.audio.packets > 20, 'media across workers');
      a.sendMessage('across the pipe');
      await waitFor(() => b.messages.includes('across the pipe'), 'data across workers');
      // b's audio lives on the second router; the speaker observer on the first still hears it.
      await a.client.notification('activeSpeaker');
      // Its routers had pipes between them: when the room ends they are closed, not kept for another room.
      await Promise.all([a, b].map((p) => p.client.request('leave', {})));
      await waitFor(() => routers.every((r) => r.router.closed), 'the piped routers closed');
    } finally {
      await wide.close();
    }
  });

  it('gives an ended room\'s emptied router to the next room, with nothing of the first left on it', async () => {
    const seller = await WeriftPeer.connect(t.ws, t.token({ room: 'first-call', identity: 'seller', role: 'seller' }));
    const buyer = await WeriftPeer.connect(t.ws, t.token({ room: 'first-call', identity: 'buyer' }));
    peers.push(seller, buyer);
    await seller.publish();
    await buyer.subscribe({ consumers: 2 });
    await waitFor(() => buyer.received.video.packets > 10, 'media in the first call');
    const [first] = t.node.rooms.get(roomKey('default', 'first-call'))!.media.routers;
    await Promise.all([seller, buyer].map((p) => p.client.request('leave', {})));
    await waitFor(() => !t.node.rooms.get(roomKey('default', 'first-call')), 'the first call ended');
    await new Promise((r) => setTimeout(r, 200)); // the pool checks it is empty (a dump) before keeping it

    const next = await WeriftPeer.connect(t.ws, t.token({ room: 'next-call', identity: 'buyer' }));
    peers.push(next);
    const [reused] = t.node.rooms.get(roomKey('default', 'next-call'))!.media.routers;
    expect(reused.router).toBe(first.router);
    expect(reused.router.closed).toBe(false);
    await next.publish({ video: false, data: false });
    const dump = await reused.router.dump();
    // Only what the new room made: its participant's send transport and its speaker observer.
    expect(dump.transportIds).toEqual([next.sendTransportId]);
    expect(dump.rtpObserverIds).toHaveLength(1);
    expect(dump.mapProducerIdConsumerIds.map(({ key }) => key)).toEqual([next.producers.audio]);
  });
});
