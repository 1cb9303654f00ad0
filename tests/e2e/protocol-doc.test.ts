import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { codeBlocks } from '../helpers/doc-runner.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { bundleForBrowser, StaticServer } from '../helpers/static-server.js';
import { waitFor, WeriftPeer } from '../helpers/werift-peer.js';

/**
 * docs/protocol.md's mediasoup-client example, as a developer would use it: copied from the
 * document into their app, served from their own origin, with mediasoup-client from npm
 * bundled for the browser (an import map stands in for their bundler).
 */
describe('docs/protocol.md: the mediasoup-client example', () => {
  let t: TestNode;
  let app: StaticServer;
  let browser: Browser;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'protocol-app-'));

  beforeAll(async () => {
    t = await startTestNode();
    const example = codeBlocks(fs.readFileSync('docs/protocol.md', 'utf8')).find((b) => b.attrs.file === 'protocol-client.js')!;
    fs.writeFileSync(path.join(dir, 'protocol-client.js'), example.code);
    await bundleForBrowser('mediasoup-client', ['Device', 'detectDevice', 'version'], path.join(dir, 'vendor/mediasoup-client.js'));
    fs.writeFileSync(path.join(dir, 'index.html'), `<!doctype html>
<script type="importmap">{ "imports": { "mediasoup-client": "/vendor/mediasoup-client.js" } }</script>
<script type="module">
  import { joinRoom } from '/protocol-client.js';
  window.start = async (nodeUrl, token) => {
    window.tracks = [];
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 360 } });
    window.call = await joinRoom(nodeUrl, token, stream, ({ participantId, kind, track }) => {
      const el = document.createElement(kind);
      el.autoplay = true;
      el.muted = true;
      el.srcObject = new MediaStream([track]);
      document.body.append(el);
      window.tracks.push({ participantId, kind });
    });
    return window.call.peerId;
  };
</script>`);
    app = await StaticServer.start(dir);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await t?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('joins from another origin, receives the seller’s camera and microphone, and sends its own', async () => {
    const seller = await WeriftPeer.connect(t.ws, t.token({ room: 'protocol-doc', identity: 'seller', role: 'seller' }));
    try {
      await seller.publish({ data: false });
      const page = await (await browser.newContext()).newPage();
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      await page.goto(app.url);
      await page.waitForFunction(() => typeof (window as any).start === 'function', undefined, { timeout: 10_000 }).catch(() => {
        throw new Error(`the page did not load: ${errors.join('; ')}`);
      });
      expect(new URL(app.url).origin).not.toBe(new URL(t.http).origin);
      const peerId = await page.evaluate(([url, token]) => (window as any).start(url, token), [t.http, t.token({ room: 'protocol-doc', identity: 'buyer-7' })]);
      expect(peerId).toBe('buyer-7');
      await page.waitForFunction(() => (window as any).tracks.length === 2, undefined, { timeout: 20_000 });
      expect(await page.evaluate(() => (window as any).tracks)).toEqual(expect.arrayContaining([{ participantId: 'seller', kind: 'audio' }, { participantId: 'seller', kind: 'video' }]));
      const width = await page.waitForFunction(() => document.querySelector('video')!.videoWidth, undefined, { timeout: 20_000 });
      expect(await width.jsonValue()).toBe(320);
      // What the page sends reaches the seller.
      await seller.subscribe({ consumers: 2 });
      await waitFor(() => seller.received.video.packets > 30 && seller.received.audio.packets > 30, 'the page’s media at the seller');
      await page.evaluate(() => (window as any).call.leave());
      expect(await seller.client.notification('peerLeft', (d) => d.peerId === 'buyer-7')).toBeTruthy();
    } finally {
      await seller.close();
    }
  });
});
