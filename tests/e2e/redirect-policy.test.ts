import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../helpers/browser.js';
import { startTestNode, type TestNode } from '../helpers/node.js';

/** A node (or whoever answers on its socket) that redirects to a host the app did not allow. */
describe('the SDK follows redirects only to allowed hosts', () => {
  let t: TestNode;
  let browser: Browser;
  let fake: WebSocketServer;
  const joins: string[] = [];

  beforeAll(async () => {
    t = await startTestNode();
    browser = await launchBrowser();
    fake = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    fake.on('connection', (ws) => ws.on('message', (raw) => {
      const req = JSON.parse(String(raw));
      joins.push(req.data.token);
      ws.send(JSON.stringify({
        type: 'response', id: req.id, ok: false,
        error: { code: 'REDIRECT', message: 'go elsewhere', redirect: { nodeId: 'evil', region: 'x', url: 'http://evil.example:1' } },
      }));
    }));
    await new Promise((r) => fake.once('listening', r));
  });
  afterAll(async () => {
    fake?.close();
    await browser?.close();
    await t?.close();
  });

  it('refuses a redirect to another host with REDIRECT_REFUSED, and never takes the token there', async () => {
    const page = await browser.newPage();
    await page.goto(`${t.http}/demo/`);
    const url = `ws://127.0.0.1:${(fake.address() as AddressInfo).port}/v1/rtc`;
    const outcome = await page.evaluate(`(async () => {
      const { Call } = await import('/sdk/sfu-client.js');
      try {
        await new Call(${JSON.stringify(url)}, 'a-token').start();
        return 'joined';
      } catch (err) {
        return err.code;
      }
    })()`);
    expect(outcome).toBe('REDIRECT_REFUSED');
    expect(joins).toEqual(['a-token']);
  });
});
