import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/auth/tokens.js';
import { loadConfig } from '../../src/config/load.js';
import { NetNs } from '../helpers/netns.js';
import { sleep } from '../helpers/time.js';

const token = (identity: string, role: 'buyer' | 'seller') => mintToken(loadConfig({}).auth, { room: 'kf-cascade', identity, role }).token;

/** The seller's video layers: key frame requests it got (pliCount) and key frames it made. */
const sent = (page: Page) => page.evaluate<Array<{ rid: string; pliCount: number; keyFramesEncoded: number }>>(`(async () => {
  const layers = [];
  (await window.call.connection.sendTransport.getStats()).forEach((s) => {
    if (s.type === 'outbound-rtp' && s.kind === 'video' && s.keyFramesEncoded) layers.push({ rid: s.rid ?? '', pliCount: s.pliCount, keyFramesEncoded: s.keyFramesEncoded });
  });
  return layers;
})()`);

/**
 * A browser's encoder answers one key frame request per 300 ms and drops the others
 * (libwebrtc's EncoderRtcpFeedback). In a room that spans two nodes, the seller's node asks for
 * a key frame when it starts piping the seller's camera, and the buyer's node asks again a few
 * tens of milliseconds later, when the buyer resumes its consumer: without the node's
 * media.keyFrameRequestDelayMs the second request was dropped, and the buyer saw its first
 * frame a second later, on mediasoup's retry. The test counts requests and key frames, which
 * a busy machine does not change.
 */
describe('a receiver on another node of a spanning room gets its key frame on the first request', () => {
  let ns: NetNs;
  let browser: Browser;

  beforeAll(async () => {
    ns = NetNs.create('kfcascade');
    const redis = ns.startRedis();
    const cluster = { REDIS_URL: redis, CLUSTER_HEARTBEAT_MS: '250', CLUSTER_NODE_TTL_MS: '1500', MEDIA_KEY_FRAME_REQUEST_DELAY_MS: process.env.MEDIA_KEY_FRAME_REQUEST_DELAY_MS ?? '400' };
    await ns.startNode('127.0.0.61', 46460, { ...cluster, NODE_ID: 'a', REGION: 'ap-east' });
    await ns.startNode('127.0.0.62', 46461, { ...cluster, NODE_ID: 'b', REGION: 'eu-central' });
    browser = await ns.launchChromium(['--autoplay-policy=no-user-gesture-required']);
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await ns?.close();
  });

  it('every request that reaches the seller\'s browser is answered, and none is retried', async () => {
    const seller = await (await browser.newContext()).newPage();
    await seller.goto('http://127.0.0.61:8080/healthz');
    await seller.evaluate(`(async () => {
      const { connect } = await import('/sdk/v1/sfu-client.js');
      window.call = await connect(location.origin, ${JSON.stringify(token('seller', 'seller'))});
      await window.call.publishCamera();
    })()`);
    // The seller's first key frames, before anyone asks for one: the baseline of the counts.
    await sleep(1000);
    const before = await sent(seller);
    expect(before.length).toBeGreaterThan(0);

    const buyer = await (await browser.newContext()).newPage();
    await buyer.goto('http://127.0.0.62:8080/healthz');
    const msToFirstFrame = await buyer.evaluate<number>(`(async () => {
      const { connect } = await import('/sdk/v1/sfu-client.js');
      const t0 = performance.now();
      const call = await connect(location.origin, ${JSON.stringify(token('buyer', 'buyer'))});
      return new Promise((resolve) => call.on('trackAdded', ({ track }) => {
        if (track.kind !== 'video') return;
        const v = document.createElement('video');
        v.srcObject = new MediaStream([track]);
        v.muted = true;
        document.body.append(v);
        v.requestVideoFrameCallback(() => resolve(performance.now() - t0));
        void v.play();
      }));
    })()`);
    // Long enough for mediasoup's 1 s retry of a request that went unanswered to show in the counts.
    await sleep(1500);
    const after = await sent(seller);
    console.log(`first frame ${msToFirstFrame.toFixed(0)} ms after connecting; seller's layers ${JSON.stringify(after)}`);

    const asked = after.map((l) => l.pliCount - (before.find((b) => b.rid === l.rid)?.pliCount ?? 0));
    const made = after.map((l) => l.keyFramesEncoded - (before.find((b) => b.rid === l.rid)?.keyFramesEncoded ?? 0));
    // The buyer's nodes asked (the pipe, then the buyer's consumer)...
    expect(Math.max(...asked)).toBeGreaterThan(0);
    // ...and on every layer each request got its key frame: none was dropped and asked again.
    for (const [i, layer] of after.entries()) expect(made[i], `key frames made on layer '${layer.rid}', for ${asked[i]} requests`).toBeGreaterThanOrEqual(asked[i]);
  }, 90_000);
});
