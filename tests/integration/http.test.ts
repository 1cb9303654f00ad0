import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenVerifier } from '../../src/auth/tokens.js';
import { SDK_VERSION } from '../../src/http/sdk-bundle.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { waitFor, WeriftPeer } from '../helpers/werift-peer.js';

describe('HTTP: health, readiness, metrics and token minting', () => {
  let t: TestNode;
  const apiKey = 'integration-api-key-123';
  beforeAll(async () => {
    t = await startTestNode({ auth: { apiKeys: [apiKey] } });
  });
  afterAll(() => t.close());

  const mint = (body: unknown, key?: string) => fetch(`${t.http}/v1/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify(body),
  });

  it('/healthz and /readyz', async () => {
    expect(await (await fetch(`${t.http}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${t.http}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', workers: { alive: 1, total: 1 } });
    t.node.rooms.acceptingRooms = false;
    const draining = await fetch(`${t.http}/readyz`);
    t.node.rooms.acceptingRooms = true;
    expect(draining.status).toBe(503);
    expect(await draining.json()).toMatchObject({ status: 'draining', problems: ['draining: not accepting new rooms'] });
  });

  it('POST /v1/tokens needs an API key and a valid body', async () => {
    expect((await mint({ room: 'r', identity: 'i' })).status).toBe(401);
    expect((await mint({ room: 'r', identity: 'i' }, 'wrong-key-wrong-key')).status).toBe(401);
    const bad = await mint({ room: 'r' }, apiKey);
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe('BAD_REQUEST');
    const ok = await mint({ room: 'ticket-9', identity: 'seller-1', role: 'seller', ttlSeconds: 120 }, apiKey);
    expect(ok.status).toBe(201);
    const { token, expiresAt } = await ok.json();
    expect(new TokenVerifier(t.config.auth).verify(token)).toMatchObject({ room: 'ticket-9', identity: 'seller-1', role: 'seller', expiresAt });
    expect((await fetch(`${t.http}/nope`)).status).toBe(404);
  });

  it('serves the SDK and the demo; the dev token route is off outside development', async () => {
    const sdk = await fetch(`${t.http}/sdk/sfu-client.js`);
    expect(sdk.headers.get('content-type')).toContain('javascript');
    expect(await sdk.text()).toContain('setPreferredLayers');
    expect((await fetch(`${t.http}/demo/`)).status).toBe(200);
    expect(await (await fetch(`${t.http}/demo/config.json`)).json()).toEqual({ devTokens: false });
    const res = await fetch(`${t.http}/demo/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"room":"r","identity":"i"}' });
    expect(res.status).toBe(404);

    const dev = await startTestNode({ demo: { devTokens: 'on' } });
    try {
      const post = (body: object) => fetch(`${dev.http}/demo/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const ok = await post({ room: 'r', identity: 'buyer-1', role: 'buyer', grants: { admin: true } });
      expect(ok.status).toBe(201);
      expect(new TokenVerifier(dev.config.auth).verify((await ok.json()).token).grants.admin).toBe(false);
      expect((await post({ room: 'r', identity: 'x', role: 'agent' })).status).toBe(400);
    } finally {
      await dev.close();
    }
  });

  it('serves the SDK with the demo turned off, as the Kubernetes base runs', async () => {
    const plain = await startTestNode({ demo: { enabled: false } });
    try {
      expect((await fetch(`${plain.http}/demo/`)).status).toBe(404);
      const sdk = await fetch(`${plain.http}/sdk/sfu-client.js`);
      expect(sdk.status).toBe(200);
      expect(await sdk.text()).toContain('setPreferredLayers');
    } finally {
      await plain.close();
    }
  });

  it('serves the SDK to other origins: versioned and immutable, or v1 with an ETag; source maps; CORS per server.allowedOrigins', async () => {
    const shop = 'https://shop.example.com';
    const versioned = await fetch(`${t.http}/sdk/${SDK_VERSION}/sfu-client.js`, { headers: { origin: shop } });
    expect(versioned.status).toBe(200);
    expect(versioned.headers.get('access-control-allow-origin')).toBe('*');
    expect(versioned.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const code = await versioned.text();
    // The module names its map next to it (checked without printing a 300 KB module on failure).
    expect(code.trimEnd().split('\n').at(-1)).toBe('//# sourceMappingURL=sfu-client.js.map');
    const v1 = await fetch(`${t.http}/sdk/v1/sfu-client.js`, { headers: { origin: shop } });
    expect((await v1.text()) === code).toBe(true);
    const etag = v1.headers.get('etag')!;
    expect((await fetch(`${t.http}/sdk/v1/sfu-client.js`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    // Compressed for a browser that takes gzip (fetch does, and unpacks it), the same text for one that does not.
    expect(v1.headers.get('content-encoding')).toBe('gzip');
    expect(v1.headers.get('vary')).toMatch(/Accept-Encoding/);
    const plain = await fetch(`${t.http}/sdk/v1/sfu-client.js`, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect((await plain.text()) === code).toBe(true);
    const map = await (await fetch(`${t.http}/sdk/v1/sfu-client.js.map`)).json();
    expect(map.sources.some((s: string) => s.endsWith('src/client/call.ts'))).toBe(true);
    const preflight = await fetch(`${t.http}/sdk/v1/sfu-client.js`, { method: 'OPTIONS', headers: { origin: shop, 'access-control-request-method': 'GET' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('GET');
    expect((await fetch(`${t.http}/sdk/0.0.1/sfu-client.js`)).status).toBe(404);

    // With a list of origins: those get their own origin back, others none (the browser refuses the module).
    const strict = await startTestNode({ server: { allowedOrigins: [shop, 'https://*.shop.example'] } });
    try {
      const allowed = await fetch(`${strict.http}/sdk/v1/sfu-client.js`, { headers: { origin: 'https://eu.shop.example' } });
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://eu.shop.example');
      expect(allowed.headers.get('vary')).toContain('Origin');
      const other = await fetch(`${strict.http}/sdk/v1/sfu-client.js`, { headers: { origin: 'https://evil.example.net' } });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await strict.close();
    }
  });

  it('the CLI mints tokens the node accepts', () => {
    const out = execFileSync('npx', ['tsx', 'src/auth/cli.ts', '--room', 'cli-room', '--identity', 'agent-3', '--role', 'agent', '--grant', 'admin=true'], {
      encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'silent' },
    });
    expect(new TokenVerifier(t.config.auth).verify(out.trim())).toMatchObject({ room: 'cli-room', identity: 'agent-3', grants: { admin: true } });
    expect(() => execFileSync('npx', ['tsx', 'src/auth/cli.ts', '--room', 'x'], { stdio: 'pipe' })).toThrow(/need --room and --identity/);
  });

  it('/metrics counts rooms, peers, media objects, bytes and joins, with bounded labels', async () => {
    const a = await WeriftPeer.connect(t.ws, t.token({ room: 'metrics-room-secret-name', identity: 'alice-private' }));
    const b = await WeriftPeer.connect(t.ws, t.token({ room: 'metrics-room-secret-name', identity: 'bob-private' }));
    try {
      await a.publish();
      await b.subscribe({ consumers: 2, dataConsumers: 1 });
      await waitFor(() => b.received.video.packets > 20, 'media');
      // Transport bytes come from a sampler that visits a few participants a second, not from the scrape.
      const scraped = () => fetch(`${t.http}/metrics`).then((r) => r.text());
      await waitFor(async () => /^sfu_transport_sent_bytes_total [1-9]\d{4,}/m.test(await scraped()), 'sampled transport bytes');
      const res = await fetch(`${t.http}/metrics`);
      expect(res.headers.get('content-type')).toContain('text/plain');
      const text = await res.text();
      const value = (line: string) => Number(new RegExp(`^${line.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
      expect(value('sfu_rooms')).toBe(1);
      expect(value('sfu_peers')).toBe(2);
      expect(value('sfu_transports')).toBe(2);
      expect(value('sfu_producers{kind="video"}')).toBe(1);
      expect(value('sfu_consumers{kind="audio"}')).toBe(1);
      expect(value('sfu_data_producers')).toBe(1);
      expect(value('sfu_data_consumers')).toBe(1);
      expect(value('sfu_transport_received_bytes_total')).toBeGreaterThan(10_000);
      expect(value('sfu_transport_sent_bytes_total')).toBeGreaterThan(10_000);
      expect(value('sfu_join_duration_seconds_count')).toBe(2);
      expect(value('sfu_signaling_requests_total{method="join"}')).toBe(2);
      expect(value('sfu_worker_cpu_seconds{worker="0"}')).toBeGreaterThan(0);
      expect(value('sfu_worker_memory_bytes{worker="0"}')).toBeGreaterThan(1_000_000);
      // No per-room or per-peer labels.
      expect(text).not.toMatch(/metrics-room-secret-name|alice-private|bob-private/);
      const labelNames = new Set([...text.matchAll(/^sfu_\w+\{([^}]*)\}/gm)].flatMap((m) => [...m[1].matchAll(/(\w+)="/g)].map((l) => l[1])));
      // tenant: from config, so bounded too; state: an assistant job's, waiting or running.
      const bounded = ['kind', 'worker', 'method', 'code', 'le', 'version', 'major', 'minor', 'patch', 'space', 'type', 'tenant', 'direction', 'role', 'outcome', 'reason', 'state'];
      expect([...labelNames].filter((l) => !bounded.includes(l))).toEqual([]);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
