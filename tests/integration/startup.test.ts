import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { mintToken } from '../../src/auth/tokens.js';
import { loadConfig } from '../../src/config/load.js';
import { signalingUrl } from '../../src/signaling/url.js';
import { SignalingClient } from '../helpers/signaling-client.js';

// node itself, not npx or the tsx CLI: they put a process between the signal and the node.
const main = ['--import', 'tsx', 'src/main.ts'];
const env = (extra: Record<string, string>) => ({ ...process.env, LOG_LEVEL: 'info', MEDIA_LISTEN_IP: '127.0.0.1', HOST: '127.0.0.1', MEDIA_WEBRTC_PORT_BASE: '0', ...extra });

describe('the node process', () => {
  it('refuses a bad configuration with a message naming the key', () => {
    const r = spawnSync(process.execPath, main, { env: env({ PORT: 'eighty' }), encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(78);
    expect(r.stderr).toContain('config server.port (PORT)');
  });

  it('starts with embedded defaults, serves /readyz, and exits cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, main, { env: env({ PORT: '0', MEDIA_NUM_WORKERS: '1' }), stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    try {
      // A parent with an IPC channel hears where the node listens.
      const listening = await new Promise<{ port: number; url: string }>((resolve, reject) => {
        child.on('message', (m: { type?: string; port: number; url: string }) => m.type === 'listening' && resolve(m));
        child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
      });
      expect(listening.url).toBe(`http://127.0.0.1:${listening.port}`);
      const ready = await fetch(`${listening.url}/readyz`);
      expect(ready.status).toBe(200);
      // Structured logs carry the room and peer they are about.
      const client = await SignalingClient.connect(signalingUrl(listening.url));
      await client.request('join', { token: mintToken(loadConfig({}).auth, { room: 'log-room', identity: 'log-peer' }).token });
      await client.request('leave', {});
      client.close();
      const deadline2 = Date.now() + 5000;
      while (!out.includes('"peer left"') && Date.now() < deadline2) await new Promise((r) => setTimeout(r, 50));
      const lines = out.trim().split('\n').map((l) => JSON.parse(l));
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
});
