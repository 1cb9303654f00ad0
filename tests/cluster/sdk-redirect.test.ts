import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { audioPackets, launchBrowser, sdkCall, waitForStats } from '../helpers/browser.js';
import { ClusterNode, token } from '../helpers/cluster-node.js';
import { RedisServer } from '../helpers/redis-server.js';
import { WeriftPeer } from '../helpers/werift-peer.js';

describe('the browser SDK in a cluster', () => {
  let redis: RedisServer;
  let nodes: ClusterNode[] = [];
  let browser: Browser;
  let seller: WeriftPeer | undefined;

  beforeAll(async () => {
    redis = await RedisServer.start();
    nodes = await Promise.all(['east-1', 'east-2'].map((id) => ClusterNode.start(id, 'us-east', redis.url, { DEMO_ENABLED: 'true' })));
    browser = await launchBrowser();
  }, 90_000);
  afterAll(async () => {
    await seller?.close();
    await browser?.close();
    await Promise.all(nodes.map((n) => n.stop()));
    await redis?.down();
  });

  it('follows a REDIRECT to the room’s node, and rejoins elsewhere when that node dies', async () => {
    const owner = (await nodes[0].place('sdk-redirect', 'us-east')).node;
    const [home, elsewhere] = owner.id === nodes[0].id ? nodes : [nodes[1], nodes[0]];
    seller = await WeriftPeer.connect(home.ws, token({ room: 'sdk-redirect', identity: 'seller', role: 'seller' }));
    await seller.publish({ data: false });

    const page = await (await browser.newContext()).newPage();
    const connectedUrl = await sdkCall<string>(page, elsewhere.url, token({ room: 'sdk-redirect', identity: 'buyer', role: 'buyer' }), 'return call.connectedUrl;');
    expect(connectedUrl).toBe(`${home.url.replace(/^http/, 'ws')}/v1/rtc`);
    // The werift seller's VP8 is synthetic (a browser cannot decode it), so count what arrives decrypted.
    await waitForStats(page, 'media through the redirect', (s) => audioPackets(s, 'seller') > 50 && s.some((t) => t.kind === 'video' && t.packets > 50));

    // The node hosting the call dies. The SDK rejoins through the URL it was given, the room
    // is placed again on the surviving node, and media flows once the seller is back too.
    await seller.close();
    seller = undefined;
    await home.stop('SIGKILL');
    await page.waitForFunction((url) => (window as any).demo.call.state === 'connected' && (window as any).demo.call.connectedUrl === url,
      `${elsewhere.url.replace(/^http/, 'ws')}/v1/rtc`, { timeout: 30_000 });
    seller = await WeriftPeer.connect(elsewhere.ws, token({ room: 'sdk-redirect', identity: 'seller', role: 'seller' }));
    await seller.publish({ data: false });
    await waitForStats(page, 'media after the node died', (s) => s.some((t) => t.kind === 'video' && t.packets > 50));
  });
});
