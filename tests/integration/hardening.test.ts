import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { RequestFailed, SignalingClient } from '../helpers/signaling-client.js';
import { startCall, waitFor, type WeriftPeer } from '../helpers/werift-peer.js';
import { roomKey } from '../../src/rooms/room-key.js';
import { sleep } from '../helpers/time.js';

const opus = (ssrc: number) => ({ codecs: [{ mimeType: 'audio/opus' as const, payloadType: 100, clockRate: 48000, channels: 2 }], encodings: [{ ssrc }] });
const vp8 = (ssrc: number) => ({ codecs: [{ mimeType: 'video/VP8' as const, payloadType: 101, clockRate: 90000 }], encodings: [{ ssrc }] });
const code = (p: Promise<unknown>) => p.then(() => 'ok', (e: RequestFailed) => e.code);
const nested = (depth: number): unknown => (depth === 0 ? 'x' : { a: nested(depth - 1) });
const frame = (id: number, method: string, data: unknown) => JSON.stringify({ type: 'request', id, method, data });

/**
 * The defects an outside attack run found, each with the test that caught it, while a real
 * call on the same node keeps flowing.
 */
describe('hardening', () => {
  let t: TestNode;
  let seller: WeriftPeer;
  let buyer: WeriftPeer;
  const clients: SignalingClient[] = [];
  const client = async (node = t) => {
    const c = await SignalingClient.connect(node.ws);
    clients.push(c);
    return c;
  };
  const join = async (room: string, identity: string, role: 'buyer' | 'seller' | 'agent' | 'bot' | 'observer' = 'buyer', node = t) => {
    const c = await client(node);
    const joined = await c.request('join', { token: node.token({ room, identity, role }) });
    return Object.assign(c, { joined });
  };
  /** The call's packets keep arriving at the buyer. */
  const callFlows = async () => {
    const before = buyer.received.video.packets;
    await waitFor(() => buyer.received.video.packets > before + 20, 'the call still flowing');
  };

  beforeAll(async () => {
    // No grace here: a dropped socket leaves at once, so what a request leaves behind shows.
    t = await startTestNode({ signaling: { reconnectGraceMs: 0 } });
    ({ seller, buyer } = await startCall(t.ws, 'call', (identity, role) => t.token({ room: 'call', identity, role })));
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await seller.close();
    await buyer.close();
    await t.close();
  });

  it('1. a nesting bomb in appData is refused; bounded appData keeps the room and its newcomers working', async () => {
    const attacker = await join('poison', 'attacker');
    const send = await attacker.request('createTransport', { direction: 'send' });
    const bombData = frame(1, 'produce', { transportId: send.transportId, kind: 'audio', rtpParameters: opus(11), appData: 'BOMB' })
      .replace('"BOMB"', `${'{"a":'.repeat(5000)}"x"${'}'.repeat(5000)}`);
    const bomb = await attacker.raw(bombData);
    expect(bomb).toMatchObject({ id: 1, ok: false, error: { code: 'BAD_REQUEST', message: expect.stringContaining('nested deeper than 32') } });
    const deep = { transportId: send.transportId, kind: 'audio' as const, rtpParameters: opus(12), appData: nested(9) as Record<string, unknown> };
    expect(await code(attacker.request('produce', deep))).toBe('APPDATA_TOO_LARGE');
    const big = { transportId: send.transportId, kind: 'audio' as const, rtpParameters: opus(13), appData: { blob: 'x'.repeat(5000) } };
    expect(await code(attacker.request('produce', big))).toBe('APPDATA_TOO_LARGE');
    const fine = await attacker.request('produce', { transportId: send.transportId, kind: 'audio', rtpParameters: opus(14), appData: nested(7) as Record<string, unknown> });
    // A newcomer joins and sees the producer; the others hear of it.
    const newcomer = await join('poison', 'newcomer');
    expect(newcomer.joined.peers[0].producers.map((p) => p.id)).toEqual([fine.producerId]);
    await callFlows();
  });

  it('2. a client that stops reading is cut off (4413) before the node buffers more than signaling.maxBufferedBytes', async () => {
    const small = await startTestNode({ signaling: { maxBufferedBytes: 65_536, reconnectGraceMs: 0 } });
    try {
      // A publisher whose info (in every join response) is large: 12 producers with 3 KB of appData.
      const big = await join('slow', 'big', 'seller', small);
      const send = await big.request('createTransport', { direction: 'send' });
      for (let i = 0; i < 12; i++) await big.request('produce', { transportId: send.transportId, kind: 'audio', rtpParameters: opus(100 + i), appData: { note: 'y'.repeat(3000) } });
      const attacker = await client(small);
      const socket = (attacker.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
      socket.pause();
      const token = small.token({ room: 'slow', identity: 'attacker' });
      const counter = async () => Number(/sfu_signaling_slow_readers_total (\d+)/.exec(await (await fetch(`${small.http}/metrics`)).text())?.[1] ?? 0);
      const deadline = Date.now() + 20_000;
      for (let round = 0; round < 2000 && Date.now() < deadline && (await counter()) === 0; round++) {
        for (let i = 0; i < 30 && attacker.ws.readyState === WebSocket.OPEN; i++) {
          attacker.ws.send(frame(round * 100 + 2 * i, 'join', { token }));
          attacker.ws.send(frame(round * 100 + 2 * i + 1, 'leave', {}));
        }
        await sleep(20);
      }
      expect(await counter()).toBe(1);
      socket.resume();
      await attacker.until(() => attacker.closeCode !== undefined, 'the attacker socket to close', 5000);
      expect([4413, 1006]).toContain(attacker.closeCode);
      // The attacker is gone from the room; the publisher is fine.
      await waitFor(() => !small.node.rooms.get(roomKey('default', 'slow'))!.peers.has('attacker'), 'the slow reader to leave');
      expect(await big.request('getStats', { target: 'transport', id: send.transportId })).toBeTruthy();
    } finally {
      await small.close();
    }
  });

  it('3. a socket that dies while its join is in flight leaves no ghost peer, room or router', async () => {
    const rooms = () => [...t.node.rooms.values()].filter((r) => r.settings.name.startsWith('ghost-'));
    for (let i = 0; i < 50; i++) {
      const ws = new WebSocket(t.ws);
      await new Promise((r) => ws.once('open', r));
      ws.send(frame(1, 'join', { token: t.token({ room: `ghost-${i}`, identity: `ghost-${i}` }) }));
      ws.terminate();
    }
    await waitFor(() => rooms().length === 0, 'no ghost rooms');
    expect(t.node.pool.slots[0].peers).toBeLessThanOrEqual(t.node.rooms.peerCount);
  });

  it('4. requests that finish after their peer left undo what they created; nothing is announced for a departed peer', async () => {
    const observer = await join('outlive', 'observer', 'agent');
    await observer.request('createTransport', { direction: 'recv' });
    const router = () => t.node.rooms.get(roomKey('default', 'outlive'))!.media.routers[0].router;
    for (let i = 0; i < 50; i++) {
      const doomed = await join('outlive', `doomed-${i}`);
      const send = await doomed.request('createTransport', { direction: 'send' });
      doomed.ws.send(frame(900, 'produce', { transportId: send.transportId, kind: 'audio', rtpParameters: opus(5000 + i) }));
      for (let j = 0; j < 60; j++) doomed.ws.send(frame(1000 + j, 'createTransport', { direction: 'send' }));
      doomed.ws.terminate();
    }
    await waitFor(() => t.node.rooms.get(roomKey('default', 'outlive'))!.peers.size === 1, 'only the observer left');
    await sleep(300);
    // Only the observer's recv transport remains; every doomed transport and producer was undone.
    expect((await router().dump()).transportIds).toHaveLength(1);
    // No producerAdded for a peer after its peerLeft.
    const seen = observer.notifications;
    for (let i = 0; i < 50; i++) {
      const left = seen.findIndex((n) => n.method === 'peerLeft' && n.data.peerId === `doomed-${i}`);
      const lateAdd = seen.findIndex((n, k) => k > left && n.method === 'producerAdded' && n.data.peerId === `doomed-${i}`);
      expect(left).toBeGreaterThanOrEqual(0);
      expect(lateAdd).toBe(-1);
    }
  });

  it('5. rejoining while alone lands in the same, open room, and the next peer sees the rejoined one', async () => {
    const first = await join('alone', 'solo');
    const again = await join('alone', 'solo');
    expect(await first.notification('disconnected')).toMatchObject({ code: 'DUPLICATE_IDENTITY' });
    await again.request('createTransport', { direction: 'recv' });
    const next = await join('alone', 'next');
    expect(next.joined.peers.map((p) => p.id)).toEqual(['solo']);
  });

  it('6. the codecs must match the kind: no video under an audio grant', async () => {
    const bot = await join('kinds', 'bot-1', 'bot');
    const send = await bot.request('createTransport', { direction: 'send' });
    expect(await code(bot.request('produce', { transportId: send.transportId, kind: 'audio', rtpParameters: vp8(21) }))).toBe('INVALID_PARAMETERS');
    expect(await code(bot.request('produce', { transportId: send.transportId, kind: 'video', rtpParameters: vp8(22) }))).toBe('PERMISSION_DENIED');
    expect(await code(bot.request('produce', { transportId: send.transportId, kind: 'audio', rtpParameters: opus(23) }))).toBe('ok');
  });

  it('7. an identity as long as tokens allow (128) can be kicked', async () => {
    const long = 'l'.repeat(128);
    const victim = await join('kick-long', long);
    const admin = await client();
    await admin.request('join', { token: t.token({ room: 'kick-long', identity: 'admin', role: 'agent', grants: { admin: true } }) });
    await admin.request('kickPeer', { peerId: long });
    expect(await victim.notification('disconnected')).toMatchObject({ code: 'KICKED' });
  });

  it('limits: ROOM_FULL, NODE_FULL and RATE_LIMITED for joins, HTTP 429 for sockets, each with its own code', async () => {
    const limited = await startTestNode({ limits: { peersPerRoom: 2, roomsPerNode: 2, joinsPerIpPerMinute: 6, connectionsPerIpPerMinute: 9 } });
    try {
      await join('full', 'p1', 'buyer', limited);
      await join('full', 'p2', 'buyer', limited);
      const third = await client(limited);
      expect(await code(third.request('join', { token: limited.token({ room: 'full', identity: 'p3' }) }))).toBe('ROOM_FULL');
      await join('second', 'p4', 'buyer', limited);
      const fourth = await client(limited);
      expect(await code(fourth.request('join', { token: limited.token({ room: 'third', identity: 'p5' }) }))).toBe('NODE_FULL');
      // 6 joins a minute: 5 made above, one more passes, then RATE_LIMITED.
      expect(await code(fourth.request('join', { token: limited.token({ room: 'second', identity: 'p6' }) }))).toBe('ok');
      const fifth = await client(limited);
      expect(await code(fifth.request('join', { token: limited.token({ room: 'second', identity: 'p7' }) }))).toBe('RATE_LIMITED');
      // 9 sockets a minute: 6 opened above; 3 more, then 429 before the upgrade.
      for (let i = 0; i < 3; i++) await client(limited);
      const refused = await new Promise<number>((resolve) => {
        const ws = new WebSocket(limited.ws);
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode!));
        ws.on('open', () => resolve(101));
      });
      expect(refused).toBe(429);
    } finally {
      await limited.close();
    }
  });

  it('only allowed origins may open signaling sockets from a browser; native clients send none', async () => {
    const strict = await startTestNode({ server: { allowedOrigins: ['https://shop.example', 'https://*.market.example'] } });
    try {
      const status = (origin?: string) => new Promise<number>((resolve) => {
        const ws = new WebSocket(strict.ws, origin ? { origin } : {});
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode!));
        ws.on('open', () => {
          ws.close();
          resolve(101);
        });
      });
      expect(await status('https://evil.example')).toBe(403);
      expect(await status('https://market.example')).toBe(403);
      expect(await status('https://shop.example')).toBe(101);
      expect(await status('https://eu.market.example')).toBe(101);
      expect(await status()).toBe(101);
    } finally {
      await strict.close();
    }
  });

  it('POST /v1/tokens checks the API key before it reads the body', async () => {
    const res = await fetch(`${t.http}/v1/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"what":"schema?"}' });
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe('UNAUTHORIZED');
  });

  it('the call kept flowing through all of it', callFlows);
});
