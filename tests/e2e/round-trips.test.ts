import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/auth/tokens.js';
import { loadConfig } from '../../src/config/load.js';
import { impair } from '../helpers/netem.js';
import { NetNs } from '../helpers/netns.js';

const IP = '127.0.0.31';
const MEDIA_PORT = 46_430;
const BASE = `http://${IP}:8080`;
const ONE_WAY_MS = 100;
const RTT = 2 * ONE_WAY_MS;

/**
 * How many round trips each step of a call costs, over a 200 ms RTT link (nfq-netem delays
 * every packet between the browsers and the node, signaling and media, as it arrives: held on
 * the way out, a packet would still count against its sender's socket and throttle TCP to a few
 * packets per RTT, which no real network does). At that distance the round trips are what the
 * buyer waits for; the budgets below are what the SDK needs now.
 */
describe('round trips before media, at 200 ms RTT', () => {
  let ns: NetNs;
  let browser: Browser;
  const token = (identity: string, role: 'seller' | 'buyer') => mintToken(loadConfig({}).auth, { room: 'far', identity, role }).token;

  beforeAll(async () => {
    ns = NetNs.create('rtt');
    await ns.startNode(IP, MEDIA_PORT);
    for (const match of [['-p', 'tcp', '-d', IP, '--dport', '8080'], ['-p', 'tcp', '-s', IP, '--sport', '8080'],
      ['-p', 'udp', '-d', IP, '--dport', String(MEDIA_PORT)], ['-p', 'udp', '-s', IP, '--sport', String(MEDIA_PORT)]]) {
      await impair(ns, 'INPUT', match, { delayMs: ONE_WAY_MS });
    }
    browser = await ns.launchChromium();
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await ns?.close();
  });

  /** Loads the SDK, then times connect() and what `then` does, in ms, from the page's own clock. */
  const timed = async (page: Page, identity: string, role: 'seller' | 'buyer', then: string) => {
    // Any page of the node will do: the steps timed start once the SDK is loaded.
    await page.goto(`${BASE}/healthz`);
    // A string, so that the test runner leaves the page's dynamic import alone.
    return page.evaluate<Record<string, number>>(`(async () => {
      const { connect } = await import('/sdk/v1/sfu-client.js');
      const t = { loaded: performance.now() };
      const call = window.call = await connect(location.origin, ${JSON.stringify(token(identity, role))});
      t.connected = performance.now();
      ${then}
      return t;
    })()`);
  };

  it('joins in 4 round trips, publishes in 1, and the buyer sees the seller within 3 s of opening the page', async () => {
    const seller = await (await browser.newContext()).newPage();
    const s = await timed(seller, 'seller', 'seller', `
      await call.publishCamera({ simulcast: false });
      t.camera = performance.now();
      await call.publishMicrophone();
      t.microphone = performance.now();`);
    const connect = (s.connected - s.loaded) / RTT;
    const camera = (s.camera - s.connected) / RTT;
    const microphone = (s.microphone - s.camera) / RTT;

    const buyer = await (await browser.newContext()).newPage();
    const b = await timed(buyer, 'buyer', 'buyer', `
      for (let i = 0; i < 400; i++) {
        let frames = 0;
        (await call.connection.recvTransport.getStats()).forEach((x) => { if (x.type === 'inbound-rtp' && x.kind === 'video') frames += x.framesDecoded ?? 0; });
        if (frames > 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      t.firstFrame = performance.now();`);
    console.log(`[round trips at ${RTT} ms] seller: connect ${connect.toFixed(1)}, camera ${camera.toFixed(1)}, microphone ${microphone.toFixed(1)}; `
      + `buyer: page to SDK loaded ${(b.loaded / RTT).toFixed(1)}, connect ${((b.connected - b.loaded) / RTT).toFixed(1)}, connected to first frame ${((b.firstFrame - b.connected) / RTT).toFixed(1)}; first frame ${Math.round(b.firstFrame)} ms after the page opened`);
    // WebSocket (TCP handshake, upgrade), join with its transports, then the capabilities and the chat channel together.
    expect(connect).toBeLessThan(4.5);
    expect((b.connected - b.loaded) / RTT).toBeLessThan(4.5);
    // produce: its transport's connect goes out with it, not before it.
    expect(camera).toBeLessThan(1.5);
    expect(microphone).toBeLessThan(1.5);
    expect(b.firstFrame).toBeLessThan(3000);
  }, 60_000);
});
