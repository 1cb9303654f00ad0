import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../helpers/browser.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { waitFor, WeriftPeer } from '../helpers/werift-peer.js';

/**
 * A signaling path the test controls: every socket is relayed to the node, the first one can be
 * cut, and on the second (the SDK's first rejoin attempt) the node is never asked to `produce`;
 * the relay answers it with an error, so that attempt joins and then fails.
 */
class FlakyRelay {
  readonly server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  readonly sockets: WebSocket[] = [];
  /** What each socket's client asked, in order: `${socket}:${method}`. */
  readonly requests: string[] = [];
  injected = 0;

  constructor(upstream: string) {
    this.server.on('connection', (client) => {
      const n = this.sockets.push(client);
      const node = new WebSocket(upstream);
      const early: string[] = [];
      node.on('open', () => early.splice(0).forEach((m) => node.send(m)));
      node.on('message', (m) => client.readyState === WebSocket.OPEN && client.send(String(m)));
      node.on('close', () => client.close());
      node.on('error', () => client.close());
      client.on('close', () => node.close());
      client.on('message', (raw) => {
        const text = String(raw);
        const msg = JSON.parse(text) as { id: number; method: string };
        this.requests.push(`${n}:${msg.method}`);
        if (n === 2 && msg.method === 'produce') {
          this.injected++;
          client.send(JSON.stringify({ type: 'response', id: msg.id, ok: false, error: { code: 'INTERNAL_ERROR', message: 'refused by the test relay' } }));
          return;
        }
        if (node.readyState === WebSocket.OPEN) node.send(text);
        else early.push(text);
      });
    });
  }

  get url() {
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1/rtc`;
  }

  cutFirst() {
    this.sockets[0].terminate();
  }

  close() {
    for (const s of this.sockets) s.terminate();
    this.server.close();
  }
}

/**
 * A rejoin attempt that joins and then fails (here: its publish is refused) must not stay
 * connected beside the next attempt. Before the fix it did: the next attempt's join replaced it
 * on the node, its socket was told DUPLICATE_IDENTITY, and the call took that as its own end
 * while the new attempt went on: its participants cleared (empty, if the word came after the
 * new join's answer), an error raised, and the call marked as left, so it never recovered from
 * another drop.
 */
describe('a rejoin attempt that fails after joining', () => {
  let t: TestNode;
  let browser: Browser;
  let relay: FlakyRelay;
  let seller: WeriftPeer;

  beforeAll(async () => {
    t = await startTestNode();
    browser = await launchBrowser();
    relay = new FlakyRelay(t.ws);
    await new Promise((r) => relay.server.once('listening', r));
    seller = await WeriftPeer.connect(t.ws, t.token({ room: 'race', identity: 'seller', role: 'seller' }));
    await seller.publish({ data: false });
  });
  afterAll(async () => {
    relay?.close();
    await seller?.close();
    await browser?.close();
    await t?.close();
  });

  const look = (page: Page) => page.evaluate(`(async () => {
    const call = window.call;
    let audioIn = 0;
    const recv = call.connection && call.connection.recvTransport;
    if (recv && !recv.closed) (await recv.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'audio') audioIn += s.packetsReceived; });
    return { state: call.state, participants: [...call.participants.keys()], errors: window.errors, audioIn };
  })()`) as Promise<{ state: string; participants: string[]; errors: string[]; audioIn: number }>;

  it('is torn down: the next attempt connects, the seller is still in call.participants and media flows', async () => {
    const page = await browser.newPage();
    await page.goto(`${t.http}/demo/`);
    await page.evaluate(`(async () => {
      const { Call } = await import('/sdk/v1/sfu-client.js');
      // No resume window: a dropped socket rejoins from scratch at once.
      const call = window.call = new Call(${JSON.stringify(relay.url)}, ${JSON.stringify(t.token({ room: 'race', identity: 'buyer', role: 'buyer' }))}, { resumeWindowMs: 0 });
      window.errors = [];
      call.on('error', (e) => window.errors.push(e.code));
      await call.start();
      await call.publishMicrophone();
    })()`);
    await waitFor(async () => (await look(page)).audioIn > 20, 'the seller\'s audio at the buyer');
    expect((await look(page)).participants).toContain('seller');

    relay.cutFirst();
    // Attempt 2 joins and is refused its publish; attempt 3 is the one that stays.
    await waitFor(() => relay.requests.includes('3:join'), 'a second rejoin attempt', 30_000);
    expect(relay.requests).toContain('2:join');
    expect(relay.injected).toBe(1);
    await waitFor(async () => (await look(page)).state === 'connected' && relay.requests.includes('3:produce'), 'the call connected again', 30_000);
    const before = (await look(page)).audioIn;
    await waitFor(async () => (await look(page)).audioIn > before + 20, 'the seller\'s audio after the rejoin');
    const after = await look(page);
    expect(after.state).toBe('connected');
    expect(after.participants).toContain('seller');
    expect(after.errors).not.toContain('DUPLICATE_IDENTITY');
    // The failed attempt's socket was closed by the SDK, not left open beside the third.
    expect(relay.sockets[1].readyState).toBe(WebSocket.CLOSED);

    // The call is still the SDK's to keep up: the next drop is recovered as the first was.
    relay.sockets[2].terminate();
    await waitFor(() => relay.requests.includes('4:produce'), 'a rejoin after the next drop', 30_000);
    await waitFor(async () => (await look(page)).state === 'connected', 'the call connected again', 30_000);
    const again = (await look(page)).audioIn;
    await waitFor(async () => (await look(page)).audioIn > again + 20, 'the seller\'s audio after the second rejoin');
    expect((await look(page)).participants).toEqual(['seller']);
  }, 90_000);
});
