import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { waitFor, WeriftPeer } from '../helpers/werift-peer.js';
import { roomKey } from '../../src/rooms/room-key.js';
import { sleep } from '../helpers/time.js';


/** Usage metering: a call of known length, and bytes that agree with the transports' own stats. */
describe('usage', () => {
  let t: TestNode;
  let key: string;
  const get = async (path: string) => (await fetch(`${t.http}${path}`, { headers: { authorization: `Bearer ${key}` } })).json();

  beforeAll(async () => {
    t = await startTestNode();
    key = t.config.auth.apiKeys[0];
  });
  afterAll(() => t.close());

  /** What the node received from and sent to a peer, by its transports' own mediasoup stats. */
  const transportBytes = async (peer: WeriftPeer) => {
    let inBytes = 0;
    let outBytes = 0;
    for (const id of [peer.sendTransportId, peer.recvTransportId].filter(Boolean) as string[]) {
      const { stats } = await peer.client.request('getStats', { target: 'transport', id });
      const s = stats[0] as { bytesReceived: number; bytesSent: number };
      inBytes += s.bytesReceived;
      outBytes += s.bytesSent;
    }
    return { in: inBytes, out: outBytes };
  };

  it('meters participant minutes by role and track minutes by kind within 2 s, and bytes from the transports', async () => {
    const from = new Date(Date.now() - 60_000).toISOString();
    const seller = await WeriftPeer.connect(t.ws, t.token({ room: 'metered', identity: 'seller', role: 'seller' }));
    const buyer = await WeriftPeer.connect(t.ws, t.token({ room: 'metered', identity: 'buyer', role: 'buyer' }));
    const joinedAt = Date.now();
    await seller.publish({ data: false });
    const publishedAt = Date.now();
    await buyer.subscribe({ consumers: 2 });
    await waitFor(() => buyer.received.video.packets > 30, 'media');
    await sleep(3000);

    // While the call goes on: its usage so far, sampled now, against the transports' stats right after.
    const live = await get(`/v1/usage?from=${from}`);
    const [sellerStats, buyerStats] = [await transportBytes(seller), await transportBytes(buyer)];
    const statsIn = sellerStats.in + buyerStats.in;
    const statsOut = sellerStats.out + buyerStats.out;
    expect(live.total.bytesIn).toBeGreaterThan(statsIn * 0.9);
    expect(live.total.bytesIn).toBeLessThanOrEqual(statsIn);
    expect(live.total.bytesOut).toBeGreaterThan(statsOut * 0.9);
    expect(live.total.bytesOut).toBeLessThanOrEqual(statsOut);

    await buyer.client.request('leave', {});
    await seller.client.request('leave', {});
    const leftAt = Date.now();
    await Promise.all([seller.close(), buyer.close()]);
    await waitFor(() => !t.node.rooms.get(roomKey('default', 'metered')), 'the room to close');

    const done = await get(`/v1/usage?from=${from}`);
    const seconds = (leftAt - joinedAt) / 1000;
    expect(Math.abs(done.total.participantSeconds.seller - seconds)).toBeLessThan(2);
    expect(Math.abs(done.total.participantSeconds.buyer - seconds)).toBeLessThan(2);
    const published = (leftAt - publishedAt) / 1000;
    expect(Math.abs(done.total.mediaSeconds.audio - published)).toBeLessThan(2);
    expect(Math.abs(done.total.mediaSeconds.video - published)).toBeLessThan(2);
    expect(done.rooms.map((r: { room: string }) => r.room)).toEqual(['metered']);
    // The stored bytes are the last samples: at least what was measured live.
    expect(done.total.bytesIn).toBeGreaterThanOrEqual(live.total.bytesIn);

    // A range that covers half of the call counts half of it.
    const mid = new Date(joinedAt + (leftAt - joinedAt) / 2).toISOString();
    const half = await get(`/v1/usage?from=${mid}`);
    expect(Math.abs(half.total.participantSeconds.seller - seconds / 2)).toBeLessThan(1);

    // /metrics carries the same per-tenant totals.
    const metrics = await (await fetch(`${t.http}/metrics`)).text();
    const sellerSeconds = Number(/sfu_tenant_participant_seconds_total\{tenant="default",role="seller"\} (\S+)/.exec(metrics)?.[1]);
    expect(Math.abs(sellerSeconds - done.total.participantSeconds.seller)).toBeLessThan(0.01);
    expect(Number(/sfu_tenant_transport_bytes_total\{tenant="default",direction="in"\} (\S+)/.exec(metrics)?.[1])).toBeGreaterThan(0);
  });

  it('counts every byte of a stay shorter than the sampling round: the last sample is taken as the participant leaves', async () => {
    const from = new Date(Date.now() - 60_000).toISOString();
    const seller = await WeriftPeer.connect(t.ws, t.token({ room: 'short-stay', identity: 'seller', role: 'seller' }));
    const buyer = await WeriftPeer.connect(t.ws, t.token({ room: 'short-stay', identity: 'buyer', role: 'buyer' }));
    await seller.publish({ data: false });
    await buyer.subscribe({ consumers: 2 });
    await waitFor(() => buyer.received.video.packets > 30, 'media');
    // Right before they leave: what their transports moved, by mediasoup's own stats.
    const [sellerStats, buyerStats] = [await transportBytes(seller), await transportBytes(buyer)];
    await Promise.all([buyer.client.request('leave', {}), seller.client.request('leave', {})]);
    await Promise.all([seller.close(), buyer.close()]);
    await waitFor(() => !t.node.rooms.get(roomKey('default', 'short-stay')), 'the room to close');
    const { usage } = (await get(`/v1/usage?from=${from}`)).rooms.find((r: { room: string }) => r.room === 'short-stay');
    expect(usage.bytesIn).toBeGreaterThanOrEqual(sellerStats.in + buyerStats.in);
    expect(usage.bytesOut).toBeGreaterThanOrEqual(sellerStats.out + buyerStats.out);
  });
});
