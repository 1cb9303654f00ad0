import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterNode, token } from '../helpers/cluster-node.js';
import { RedisServer } from '../helpers/redis-server.js';
import { clipOpusFrames, GOFORWARD_TEXT } from '../helpers/speech-clips.js';
import { WeriftPeer } from '../helpers/werift-peer.js';

const finalsFrom = (p: WeriftPeer, from: string) => p.client.notificationsOf('caption').filter((c) => c.final && c.peerId === from);

/**
 * A room with captions spanning two regions: each node captions the participants it hosts,
 * and their captions reach the participants on the other node, translated for them.
 */
describe('captions in a room that spans two nodes', () => {
  let redis: RedisServer;
  let west: ClusterNode;
  let south: ClusterNode;
  const peers: WeriftPeer[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    const env = { TENANTS: JSON.stringify([{ id: 'default', captions: 'all' }]) };
    [west, south] = await Promise.all([ClusterNode.start('west', 'us-west', redis.url, env), ClusterNode.start('south', 'cn-south', redis.url, env)]);
  }, 90_000);
  afterAll(async () => {
    await Promise.all(peers.map((p) => p.close()));
    await Promise.all([west, south].map((n) => n?.stop()));
    await redis?.down();
  });

  it('the buyer\'s captions reach the seller on the other node in Spanish, and the agent\'s reach the buyer', async () => {
    expect((await west.place('span-captions', 'us-west')).node.id).toBe('west');
    const frames = clipOpusFrames();
    const buyer = await WeriftPeer.connect(west.ws, token({ room: 'span-captions', identity: 'buyer', role: 'buyer', region: 'us-west', language: 'en' }));
    // The seller and an agent reach the node in their own region, which hosts their side of the room.
    const seller = await WeriftPeer.connect(south.ws, token({ room: 'span-captions', identity: 'seller', role: 'seller', region: 'us-west', language: 'es' }));
    const agent = await WeriftPeer.connect(south.ws, token({ room: 'span-captions', identity: 'agent', role: 'agent', region: 'us-west', language: 'en' }));
    peers.push(buyer, seller, agent);
    await Promise.all([buyer.publish({ video: false, data: false, audioFrames: frames }), agent.publish({ video: false, data: false, audioFrames: frames })]);

    await seller.client.until(() => finalsFrom(seller, 'buyer').length > 0, 'the buyer\'s caption on the other node', 40_000);
    expect(finalsFrom(seller, 'buyer')[0]).toMatchObject({ text: GOFORWARD_TEXT, language: 'en', translations: { es: expect.any(String) } });
    expect(finalsFrom(seller, 'buyer')[0].translations!.es).not.toBe(GOFORWARD_TEXT);
    await buyer.client.until(() => finalsFrom(buyer, 'agent').length > 0, 'the agent\'s caption on the other node', 40_000);
    expect(finalsFrom(buyer, 'agent')[0]).toMatchObject({ text: GOFORWARD_TEXT, translations: { es: finalsFrom(seller, 'buyer')[0].translations!.es } });
    // Each caption was made once, by the node that hosts its speaker, and arrives once.
    for (const [p, from] of [[seller, 'buyer'], [buyer, 'agent'], [agent, 'buyer']] as const) {
      const ids = finalsFrom(p, from).map((c) => c.segmentId);
      expect(new Set(ids).size).toBe(ids.length);
    }
    const metrics = async (node: ClusterNode) => (await fetch(`${node.url}/metrics`)).text();
    const [w, s] = await Promise.all([metrics(west), metrics(south)]);
    const finals = (text: string) => Number(/^sfu_caption_segments_total\{kind="final"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    expect(finals(w)).toBeGreaterThan(0);
    expect(finals(s)).toBeGreaterThan(0);
    expect(/^sfu_captioned_participants (\d+)$/m.exec(w)?.[1]).toBe('1');
    expect(/^sfu_captioned_participants (\d+)$/m.exec(s)?.[1]).toBe('1');
  });
});
