import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const TICK = 100; // clock ticks per second (getconf CLK_TCK on Linux)
const PAGE = 4096;

/** CPU seconds (user + system) a process has used, from /proc. */
export function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICK;
}

/** Resident memory of a process, bytes. */
export function rssBytes(pid: number): number {
  return Number(fs.readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * PAGE;
}

/** A process's mediasoup workers: its children running mediasoup-worker (tsx has an esbuild child too). */
export function workerPids(pid: number): number[] {
  return fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((p) => {
    try {
      return Number(fs.readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ')[1]) === pid
        && fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('mediasoup-worker');
    } catch {
      return false;
    }
  });
}

export interface Server {
  name: string;
  url: string;
  pid: number;
  workerPids: number[];
  child: ChildProcess;
  /** The process's memory after a full collection (it runs with --expose-gc and answers over IPC). */
  memoryAfterGc(): Promise<NodeJS.MemoryUsage>;
  stop(): Promise<void>;
}

/** Starts a server that reports `{ type: 'listening', url }` over IPC (the node, or the bare baseline). */
export async function startServer(name: string, args: string[], env: NodeJS.ProcessEnv, { logs = 'inherit' }: { logs?: 'inherit' | 'drain' } = {}): Promise<Server> {
  const out = logs === 'drain' ? 'pipe' : 'inherit';
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', out, 'inherit', 'ipc'] });
  // Read and dropped, as a log shipper reads a node's output: writing logs costs what it costs in production.
  child.stdout?.resume();
  const url = await new Promise<string>((resolve, reject) => {
    child.on('message', (m: { type?: string; url?: string }) => m.type === 'listening' && resolve(m.url!));
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
  });
  child.channel?.unref();
  const pid = child.pid!;
  // The workers are up once it listens.
  return {
    name, url, pid, workerPids: workerPids(pid), child,
    memoryAfterGc: () => new Promise((resolve) => {
      const listener = (m: { type?: string; memory?: NodeJS.MemoryUsage }) => {
        if (m.type !== 'memory') return;
        child.off('message', listener);
        resolve(m.memory!);
      };
      child.on('message', listener);
      child.send({ type: 'memory', collect: true });
    }),
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** The node, as `npm start` runs it, with the settings a benchmark needs. */
export function startNode(env: NodeJS.ProcessEnv = {}, options?: { logs?: 'inherit' | 'drain' }) {
  return startServer('node', ['src/main.ts'], {
    NODE_ENV: 'test', LOG_LEVEL: 'error', PORT: '0', HOST: '127.0.0.1', MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WEBRTC_PORT_BASE: '0',
    MEDIA_NUM_WORKERS: '1', DEMO_ENABLED: 'false', STORE_PATH: path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-')), 'sfu.sqlite'),
    LIMIT_JOINS_PER_IP_PER_MINUTE: '0', LIMIT_CONNECTIONS_PER_IP_PER_MINUTE: '0', LIMIT_PEERS_PER_ROOM: '100000', LIMIT_ROOMS_PER_NODE: '100000',
    LIMIT_ROOMS_PER_TENANT: '100000', MEDIA_RTC_MIN_PORT: '30000', MEDIA_RTC_MAX_PORT: '33999', ...env,
  }, options);
}

/** The bare baseline: the same worker binary behind a minimal ws server, doing the same work. */
export function startBare(env: NodeJS.ProcessEnv = {}) {
  return startServer('bare mediasoup', ['bench/bare-server.ts'], { ...env });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
