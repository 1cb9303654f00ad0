import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/auth/tokens.js';
import { loadConfig } from '../../src/config/load.js';
import { impair } from '../helpers/netem.js';
import { NetNs } from '../helpers/netns.js';

const IP = '127.0.0.21';
const MEDIA_PORT = 46_410;
const BASE = `http://${IP}:8080`;

/**
 * Two Chromium pages calling through a node over a lossy link (nfq-netem in a namespace, both
 * directions of the media port): audio is repaired by retransmission on both legs (NACK
 * negotiated for Opus), and a receiver whose video freezes is warned about that participant,
 * while the sender, whose own stream the SFU may score low, is not.
 */
describe('a call over a lossy link', () => {
  let ns: NetNs;
  let browser: Browser;
  let seller: Page;
  let buyer: Page;

  const token = (identity: string, role: 'seller' | 'buyer') => mintToken(loadConfig({}).auth, { room: 'lossy', identity, role }).token;
  const join = async (page: Page, identity: string, role: 'seller' | 'buyer', publish: boolean) => {
    await page.goto(`${BASE}/demo/`);
    // A string, so that the test runner leaves the page's dynamic import alone.
    await page.evaluate(`(async () => {
      const { connect } = await import('/sdk/v1/sfu-client.js');
      const call = window.call = await connect(location.origin, ${JSON.stringify(token(identity, role))}, { reportIntervalMs: 2000 });
      window.warnings = [];
      call.on('qualityWarning', (w) => window.warnings.push(w));
      call.on('trackAdded', ({ track }) => {
        const el = document.createElement(track.kind);
        el.srcObject = new MediaStream([track]);
        el.muted = true;
        document.body.append(el);
        el.play().catch(() => {});
      });
      ${publish ? 'await call.publishCamera({ simulcast: false }); await call.publishMicrophone();' : ''}
    })()`);
  };
  /** An RTP stats field of a page's transport streams of one kind, summed. */
  const rtpStat = (page: Page, type: 'inbound-rtp' | 'outbound-rtp', kind: string, field: string) => page.evaluate(async ({ type, kind, field }) => {
    const c = (window as any).call.connection;
    let n = 0;
    for (const t of [c.sendTransport, c.recvTransport]) {
      if (!t) continue;
      (await t.getStats()).forEach((s: any) => {
        if (s.type === type && s.kind === kind && s.mid !== 'probator') n += s[field] ?? 0;
      });
    }
    return n;
  }, { type, kind, field });
  const until = async (what: string, check: () => Promise<boolean>, ms = 30_000) => {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  beforeAll(async () => {
    ns = NetNs.create('lossy');
    await ns.startNode(IP, MEDIA_PORT);
    // 40 ms and 5% loss each way between the browsers and the node's media port.
    await impair(ns, 'INPUT', ['-p', 'udp', '-d', IP, '--dport', String(MEDIA_PORT)], { delayMs: 20, lossPercent: 5 });
    await impair(ns, 'INPUT', ['-p', 'udp', '-s', IP, '--sport', String(MEDIA_PORT)], { delayMs: 20, lossPercent: 5 });
    browser = await ns.launchChromium(['--autoplay-policy=no-user-gesture-required']);
    seller = await (await browser.newContext()).newPage();
    buyer = await (await browser.newContext()).newPage();
    await join(seller, 'seller', 'seller', true);
    await join(buyer, 'buyer', 'buyer', false);
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await ns?.close();
  });

  it('retransmits lost audio on both legs: the buyer asks for it, the node asks the seller', async () => {
    await until('audio NACKs from the buyer', async () => (await rtpStat(buyer, 'inbound-rtp', 'audio', 'nackCount')) > 0);
    await until('audio NACKs reaching the seller', async () => (await rtpStat(seller, 'outbound-rtp', 'audio', 'nackCount')) > 0);
    // And the seller resends what was lost.
    await until('audio retransmitted by the seller', async () => (await rtpStat(seller, 'outbound-rtp', 'audio', 'retransmittedPacketsSent')) > 0);
  }, 60_000);

  it('warns the buyer about the seller when the seller\'s video freezes, and never warns the seller about itself', async () => {
    // Now heavy, bursty loss towards the buyer's side of the node: its video freezes.
    await impair(ns, 'INPUT', ['-p', 'udp', '-s', IP, '--sport', String(MEDIA_PORT)], { delayMs: 20, lossPercent: 40, burst: 20, first: true });
    // Audio may be concealed first; the test waits for the video's own warning, however the intervals fall.
    await until('a video warning at the buyer', async () => (await buyer.evaluate(() => (window as any).warnings.some((w: { kind: string }) => w.kind === 'video'))), 45_000);
    const warnings = await buyer.evaluate(() => (window as any).warnings);
    expect(warnings).toContainEqual(expect.objectContaining({ participantId: 'seller', kind: 'video', reason: 'video-frozen' }));
    for (const w of warnings) expect(w.ratio).toBeGreaterThan(0);
    expect(await seller.evaluate(() => (window as any).warnings)).toEqual([]);
  }, 60_000);
});
