import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { bundleForBrowser, StaticServer } from '../helpers/static-server.js';

/**
 * A client written from docs/protocol.md on plain mediasoup-client (no SDK) receives a
 * simulcast camera and chooses its layer with setConsumerPreferredLayers: down to layer 0 and
 * back up. What the page decodes is checked (its frame width), not what the node says it does.
 */
describe('a protocol client chooses the simulcast layer it receives', () => {
  let t: TestNode;
  let app: StaticServer;
  let browser: Browser;
  /** The current mediasoup-client, and the 3.18 an outside client was written on. */
  const VERSIONS = { current: 'mediasoup-client', '3.18': 'mediasoup-client-3-18' };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'protocol-layers-'));

  beforeAll(async () => {
    t = await startTestNode({ demo: { devTokens: 'on' } });
    for (const [name, pkg] of Object.entries(VERSIONS)) await bundleForBrowser(pkg, ['Device', 'version'], path.join(dir, `mediasoup-client-${name}.js`));
    // The documented flow, with the consumers kept so that the page can choose their layers.
    fs.writeFileSync(path.join(dir, 'index.html'), `<!doctype html>
<script type="module">
  const { Device, version } = await import('/mediasoup-client-' + new URLSearchParams(location.search).get('v') + '.js');
  window.version = version;
  /** Joins as the docs say; publishes the camera in three simulcast layers when asked, and receives. */
  window.join = async (nodeUrl, token, publish) => {
    const ws = new WebSocket(nodeUrl.replace(/^http/, 'ws') + '/v1/rtc');
    await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
    let nextId = 1;
    const pending = new Map();
    const early = [];
    let onNotification = (n) => early.push(n);
    ws.onmessage = ({ data }) => {
      const msg = JSON.parse(data);
      if (msg.type === 'notification') return onNotification(msg);
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      msg.ok ? p.resolve(msg.data) : p.reject(Object.assign(new Error(msg.error.message), { code: msg.error.code }));
    };
    const request = window.request = (method, data = {}) => new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ type: 'request', id, method, data }));
    });
    const joined = await request('join', { token });
    const device = new Device();
    await device.load({ routerRtpCapabilities: joined.routerRtpCapabilities });
    await request('setRtpCapabilities', { rtpCapabilities: device.rtpCapabilities });
    const t = await request('createTransport', { direction: 'recv' });
    const recv = window.recv = device.createRecvTransport({ id: t.transportId, iceParameters: t.iceParameters, iceCandidates: t.iceCandidates, dtlsParameters: t.dtlsParameters, sctpParameters: t.sctpParameters });
    recv.on('connect', ({ dtlsParameters }, done, fail) => { request('connectTransport', { transportId: recv.id, dtlsParameters }).then(done, fail); });
    if (publish) {
      const st = await request('createTransport', { direction: 'send' });
      const send = device.createSendTransport({ id: st.transportId, iceParameters: st.iceParameters, iceCandidates: st.iceCandidates, dtlsParameters: st.dtlsParameters, sctpParameters: st.sctpParameters });
      send.on('connect', ({ dtlsParameters }, done, fail) => { request('connectTransport', { transportId: send.id, dtlsParameters }).then(done, fail); });
      send.on('produce', ({ kind, rtpParameters, appData }, done, fail) => {
        request('produce', { transportId: send.id, kind, rtpParameters, appData }).then(({ producerId }) => done({ id: producerId }), fail);
      });
      const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
      await send.produce({ track: stream.getVideoTracks()[0], encodings: [{ scaleResolutionDownBy: 4 }, { scaleResolutionDownBy: 2 }, { scaleResolutionDownBy: 1 }], appData: { source: 'camera' } });
      return;
    }
    window.video = new Promise((resolve) => {
      onNotification = async ({ method, data }) => {
        if (method !== 'newConsumer') return;
        const consumer = await recv.consume({ id: data.consumerId, producerId: data.producerId, kind: data.kind, rtpParameters: data.rtpParameters });
        await request('resumeConsumer', { consumerId: consumer.id });
        if (data.kind === 'video') resolve(consumer.id);
      };
      for (const n of early.splice(0)) onNotification(n);
    });
    return window.video;
  };
  window.ready = true;
  /** The width of the video frames decoded now (inbound-rtp), 0 before any. */
  window.width = async () => {
    let w = 0;
    (await window.recv.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video' && s.frameWidth) w = s.frameWidth; });
    return w;
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

  /** Polls the page's decoded width (bounded) until `check` holds. */
  const widthUntil = async (page: Page, what: string, check: (w: number) => boolean) => {
    let w = 0;
    for (let i = 0; i < 120; i++) {
      w = await page.evaluate(() => (window as any).width());
      if (check(w)) return w;
      await page.waitForTimeout(250);
    }
    throw new Error(`timed out waiting for ${what}; width ${w}`);
  };

  // The sender's version is what mattered: a 3.18 sender negotiated abs-capture-time, and its layer 0 was never forwarded.
  it.each([['current', 'current'], ['3.18', '3.18'], ['current', '3.18'], ['3.18', 'current']])('goes down to layer 0 and back up: sender on plain mediasoup-client %s, receiver on %s', async (v, rv) => {
    const room = `layers-${v}-${rv}`;
    const token = async (identity: string, role: string) => (await (await fetch(`${t.http}/demo/token`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ room, identity, role }),
    })).json()).token as string;
    const open = async (version: string) => {
      const page = await (await browser.newContext()).newPage();
      await page.goto(`${app.url}/?v=${version}`);
      await page.waitForFunction(() => (window as any).ready === true);
      return page;
    };
    const sender = await open(v);
    expect(await sender.evaluate(() => (window as any).version)).toBe(v === 'current' ? JSON.parse(fs.readFileSync('node_modules/mediasoup-client/package.json', 'utf8')).version : '3.18.7');
    await sender.evaluate(([url, tok]) => (window as any).join(url, tok, true), [t.http, await token('seller', 'seller')]);
    const page = await open(rv);
    const consumerId = await page.evaluate(([url, tok]) => (window as any).join(url, tok, false), [t.http, await token('buyer', 'buyer')]);
    // Layers of 160, 320 and 640 pixels; it starts above layer 0.
    const start = await widthUntil(page, 'a layer above 0', (w) => w > 160);
    await page.evaluate((id) => (window as any).request('setConsumerPreferredLayers', { consumerId: id, spatialLayer: 0 }), consumerId);
    const low = await widthUntil(page, 'layer 0', (w) => w === 160);
    await page.evaluate((id) => (window as any).request('setConsumerPreferredLayers', { consumerId: id, spatialLayer: 2 }), consumerId);
    const back = await widthUntil(page, 'a layer above 0 again', (w) => w >= start);
    expect(back).toBeGreaterThan(160);
    console.log(`[protocol layers, sender ${v}, receiver ${rv}] start ${start}, layer 0 ${low}, back ${back}`);
    expect([start, low, back]).toEqual([expect.any(Number), 160, expect.any(Number)]);
  });
});
