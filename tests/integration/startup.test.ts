import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { mintToken } from '../../src/auth/tokens.js';
import { loadConfig } from '../../src/config/load.js';
import { signalingUrl } from '../../src/contracts/url.js';
import { SignalingClient } from '../helpers/signaling-client.js';

// node itself, not npx or the tsx CLI: they put a process between the signal and the node.
const main = ['--import', 'tsx', 'src/main.ts'];
const env = (extra: Record<string, string>) => ({ ...process.env, LOG_LEVEL: 'info', MEDIA_LISTEN_IP: '127.0.0.1', HOST: '127.0.0.1', MEDIA_WEBRTC_PORT_BASE: '0', ...extra });

/** The node in a process of its own, with one worker; resolves once it says where it listens (over IPC). */
async function startNodeProcess() {
  const child = spawn(process.execPath, main, { env: env({ PORT: '0', MEDIA_NUM_WORKERS: '1' }), stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const listening = await new Promise<{ port: number; url: string }>((resolve, reject) => {
    child.on('message', (m: { type?: string; port: number; url: string }) => m.type === 'listening' && resolve(m));
    child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
  }).catch((err) => {
    child.kill('SIGKILL');
    throw err;
  });
  return { child, listening, out: () => out };
}

describe('the node process', () => {
  it('refuses a bad configuration with a message naming the key', () => {
    const r = spawnSync(process.execPath, main, { env: env({ PORT: 'eighty' }), encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(78);
    expect(r.stderr).toContain('config server.port (PORT)');
  });

  /** Runs the node to its exit; every start-up failure is one line naming what to change, and 78. */
  const failsWith = (extra: Record<string, string>) => {
    const r = spawnSync(process.execPath, main, { env: env({ MEDIA_NUM_WORKERS: '1', ...extra }), encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(78);
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    return lines[0];
  };

  it('a port in use, a second node on the same media port, an unreadable config file, a missing worker: one clear line and 78', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      expect(failsWith({ PORT: String(taken) })).toMatch(new RegExp(`server.port \\(PORT\\): port ${taken} on 127.0.0.1 is in use`));
    } finally {
      blocker.close();
    }
    // A first node holds its WebRtcServer port; a second one on the same host is told which setting clashes.
    const first = spawn(process.execPath, main, { env: env({ PORT: '0', MEDIA_NUM_WORKERS: '1', MEDIA_WEBRTC_PORT_BASE: '46900' }), stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
    try {
      await new Promise((resolve, reject) => {
        first.on('message', (m: { type?: string }) => m.type === 'listening' && resolve(m));
        first.once('exit', (code) => reject(new Error(`first node exited with ${code}`)));
      });
      expect(failsWith({ PORT: '0', MEDIA_WEBRTC_PORT_BASE: '46900' })).toMatch(/media.webRtcServerBasePort \(MEDIA_WEBRTC_PORT_BASE\): port 46900 \(UDP\/TCP, worker 0\) is in use/);
    } finally {
      first.kill('SIGKILL');
    }
    expect(failsWith({ CONFIG_FILE: '/nonexistent/sfu.json' })).toMatch(/config file \/nonexistent\/sfu.json \(CONFIG_FILE\): ENOENT/);
    expect(failsWith({ PORT: '0', MEDIASOUP_WORKER_BIN: '/nonexistent/mediasoup-worker' })).toMatch(/the mediasoup worker binary cannot be run \(\/nonexistent\/mediasoup-worker\).*MEDIASOUP_WORKER_BIN/);
    // A store path under a file cannot be created.
    expect(failsWith({ PORT: '0', STORE_PATH: '/etc/hostname/sfu/records.sqlite' })).toMatch(/store.path \(STORE_PATH\): cannot open \/etc\/hostname\/sfu\/records.sqlite: ENOTDIR/);
  }, 90_000);

  it('starts with embedded defaults, serves /readyz, and exits cleanly on SIGTERM', async () => {
    // A parent with an IPC channel hears where the node listens.
    const { child, listening, out } = await startNodeProcess();
    try {
      expect(listening.url).toBe(`http://127.0.0.1:${listening.port}`);
      const ready = await fetch(`${listening.url}/readyz`);
      expect(ready.status).toBe(200);
      // Structured logs carry the room and peer they are about.
      const client = await SignalingClient.connect(signalingUrl(listening.url));
      await client.request('join', { token: mintToken(loadConfig({}).auth, { room: 'log-room', identity: 'log-peer' }).token });
      await client.request('leave', {});
      client.close();
      const deadline2 = Date.now() + 5000;
      while (!out().includes('"peer left"') && Date.now() < deadline2) await new Promise((r) => setTimeout(r, 50));
      const lines = out().trim().split('\n').map((l) => JSON.parse(l));
      expect(lines.some((l) => l.msg === 'media worker ready' && l.worker === 0)).toBe(true);
      expect(lines.find((l) => l.msg === 'peer joined')).toMatchObject({ level: 30, roomId: 'default/log-room', peerId: 'log-peer', role: 'buyer' });
      expect(lines.find((l) => l.msg === 'peer left')).toMatchObject({ roomId: 'default/log-room', peerId: 'log-peer' });
      const exited = new Promise<number | null>((r) => child.once('exit', r));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('on SIGTERM drains: a call going on keeps its media worker until it ends, then the node exits 0', async () => {
    const { child, listening, out } = await startNodeProcess();
    try {
      const client = await SignalingClient.connect(signalingUrl(listening.url));
      await client.request('join', { token: mintToken(loadConfig({}).auth, { room: 'drain-room', identity: 'still-here' }).token });
      const exited = new Promise<number | null>((r) => child.once('exit', r));
      child.kill('SIGTERM');
      for (let i = 0; i < 100 && !out().includes('"draining"'); i++) await new Promise((r) => setTimeout(r, 50));
      expect(out()).toContain('"draining"');
      // mediasoup's own SIGTERM listener would have closed the worker under the call (MEDIA_WORKER_DIED).
      const transport = await client.request('createTransport', { direction: 'recv' });
      expect(transport).toMatchObject({ transportId: expect.any(String) });
      expect(out()).not.toContain('MEDIA_WORKER_DIED');
      await client.request('leave', {});
      client.close();
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
