import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { DocRunner } from '../helpers/doc-runner.js';
import { WeriftPeer, waitFor } from '../helpers/werift-peer.js';

const sh = async (cmd: string) => (await promisify(execFile)('bash', ['-c', cmd], { encoding: 'utf8', timeout: 120_000 })).stdout.trim();
const lastLine = (text: string) => text.trim().split('\n').at(-1)!;
const json = (text: string) => JSON.parse(lastLine(text));
/** What a run leaves when it stops half-way: the container, its volume, the compose services. */
const CLEANUP = 'podman rm -f sfu >/dev/null 2>&1; podman volume rm -f sfu-data >/dev/null 2>&1; '
  + 'DOCKER_HOST=unix:///run/podman/podman.sock COMPOSE_FILE=docker-compose.yml:deploy/local-images/compose.local.yml docker-compose down >/dev/null 2>&1; true';
/** The ports the document and the compose file name: they must be free on this machine. */
const FIXED_PORTS = [8080, 8081, 9090, 3478, 44440, 44441, 44450, 44451];

/** Polls `check` once a second, at most `tries` times (each try runs a podman or curl command). */
async function until(check: () => Promise<boolean>, what: string, tries = 60) {
  for (let i = 0; i < tries; i++) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function free(port: number) {
  return new Promise<boolean>((resolve) => {
    const probe = net.createServer().once('error', () => resolve(false)).listen(port, '0.0.0.0', () => probe.close(() => resolve(true)));
  });
}

/**
 * docs/deploy.md, every command in order, as an operator types them: the image is built from a
 * local base, started with its volume, carries a call and a recording, drains on stop, keeps its
 * records across a second start; then the compose file comes up with two regional nodes.
 */
describe('docs/deploy.md: the image and the compose file, built and run', () => {
  const backend = fs.mkdtempSync(path.join(os.tmpdir(), 'deploy-doc-'));
  const doc = new DocRunner('docs/deploy.md', {
    ports: {},
    dirs: { sfu: process.cwd(), backend },
    env: {},
    timeoutMs: 40 * 60_000,
  });
  const peers: WeriftPeer[] = [];
  let callId: string;

  beforeAll(async () => {
    // Leftovers of an earlier run that stopped half-way.
    await sh(CLEANUP);
    const taken = [];
    for (const p of FIXED_PORTS) if (!(await free(p))) taken.push(p);
    if (taken.length) throw new Error(`docs/deploy.md and docker-compose.yml use ports ${taken.join(', ')}, taken on this machine`);
  });
  afterAll(async () => {
    await Promise.all(peers.map((p) => p.close()));
    await doc.close();
    await sh(CLEANUP).catch(() => undefined);
  });

  it('builds the image: compiled JavaScript, as uid 1000, with the node as PID 1, and the manifests agree with it', async () => {
    const [size, user] = lastLine(await doc.runUntil('build')).split(' ');
    expect(user).toBe('node');
    expect(Number(size)).toBeGreaterThan(100e6);
    const config = JSON.parse(await sh('podman image inspect crossborder-sfu --format "{{json .Config}}"'));
    expect(config.Cmd).toEqual(['node', 'dist/main.js']);
    expect(config.Env).toContain('PORT=8080');
    expect(await sh('podman run --rm crossborder-sfu id -u')).toBe('1000');
    // No TypeScript runner at run time; the agent worker the manifest starts is there, compiled.
    expect(await sh('podman run --rm crossborder-sfu sh -c "test -f dist/agents/worker/main.js && ! test -e node_modules/.bin/tsc && echo ok"')).toBe('ok');
    const deployment = parseAllDocuments(fs.readFileSync('deploy/kubernetes/base/deployment.yaml', 'utf8'))[0].toJS();
    const worker = parseAllDocuments(fs.readFileSync('deploy/kubernetes/base/agent-worker.yaml', 'utf8'))[0].toJS();
    expect(deployment.spec.template.spec.securityContext.runAsUser).toBe(1000);
    expect(deployment.spec.template.spec.securityContext.runAsGroup).toBe(Number(await sh('podman run --rm crossborder-sfu id -g')));
    expect(worker.spec.template.spec.containers[0].command).toEqual(['node', 'dist/agents/worker/main.js']);
    expect(deployment.spec.template.spec.containers[0].ports.find((p: any) => p.name === 'http').containerPort).toBe(8080);
  });

  it('runs with its volume: /readyz answers, a call of two peers goes through its media ports, and the recording lands in the volume', async () => {
    const ready = json(await doc.runUntil('run'));
    expect(ready).toMatchObject({ status: 'ready', workers: { alive: 2 } });
    expect(await sh('podman exec sfu cat /proc/1/cmdline | tr "\\0" " "')).toBe('node dist/main.js');
    expect(deploymentProbe()).toBe('/readyz');

    const created = json(await doc.runUntil('room'));
    callId = created.room.callId;
    const ws = created.signalingUrl.replace('localhost', '127.0.0.1');
    for (const t of created.tokens) peers.push(await WeriftPeer.connect(ws, t.token));
    const [buyer, seller] = peers;
    await buyer.publish({ data: false });
    await seller.publish({ data: false });
    await buyer.subscribe({ consumers: 2 });
    await seller.subscribe({ consumers: 2 });
    await waitFor(() => buyer.received.video.packets > 30 && seller.received.video.packets > 30 && buyer.received.audio.packets > 30, 'media both ways through the container');
    expect(json(await doc.runUntil('record'))).toMatchObject({ recordingId: expect.any(String) });
    const before = buyer.received.video.packets;
    await waitFor(() => buyer.received.video.packets > before + 100, 'more media while recording');
    // The files being written are in the volume, under the tenant and the call (a video file once its first keyframe is in).
    const mount = await sh('podman volume inspect sfu-data --format "{{.Mountpoint}}"');
    await until(async () => Number(await sh(`find ${mount} -name "*.webm" | wc -l`)) >= 4, 'four files in the volume', 30);
    const files = await doc.runUntil('files');
    expect(files).toContain(callId);
    expect(files.match(/\.webm/g)?.length, files).toBeGreaterThanOrEqual(4);
  });

  it('drains on SIGTERM: the call is let finish, then the node exits 0 within the stop\'s time', async () => {
    const stopping = doc.runUntil('stop');
    await until(async () => (await sh('podman logs sfu 2>&1')).includes('draining'), 'the node to start draining', 30);
    // Still draining while the call goes on: its media keeps flowing, on the same worker, and the node answers.
    const [buyer] = peers;
    const during = buyer.received.video.packets;
    await waitFor(() => buyer.received.video.packets > during + 100, 'media during the drain', 30_000);
    expect((await fetch('http://127.0.0.1:8080/healthz')).status).toBe(200);
    expect(await sh('podman logs sfu 2>&1')).not.toContain('MEDIA_WORKER_DIED');
    // It ends when they hang up (leave, as the SDK's hang-up does).
    await Promise.all(peers.splice(0).map(async (p) => {
      await p.client.request('leave', {});
      await p.close();
    }));
    expect(lastLine(await stopping)).toBe('0');
  });

  it('keeps the call record on a second start on the same volume', async () => {
    expect(json(await doc.runUntil('restart'))).toMatchObject({ status: 'ready' });
    const { calls } = json(await doc.runUntil('records'));
    const call = calls.find((c: any) => c.callId === callId);
    expect(call).toBeDefined();
    expect(call.participants.map((p: any) => p.identity).sort()).toEqual(['buyer-7', 'seller-3']);
    expect(call.recordings.filter((f: any) => f.status === 'complete').length, JSON.stringify(call.recordings)).toBeGreaterThanOrEqual(4);
    await doc.runUntil('cleanup');
  });

  it('brings the compose file up: both nodes in Redis, a room placed in its region, Prometheus scraping both', async () => {
    const ready = await doc.runUntil('compose-up');
    expect(ready).toContain('"status":"ready"');
    // All five services run: coturn on the host's network, the others on the compose network.
    const services = (await sh('podman ps --format "{{.Labels}}"')).match(/com\.docker\.compose\.service:[\w-]+/g)?.map((l) => l.split(':')[1]).sort();
    expect(services).toEqual(['coturn', 'node-cn', 'node-us', 'prometheus', 'redis']);
    const redis = await sh('podman ps --filter label=com.docker.compose.service=redis --format "{{.Names}}"');
    const nodes = (await sh(`podman exec ${redis} redis-cli zrange sfu:nodes 0 -1`)).split('\n').sort();
    expect(nodes).toEqual(['node-cn-1', 'node-us-1']);

    const placed = json(await doc.runUntil('compose-room'));
    expect(placed.node).toMatchObject({ id: 'node-cn-1', region: 'cn-south' });

    let targets: any[] = [];
    await until(async () => {
      targets = json(await sh('curl -s localhost:9090/api/v1/targets')).data.activeTargets;
      return targets.filter((t) => t.health === 'up').length === 2;
    }, 'Prometheus to scrape both nodes', 60);
    expect(targets.map((t) => t.labels.region).sort()).toEqual(['cn-south', 'us-west']);
    expect(json(await doc.runUntil('compose-targets')).data.activeTargets).toHaveLength(2);
    await doc.runUntil('compose-down');
    expect(doc.pending()).toEqual([]);
  });
});

function deploymentProbe() {
  const deployment = parseAllDocuments(fs.readFileSync('deploy/kubernetes/base/deployment.yaml', 'utf8'))[0].toJS();
  return deployment.spec.template.spec.containers[0].readinessProbe.httpGet.path;
}
