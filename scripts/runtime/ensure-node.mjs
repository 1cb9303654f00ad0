#!/usr/bin/env node
// Chooses the Node.js that runs this project, once, at `npm install` (postinstall).
//
// The project needs the Node.js major in package.json "engines". A machine whose own
// `node` has it uses that node directly. Otherwise the official build pinned in
// package.json "config.nodeRuntime" is taken from the npm registry (package
// node-<platform>-<arch>, the same binaries nodejs.org ships) into node_modules/.runtime and
// linked as node_modules/.bin/node. npm puts node_modules/.bin first on PATH for every npm
// script, so `npm start` and `npm test` run on it. docs/runtime.md explains the choice.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const binDir = path.join(root, 'node_modules', '.bin');
const link = path.join(binDir, 'node');
const log = (msg) => process.stderr.write(`[runtime] ${msg}\n`);

/** The lowest major that package.json "engines.node" accepts (">=24" → 24). */
export function requiredMajor(pkg) {
  const m = /^>=\s*(\d+)/.exec(pkg.engines?.node ?? '');
  if (!m) throw new Error(`package.json engines.node must read ">=N", got ${JSON.stringify(pkg.engines?.node)}`);
  return Number(m[1]);
}

/** The machine's own node: the first on PATH that is not a project's node_modules/.bin link. */
export function systemNode(env = process.env) {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir || dir.endsWith(path.join('node_modules', '.bin'))) continue;
    const candidate = path.join(dir, 'node');
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export const majorOf = (version) => Number(String(version).replace(/^v/, '').split('.')[0]);

function versionOf(bin) {
  const r = spawnSync(bin, ['-p', 'process.versions.node'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Unpacks node-<platform>-<arch>@version from the npm registry; returns its bin/node. */
function fetchRuntime(version) {
  const name = `node-${os.platform()}-${os.arch()}`;
  const dir = path.join(root, 'node_modules', '.runtime', `${name}-${version}`);
  const bin = path.join(dir, 'bin', 'node');
  if (versionOf(bin) === version) return bin;
  log(`this machine's Node.js is too old; fetching ${name}@${version} from the npm registry`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'node-runtime-'));
  try {
    const [packed] = JSON.parse(execFileSync('npm', ['pack', `${name}@${version}`, '--json', '--pack-destination', tmp], { encoding: 'utf8' }));
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    execFileSync('tar', ['-xzf', path.join(tmp, packed.filename), '-C', dir, '--strip-components=1']);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  fs.chmodSync(bin, 0o755);
  if (versionOf(bin) !== version) throw new Error(`${bin} does not run on this machine`);
  return bin;
}

function main() {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const major = requiredMajor(pkg);
  const own = systemNode();
  const ownVersion = own && versionOf(own);
  if (ownVersion && majorOf(ownVersion) >= major) {
    if (fs.lstatSync(link, { throwIfNoEntry: false })?.isSymbolicLink()) fs.rmSync(link);
    log(`using this machine's Node.js ${ownVersion} (${own})`);
    return;
  }
  const pinned = pkg.config?.nodeRuntime;
  if (majorOf(pinned) < major) throw new Error(`package.json config.nodeRuntime ${pinned} does not satisfy engines.node ${pkg.engines.node}`);
  const bin = fetchRuntime(pinned);
  fs.mkdirSync(binDir, { recursive: true });
  fs.rmSync(link, { force: true });
  fs.symlinkSync(path.relative(binDir, bin), link);
  log(`npm scripts run on Node.js ${pinned} (node_modules/.bin/node); this machine has ${ownVersion ?? 'no node'}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    main();
  } catch (err) {
    log(`failed: ${err.message}`);
    process.exit(1);
  }
}
