import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { codeBlocks } from '../helpers/doc-runner.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { StaticServer } from '../helpers/static-server.js';
import { waitFor, WeriftPeer } from '../helpers/werift-peer.js';

/** docs/sdk.md's complete page, served from an app's own origin, against a buyer (werift) in the call. */
describe('docs/sdk.md: the seller page', () => {
  let t: TestNode;
  let app: StaticServer;
  let browser: Browser;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sdk-doc-app-'));

  beforeAll(async () => {
    t = await startTestNode();
    const page = codeBlocks(fs.readFileSync('docs/sdk.md', 'utf8')).find((b) => b.attrs.file === 'seller.html')!;
    fs.writeFileSync(path.join(dir, 'seller.html'), page.code.replaceAll('https://sfu.example.com', t.http));
    app = await StaticServer.start(dir);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await t?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('joins, shows and sends media, chats both ways, shows quality, and captures a photo of the buyer', async () => {
    const buyer = await WeriftPeer.connect(t.ws, t.token({ room: 'sdk-doc', identity: 'buyer-7', name: 'Ana', role: 'buyer' }));
    try {
      await buyer.publish({ data: true });
      const page = await (await browser.newContext()).newPage();
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      await page.goto(`${app.url}/seller.html#token=${t.token({ room: 'sdk-doc', identity: 'seller-3', name: 'Jonas', role: 'seller' })}`);
      await page.waitForFunction(() => document.querySelector<HTMLVideoElement>('#others video')?.videoWidth === 320, undefined, { timeout: 20_000 })
        .catch(() => { throw new Error(`no remote video: ${errors.join('; ')}`); });
      expect(await page.textContent('#status')).toBe('connected');

      // The buyer receives the seller's camera, microphone and chat channel.
      await buyer.subscribe({ consumers: 2, dataConsumers: 1 });
      await waitFor(() => buyer.received.video.packets > 30, 'the page\'s camera at the buyer');
      buyer.sendMessage(JSON.stringify({ type: 'chat', text: 'the hinge is loose', at: Date.now() }));
      await page.locator('#chat li', { hasText: 'Ana: the hinge is loose' }).waitFor({ timeout: 10_000 });
      await page.fill('#say input', 'please show me the hinge');
      await page.click('#say button');
      await waitFor(() => buyer.messages.some((m) => JSON.parse(m).text === 'please show me the hinge'), 'the seller\'s chat at the buyer');

      await page.locator('#quality', { hasText: /Ana: \d+ ms/ }).waitFor({ timeout: 10_000 });
      await page.click('#photo');
      const photo = await page.waitForFunction(() => document.querySelector<HTMLImageElement>('img')?.naturalWidth, undefined, { timeout: 20_000 });
      expect(await photo.jsonValue()).toBe(320);
      expect(errors).toEqual([]);
    } finally {
      await buyer.close();
    }
  });
});
