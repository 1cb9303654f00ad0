import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page, WebSocketRoute } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { blockNodeUdp } from '../helpers/block-udp.js';
import { audioPackets, joinDemo, launchBrowser, sdkCall, videoFrames, waitForStats } from '../helpers/browser.js';
import { roomKey } from '../../src/rooms/room-key.js';
import { fillingFiles } from '../helpers/recording-files.js';
import { waitFor } from '../helpers/werift-peer.js';

describe('two Chromium peers on the demo page', () => {
  let t: TestNode;
  let browser: Browser;
  let contexts: BrowserContext[] = [];
  let seller: Page;
  let buyer: Page;
  let sellerId: string;
  let buyerId: string;
  const buyerSockets: WebSocketRoute[] = [];

  beforeAll(async () => {
    t = await startTestNode({ demo: { devTokens: 'on' } });
    browser = await launchBrowser();
    contexts = [await browser.newContext(), await browser.newContext({ viewport: { width: 390, height: 844 } })];
    seller = await contexts[0].newPage();
    buyer = await contexts[1].newPage(); // phone-sized
    // The buyer's signaling goes through a route we can cut, like a flaky mobile network.
    await buyer.routeWebSocket(/\/v1\/rtc/, (ws) => {
      ws.connectToServer();
      buyerSockets.push(ws);
    });
    sellerId = await joinDemo(seller, t.http, { room: 'ticket-e2e', name: 'Seller', role: 'seller' });
    buyerId = await joinDemo(buyer, t.http, { room: 'ticket-e2e', name: 'Buyer', role: 'buyer' });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('each browser decodes the other one’s video, and audio packets arrive', async () => {
    for (const [page, from] of [[buyer, sellerId], [seller, buyerId]] as const) {
      const first = await waitForStats(page, `video from ${from}`, (s) => videoFrames(s, from) > 5 && audioPackets(s, from) > 20);
      await waitForStats(page, 'frames still rising', (s) => videoFrames(s, from) > videoFrames(first, from) + 5);
    }
    // The phone-sized page shows the seller's tile with a playing video.
    const playing = await buyer.waitForFunction((id) => {
      const v = document.querySelector<HTMLVideoElement>(`#tiles figure[data-participant="${id}"] video`);
      return v && v.videoWidth > 0 && !v.paused ? v.videoWidth : 0;
    }, sellerId, { timeout: 10_000 });
    expect(await playing.jsonValue()).toBeGreaterThan(0);
    // The connection check ran before the join, and says where the call is.
    expect(await buyer.textContent('#preflight .summary')).toMatch(/^Nearest region: local \(\d+ ms\)/);
  });

  it('a chat message crosses', async () => {
    await seller.fill('#chat-input', 'Please show me the hinge');
    await seller.click('#chat-form button');
    await buyer.locator('#chat-log li', { hasText: 'Please show me the hinge' }).waitFor({ timeout: 10_000 });
    expect(await buyer.locator('#chat-log li .who').last().textContent()).toBe('Seller');
  });

  it('the seller captures a photo of the buyer\'s camera: a JPEG of the right size, not black, shown as a thumbnail; the buyer is told', async () => {
    // Once the buyer's camera sends its top layer (its encoder ramps up), the still is taken from it.
    await waitForStats(seller, '720p from the buyer', (st) => st.some((x) => x.kind === 'video' && x.participantId === buyerId && (x.frameWidth ?? 0) >= 1280));
    await seller.click(`#tiles figure[data-participant="${buyerId}"] .capture`);
    const img = seller.locator('#snapshots img').first();
    await img.waitFor({ timeout: 20_000 });
    const natural = await seller.waitForFunction(() => {
      const el = document.querySelector<HTMLImageElement>('#snapshots img');
      return el && el.complete && el.naturalWidth > 0 ? [el.naturalWidth, el.naturalHeight] : null;
    }, undefined, { timeout: 10_000 });
    const [width, height] = (await natural.jsonValue()) as [number, number];
    // The buyer's camera as it sends it: the top simulcast layer of 1280x720.
    expect([width, height]).toEqual([1280, 720]);
    const jpeg = path.join(os.tmpdir(), `snap-${Date.now()}.jpg`);
    fs.writeFileSync(jpeg, Buffer.from(await (await fetch((await img.getAttribute('src'))!)).arrayBuffer()));
    // Not black: Chromium's fake camera is a green test card; its pixels average well above black.
    const rgb = execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', jpeg, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 64 << 20 });
    expect(rgb.reduce((a, b) => a + b, 0) / rgb.length).toBeGreaterThan(30);
    fs.rmSync(jpeg);
    await buyer.locator('#chat-log li.system', { hasText: 'captured a photo of your video' }).waitFor({ timeout: 10_000 });
  });

  it('a recording of the call has decodable video and audio, as long as it ran', async () => {
    const key = t.config.auth.apiKeys[0];
    const api = (method: string, url: string, body?: unknown) => fetch(`${t.http}${url}`, {
      method, headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined,
    });
    // From before the start is asked to after the stop is answered: the files cannot hold more.
    const started = Date.now();
    const { recordingId } = await (await api('POST', '/v1/rooms/ticket-e2e/recordings', { identity: sellerId })).json();
    // Five seconds once both files fill, however late a busy machine starts ffmpeg.
    const { callId } = await (await api('GET', '/v1/rooms/ticket-e2e')).json();
    await waitFor(() => fillingFiles(t.config.recording.dir, callId) >= 2, 'both files filling', 20_000);
    await new Promise((r) => setTimeout(r, 5000));
    await api('DELETE', `/v1/rooms/ticket-e2e/recordings/${recordingId}`);
    const ran = (Date.now() - started) / 1000;
    const [recording] = (await (await api('GET', '/v1/rooms/ticket-e2e/recordings')).json()).recordings.filter((r: { recordingId: string }) => r.recordingId === recordingId);
    expect(recording.files.map((f: { kind: string; codec: string }) => `${f.kind}:${f.codec}`).sort()).toEqual(['audio:opus', 'video:VP8']);
    for (const f of recording.files) {
      const file = path.join(os.tmpdir(), `${f.fileId}.webm`);
      fs.writeFileSync(file, Buffer.from(await (await api('GET', `/v1/files/${f.fileId}`)).arrayBuffer()));
      // A busy machine starts ffmpeg later and makes a file shorter, never longer: only the upper bound is tight.
      expect(f.durationSeconds).toBeLessThanOrEqual(ran + 0.5);
      expect(f.durationSeconds).toBeGreaterThan(2);
      // Every frame decodes: ffmpeg reports no error.
      expect(execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', file, '-f', 'null', '-']).toString()).toBe('');
      fs.rmSync(file);
    }
  }, 60_000);

  it('a receiver that asks for a lower simulcast layer gets a lower resolution', async () => {
    const widest = await waitForStats(buyer, '720p from the seller', (s) => s.some((x) => x.kind === 'video' && (x.frameWidth ?? 0) >= 1280));
    expect(widest.find((x) => x.kind === 'video')!.frameWidth).toBe(1280);
    await buyer.evaluate(async (from) => {
      const call = (window as any).demo.call;
      const video = [...call.remoteTracks.values()].find((r: any) => r.kind === 'video' && r.participantId === from);
      await call.setPreferredLayers(video.consumerId, 0);
    }, sellerId);
    const low = await waitForStats(buyer, 'the lowest layer', (s) => s.some((x) => x.kind === 'video' && x.frameWidth !== undefined && x.frameWidth <= 320));
    expect(low.find((x) => x.kind === 'video')!.frameWidth).toBe(320);
  });

  it('a browser whose WebSocket is cut resumes: same tracks, media on, and the other side sees no leave', async () => {
    const states: string[] = [];
    await buyer.exposeFunction('recordState', (s: string) => states.push(s));
    await buyer.evaluate(() => (window as any).demo.call.on('connectionState', (s: string) => (window as any).recordState(s)));
    await seller.evaluate(() => {
      (window as any).left = [];
      (window as any).demo.call.on('participantLeft', (p: any) => (window as any).left.push(p.id));
    });
    const tracksBefore = await buyer.evaluate(() => [...(window as any).demo.call.remoteTracks.keys()].sort());
    const cut = buyerSockets.at(-1)!;
    await cut.close({ code: 4000, reason: 'network drop' });
    await buyer.waitForFunction(() => (window as any).demo.call.state === 'connected' && (window as any).demo.call.remoteTracks.size >= 2, undefined, { timeout: 20_000 });
    expect(states).toEqual(['reconnecting', 'connected']);
    expect(buyerSockets.length).toBeGreaterThan(1);
    expect(await buyer.evaluate(() => [...(window as any).demo.call.remoteTracks.keys()].sort())).toEqual(tracksBefore);
    const frames = videoFrames(await waitForStats(buyer, 'video after the resume', (s) => videoFrames(s, sellerId) > 5), sellerId);
    await waitForStats(buyer, 'video still rising', (s) => videoFrames(s, sellerId) > frames + 5);
    await waitForStats(seller, 'the buyer’s video after its resume', (s) => videoFrames(s) > 5);
    expect(await seller.evaluate(() => (window as any).left)).toEqual([]);
  });

  it('a cut WebSocket and a cut media path together: ICE restarts through the resumed socket, nobody leaves', async () => {
    const cutMedia = await blockNodeUdp(t.node, ['udp', 'tcp']);
    try {
      await buyerSockets.at(-1)!.close({ code: 4000, reason: 'network switch' });
      await buyer.waitForFunction(() => (window as any).demo.call.state === 'reconnecting', undefined, { timeout: 10_000 });
      await buyer.waitForTimeout(3000);
    } finally {
      cutMedia();
    }
    await buyer.waitForFunction(() => (window as any).demo.call.state === 'connected', undefined, { timeout: 30_000 });
    for (const [page, from] of [[buyer, sellerId], [seller, buyerId]] as const) {
      const base = videoFrames(await waitForStats(page, 'video after the cut', (s) => videoFrames(s, from) > 0), from);
      await waitForStats(page, `video from ${from} rising again`, (s) => videoFrames(s, from) > base + 10);
    }
    expect(await seller.evaluate(() => (window as any).left)).toEqual([]);
    expect(t.node.rooms.get(roomKey('default', 'ticket-e2e'))!.peers.size).toBe(2);
  });

  it('when one peer leaves, the other is told and its tile goes away', async () => {
    const tile = buyer.locator(`#tiles figure[data-participant="${sellerId}"]`);
    await expect(tile.count()).resolves.toBe(1);
    const left = buyer.evaluate((id) => new Promise<string>((resolve) => (window as any).demo.call.on('participantLeft', (p: any) => p.id === id && resolve(p.id))), sellerId);
    await seller.click('#leave');
    expect(await left).toBe(sellerId);
    await tile.waitFor({ state: 'detached', timeout: 10_000 });
  });
});

describe('the demo page itself', () => {
  it('loads without a console error, and its room field refuses a name the node would refuse', async () => {
    const t = await startTestNode({ demo: { devTokens: 'on' } });
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('console', (m) => ['error', 'warning'].includes(m.type()) && problems.push(m.text()));
      page.on('pageerror', (e) => problems.push(e.message));
      await page.goto(`${t.http}/demo/`);
      await page.waitForLoadState('networkidle');
      // Chromium compiles a pattern with the v flag: an invalid one logs an error and checks nothing.
      const valid = (name: string) => page.evaluate((n) => {
        const input = document.querySelector<HTMLInputElement>('#join-form input[name=room]')!;
        input.value = n;
        return input.checkValidity();
      }, name);
      expect(await valid('ticket-42.b:7_x')).toBe(true);
      expect(await valid('ticket 42!')).toBe(false);
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
      await t.close();
    }
  });
});

describe('with UDP blocked', () => {
  it('ICE over TCP still connects and media flows', async () => {
    const t = await startTestNode({ demo: { devTokens: 'on' } });
    const unblock = await blockNodeUdp(t.node);
    const browser = await launchBrowser();
    try {
      const [a, b] = [await (await browser.newContext()).newPage(), await (await browser.newContext()).newPage()];
      const aId = await joinDemo(a, t.http, { room: 'tcp-only', name: 'Seller', role: 'seller' });
      await joinDemo(b, t.http, { room: 'tcp-only', name: 'Buyer', role: 'buyer' });
      await waitForStats(b, 'video over TCP', (s) => videoFrames(s, aId) > 5);
      const protocols = await b.evaluate(async () => {
        const report: RTCStatsReport = await (window as any).demo.call.connection.recvTransport.getStats();
        const all = [...report.values()];
        const pair = all.find((s: any) => s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded');
        return all.filter((s: any) => s.id === pair?.localCandidateId || s.id === pair?.remoteCandidateId).map((s: any) => s.protocol);
      });
      expect(protocols).toEqual(['tcp', 'tcp']);
    } finally {
      unblock();
      await browser.close();
      await t.close();
    }
  });
});

describe('VP9 SVC', () => {
  it('a receiver that asks for a lower spatial layer of an SVC stream gets a lower resolution', async () => {
    const t = await startTestNode();
    const browser = await launchBrowser();
    try {
      const [sender, receiver] = [await (await browser.newContext()).newPage(), await (await browser.newContext()).newPage()];
      await sdkCall(sender, t.http, t.token({ room: 'svc', identity: 'seller', role: 'seller' }), "await call.publishCamera({ codec: 'VP9' });");
      await sdkCall(receiver, t.http, t.token({ room: 'svc', identity: 'buyer', role: 'buyer' }));
      const room = t.node.rooms.get(roomKey('default', 'svc'))!;
      // Under CPU pressure (a busy CI box) Chromium's encoder may scale its input down, so the
      // top layer is measured rather than assumed: at least two spatial layers (>= 640 px wide).
      const top = await waitForStats(receiver, 'VP9 with its upper layers', (s) => s.some((x) => x.kind === 'video' && (x.frameWidth ?? 0) >= 640));
      const topWidth = top.find((x) => x.kind === 'video')!.frameWidth!;
      const consumer = [...room.peers.get('buyer')!.all('consumer')].find((c) => c.kind === 'video')!;
      expect(consumer.type).toBe('svc');
      expect(consumer.rtpParameters.codecs[0].mimeType).toBe('video/VP9');
      await receiver.evaluate(async (id) => (window as any).demo.call.setPreferredLayers(id, 0), consumer.id);
      // Each spatial layer is half the width of the next (how many there are depends on the input
      // size the encoder settled on), so layer 0 is at most half the top.
      const low = await waitForStats(receiver, 'the lowest spatial layer', (s) => s.some((x) => x.kind === 'video' && x.frameWidth !== undefined && x.frameWidth <= topWidth / 2));
      expect(low.find((x) => x.kind === 'video')!.frameWidth).toBeGreaterThanOrEqual(topWidth / 8);
    } finally {
      await browser.close();
      await t.close();
    }
  });
});
