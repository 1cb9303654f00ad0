#!/usr/bin/env node
// Makes sure node_modules/mediasoup has a working mediasoup-worker binary.
//
// Order: an already working binary; our cache; mediasoup's official prebuilt download, only
// when MEDIASOUP_WORKER_PREBUILT=1 (it lacks our patches); else a build from the npm package's
// own worker/ sources against Debian's libraries (see docs/mediasoup-worker.md for why and how).
// mediasoup's own postinstall is denied in package.json ("allowScripts") because its
// fallback needs PyPI and GitHub, which our build and CI machines cannot reach.
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensureDebianPackages, fetchDebianSource } from '../lib/debian.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const msDir = path.resolve(here, '..', '..', 'node_modules', 'mediasoup');
const msVersion = JSON.parse(fs.readFileSync(path.join(msDir, 'package.json'), 'utf8')).version;
const installedBin = path.join(msDir, 'worker', 'out', 'Release', 'mediasoup-worker');

const BUILD_PACKAGES = [
  'meson', 'ninja-build', 'build-essential', 'pkg-config', 'python3', 'patch',
  'libuv1-dev', 'libssl-dev', 'flatbuffers-compiler', 'libflatbuffers-dev', 'libabsl-dev',
];
/** Debian source package built into the worker (statically, against OpenSSL): see shims/libsrtp3. */
const SRTP_SOURCE_PACKAGE = 'libsrtp2';

const log = (msg) => process.stderr.write(`[mediasoup-worker] ${msg}\n`);

/** The worker exits with 41 when started without its env: proof that it loads and links here. */
function runsHere(bin) {
  if (!fs.existsSync(bin)) return false;
  return spawnSync(bin, [], { env: {}, stdio: 'ignore' }).status === 41;
}

function install(bin) {
  fs.mkdirSync(path.dirname(installedBin), { recursive: true });
  fs.copyFileSync(bin, installedBin);
  fs.chmodSync(installedBin, 0o755);
}

/** Cache key: mediasoup version + every shim and patch file (what shapes the binary). */
export function buildKey() {
  const hash = createHash('sha256');
  const walk = (dir) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      if (fs.statSync(p).isDirectory()) walk(p);
      else hash.update(path.relative(here, p)).update(fs.readFileSync(p));
    }
  };
  walk(path.join(here, 'shims'));
  walk(path.join(here, 'patches'));
  return `${msVersion}-${os.platform()}-${os.arch()}-${hash.digest('hex').slice(0, 12)}`;
}

/**
 * Same URL scheme as mediasoup's npm-scripts.mjs downloadPrebuiltWorker(). Opt-in: upstream's
 * binary lacks patches/03 (the key frame delay's held request), which the node relies on.
 */
async function downloadPrebuilt() {
  if (process.env.MEDIASOUP_WORKER_PREBUILT !== '1') return false;
  const base = process.env.MEDIASOUP_WORKER_PREBUILT_DOWNLOAD_BASE_URL
    ?? 'https://github.com/versatica/mediasoup/releases/download';
  let name = `mediasoup-worker-${msVersion}-${os.platform()}-${os.arch()}`;
  if (os.platform() === 'linux') name += `-kernel${os.release().split('.')[0]}`;
  const url = `${base}/${msVersion}/${name}.tgz`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const tgz = path.join(os.tmpdir(), `${name}-${process.pid}.tgz`);
    fs.writeFileSync(tgz, Buffer.from(await res.arrayBuffer()));
    fs.mkdirSync(path.dirname(installedBin), { recursive: true });
    execFileSync('tar', ['-xzf', tgz, '-C', path.dirname(installedBin)]);
    fs.rmSync(tgz);
    if (runsHere(installedBin)) return true;
    log('the prebuilt worker does not run on this host');
  } catch (err) {
    log(`no prebuilt worker (${url}): ${err.cause?.code ?? err.message}`);
  }
  return false;
}

function buildFromSources(cacheDir) {
  ensureDebianPackages(BUILD_PACKAGES, log);
  const src = path.join(cacheDir, 'src');
  fs.rmSync(src, { recursive: true, force: true });
  fs.cpSync(path.join(msDir, 'worker'), src, { recursive: true });

  for (const patch of fs.readdirSync(path.join(here, 'patches')).sort()) {
    log(`applying ${patch}`);
    execFileSync('patch', ['-p1', '--forward', '-i', path.join(here, 'patches', patch)], { cwd: src, stdio: 'inherit' });
  }
  // Meson uses a subproject's directory as-is when it exists, so no wrap is downloaded.
  for (const wrap of fs.readdirSync(path.join(src, 'subprojects')).filter((f) => f.endsWith('.wrap'))) {
    const shim = path.join(here, 'shims', wrap.replace(/\.wrap$/, ''));
    if (!fs.existsSync(shim)) continue; // e.g. wingetopt: Windows only
    const dir = /^directory\s*=\s*(.+)$/m.exec(fs.readFileSync(path.join(src, 'subprojects', wrap), 'utf8'))[1].trim();
    fs.cpSync(shim, path.join(src, 'subprojects', dir), { recursive: true });
  }
  const srtpVersion = fetchDebianSource(SRTP_SOURCE_PACKAGE, path.join(src, 'subprojects', SRTP_SOURCE_PACKAGE), log);
  log(`libsrtp ${srtpVersion} from Debian's sources, built with OpenSSL`);

  const build = path.join(src, 'out', 'build');
  const run = (cmd, args) => execFileSync(cmd, args, { cwd: src, stdio: 'inherit' });
  run('meson', ['setup', build, '--buildtype', 'release', '-Db_ndebug=true', '--wrap-mode=nodownload']);
  // Generated FlatBuffers headers first, as upstream's tasks.py does.
  run('meson', ['compile', '-C', build, 'flatbuffers-generator']);
  run('meson', ['compile', '-C', build, 'mediasoup-worker']);
  return path.join(build, 'mediasoup-worker');
}

async function main() {
  if (process.env.MEDIASOUP_WORKER_BIN) {
    if (runsHere(process.env.MEDIASOUP_WORKER_BIN)) return;
    throw new Error(`MEDIASOUP_WORKER_BIN=${process.env.MEDIASOUP_WORKER_BIN} does not run on this host`);
  }
  if (runsHere(installedBin)) return;

  const cacheRoot = process.env.MEDIASOUP_WORKER_CACHE
    ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'crossborder-sfu', 'mediasoup-worker');
  const key = buildKey();
  const cached = path.join(cacheRoot, key, 'mediasoup-worker');
  if (runsHere(cached)) {
    log(`using cached build ${key}`);
    install(cached);
    return;
  }
  if (await downloadPrebuilt()) {
    log('using the official prebuilt worker');
    return;
  }

  log(`building mediasoup-worker ${msVersion} from source (about 7 minutes on 2 cores)`);
  const built = buildFromSources(path.join(cacheRoot, `build-${key}`));
  fs.mkdirSync(path.dirname(cached), { recursive: true });
  fs.copyFileSync(built, cached);
  fs.rmSync(path.join(cacheRoot, `build-${key}`), { recursive: true, force: true });
  if (!runsHere(cached)) throw new Error('the built worker does not run');
  install(cached);
  log(`built and cached as ${key}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err) => {
    log(`failed: ${err.message}`);
    process.exit(1);
  });
}
