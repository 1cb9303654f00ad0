import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { codeBlocks } from '../helpers/doc-runner.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { freePort } from '../helpers/redis-server.js';
import { waitFor, WeriftPeer } from '../helpers/werift-peer.js';

/**
 * The README's "Add a call to your app in 10 minutes", copied as a developer copies it: its
 * backend.mjs and page.html, with two changes only (the node's address for
 * https://sfu.example.com, a free port for 3000). The page is served by that backend, on
 * another origin than the node, and loads the SDK from the node.
 */
describe('the README\'s call page, from another origin', () => {
  let t: TestNode;
  let browser: Browser;
  let backend: ChildProcess;
  let appUrl: string;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'readme-app-'));

  beforeAll(async () => {
    t = await startTestNode();
    const port = await freePort();
    appUrl = `http://localhost:${port}`;
    const blocks = codeBlocks(fs.readFileSync('README.md', 'utf8')).filter((b) => b.attrs.file);
    expect(blocks.map((b) => b.attrs.file).sort()).toEqual(['backend.mjs', 'page.html']);
    for (const b of blocks) fs.writeFileSync(path.join(dir, b.attrs.file), b.code.replaceAll('https://sfu.example.com', t.http).replace(/\b3000\b/g, String(port)));
    backend = spawn(process.execPath, ['backend.mjs'], { cwd: dir, env: { ...process.env, SFU_API_KEY: t.config.auth.apiKeys[0] }, stdio: 'inherit' });
    await waitFor(async () => (await fetch(appUrl).catch(() => undefined))?.ok === true, 'the app\'s backend');
    browser = await launchBrowser();
  });
  afterAll(async () => {
    backend?.kill();
    await browser?.close();
    await t?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('gets its token from the backend, joins, shows the seller, sends its camera, and hangs up', async () => {
    const seller = await WeriftPeer.connect(t.ws, t.token({ room: 'ticket-42', identity: 'seller-3', role: 'seller' }));
    try {
      await seller.publish({ data: false });
      const page = await (await browser.newContext()).newPage();
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      await page.goto(appUrl);
      expect(new URL(appUrl).origin).not.toBe(new URL(t.http).origin);
      const width = await page.waitForFunction(() => document.querySelector<HTMLVideoElement>('#others video')?.videoWidth, undefined, { timeout: 20_000 })
        .catch(() => { throw new Error(`no remote video; page errors: ${errors.join('; ')}`); });
      expect(await width.jsonValue()).toBe(320);
      expect(await page.evaluate(() => document.querySelectorAll('#others audio').length)).toBe(1);
      await page.waitForFunction(() => document.querySelector<HTMLVideoElement>('#me')!.videoWidth > 0);
      await seller.subscribe({ consumers: 2 });
      await waitFor(() => seller.received.video.packets > 30, 'the page\'s camera at the seller');
      await page.click('#hangup');
      expect(await seller.client.notification('peerLeft', (d) => d.peerId === 'buyer-7')).toBeTruthy();
      expect(errors).toEqual([]);
    } finally {
      await seller.close();
    }
  });
});
