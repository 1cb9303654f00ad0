import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/**
 * A network namespace of the test's own: a private loopback (every 127.x address is local),
 * its own iptables, and processes run inside it with `ip netns exec`. Nothing it does reaches
 * the host's interfaces. Removed with everything in it by close().
 */
export class NetNs {
  private readonly children: ChildProcess[] = [];
  private constructor(readonly name: string) {}

  static create(prefix = 'sfu'): NetNs {
    const name = `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
    execFileSync('ip', ['netns', 'add', name]);
    const ns = new NetNs(name);
    ns.exec('ip', ['link', 'set', 'lo', 'up']);
    // The loopback's 64 KB MTU would make loss and rate caps act on giant packets.
    ns.exec('ip', ['link', 'set', 'lo', 'mtu', '1500']);
    return ns;
  }

  /** Runs a command inside, to completion. */
  exec(cmd: string, args: string[]) {
    return execFileSync('ip', ['netns', 'exec', this.name, cmd, ...args], { encoding: 'utf8' });
  }

  /** Starts a process inside (its IPC channel, if asked for, passes through). */
  spawn(cmd: string, args: string[], options: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.name, cmd, ...args], options);
    this.children.push(child);
    return child;
  }

  /** A throw-away redis-server inside, on the namespace's 127.0.0.1 (no persistence); its URL. */
  startRedis(port = 6379): string {
    this.spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    return `redis://127.0.0.1:${port}`;
  }

  /** An iptables rule inside the namespace (legacy iptables: NFQUEUE works there, nftables' queue does not here). */
  iptables(...rule: string[]) {
    this.exec('iptables-legacy', rule);
  }

  /**
   * A node (src/main.ts, or `script` that takes the same settings) inside the namespace on
   * http://`ip`:8080, one worker with its media on `mediaPort`, alone with an in-memory store
   * unless `env` says otherwise; once it listens.
   */
  async startNode(ip: string, mediaPort: number, env: NodeJS.ProcessEnv = {}, script = 'src/main.ts'): Promise<ChildProcess> {
    const node = this.spawn(process.execPath, ['--import', 'tsx', script], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      env: {
        ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'warn', HOST: ip, PORT: '8080', PUBLIC_URL: `http://${ip}:8080`,
        MEDIA_LISTEN_IP: ip, MEDIA_NUM_WORKERS: '1', MEDIA_WEBRTC_PORT_BASE: String(mediaPort), MEDIA_PORT: String(mediaPort), STORE_PATH: ':memory:', REDIS_URL: '',
        ...env,
      },
    });
    await new Promise((resolve, reject) => {
      node.on('message', (m: { type?: string }) => m.type === 'listening' && resolve(m));
      node.once('exit', (code) => reject(new Error(`the node on ${ip} exited with ${code}`)));
    });
    return node;
  }

  /** Chromium inside the namespace, with a fake camera and microphone it may use without asking. */
  launchChromium(extraArgs: string[] = []): Promise<Browser> {
    return chromium.launch({
      executablePath: this.chromiumLauncher(),
      args: ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--allow-loopback-in-peer-connection', '--disable-background-networking', '--no-first-run', ...extraArgs],
    });
  }

  /** A launcher for Chromium inside the namespace, for Playwright's executablePath. */
  chromiumLauncher(chromium = '/usr/bin/chromium'): string {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'netns-chromium-')), 'chromium');
    fs.writeFileSync(file, `#!/bin/sh\nexec ip netns exec ${this.name} ${chromium} "$@"\n`, { mode: 0o755 });
    return file;
  }

  async close() {
    for (const child of this.children) if (child.exitCode === null) child.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    // Whatever is left inside dies with the namespace's processes.
    try {
      const pids = execFileSync('ip', ['netns', 'pids', this.name], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
      for (const pid of pids) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
    execFileSync('ip', ['netns', 'delete', this.name]);
  }
}
