import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { freePort } from '../helpers/redis-server.js';
import { StaticServer } from '../helpers/static-server.js';
import { WeriftPeer } from '../helpers/werift-peer.js';
import { clipOpusFrames, GOFORWARD_TEXT } from '../helpers/speech-clips.js';

/**
 * examples/web-component: <sfu-call> dropped into a shop's page on its own origin, joining a
 * call with a seller (werift) in it; and the sentences it shows when the camera is blocked,
 * when there is none, and when the node cannot be reached.
 */
describe('the <sfu-call> web component', () => {
  let t: TestNode;
  let app: StaticServer;
  const browsers: Browser[] = [];
  let seller: WeriftPeer;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shop-'));

  const page = async (node: string, token: string, options?: { devices?: boolean; grant?: boolean }): Promise<Page> => {
    const browser = await launchBrowser([], options);
    browsers.push(browser);
    const p = await (await browser.newContext()).newPage();
    await p.goto(`${app.url}/order.html?node=${encodeURIComponent(node)}&token=${encodeURIComponent(token)}`);
    await p.waitForFunction(() => customElements.get('sfu-call') !== undefined);
    await p.locator('sfu-call').locator('button.join').click();
    return p;
  };
  const shown = (p: Page, selector: string) => p.locator('sfu-call').locator(selector);

  beforeAll(async () => {
    t = await startTestNode();
    fs.copyFileSync('examples/web-component/sfu-call.js', path.join(dir, 'sfu-call.js'));
    // The shop's page, as the example's index.html but with the node and token from the address.
    fs.writeFileSync(path.join(dir, 'order.html'), `<!doctype html><meta charset="utf-8"><h1>Order A-1001</h1>
<script type="module">
  import './sfu-call.js';
  const q = new URLSearchParams(location.search);
  const call = document.createElement('sfu-call');
  call.setAttribute('node', q.get('node'));
  call.setAttribute('token', q.get('token'));
  document.body.append(call);
</script>`);
    app = await StaticServer.start(dir);
    seller = await WeriftPeer.connect(t.ws, t.token({ room: 'shop-order', identity: 'seller', role: 'seller' }));
    await seller.publish({ data: false });
  });
  afterAll(async () => {
    await seller?.close();
    for (const b of browsers) await b.close();
    await app?.close();
    await t?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('joins on its button: connected, camera and microphone on, the seller\'s video shown; leaves', async () => {
    const p = await page(t.http, t.token({ room: 'shop-order', identity: 'buyer-1' }));
    await shown(p, '.connection').filter({ hasText: 'connected' }).waitFor({ timeout: 20_000 });
    await shown(p, '.cam').filter({ hasText: 'on' }).waitFor({ timeout: 20_000 });
    await shown(p, '.mic').filter({ hasText: 'on' }).waitFor();
    await p.waitForFunction(() => [...document.querySelector('sfu-call')!.shadowRoot!.querySelectorAll('video:not(.me)')].some((v) => (v as HTMLVideoElement).videoWidth === 320), undefined, { timeout: 20_000 });
    expect(await shown(p, '.error').isHidden()).toBe(true);
    await shown(p, 'button.microphone').click();
    await shown(p, '.mic').filter({ hasText: 'off' }).waitFor();
    await shown(p, 'button.leave').click();
    expect(await seller.client.notification('peerLeft', (d) => d.peerId === 'buyer-1')).toBeTruthy();
    await shown(p, '.connection').filter({ hasText: 'idle' }).waitFor();
  });

  it('a blocked camera and microphone: a sentence saying how to allow them; the call itself is connected', async () => {
    const p = await page(t.http, t.token({ room: 'shop-order', identity: 'buyer-2' }), { grant: false });
    await shown(p, '.error').filter({ hasText: 'blocked for this page' }).waitFor({ timeout: 20_000 });
    expect(await shown(p, '.connection').textContent()).toBe('connected');
    expect(await shown(p, '.cam').textContent()).toBe('unavailable');
  });

  it('no camera or microphone at all: a sentence saying so', async () => {
    const p = await page(t.http, t.token({ room: 'shop-order', identity: 'buyer-3' }), { devices: false });
    await shown(p, '.error').filter({ hasText: 'No camera or microphone was found' }).waitFor({ timeout: 20_000 });
  });

  it('a node that cannot be reached: a sentence saying so, and Join works again', async () => {
    const p = await page(`http://127.0.0.1:${await freePort()}`, 'any-token');
    await shown(p, '.error').filter({ hasText: 'cannot be reached' }).waitFor({ timeout: 20_000 });
    expect(await shown(p, '.connection').textContent()).toBe('idle');
    expect(await shown(p, 'button.join').isEnabled()).toBe(true);
  });

  it('in a room with captions it says so, and shows the seller\'s words with the buyer\'s language under them', async () => {
    const created = await fetch(`${t.http}/v1/rooms`, {
      method: 'POST', headers: { authorization: `Bearer ${t.config.auth.apiKeys[0]}`, 'content-type': 'application/json' },
      body: JSON.stringify({ room: 'shop-captions', captions: true }),
    });
    expect(created.status).toBe(201);
    const speaker = await WeriftPeer.connect(t.ws, t.token({ room: 'shop-captions', identity: 'seller-en', name: 'Seller', role: 'seller', language: 'en' }));
    try {
      await speaker.publish({ video: false, data: false, audioFrames: clipOpusFrames() });
      const p = await page(t.http, t.token({ room: 'shop-captions', identity: 'buyer-es', role: 'buyer', language: 'es' }));
      await shown(p, '.notice').waitFor({ timeout: 20_000 });
      const line = shown(p, '.captions li.final').filter({ hasText: `Seller: ${GOFORWARD_TEXT}` });
      await line.waitFor({ timeout: 40_000 });
      expect(await line.locator('.translated').textContent()).toBe('Va de frente diez metros');
    } finally {
      await speaker.close();
    }
  });
});
