/**
 * The baseline the benchmarks compare the node with: bare mediasoup behind a plain `ws` server,
 * doing the same work for a join (check the token, enter the room's router, answer its RTP
 * capabilities) and for createTransport (a WebRTC transport on the worker's WebRtcServer, with
 * SCTP), with the same worker binary and codecs, and nothing else: no rooms logic, limits,
 * metrics, records or validation.
 */
import { createSecretKey } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { WebSocketServer } from 'ws';
import { MEDIA_CODECS } from '../src/media/codecs.js';

const key = createSecretKey(Buffer.from(process.env.AUTH_HS256_SECRET ?? 'dev-only-secret-change-me'));
const worker = await mediasoup.createWorker({ logLevel: 'warn' });
const webRtcServer = await worker.createWebRtcServer({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1', port: 0 }, { protocol: 'tcp', ip: '127.0.0.1', port: 0 }] });
const rooms = new Map<string, { router: Promise<types.Router>; peers: number }>();

const server = http.createServer();
const wss = new WebSocketServer({ server, path: '/v1/rtc' });
wss.on('connection', (ws) => {
  let room: string | undefined;
  const transports: types.WebRtcTransport[] = [];
  const leave = async () => {
    for (const t of transports.splice(0)) t.close();
    if (!room) return;
    const r = rooms.get(room)!;
    if (--r.peers === 0) {
      rooms.delete(room);
      (await r.router).close();
    }
    room = undefined;
  };
  ws.on('message', async (raw) => {
    const msg = JSON.parse(String(raw));
    const reply = (data: unknown) => ws.send(JSON.stringify({ type: 'response', id: msg.id, ok: true, data }));
    try {
      if (msg.method === 'join') {
        const claims = jwt.verify(msg.data.token, key, { algorithms: ['HS256'] }) as { room: string; sub: string };
        room = claims.room;
        let r = rooms.get(room);
        if (!r) rooms.set(room, (r = { router: worker.createRouter({ mediaCodecs: MEDIA_CODECS }), peers: 0 }));
        r.peers++;
        reply({ peerId: claims.sub, routerRtpCapabilities: (await r.router).rtpCapabilities, peers: [] });
      } else if (msg.method === 'createTransport') {
        const router = await rooms.get(room!)!.router;
        const t = await router.createWebRtcTransport({ webRtcServer, enableUdp: true, enableTcp: true, preferUdp: true, enableSctp: true });
        transports.push(t);
        reply({ transportId: t.id, iceParameters: t.iceParameters, iceCandidates: t.iceCandidates, dtlsParameters: t.dtlsParameters, sctpParameters: t.sctpParameters });
      } else if (msg.method === 'leave') {
        await leave();
        reply({});
      }
    } catch (err) {
      ws.send(JSON.stringify({ type: 'response', id: msg.id, ok: false, error: { code: 'ERROR', message: (err as Error).message } }));
    }
  });
  ws.on('close', () => void leave());
});
server.listen(0, '127.0.0.1', () => process.send?.({ type: 'listening', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));
// The same memory report the node gives (src/main.ts), so both are measured the same way.
process.on('message', (m: { type?: string; collect?: boolean }) => {
  if (m?.type !== 'memory') return;
  if (m.collect) globalThis.gc?.();
  process.send?.({ type: 'memory', collected: Boolean(m.collect && globalThis.gc), memory: process.memoryUsage() });
});
process.channel?.unref();
