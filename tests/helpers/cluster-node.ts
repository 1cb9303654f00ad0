import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mintToken } from '../../src/auth/tokens.js';
import { loadConfig } from '../../src/config/load.js';
import type { MintRequest } from '../../src/auth/tokens.js';
import { signalingUrl } from '../../src/contracts/url.js';

const auth = loadConfig({}).auth;
export const API_KEY = auth.apiKeys[0];
/** Every node shares the development secret, so one minted token works everywhere. */
export const token = (req: MintRequest) => mintToken(auth, req).token;

/** A real node process (src/main.ts), on loopback: in cluster mode with fast heartbeats, or alone when redisUrl is ''. */
export class ClusterNode {
  logs = '';
  url = '';
  private exitCode?: Promise<number | null>;

  private constructor(readonly id: string, readonly region: string, readonly proc: ChildProcess) {}

  get ws() {
    return signalingUrl(this.url);
  }

  static async start(id: string, region: string, redisUrl: string, env: Record<string, string> = {}, execArgv: string[] = []): Promise<ClusterNode> {
    const proc = spawn(process.execPath, [...execArgv, '--import', 'tsx', 'src/main.ts'], {
      // The IPC channel is how the node tells us where it listens (src/main.ts).
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: {
        ...process.env,
        NODE_ENV: 'test', LOG_LEVEL: 'info', PORT: '0', HOST: '127.0.0.1',
        MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WEBRTC_PORT_BASE: '0', MEDIA_NUM_WORKERS: '1', DEMO_ENABLED: 'false',
        REDIS_URL: redisUrl, REGION: region, NODE_ID: id,
        CLUSTER_HEARTBEAT_MS: '250', CLUSTER_NODE_TTL_MS: '1500', CLUSTER_ROOM_TTL_MS: '3000', DRAIN_TIMEOUT_MS: '30000',
        // A closed socket leaves at once here: these tests count peers and capacity (resume has its own tests).
        SIGNALING_RECONNECT_GRACE_MS: '0',
        ...((dir) => ({ STORE_PATH: path.join(dir, 'sfu.sqlite'), RECORDING_DIR: path.join(dir, 'recordings') }))(fs.mkdtempSync(path.join(os.tmpdir(), `sfu-${id}-`))),
        ...env,
      },
    });
    const node = new ClusterNode(id, region, proc);
    node.exitCode = new Promise((r) => proc.once('exit', (code) => r(code)));
    proc.stdout!.on('data', (d) => (node.logs += d));
    proc.stderr!.on('data', (d) => (node.logs += d));
    node.url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error('timed out')), 30_000);
      const fail = (err: Error) => {
        clearTimeout(timer);
        proc.kill('SIGKILL');
        reject(new Error(`node ${id} did not start (${err.message}):\n${node.logs}`));
      };
      proc.on('message', (m: { type?: string; url?: string }) => {
        if (m.type !== 'listening' || !m.url) return;
        clearTimeout(timer);
        resolve(m.url);
      });
      proc.once('exit', (code) => fail(new Error(`exited with ${code}`)));
    });
    return node;
  }

  post(path: string, body: unknown = {}) {
    return fetch(`${this.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
      body: JSON.stringify(body),
    });
  }

  /** POST /v1/rooms: where the cluster puts (or has put) this room. */
  async place(room: string, region?: string): Promise<{ node: { id: string; region: string; url: string }; signalingUrl: string }> {
    const res = await this.post('/v1/rooms', { room, ...(region ? { region } : {}) });
    if (res.status !== 201 && res.status !== 200) throw new Error(`place ${room}: ${res.status} ${await res.text()}\n${this.logs.split('\n').filter((l) => l.includes('"level":50')).slice(-3).join('\n')}`);
    return res.json();
  }

  exited() {
    return this.exitCode!;
  }

  /** The node's memory, after a full collection when it runs with --expose-gc (src/main.ts answers over IPC). */
  memory(): Promise<NodeJS.MemoryUsage & { collected: boolean }> {
    return new Promise((resolve) => {
      const listener = (m: { type?: string; memory?: NodeJS.MemoryUsage; collected?: boolean }) => {
        if (m.type !== 'memory') return;
        this.proc.off('message', listener);
        resolve({ ...m.memory!, collected: Boolean(m.collected) });
      };
      this.proc.on('message', listener);
      this.proc.send({ type: 'memory', collect: true });
    });
  }

  async stop(signal: NodeJS.Signals = 'SIGKILL') {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill(signal);
    await this.exited();
  }
}
