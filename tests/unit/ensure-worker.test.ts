import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * scripts/mediasoup-worker/ensure-worker.mjs in a scratch project: the official prebuilt
 * download when MEDIASOUP_WORKER_PREBUILT=1 asks for it (served here from loopback, as
 * MEDIASOUP_WORKER_PREBUILT_DOWNLOAD_BASE_URL allows), then the cache, which comes first.
 * The offline source build is what a fresh CI run exercises.
 */
describe('ensure-worker', () => {
  const realWorker = path.resolve('node_modules/mediasoup/worker/out/Release/mediasoup-worker');
  const version = JSON.parse(fs.readFileSync('node_modules/mediasoup/package.json', 'utf8')).version;
  let dir: string;
  let server: http.Server;
  let base: string;
  const requests: string[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ensure-worker-'));
    fs.cpSync('scripts', path.join(dir, 'scripts'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'node_modules/mediasoup/worker'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'node_modules/mediasoup/package.json'), JSON.stringify({ name: 'mediasoup', version }));
    // A release tarball as upstream publishes it: the binary at the archive's root.
    const tgz = path.join(dir, 'release.tgz');
    execFileSync('tar', ['-czf', tgz, '-C', path.dirname(realWorker), 'mediasoup-worker']);
    server = http.createServer((req, res) => {
      requests.push(req.url!);
      const expected = `/${version}/mediasoup-worker-${version}-linux-${os.arch()}-kernel${os.release().split('.')[0]}.tgz`;
      if (req.url !== expected) return res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/gzip' });
      fs.createReadStream(tgz).pipe(res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const run = (env: Record<string, string>) => new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(process.execPath, [path.join(dir, 'scripts/mediasoup-worker/ensure-worker.mjs')], {
      env: { PATH: process.env.PATH!, HOME: dir, MEDIASOUP_WORKER_CACHE: path.join(dir, 'cache'), ...env },
    });
    let out = '';
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => resolve({ code, out }));
  });
  const installed = () => path.join(dir, 'node_modules/mediasoup/worker/out/Release/mediasoup-worker');

  it('downloads and checks the official prebuilt worker when asked to and it is reachable', async () => {
    const r = await run({ MEDIASOUP_WORKER_PREBUILT: '1', MEDIASOUP_WORKER_PREBUILT_DOWNLOAD_BASE_URL: base });
    expect(r.out).toContain('using the official prebuilt worker');
    expect(r.code).toBe(0);
    expect(requests).toHaveLength(1);
    expect(fs.statSync(installed()).mode & 0o111).toBeTruthy();
    // Already there and working: nothing more is fetched.
    expect((await run({ MEDIASOUP_WORKER_PREBUILT: '1', MEDIASOUP_WORKER_PREBUILT_DOWNLOAD_BASE_URL: base })).code).toBe(0);
    expect(requests).toHaveLength(1);
  });

  it('installs from the cache without asking the network', async () => {
    fs.rmSync(installed());
    // This project's worker, filed under the key the script computes from its shims and patches.
    const { buildKey } = await import('../../scripts/mediasoup-worker/ensure-worker.mjs' as string);
    const key: string = buildKey();
    const cacheDir = path.join(dir, 'cache', key);
    fs.mkdirSync(cacheDir, { recursive: true });
    fs.copyFileSync(realWorker, path.join(cacheDir, 'mediasoup-worker'));
    fs.chmodSync(path.join(cacheDir, 'mediasoup-worker'), 0o755);
    const r = await run({ MEDIASOUP_WORKER_PREBUILT: '1', MEDIASOUP_WORKER_PREBUILT_DOWNLOAD_BASE_URL: base });
    expect(r.out).toContain(`using cached build ${key}`);
    expect(requests).toHaveLength(1);
    expect(fs.existsSync(installed())).toBe(true);
  });

  it('refuses a MEDIASOUP_WORKER_BIN that does not run here', async () => {
    const r = await run({ MEDIASOUP_WORKER_BIN: path.join(dir, 'nope') });
    expect(r.code).toBe(1);
    expect(r.out).toContain('does not run on this host');
  });
});
