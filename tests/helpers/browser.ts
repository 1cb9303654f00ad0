import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Debian's Chromium, headless, with no background traffic; by default with a fake camera and
 * microphone that pages get without asking. Without `devices` it has none; without `grant`,
 * a page's request for them is refused, as a user who blocks them.
 */
export function launchBrowser(extraArgs: string[] = [], { devices = true, grant = true } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      ...(devices ? ['--use-fake-device-for-media-stream'] : []),
      ...(grant ? ['--use-fake-ui-for-media-stream'] : []),
      // Our media node listens on 127.0.0.1; Chromium leaves loopback out of ICE otherwise.
      '--allow-loopback-in-peer-connection',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
      ...extraArgs,
    ],
  });
}

export interface RemoteStats {
  participantId: string;
  kind: string;
  packets: number;
  bytes: number;
  framesDecoded?: number;
  frameWidth?: number;
}

/** The SDK's per-track stats of everything a demo page receives. */
export function remoteStats(page: Page): Promise<RemoteStats[]> {
  return page.evaluate(async () => {
    const call = (window as any).demo.call;
    const stats = await call.stats();
    return stats.filter((p: any) => !p.local).flatMap((p: any) => p.tracks.map((t: any) => ({
      participantId: p.participantId, kind: t.kind, packets: t.packets, bytes: t.bytes, framesDecoded: t.framesDecoded, frameWidth: t.frameWidth,
    })));
  });
}

/** Polls (bounded) until `check` holds for a page's remote stats. */
export async function waitForStats(page: Page, what: string, check: (s: RemoteStats[]) => boolean, timeoutMs = 40_000) {
  const deadline = Date.now() + timeoutMs;
  let last: RemoteStats[] = [];
  while (Date.now() < deadline) {
    last = await remoteStats(page);
    if (check(last)) return last;
    await page.waitForTimeout(250);
  }
  throw new Error(`timed out waiting for ${what}; last stats: ${JSON.stringify(last)}`);
}

/** Opens the demo, fills the join form and waits for the call to be connected (captions off unless asked). */
export async function joinDemo(page: Page, base: string, { room, name, role, language = 'en', captions = false }: {
  room: string; name: string; role: 'buyer' | 'seller'; language?: string; captions?: boolean;
}) {
  const q = new URLSearchParams({ room, name, role, language, captions: captions ? 'on' : 'off' });
  await page.goto(`${base}/demo/?${q}`);
  await page.click('#join-form button[type=submit]');
  await page.waitForFunction(() => (window as any).demo?.call?.state === 'connected', undefined, { timeout: 20_000 });
  return page.evaluate(() => (window as any).demo.call.self.peerId as string);
}

export const videoFrames = (s: RemoteStats[], from?: string) =>
  s.filter((t) => t.kind === 'video' && (!from || t.participantId === from)).reduce((n, t) => n + (t.framesDecoded ?? 0), 0);
export const audioPackets = (s: RemoteStats[], from?: string) =>
  s.filter((t) => t.kind === 'audio' && (!from || t.participantId === from)).reduce((n, t) => n + t.packets, 0);

/**
 * Starts an SDK call in a page served by the node (no demo UI) and runs `then` with `call` in scope.
 * Passed as a string so the test runner leaves the page's dynamic import alone.
 */
export async function sdkCall<T = void>(page: Page, base: string, token: string, then = ''): Promise<T> {
  await page.goto(`${base}/demo/`);
  return page.evaluate<T>(`(async () => {
    const { Call } = await import('/sdk/sfu-client.js');
    const call = new Call(location.origin, ${JSON.stringify(token)});
    window.demo = { call };
    await call.start();
    ${then}
  })()`);
}
