import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { StaticServer } from '../helpers/static-server.js';
import { codeBlocks } from '../helpers/doc-runner.js';
import { newWebhookSecret, WebhookReceiver } from '../helpers/webhook-receiver.js';
import type { CallRecord } from '../../src/contracts/records.js';

const SHOTS = path.resolve('docs/console');
/** The node's own key (auth.apiKeys): the one docs/console.md's command uses. */
const OPERATOR_KEY = 'dev-only-api-key-change-me';
const SHOP_A_KEY = 'shop-a-key-0123456789abcdef';
const SHOP_B_KEY = 'shop-b-key-0123456789abcdef';
const RATES = { currency: 'EUR', participantMinute: 0.004, recordingMinute: 0.01, egressGigabyte: 0.05 };

/** Polls `read` (bounded) until `check` holds; returns the value that passed. */
async function until<T>(what: string, read: () => Promise<T>, check: (v: T) => boolean, tries = 120, everyMs = 500): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < tries; i++) {
    last = await read();
    if (check(last)) return last;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)?.slice(0, 800)}`);
}

describe('the console, in Chromium, on a real call', () => {
  let t: TestNode;
  let browser: Browser;
  let receiver: WebhookReceiver;
  let other: StaticServer;
  const contexts: BrowserContext[] = [];
  /** Everything the console's pages said on their consoles (CSP violations show there). */
  const consoleMessages: string[] = [];
  let call: CallRecord;

  const api = async (key: string, method: string, url: string, body?: unknown) => {
    const res = await fetch(`${t.http}${url}`, {
      method, headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text() };
  };

  async function consolePage(viewport = { width: 1280, height: 900 }) {
    const context = await browser.newContext({ viewport });
    contexts.push(context);
    const page = await context.newPage();
    page.on('console', (m) => consoleMessages.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => consoleMessages.push(`pageerror: ${e.message}`));
    return page;
  }

  async function signIn(page: Page, key: string) {
    await page.goto(`${t.http}/console/`);
    await page.fill('#api-key', key);
    await page.click('#sign-in-form button[type=submit]');
    await page.locator('#bar').waitFor({ state: 'visible' });
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    fs.mkdirSync(SHOTS, { recursive: true });
    receiver = new WebhookReceiver(newWebhookSecret());
    await receiver.start();
    receiver.mode = 'fail';
    t = await startTestNode({
      auth: { apiKeys: [OPERATOR_KEY] },
      // Two attempts: a failure is listed soon, for the console to send again.
      webhooks: { retryDelaysMs: [50] },
      tenants: [
        { id: 'shop-a', apiKeys: [SHOP_A_KEY], rates: RATES, webhook: { url: receiver.url, secret: receiver.secret } },
        { id: 'shop-b', apiKeys: [SHOP_B_KEY] },
      ],
    });
    browser = await launchBrowser();
    const site = fs.mkdtempSync('/tmp/console-other-');
    fs.writeFileSync(path.join(site, 'index.html'), '<!doctype html><title>another shop</title>');
    other = await StaticServer.start(site, '127.0.0.1');
  });
  afterAll(async () => {
    await browser?.close();
    await other?.close();
    await t?.close();
    await receiver?.stop();
  });

  it('signs a tenant in with a cookie the page cannot read, and shows its live call as it happens and ends', async () => {
    const created = await api(SHOP_A_KEY, 'POST', '/v1/rooms', {
      room: 'order-1001', metadata: { orderId: 'A-1001', ticketId: 'T-77' },
      participants: [{ identity: 'buyer-1', name: 'Buyer', role: 'buyer' }, { identity: 'seller-1', name: 'Seller', role: 'seller' }],
    });
    expect(created.status).toBe(201);
    const page = await consolePage();
    const signInAnswer = page.waitForResponse((r) => r.url().endsWith('/console/session') && r.request().method() === 'POST');
    await signIn(page, SHOP_A_KEY);
    const cookie = await (await signInAnswer).headerValue('set-cookie');
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Max-Age=3600/);
    expect(await page.evaluate(() => document.cookie)).toBe('');
    expect(page.url()).not.toContain(SHOP_A_KEY);
    const csp = (await page.request.get(`${t.http}/console/`)).headers()['content-security-policy'];
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');

    // Two Chromium peers join with the SDK, reporting quality every second.
    for (const { identity, token } of created.body.tokens as Array<{ identity: string; token: string }>) {
      const peer = await (await browser.newContext()).newPage();
      contexts.push(peer.context());
      await peer.goto(`${t.http}/demo/`);
      await peer.evaluate(`(async () => {
        const { Call } = await import('/sdk/sfu-client.js');
        const call = new Call(location.origin, ${JSON.stringify(token)}, { reportIntervalMs: 1000 });
        window.call = call;
        await call.start();
        await call.publishCamera();
        await call.publishMicrophone();
      })()`);
      void identity;
    }
    const room = page.locator('[data-room="order-1001"]');
    await room.locator('[data-identity="buyer-1"]').waitFor();
    await room.locator('[data-identity="seller-1"]').waitFor();
    expect(await room.locator('[data-identity="buyer-1"] td').nth(1).textContent()).toBe('buyer');

    // Evidence while the call goes on: a recording and a snapshot.
    const recording = await api(SHOP_A_KEY, 'POST', '/v1/rooms/order-1001/recordings', {});
    expect(recording.status).toBe(201);
    await until('the buyer\'s video to reach the node', () => api(SHOP_A_KEY, 'GET', '/v1/rooms/order-1001'), (r) => r.body.participants?.find((p: any) => p.identity === 'buyer-1')?.tracks.some((x: any) => x.kind === 'video'));
    const snapshot = await until('a snapshot', () => api(SHOP_A_KEY, 'POST', '/v1/rooms/order-1001/snapshots', { identity: 'buyer-1' }), (r) => r.status === 201, 20, 1000);
    expect(snapshot.status).toBe(201);
    // Enough reports for several points of the series (one point per 5 s).
    await until('15 s of quality reports from both', () => api(SHOP_A_KEY, 'GET', '/v1/rooms/order-1001'),
      (r) => r.body.participants?.length === 2 && r.body.participants.every((p: any) => p.quality.summary.reportedSeconds >= 15 && p.quality.latest?.sendBitrateBps > 0));
    // The live view shows each one's quality now, updated without a reload.
    await page.locator('[data-room="order-1001"] [data-identity="buyer-1"] td', { hasText: 'kbit/s' }).first().waitFor();
    await shot(page, 'live');

    await api(SHOP_A_KEY, 'DELETE', `/v1/rooms/order-1001/recordings/${recording.body.recordingId}`);
    expect((await api(SHOP_A_KEY, 'DELETE', '/v1/rooms/order-1001')).status).toBe(204);
    await room.waitFor({ state: 'detached' });
    const calls = await until('the call record', () => api(SHOP_A_KEY, 'GET', '/v1/calls?metadata.orderId=A-1001'), (r) => r.body.calls?.length === 1);
    call = calls.body.calls[0];
    expect(call.snapshots).toHaveLength(1);
    expect(call.recordings.some((f) => f.kind === 'video' && f.status === 'complete')).toBe(true);
  });

  it('finds the call by order id and draws its charts from the points the record keeps', async () => {
    const page = await consolePage();
    await signIn(page, SHOP_A_KEY);
    await page.goto(`${t.http}/console/#/calls`);
    await page.fill('#call-search input[name=orderId]', 'A-1001');
    await page.click('#call-search button[type=submit]');
    await page.click(`[data-call-id="${call.callId}"] a`);
    await page.locator('#inspector h1').waitFor();

    for (const p of call.participants) {
      expect(p.series.length).toBeGreaterThanOrEqual(3);
      const charts = page.locator(`[data-participant="${p.identity}"]`);
      const points = async (name: string) => JSON.parse((await charts.locator(`[data-chart="${name}"]`).getAttribute('data-points'))!);
      const xs = p.series.map((pt) => Date.parse(pt.at) / 1000);
      expect(await points('rtt')).toEqual([xs, p.series.map((pt) => pt.rttMs)]);
      expect(await points('bitrate')).toEqual([xs, p.series.map((pt) => pt.sendBitrateBps === null ? null : Number((pt.sendBitrateBps * 0.001).toFixed(4))), p.series.map((pt) => pt.recvBitrateBps === null ? null : Number((pt.recvBitrateBps * 0.001).toFixed(4)))]);
      expect(await points('loss')).toEqual([xs, p.series.map((pt) => pt.lossRate === null ? null : Number((pt.lossRate * 100).toFixed(4)))]);
      // Real data: both sent and received media, and the node forwarded a simulcast layer.
      expect(p.series.some((pt) => (pt.recvBitrateBps ?? 0) > 50_000 && (pt.sendBitrateBps ?? 0) > 50_000)).toBe(true);
      expect(p.series.some((pt) => pt.videoLayer !== null)).toBe(true);
      expect(await points('layer')).toEqual([xs, p.series.map((pt) => pt.videoLayer)]);
      // uPlot drew each chart.
      expect(await charts.locator('[data-chart] canvas').count()).toBe(5);
    }
    // The timeline has the joins, the snapshot, the recording and the end.
    const kinds = await page.locator('#timeline li').evaluateAll((items) => items.map((i) => (i as HTMLElement).dataset.kind));
    expect(kinds).toEqual(expect.arrayContaining(['participant.joined', 'snapshot', 'recording', 'participant.left', 'room.finished']));
    // The snapshot shows, and the recording plays in the page.
    const img = page.locator(`[data-snapshot="${call.snapshots[0].snapshotId}"] img`);
    await expect.poll(() => img.evaluate((i) => (i as HTMLImageElement).naturalWidth)).toBe(call.snapshots[0].width);
    const file = call.recordings.find((f) => f.kind === 'video' && f.status === 'complete')!;
    const video = page.locator(`[data-recording="${file.fileId}"] video`);
    await video.evaluate((v) => { (v as HTMLVideoElement).muted = true; return (v as HTMLVideoElement).play(); });
    await expect.poll(() => video.evaluate((v) => (v as HTMLVideoElement).currentTime), { timeout: 15_000 }).toBeGreaterThan(0.2);
    await video.evaluate((v) => (v as HTMLVideoElement).pause());
    await shot(page, 'inspector');

    // On a phone the page fits its width.
    const phone = await consolePage({ width: 390, height: 844 });
    await signIn(phone, SHOP_A_KEY);
    await phone.goto(`${t.http}/console/#/calls/${call.callId}`);
    await phone.locator('[data-chart="rtt"] canvas').first().waitFor();
    expect(await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
    await shot(phone, 'inspector-phone');
  });

  it('shows the month\'s usage and its cost from the rate card, and the CSV statement matches GET /v1/usage', async () => {
    const month = new Date().toISOString().slice(0, 7);
    const from = `${month}-01T00:00:00.000Z`;
    const usage = (await api(SHOP_A_KEY, 'GET', `/v1/usage?from=${from}`)).body;
    expect(usage.cost.currency).toBe('EUR');
    const participantSeconds = Object.values(usage.total.participantSeconds as Record<string, number>).reduce((a, b) => a + b, 0);
    expect(participantSeconds).toBeGreaterThan(30);
    expect(usage.total.recordingSeconds).toBeGreaterThan(5);
    const line = (item: string) => usage.cost.lines.find((l: any) => l.item === item);
    // docs/api.md: amount is quantity × unitPrice, to a millionth of the currency unit; the quantity and the amount are each rounded, so each may differ from the exact product by up to a millionth.
    expect(Math.abs(line('participantMinutes').amount - (participantSeconds / 60) * RATES.participantMinute)).toBeLessThanOrEqual(1e-6);
    expect(Math.abs(line('recordingMinutes').amount - (usage.total.recordingSeconds / 60) * RATES.recordingMinute)).toBeLessThanOrEqual(1e-6);
    expect(line('recordingMinutes').amount).toBe(Math.round(line('recordingMinutes').quantity * line('recordingMinutes').unitPrice * 1e6) / 1e6);

    const page = await consolePage();
    await signIn(page, SHOP_A_KEY);
    await page.goto(`${t.http}/console/#/usage`);
    await page.locator('[data-total="cost"]').waitFor();
    expect(await page.locator('[data-total="participantMinutes"]').textContent()).toBe((participantSeconds / 60).toFixed(2));
    expect(Number(await page.locator('[data-total="cost"]').getAttribute('data-amount'))).toBe(usage.cost.total);
    const daily = JSON.parse((await page.locator('[data-chart="minutes"]').getAttribute('data-points'))!);
    const today = Date.parse(new Date().toISOString().slice(0, 10)) / 1000;
    expect(daily[1][daily[0].indexOf(today)]).toBeCloseTo(participantSeconds / 60, 2);
    await shot(page, 'usage');

    // The statement the page links to, fetched as the page would download it.
    const href = await page.locator('#statement').getAttribute('href');
    const csv = await page.evaluate(async (u) => (await fetch(u!)).text(), href);
    const rows = csv.trim().split('\r\n').map((l) => l.split(','));
    expect(rows[0]).toEqual(['month', 'room', 'item', 'unit', 'quantity', 'unit_price', 'amount', 'currency']);
    const totals = rows.filter((r) => r[1] === 'TOTAL');
    expect(totals.map((r) => [r[2], Number(r[4]), Number(r[5]), Number(r[6]), r[7]])).toEqual(usage.cost.lines.map((l: any) => [l.item, l.quantity, l.unitPrice, l.amount, 'EUR']));
    expect(rows.filter((r) => r[1] === 'order-1001').length).toBe(usage.cost.lines.length);

    // docs/console.md's command, as a backend runs it (the reader's port is this node's).
    const [command] = codeBlocks(fs.readFileSync('docs/console.md', 'utf8')).filter((b) => b.lang === 'sh');
    const port = new URL(t.http).port;
    // Not execFileSync: the node answering it runs in this process.
    const { stdout: out } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', command.code.replace('localhost:8080', `127.0.0.1:${port}`)], { encoding: 'utf8', timeout: 30_000 });
    const operatorUsage = (await api(OPERATOR_KEY, 'GET', `/v1/usage?from=${from}`)).body;
    const operatorTotals = out.trim().split('\r\n').map((l) => l.split(',')).filter((r) => r[1] === 'TOTAL');
    expect(operatorTotals.map((r) => r[2])).toEqual(usage.cost.lines.map((l: any) => l.item));
    expect(Number(operatorTotals[0][4])).toBe(Object.values(operatorUsage.total.participantSeconds as Record<string, number>).reduce((a, b) => a + b, 0) / 60);
  });

  it('lists failed webhook deliveries with their error, and sends one again', async () => {
    await until('failed deliveries', () => api(SHOP_A_KEY, 'GET', '/v1/webhooks/failures'), (r) => r.body.failures?.some((f: any) => f.event.type === 'room.finished'));
    receiver.mode = 'ok';
    const page = await consolePage();
    await signIn(page, SHOP_A_KEY);
    await page.goto(`${t.http}/console/#/webhooks`);
    const failed = page.locator('tr', { hasText: 'room.finished' }).first();
    await failed.waitFor();
    expect(await failed.textContent()).toContain('HTTP 500');
    const eventId = await failed.getAttribute('data-event-id');
    await failed.locator('button[data-resend]').click();
    await until('the event delivered again', async () => receiver.events.map((e) => e.id), (ids) => ids.includes(eventId!));
    await page.goto(`${t.http}/console/#/webhooks`);
    await page.reload();
    await page.locator(`tr[data-event-id="${eventId}"]`, { hasText: 'room.finished' }).last().waitFor();
    // Delivered now, and no longer among the failures (a second resend finds nothing).
    expect((await api(SHOP_A_KEY, 'GET', '/v1/webhooks/deliveries')).body.deliveries.map((d: any) => d.eventId)).toContain(eventId);
    expect((await api(SHOP_A_KEY, 'POST', `/v1/webhooks/failures/${eventId}/resend`)).status).toBe(404);
    await shot(page, 'webhooks');
  });

  it('shows another tenant none of it, by the UI or by an edited URL', async () => {
    const page = await consolePage();
    await signIn(page, SHOP_B_KEY);
    await page.locator('#live-rooms p', { hasText: 'No calls now.' }).waitFor();
    await page.goto(`${t.http}/console/#/calls`);
    await page.locator('#call-results p', { hasText: 'No calls match.' }).waitFor();
    await page.goto(`${t.http}/console/#/calls/${call.callId}`);
    await page.locator('#inspector .error', { hasText: 'NOT_FOUND' }).waitFor();
    const status = await page.evaluate(async (id) => (await fetch(`/v1/files/${id}`)).status, call.snapshots[0].snapshotId);
    expect(status).toBe(404);
    // A tenant cannot switch to another's view either.
    const forged = await page.evaluate(async () => {
      const s = await (await fetch('/console/session')).json();
      return (await fetch('/console/session/tenant', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': s.csrf }, body: JSON.stringify({ tenant: 'shop-a' }) })).status;
    });
    expect(forged).toBe(403);
  });

  it('refuses a change without the CSRF token, from the page itself or from another origin', async () => {
    const page = await consolePage();
    await signIn(page, SHOP_A_KEY);
    const same = await page.evaluate(async () => {
      const res = await fetch('/v1/rooms', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ room: 'forged-1' }) });
      return { status: res.status, body: await res.json() };
    });
    expect(same).toEqual({ status: 403, body: { error: { code: 'CSRF_REJECTED', message: expect.any(String) } } });
    expect((await api(SHOP_A_KEY, 'GET', '/v1/rooms/forged-1')).status).toBe(404);
    // A page on another origin of the same site: the browser sends the cookie with a simple,
    // bodiless POST (no preflight), but the token it cannot know. The failure stays unsent.
    const { failures } = (await api(SHOP_A_KEY, 'GET', '/v1/webhooks/failures')).body;
    const target = failures[0].event.id;
    const evil = await page.context().newPage();
    await evil.goto(`${other.url}/`);
    const sent = await evil.evaluate(async (url) => {
      await fetch(url, { method: 'POST', mode: 'no-cors', credentials: 'include' });
      return true;
    }, `${t.http}/v1/webhooks/failures/${target}/resend`);
    expect(sent).toBe(true);
    expect((await api(SHOP_A_KEY, 'GET', '/v1/webhooks/failures')).body.failures.map((f: any) => f.event.id)).toContain(target);
    // With the token, the same change goes through.
    const ok = await page.evaluate(async () => {
      const s = await (await fetch('/console/session')).json();
      return (await fetch('/v1/rooms', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': s.csrf }, body: JSON.stringify({ room: 'with-token' }) })).status;
    });
    expect(ok).toBe(201);
    await api(SHOP_A_KEY, 'DELETE', '/v1/rooms/with-token');
  });

  it('lets the operator look at every tenant', async () => {
    const page = await consolePage();
    await signIn(page, OPERATOR_KEY);
    const options = await page.locator('#tenant-select option').allTextContents();
    expect(options).toEqual(expect.arrayContaining(['default', 'shop-a', 'shop-b']));
    await page.selectOption('#tenant-select', 'shop-a');
    await page.goto(`${t.http}/console/#/calls`);
    await page.locator(`[data-call-id="${call.callId}"]`).waitFor();
    // The admin key never becomes a tenant's key: signing in with a wrong key is refused.
    const bad = await consolePage();
    await bad.goto(`${t.http}/console/`);
    await bad.fill('#api-key', 'not-a-key-of-anyone-000');
    await bad.click('#sign-in-form button[type=submit]');
    await bad.locator('#sign-in-error', { hasText: 'No tenant has that key.' }).waitFor();
  });

  it('said nothing about a blocked script or style on any page', () => {
    expect(consoleMessages.filter((m) => /Content Security Policy|pageerror|Refused/i.test(m))).toEqual([]);
  });
});
