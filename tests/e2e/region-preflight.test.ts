import type { ChildProcess } from 'node:child_process';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/auth/tokens.js';
import { loadConfig } from '../../src/config/load.js';
import { impair } from '../helpers/netem.js';
import { NetNs } from '../helpers/netns.js';

/** Three regions, each one node on its own address in the namespace, with its own distance. */
const NODES = [
  { id: 'us', region: 'us-west', ip: '127.0.0.11', delayMs: 150 },
  { id: 'eu', region: 'eu-central', ip: '127.0.0.12', delayMs: 30 },
  { id: 'ap', region: 'ap-east', ip: '127.0.0.13', delayMs: 90 },
];

/**
 * A buyer's browser measures the round trip to the three regions of a cluster (emulated with
 * nfq-netem in a namespace), is told the nearest, asks for a token with that region, and its
 * room is placed there: not where the coordinates table would guess from the node it reached.
 */
describe('Call.preflight() picks the nearest region, and the room is placed there', () => {
  let ns: NetNs;
  let browser: Browser;
  const nodes: ChildProcess[] = [];

  beforeAll(async () => {
    ns = NetNs.create('region');
    const redis = ns.startRedis();
    for (const [i, n] of NODES.entries()) {
      nodes.push(await ns.startNode(n.ip, 46300 + i, {
        NODE_ID: n.id, REGION: n.region, REDIS_URL: redis, DEMO_DEV_TOKENS: 'on', CLUSTER_HEARTBEAT_MS: '250', CLUSTER_NODE_TTL_MS: '1500',
      }));
      // Every packet from the namespace's clients to this node waits its region's distance.
      await impair(ns, 'OUTPUT', ['-d', n.ip, '-p', 'tcp', '--dport', '8080'], { delayMs: n.delayMs });
    }
    browser = await ns.launchChromium();
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await ns?.close();
  });

  it('measures each region, recommends eu-central (30 ms), and the buyer\'s room lives on its node', async () => {
    const page = await (await browser.newContext()).newPage();
    // The shop's page happens to load from the us-west node.
    await page.goto('http://127.0.0.11:8080/demo/');
    // Strings, so that the test runner leaves the page's own dynamic imports alone.
    const report = await page.evaluate<any>(`(async () => {
      const { Call } = await import('/sdk/v1/sfu-client.js');
      return Call.preflight(location.origin, { devices: false });
    })()`);
    expect(report.regions.map((r: { region: string }) => r.region)).toEqual(['eu-central', 'ap-east', 'us-west']);
    const rtt = Object.fromEntries(report.regions.map((r: { region: string; rttMs: number }) => [r.region, r.rttMs]));
    for (const n of NODES) {
      expect(rtt[n.region]).toBeGreaterThanOrEqual(n.delayMs);
      expect(rtt[n.region]).toBeLessThan(n.delayMs + 40);
    }
    expect(report.recommendedRegion).toBe('eu-central');
    expect(report.browser).toMatchObject({ webrtc: true });

    // The token carries the measured region; the buyer connects to that region's node.
    const { token } = mintToken(loadConfig({}).auth, { room: 'ticket-near', identity: 'buyer-7', region: report.recommendedRegion });
    const placedOn = await page.evaluate<string>(`(async () => {
      const { connect } = await import('/sdk/v1/sfu-client.js');
      const call = await connect(${JSON.stringify(report.regions[0].url)}, ${JSON.stringify(token)});
      await call.publishCamera({ simulcast: false });
      return call.connectedUrl;
    })()`);
    expect(placedOn).toBe('ws://127.0.0.12:8080/v1/rtc');
    // Asked of another node than the room's: the answer is the cluster's.
    const room = JSON.parse(ns.exec('curl', ['-sS', '-H', 'authorization: Bearer dev-only-api-key-change-me', 'http://127.0.0.13:8080/v1/rooms/ticket-near']));
    expect(room.participants).toEqual([expect.objectContaining({ identity: 'buyer-7', node: 'eu', region: 'eu-central' })]);
  }, 90_000);
});
