import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { StaticServer } from '../helpers/static-server.js';
import { waitFor, WeriftPeer } from '../helpers/werift-peer.js';

const APP = `import { connect, SfuError, type Call, type Session } from '@crossborder-sfu/client';

declare global { interface Window { start(url: string, token: string): Promise<Session>; widths(): number[] } }

let call: Call | undefined;
window.start = async (url, token) => {
  try {
    call = await connect(url, token);
  } catch (err) {
    throw err instanceof SfuError ? new Error(err.code) : err;
  }
  call.on('trackAdded', ({ kind, track }) => {
    const el = document.createElement(kind);
    el.autoplay = true;
    el.muted = true;
    el.srcObject = new MediaStream([track]);
    document.body.append(el);
  });
  call.remoteTracks.forEach(({ kind, track }) => {
    const el = document.createElement(kind);
    el.autoplay = true;
    el.muted = true;
    el.srcObject = new MediaStream([track]);
    document.body.append(el);
  });
  await call.publishCamera({ simulcast: false, width: 640, height: 360 });
  return call.self!;
};
window.widths = () => [...document.querySelectorAll('video')].map((v) => v.videoWidth);
`;

/**
 * The SDK as an npm package, as an app uses it: `npm pack` of sdk/, installed into a scratch
 * app with npm, type-checked against the package's own declarations, bundled with esbuild,
 * and run in Chromium from the app's origin.
 */
describe('the SDK package (@crossborder-sfu/client)', () => {
  let t: TestNode;
  let app: StaticServer;
  let browser: Browser;
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'scratch-shop-'));
  const tsc = (file: string) => spawnSync(process.execPath, [path.resolve('node_modules/typescript/bin/tsc'), '--noEmit', '--strict', '--target', 'es2022', '--module', 'esnext', '--moduleResolution', 'bundler', '--lib', 'es2022,dom,dom.iterable', '--skipLibCheck', 'false', file], { cwd: scratch, encoding: 'utf8' });

  beforeAll(async () => {
    execFileSync(process.execPath, ['--import', 'tsx', 'scripts/build-sdk.ts'], { stdio: 'ignore' });
    const tarball = execFileSync('npm', ['pack', '--pack-destination', scratch, '--json'], { cwd: 'sdk', encoding: 'utf8' });
    const [{ filename, files }] = JSON.parse(tarball);
    // What the package ships: the module, its map, its declarations, the README.
    expect(files.map((f: { path: string }) => f.path).sort()).toEqual(['README.md', 'dist/index.d.ts', 'dist/index.js', 'dist/index.js.map', 'package.json']);
    fs.writeFileSync(path.join(scratch, 'package.json'), JSON.stringify({ name: 'scratch-shop', private: true, type: 'module' }));
    execFileSync('npm', ['install', `./${filename}`, '--no-audit', '--no-fund', '--prefer-offline'], { cwd: scratch, stdio: 'ignore' });
    fs.writeFileSync(path.join(scratch, 'app.ts'), APP);
    t = await startTestNode();
    browser = await launchBrowser();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await t?.close();
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('type-checks an app against its declarations, and refuses a misspelled event', () => {
    const ok = tsc('app.ts');
    expect(ok.status, ok.stdout).toBe(0);
    fs.writeFileSync(path.join(scratch, 'bad.ts'), `import { Call } from '@crossborder-sfu/client';\nnew Call('https://x', 't').on('trackAddded', () => undefined);\n`);
    const bad = tsc('bad.ts');
    expect(bad.status).not.toBe(0);
    expect(bad.stdout).toContain('trackAddded');
  });

  it('bundles with the app and joins a call from the app\'s origin', async () => {
    await build({ entryPoints: [path.join(scratch, 'app.ts')], bundle: true, format: 'esm', platform: 'browser', outfile: path.join(scratch, 'www/app.js'), logLevel: 'silent', absWorkingDir: scratch });
    fs.writeFileSync(path.join(scratch, 'www/index.html'), '<!doctype html><script type="module" src="/app.js"></script>');
    app = await StaticServer.start(path.join(scratch, 'www'));
    const seller = await WeriftPeer.connect(t.ws, t.token({ room: 'pkg', identity: 'seller', role: 'seller' }));
    try {
      await seller.publish({ data: false });
      const page = await (await browser.newContext()).newPage();
      await page.goto(app.url);
      await page.waitForFunction(() => typeof (window as any).start === 'function');
      const self = await page.evaluate(([url, token]) => (window as any).start(url, token), [t.http, t.token({ room: 'pkg', identity: 'buyer-7' })]);
      expect(self).toMatchObject({ peerId: 'buyer-7', roomId: 'pkg', role: 'buyer', grants: { publishVideo: true, snapshot: false } });
      await page.waitForFunction(() => (window as any).widths().includes(320), undefined, { timeout: 20_000 });
      await seller.subscribe({ consumers: 1 });
      await waitFor(() => seller.received.video.packets > 30, 'the app\'s camera at the seller');
    } finally {
      await seller.close();
    }
  });
});
