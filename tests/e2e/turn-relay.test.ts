import type { ChildProcess } from 'node:child_process';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audioPackets, joinDemo, videoFrames, waitForStats } from '../helpers/browser.js';
import { Coturn } from '../helpers/coturn.js';
import { NetNs } from '../helpers/netns.js';

const SECRET = 'turn-shared-secret-0123456789abcdef';
const MEDIA_PORT = 46100;
const [TURN_PORT, TURNS_PORT] = [3478, 443];

/**
 * A buyer behind a firewall that lets nothing through but TLS to port 443: in a namespace of
 * the test's own, the node's media ports are closed to everyone but coturn's relay address,
 * and coturn's plain port is closed too. Two Chromium pages still call, through TURN over TLS.
 */
describe('a call through coturn over TLS on 443, every direct path blocked', () => {
  let ns: NetNs;
  let coturn: Coturn;
  let node: ChildProcess;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    ns = NetNs.create('turn');
    coturn = await Coturn.start({ secret: SECRET, listenIp: '127.0.0.1', port: TURN_PORT, tlsPort: TURNS_PORT, relayIp: '127.0.0.2', ns });
    node = ns.spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      env: {
        ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'warn', PORT: '8080', HOST: '127.0.0.1', MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_NUM_WORKERS: '1',
        MEDIA_WEBRTC_PORT_BASE: String(MEDIA_PORT), DEMO_DEV_TOKENS: 'on', STORE_PATH: ':memory:',
        TURN_URLS: `stun:127.0.0.1:${TURN_PORT},turn:127.0.0.1:${TURN_PORT}?transport=udp,turn:127.0.0.1:${TURN_PORT}?transport=tcp,turns:127.0.0.1:${TURNS_PORT}?transport=tcp`,
        TURN_SECRET: SECRET,
      },
    });
    base = await new Promise<string>((resolve, reject) => {
      node.on('message', (m: { type?: string; url?: string }) => m.type === 'listening' && resolve(m.url!));
      node.once('exit', (code) => reject(new Error(`the node exited with ${code}`)));
    });
    // The firewall: the node's media only from coturn's relay address; coturn only over TLS.
    for (const protocol of ['udp', 'tcp']) {
      ns.iptables('-A', 'INPUT', '-p', protocol, '--dport', String(MEDIA_PORT), '!', '-s', '127.0.0.2', '-j', 'DROP');
      ns.iptables('-A', 'INPUT', '-p', protocol, '--dport', String(TURN_PORT), '-j', 'DROP');
    }
    browser = await chromium.launch({
      executablePath: ns.chromiumLauncher(),
      args: [
        '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--allow-loopback-in-peer-connection',
        '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run',
        // The test's way of trusting coturn's self-signed certificate, as a browser trusts a CA.
        `--ignore-certificate-errors-spki-list=${coturn.spkiHash}`,
      ],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    coturn?.stop();
    await ns?.close();
  });

  it('preflight says UDP is blocked and TURN is needed; and that UDP works once it does', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${base}/demo/`);
    const check = () => page.evaluate<any>(`(async () => {
      const { Call } = await import('/sdk/v1/sfu-client.js');
      return Call.preflight(location.origin);
    })()`);
    const blocked = await check();
    expect(blocked).toMatchObject({ udp: false, turnNeeded: true, recommendedRegion: 'local', camera: { ok: true }, microphone: { ok: true } });
    ns.iptables('-D', 'INPUT', '-p', 'udp', '--dport', String(TURN_PORT), '-j', 'DROP');
    try {
      expect(await check()).toMatchObject({ udp: true, turnNeeded: false });
    } finally {
      ns.iptables('-I', 'INPUT', '-p', 'udp', '--dport', String(TURN_PORT), '-j', 'DROP');
    }
  }, 60_000);

  it('connects both pages through a relay over TLS, with video decoded both ways', async () => {
    const [sellerPage, buyerPage] = [await (await browser.newContext()).newPage(), await (await browser.newContext()).newPage()];
    const sellerId = await joinDemo(sellerPage, base, { room: 'firewalled', name: 'Seller', role: 'seller' });
    const buyerId = await joinDemo(buyerPage, base, { room: 'firewalled', name: 'Buyer', role: 'buyer' });
    for (const [page, from] of [[buyerPage, sellerId], [sellerPage, buyerId]] as const) {
      await waitForStats(page, `video from ${from} through the relay`, (s) => videoFrames(s, from) > 10 && audioPackets(s, from) > 20, 60_000);
    }
    // The selected candidate pair of each transport is a relay reached over TLS.
    for (const page of [sellerPage, buyerPage]) {
      const selected = await page.evaluate(async () => {
        const connection = (window as any).demo.call.connection;
        const out: Array<{ type: string; protocol?: string; relayProtocol?: string }> = [];
        for (const transport of [connection.sendTransport, connection.recvTransport]) {
          const stats: RTCStatsReport = await transport.getStats();
          let pairId: string | undefined;
          stats.forEach((s: any) => { if (s.type === 'transport') pairId = s.selectedCandidatePairId; });
          const pair: any = pairId && stats.get(pairId);
          const local: any = pair && stats.get(pair.localCandidateId);
          out.push({ type: local?.candidateType, relayProtocol: local?.relayProtocol });
        }
        return out;
      });
      expect(selected).toEqual([{ type: 'relay', relayProtocol: 'tls' }, { type: 'relay', relayProtocol: 'tls' }]);
    }
  }, 120_000);
});
