import dgram from 'node:dgram';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { SignalingClient } from '../helpers/signaling-client.js';
import { newWebhookSecret, WebhookReceiver } from '../helpers/webhook-receiver.js';
import { waitFor, WeriftPeer } from '../helpers/werift-peer.js';
import { sleep } from '../helpers/time.js';

const KEY = 'shop-key-limits-0123456789abcdef';

/** The node's ffmpeg processes now (its children running ffmpeg). */
function ffmpegChildren(): number {
  let n = 0;
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.split(') ')[1].split(' ')[1]) !== process.pid) continue;
      if (fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').startsWith('ffmpeg')) n++;
    } catch {
      // gone meanwhile
    }
  }
  return n;
}

/** Samples `measure` every 20 ms while `work` runs; the largest value seen. */
async function peakDuring(work: Promise<unknown>, measure: () => number) {
  let peak = measure();
  let running = true;
  const sampler = (async () => {
    for (let i = 0; running && i < 5000; i++) {
      peak = Math.max(peak, measure());
      await sleep(20);
    }
  })();
  await work.finally(() => (running = false));
  await sampler;
  return peak;
}

const statuses = (results: Array<{ status: number; body: any }>) => {
  const out: Record<string, number> = {};
  for (const r of results) out[`${r.status}${r.body?.error ? ` ${r.body.error.code}` : ''}`] = (out[`${r.status}${r.body?.error ? ` ${r.body.error.code}` : ''}`] ?? 0) + 1;
  return out;
};

describe('limits that hold when requests arrive together, and a bounded budget of media processes', () => {
  let t: TestNode;
  const peers: WeriftPeer[] = [];
  const clients: SignalingClient[] = [];
  const call = async (key: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${t.http}${path}`, { method, headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    return { status: res.status, body: res.status === 204 ? null : await res.json() };
  };
  const api = (method: string, path: string, body?: unknown) => call(KEY, method, path, body);
  /** The default tenant's rooms (those its tokens open), with the operator's key. */
  const ops = (method: string, path: string, body?: unknown) => call('dev-only-api-key-change-me', method, path, body);

  beforeAll(async () => {
    t = await startTestNode({
      tenants: [{ id: 'shop', apiKeys: [KEY], limits: { rooms: 20 } }],
      limits: { forwardsPerRoom: 4, snapshotsPerCall: 5, recordingsPerRoom: 4 },
      media: { maxProcesses: 3 },
    });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all(peers.map((p) => p.close()));
    await t.close();
  });

  it('60 concurrent room creations against a limit of 20 make exactly 20 rooms', async () => {
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => api('POST', '/v1/rooms', { room: `burst-${i}` })));
    expect(statuses(results)).toEqual({ 201: 20, '429 TENANT_LIMIT': 40 });
    expect((await api('GET', '/v1/rooms?limit=100')).body.total).toBe(20);
    // Ending one frees its place.
    const made = results.find((r) => r.status === 201)!.body.room.room;
    expect((await api('DELETE', `/v1/rooms/${made}`)).status).toBe(204);
    await waitFor(async () => (await api('POST', '/v1/rooms', { room: 'after-end' })).status === 201, 'a place freed');
    for (const r of [...results.filter((x) => x.status === 201).map((x) => x.body.room.room), 'after-end']) await api('DELETE', `/v1/rooms/${r}`);
  });

  it('10 concurrent forwards against 4, 12 concurrent recordings against 4, 12 concurrent snapshots against 5: never more than the limit', async () => {
    const created = await api('POST', '/v1/rooms', { room: 'caps', participants: [{ identity: 'seller', role: 'seller' }] });
    const seller = await WeriftPeer.connect(t.ws, created.body.tokens[0].token);
    peers.push(seller);
    await seller.publish({ data: false });
    await waitFor(async () => (await api('GET', '/v1/rooms/caps')).body.participants[0]?.tracks.length === 2, 'both tracks');

    const forwards = await Promise.all(Array.from({ length: 10 }, (_, i) => api('POST', '/v1/rooms/caps/participants/seller/forwards', { host: '127.0.0.1', audioPort: 20_000 + i * 4 })));
    expect(statuses(forwards)).toEqual({ 201: 4, '429 LIMIT_REACHED': 6 });
    expect((await api('GET', '/v1/rooms/caps/forwards')).body.forwards).toHaveLength(4);

    const recordings = await Promise.all(Array.from({ length: 12 }, () => api('POST', '/v1/rooms/caps/recordings', {})));
    expect(statuses(recordings)).toEqual({ 201: 4, '429 LIMIT_REACHED': 8 });
    expect((await api('GET', '/v1/rooms/caps/recordings')).body.recordings).toHaveLength(4);
    for (const r of recordings.filter((x) => x.status === 201)) await api('DELETE', `/v1/rooms/caps/recordings/${r.body.recordingId}`);
    await waitFor(() => ffmpegChildren() === 0, 'the recordings\' processes gone');

    // 12 snapshots at once: 5 places in the call, 3 processes on the node (the others wait in line).
    const snapshots = Promise.all(Array.from({ length: 12 }, () => api('POST', '/v1/rooms/caps/snapshots', { identity: 'seller' })));
    const peak = await peakDuring(snapshots, ffmpegChildren);
    expect(statuses(await snapshots)).toEqual({ 201: 5, '429 LIMIT_REACHED': 7 });
    expect(peak).toBeLessThanOrEqual(3);
  }, 90_000);

  it('a bot with 16 producers of which one sends: one recording process, not 16; past media.maxProcesses a recording is refused with MEDIA_BUSY and /readyz says so', async () => {
    const bot = await SignalingClient.connect(t.ws);
    clients.push(bot);
    await bot.request('join', { token: t.token({ room: 'silent-bot', identity: 'bot', role: 'bot' }) });
    const plain = await bot.request('createPlainTransport', {});
    const producerIds: string[] = [];
    for (let i = 0; i < 16; i++) {
      const { producerId } = await bot.request('produce', {
        transportId: plain.transportId, kind: 'audio',
        rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: 5000 + i }] },
      });
      producerIds.push(producerId);
    }
    // Only the first producer's SSRC is fed, with real Opus silence frames.
    const socket = dgram.createSocket('udp4');
    let seq = 0;
    const feed = setInterval(() => {
      const header = Buffer.alloc(12);
      header[0] = 0x80;
      header[1] = 100;
      header.writeUInt16BE(seq++ & 0xffff, 2);
      header.writeUInt32BE((seq * 960) >>> 0, 4);
      header.writeUInt32BE(5000, 8);
      socket.send(Buffer.concat([header, Buffer.from([0xf8, 0xff, 0xfe])]), plain.port, plain.ip);
    }, 20);
    try {
      const room = await ops('POST', '/v1/rooms/silent-bot/recordings', {});
      expect(room.status).toBe(201);
      await waitFor(() => ffmpegChildren() === 1, 'the fed track recording');
      await sleep(1500);
      expect(ffmpegChildren()).toBe(1);
      expect((await (await fetch(`${t.http}/readyz`)).json()).mediaProcesses).toMatchObject({ processes: 1, maxProcesses: 3, full: false });
      // Another room's recording of two participants, each with a camera and a microphone, fills the budget of 3: a process per participant.
      for (const identity of ['filler', 'filler-2']) {
        const fill = await WeriftPeer.connect(t.ws, t.token({ room: 'fill', identity, role: 'seller' }));
        peers.push(fill);
        await fill.publish({ data: false });
      }
      expect((await ops('POST', '/v1/rooms/fill/recordings', {})).status).toBe(201);
      await waitFor(() => ffmpegChildren() === 3, 'the budget full');
      const ready = await (await fetch(`${t.http}/readyz`)).json();
      expect(ready).toMatchObject({ status: 'ready', mediaProcesses: { processes: 3, full: true } });
      const refused = await ops('POST', '/v1/rooms/silent-bot/recordings', {});
      expect(refused).toMatchObject({ status: 503, body: { error: { code: 'MEDIA_BUSY' } } });
      expect(await (await fetch(`${t.http}/metrics`)).text()).toMatch(/^sfu_media_processes 3$/m);
    } finally {
      clearInterval(feed);
      socket.close();
    }
  }, 60_000);
});

describe('forwards never aim at the node itself', () => {
  let t: TestNode;
  const clients: SignalingClient[] = [];
  const peers: WeriftPeer[] = [];
  beforeAll(async () => {
    t = await startTestNode();
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all(peers.map((p) => p.close()));
    await t.close();
  });

  const forward = (room: string, identity: string, body: object) => fetch(`${t.http}/v1/rooms/${room}/participants/${identity}/forwards`, {
    method: 'POST', headers: { authorization: 'Bearer dev-only-api-key-change-me', 'content-type': 'application/json' }, body: JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, body: await r.json() }));

  it('refuses the node\'s HTTP port, its media port and another bot\'s plain transport; a bot that names its source keeps its transport', async () => {
    const victim = await SignalingClient.connect(t.ws);
    clients.push(victim);
    await victim.request('join', { token: t.token({ room: 'victim', identity: 'victim-bot', role: 'bot' }) });
    const open = await victim.request('createPlainTransport', {});
    const sender = await WeriftPeer.connect(t.ws, t.token({ room: 'attacker', identity: 'attacker', role: 'seller' }));
    peers.push(sender);
    await sender.publish({ video: false, data: false });
    await waitFor(async () => (await (await fetch(`${t.http}/v1/rooms/attacker`, { headers: { authorization: 'Bearer dev-only-api-key-change-me' } })).json()).participants[0]?.tracks.length === 1, 'the attacker\'s track');
    const httpPort = Number(new URL(t.http).port);
    const mediaPort = (await t.node.pool.listeningPorts())[0];
    for (const port of [httpPort, mediaPort, open.port]) {
      expect(await forward('attacker', 'attacker', { host: '127.0.0.1', audioPort: port })).toMatchObject({ status: 403, body: { error: { code: 'TARGET_NOT_ALLOWED' } } });
    }
    // A port of this host that is not the node's is fine (a transcriber next to it).
    expect((await forward('attacker', 'attacker', { host: '127.0.0.1', audioPort: 25_000 })).status).toBe(201);

    // A bot that names its source: packets from anywhere else are not taken, before or after its own.
    const named = await victim.request('createPlainTransport', { source: { ip: '127.0.0.1', port: 39_990 } });
    const { producerId } = await victim.request('produce', {
      transportId: named.transportId, kind: 'audio', rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: 7777 }] },
    });
    const intruder = dgram.createSocket('udp4');
    const own = dgram.createSocket('udp4');
    await new Promise<void>((r) => own.bind(39_990, '127.0.0.1', r));
    const packet = (seq: number) => {
      const h = Buffer.alloc(12);
      h[0] = 0x80;
      h[1] = 100;
      h.writeUInt16BE(seq, 2);
      h.writeUInt32BE(seq * 960, 4);
      h.writeUInt32BE(7777, 8);
      return Buffer.concat([h, Buffer.from([0xf8, 0xff, 0xfe])]);
    };
    const stats = async () => ((await victim.request('getStats', { target: 'producer', id: producerId })).stats[0] as { packetCount?: number } | undefined)?.packetCount ?? 0;
    for (let i = 0; i < 20; i++) intruder.send(packet(i), named.port, named.ip);
    await sleep(300);
    expect(await stats()).toBe(0);
    for (let i = 20; i < 40; i++) own.send(packet(i), named.port, named.ip);
    await waitFor(async () => (await stats()) === 20, 'the bot\'s own packets taken');
    intruder.close();
    own.close();
  });
});

describe('one tenant\'s webhooks do not delay another\'s', () => {
  const slow = new WebhookReceiver(newWebhookSecret());
  const fast = new WebhookReceiver(newWebhookSecret());
  let t: TestNode;
  beforeAll(async () => {
    await slow.start();
    await fast.start();
    slow.mode = 'hang';
    t = await startTestNode({
      tenants: [
        { id: 'slow', apiKeys: ['slow-key-0123456789abcdef'], webhook: { url: slow.url, secret: slow.secret } },
        { id: 'fast', apiKeys: ['fast-key-0123456789abcdef'], webhook: { url: fast.url, secret: fast.secret } },
      ],
      webhooks: { timeoutMs: 30_000, concurrency: 8, concurrencyPerTenant: 2, maxPendingPerTenant: 40 },
    });
  });
  afterAll(async () => {
    await t.close();
    await slow.stop();
    await fast.stop();
  });

  const post = (key: string, path: string, body: object) => fetch(`${t.http}${path}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('a tenant whose receiver never answers, churning rooms, holds only its own share; its backlog is bounded and counted', async () => {
    // The slow tenant's rooms, each with its own events: every delivery hangs for 30 s.
    for (let i = 0; i < 30; i++) {
      await post('slow-key-0123456789abcdef', '/v1/rooms', { room: `churn-${i}`, emptyTimeoutSeconds: 1 });
      await fetch(`${t.http}/v1/rooms/churn-${i}`, { method: 'DELETE', headers: { authorization: 'Bearer slow-key-0123456789abcdef' } });
    }
    await waitFor(() => slow.connections >= 2, 'the slow tenant\'s deliveries hanging');
    // The other tenant's event goes out while the slow tenant's attempts hang (none of them has answered).
    await post('fast-key-0123456789abcdef', '/v1/rooms', { room: 'meanwhile' });
    await waitFor(() => fast.events.some((e) => e.type === 'room.started' && e.data.room === 'meanwhile'), 'the other tenant\'s room.started');
    expect(slow.events).toHaveLength(0);
    expect(slow.connections).toBeLessThanOrEqual(2);
    // Its backlog stopped at webhooks.maxPendingPerTenant; the rest are listed as failed (not queued), and counted.
    const metrics = await (await fetch(`${t.http}/metrics`)).text();
    expect(Number(/sfu_webhooks_pending\{tenant="slow"\} (\d+)/.exec(metrics)?.[1])).toBe(40);
    const failures = await (await fetch(`${t.http}/v1/webhooks/failures?limit=100`, { headers: { authorization: 'Bearer slow-key-0123456789abcdef' } })).json();
    expect(failures.failures.length).toBeGreaterThan(0);
    expect(failures.failures[0].lastError).toMatch(/not queued/);
    const backlog = await (await fetch(`${t.http}/v1/webhooks/backlog`, { headers: { authorization: 'Bearer slow-key-0123456789abcdef' } })).json();
    expect(backlog).toEqual({ pending: 40 });
  }, 60_000);
});
