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
 * buyer waits for. They are counted from the signaling frames, never timed: a test that checks a
 * budget in milliseconds fails on a busy machine (issue 23, item 8).
 */
describe('round trips before media, at 200 ms RTT', () => {
  let ns: NetNs;
  let browser: Browser;
  const token = (identity: string, role: 'seller' | 'buyer', room = 'far') => mintToken(loadConfig({}).auth, { room, identity, role }).token;

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

  /**
   * Counts, in the page, the signaling round trips the client waits on: a request sent after
   * the last answer arrived opens a new flight; requests sent together, before any answer, are
   * one. Counted from the frames, not timed: a busy machine changes the times, not the count.
   */
  const COUNT_FLIGHTS = `(() => {
    const Native = window.WebSocket;
    const rt = window.__rt = { flights: 0, sockets: 0, methods: [] };
    let answered = true;
    window.WebSocket = class extends Native {
      constructor(...args) {
        super(...args);
        rt.sockets++;
        this.addEventListener('message', (e) => { try { if (JSON.parse(e.data).type === 'response') answered = true; } catch {} });
      }
      send(data) {
        try {
          const m = JSON.parse(data);
          // Quality reports go out on a timer, and nothing waits on them.
          if (m.type === 'request' && m.method !== 'reportQuality') {
            if (answered) { rt.flights++; answered = false; }
            rt.methods.push(rt.flights + ':' + m.method);
          }
        } catch {}
        return super.send(data);
      }
    };
  })()`;

  /** Loads the SDK, then runs connect() and `then`, noting the flights so far at each mark (and the page's clock, for the log). */
  const counted = async (page: Page, identity: string, role: 'seller' | 'buyer', then: string, room = 'far') => {
    await page.addInitScript(COUNT_FLIGHTS);
    // Any page of the node will do: the steps counted start once the SDK is loaded.
    await page.goto(`${BASE}/healthz`);
    // A string, so that the test runner leaves the page's dynamic import alone.
    return page.evaluate<{ flights: Record<string, number>; ms: Record<string, number>; sockets: number; methods: string[] }>(`(async () => {
      const { connect } = await import('/sdk/v1/sfu-client.js');
      const flights = {}, ms = {};
      const mark = (name) => { flights[name] = window.__rt.flights; ms[name] = performance.now(); };
      mark('loaded');
      const call = window.call = await connect(location.origin, ${JSON.stringify(token(identity, role, room))});
      mark('connected');
      ${then}
      return { flights, ms, sockets: window.__rt.sockets, methods: window.__rt.methods };
    })()`);
  };

  it('joins in 2 signaling round trips after the socket opens (3 with the consumers it is pushed), publishes in 1, and the buyer\'s first frame needs at most 1 more', async () => {
    const seller = await (await browser.newContext()).newPage();
    const s = await counted(seller, 'seller', 'seller', `
      await call.publishCamera({ simulcast: false });
      mark('camera');
      await call.publishMicrophone();
      mark('microphone');`);

    const buyer = await (await browser.newContext()).newPage();
    const b = await counted(buyer, 'buyer', 'buyer', `
      for (let i = 0; i < 400; i++) {
        let frames = 0;
        (await call.connection.recvTransport.getStats()).forEach((x) => { if (x.type === 'inbound-rtp' && x.kind === 'video') frames += x.framesDecoded ?? 0; });
        if (frames > 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      mark('firstFrame');`);
    const step = (r: typeof s, from: string, to: string) => r.flights[to] - r.flights[from];
    console.log(`[signaling round trips at ${RTT} ms] seller: connect ${step(s, 'loaded', 'connected')}, camera ${step(s, 'connected', 'camera')}, microphone ${step(s, 'camera', 'microphone')}; `
      + `buyer: connect ${step(b, 'loaded', 'connected')}, connected to first frame ${step(b, 'connected', 'firstFrame')}; `
      + `(by the clock: buyer's first frame ${Math.round(b.ms.firstFrame)} ms after the page opened); buyer's requests ${b.methods.join(' ')}`);
    // One socket each; join with its transports, then the capabilities, the transports' connect and the chat channel together.
    expect(s.sockets).toBe(1);
    expect(b.sockets).toBe(1);
    expect(step(s, 'loaded', 'connected')).toBe(2);
    // The buyer also resumes the consumers it is pushed for the seller's tracks (one flight, or two when they come apart).
    expect(step(b, 'loaded', 'connected')).toBeGreaterThanOrEqual(2);
    expect(step(b, 'loaded', 'connected')).toBeLessThanOrEqual(3);
    // produce: its transport's connect goes out with it, not a round trip before it.
    expect(step(s, 'connected', 'camera')).toBe(1);
    expect(step(s, 'camera', 'microphone')).toBe(1);
    // Then nothing is waited on before the first frame but, at most, the second consumer's resume.
    expect(step(b, 'connected', 'firstFrame')).toBeLessThanOrEqual(1);
    expect(b.flights.firstFrame).toBeLessThanOrEqual(4);
  }, 60_000);

  /**
   * The same count for everything a page waits on, seen from the browser's side (Playwright's
   * network and WebSocket events): an HTTP request or a signaling request sent after the last
   * answer arrived opens a new flight; the socket's opening is one. What nothing waits on is
   * left out: the pre-call check's pings (they measure the round trip; joining does not wait for
   * them), quality reports, and the buyer's own publishing (the demo's buyer sends its camera
   * and microphone, caps its receivers' layers, and opens the chat channel beside the first
   * frame, not before it).
   */
  const offPath = new Set(['reportQuality', 'produce', 'produceData', 'setMaxSpatialLayer']);
  const countPage = (page: Page) => {
    const log = { flights: 0, seen: [] as string[] };
    let answered = true;
    const sent = (what: string) => {
      if (answered) { log.flights++; answered = false; }
      log.seen.push(`${log.flights}:${what}`);
    };
    const answer = () => { answered = true; };
    const waitedOn = (url: string) => url.startsWith('http') && !/\/v1\/(ping|regions)\b/.test(url);
    page.on('request', (r) => { if (waitedOn(r.url())) sent(new URL(r.url()).pathname); });
    // The answer is its headers: a page asks for what it links to as its HTML arrives, not once it has all arrived.
    page.on('response', (r) => { if (waitedOn(r.url())) answer(); });
    page.on('requestfailed', (r) => { if (waitedOn(r.url())) answer(); });
    page.on('websocket', (ws) => {
      sent('websocket');
      let open = false;
      const parse = (payload: string | Buffer) => { try { return JSON.parse(String(payload)); } catch { return undefined; } };
      ws.on('framesent', ({ payload }) => {
        if (!open) { open = true; answer(); } // the client speaks first, once the socket is open
        const m = parse(payload);
        if (m?.type === 'request' && !offPath.has(m.method)) sent(m.method);
      });
      ws.on('framereceived', ({ payload }) => { if (parse(payload)?.type === 'response') answer(); });
    });
    return log;
  };

  it('the demo is ready to join 2 round trips after it is opened, and the buyer\'s first frame follows the join button in at most 6', async () => {
    const seller = await (await browser.newContext()).newPage();
    await counted(seller, 'seller', 'seller', 'await call.publishCamera({ simulcast: false });', 'far-demo');

    const buyer = await (await browser.newContext()).newPage();
    const log = countPage(buyer);
    // The page says when it decodes its first frame, through the same channel as the network events: in order with them.
    let atFirstFrame: number | undefined;
    await buyer.exposeFunction('firstFrame', () => { atFirstFrame ??= log.flights; });
    await buyer.goto(`${BASE}/demo/?${new URLSearchParams({ room: 'far-demo', name: 'Buyer', role: 'buyer', captions: 'off' })}`);
    // window.demo is set once the page has its SDK and its config: the join button works from then.
    await buyer.waitForFunction(() => (window as any).demo !== undefined, undefined, { timeout: 30_000 });
    const ready = log.flights;
    await buyer.click('#join-form button[type=submit]');
    await buyer.evaluate(async () => {
      for (let i = 0; i < 1500; i++) {
        let frames = 0;
        const transport = (window as any).demo.call?.connection?.recvTransport;
        if (transport) (await transport.getStats()).forEach((x: any) => { if (x.type === 'inbound-rtp' && x.kind === 'video') frames += x.framesDecoded ?? 0; });
        if (frames > 0) return (window as any).firstFrame();
        await new Promise((r) => setTimeout(r, 20));
      }
    });
    expect(atFirstFrame).toBeDefined();
    const toFirstFrame = atFirstFrame! - ready;
    console.log(`[round trips at ${RTT} ms, the demo] page open to ready ${ready}, join button to first frame ${toFirstFrame}: ${log.seen.join(' ')}`);
    // The page, then its style, script, the SDK and the config together.
    expect(ready).toBe(2);
    // The token, the socket's opening, join, the capabilities with the send transport's connect;
    // then the receive transport's connect and the consumers' resume, one flight or two (an answer
    // to something else can arrive between them).
    expect(toFirstFrame).toBeGreaterThanOrEqual(4);
    expect(toFirstFrame).toBeLessThanOrEqual(6);
  }, 90_000);
});
