/**
 * The baseline the benchmarks compare the node with: bare mediasoup behind a plain `ws` server,
 * speaking just enough of protocol v1 for the same clients (the benchmark's, and the browser
 * SDK for a call): join with its transports, createTransport, setRtpCapabilities,
 * connectTransport, produce, and consumers made paused and resumed, with mediasoup's defaults.
 * The same worker binary and codecs, and the same work per request as the node (a transport
 * has SCTP unless the client asks for none, as the node's createTransport does; the routers'
 * capabilities are read once, as the node reads them), and nothing else: no rooms logic,
 * limits, metrics, records, logs or validation. A lean baseline: what mediasoup alone costs.
 */
import { createSecretKey } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { WebSocketServer, type WebSocket } from 'ws';
import { buildSdkBundle } from '../src/http/sdk-bundle.js';
import { MEDIA_CODECS } from '../src/media/codecs.js';

const HOST = process.env.HOST ?? '127.0.0.1';
const key = createSecretKey(Buffer.from(process.env.AUTH_HS256_SECRET ?? 'dev-only-secret-change-me'));
const worker = await mediasoup.createWorker({ logLevel: 'warn' });
const port = Number(process.env.MEDIA_PORT ?? 0);
const webRtcServer = await worker.createWebRtcServer({ listenInfos: [{ protocol: 'udp', ip: HOST, port }, { protocol: 'tcp', ip: HOST, port }] });

interface BarePeer {
  id: string;
  role: string;
  ws: WebSocket;
  transports: types.WebRtcTransport[];
  recv?: types.WebRtcTransport;
  caps?: types.RtpCapabilities;
  producers: types.Producer[];
  consumers: Map<string, types.Consumer>;
}
interface BareRoom { router: Promise<types.Router>; peers: Map<string, BarePeer> }
const rooms = new Map<string, BareRoom>();
/** Read once, as the node does: every router has the same codecs, and mediasoup's getter deep-clones them on every read. */
let capabilities: types.RtpCapabilities | undefined;
const GRANTS = { subscribe: true, publishAudio: true, publishVideo: true, publishData: false, admin: false, snapshot: false, ingest: false };

const notify = (peer: BarePeer, method: string, data: unknown) => peer.ws.send(JSON.stringify({ type: 'notification', method, data }));
const info = (p: BarePeer) => ({ id: p.id, name: p.id, role: p.role, producers: p.producers.map((x) => ({ id: x.id, kind: x.kind, paused: x.paused, appData: x.appData })), dataProducers: [] });
const options = (t: types.WebRtcTransport, direction: string) => ({
  transportId: t.id, direction, iceParameters: t.iceParameters, iceCandidates: t.iceCandidates, dtlsParameters: t.dtlsParameters, sctpParameters: t.sctpParameters,
});

/** A paused consumer of `producer` for `peer`, announced with newConsumer (the client resumes it). */
async function consume(router: types.Router, peer: BarePeer, owner: BarePeer, producer: types.Producer) {
  if (!peer.recv || !peer.caps || !router.canConsume({ producerId: producer.id, rtpCapabilities: peer.caps })) return;
  const consumer = await peer.recv.consume({ producerId: producer.id, rtpCapabilities: peer.caps, paused: true });
  peer.consumers.set(consumer.id, consumer);
  notify(peer, 'newConsumer', {
    consumerId: consumer.id, producerId: producer.id, peerId: owner.id, kind: consumer.kind, type: consumer.type,
    rtpParameters: consumer.rtpParameters, producerPaused: consumer.producerPaused, appData: producer.appData,
  });
}

// The browser SDK, for a page on this origin (a call through the baseline, in bench/callq.ts).
const sdk = (await buildSdkBundle('sfu-client.js')).code;
const server = http.createServer((req, res) => {
  if (req.url === '/sdk/v1/sfu-client.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(sdk);
  else res.writeHead(200, { 'content-type': 'text/plain' }).end('bare mediasoup\n');
});
const wss = new WebSocketServer({ server, path: '/v1/rtc' });
wss.on('connection', (ws) => {
  let roomName: string | undefined;
  let self: BarePeer | undefined;
  const leave = async () => {
    if (!roomName || !self) return;
    const room = rooms.get(roomName)!;
    for (const t of self.transports) t.close();
    room.peers.delete(self.id);
    for (const other of room.peers.values()) notify(other, 'peerLeft', { peerId: self.id });
    if (room.peers.size === 0) {
      rooms.delete(roomName);
      (await room.router).close();
    }
    roomName = undefined;
    self = undefined;
  };
  ws.on('message', async (raw) => {
    const msg = JSON.parse(String(raw));
    const reply = (data: unknown) => ws.send(JSON.stringify({ type: 'response', id: msg.id, ok: true, data }));
    try {
      const room = roomName ? rooms.get(roomName) : undefined;
      const router = room && (await room.router);
      if (msg.method === 'join') {
        const claims = jwt.verify(msg.data.token, key, { algorithms: ['HS256'] }) as { room: string; sub: string; role?: string };
        roomName = claims.room;
        let r = rooms.get(roomName);
        if (!r) rooms.set(roomName, (r = { router: worker.createRouter({ mediaCodecs: MEDIA_CODECS }), peers: new Map() }));
        const peer: BarePeer = { id: claims.sub, role: claims.role ?? 'buyer', ws, transports: [], producers: [], consumers: new Map() };
        const others = [...r.peers.values()];
        r.peers.set(peer.id, (self = peer));
        const joinedRouter = await r.router;
        const transports = [];
        for (const direction of (msg.data.transports ?? []) as string[]) {
          const t = await joinedRouter.createWebRtcTransport({ webRtcServer, enableUdp: true, enableTcp: true, preferUdp: true, enableSctp: true });
          peer.transports.push(t);
          if (direction === 'recv') peer.recv = t;
          transports.push(options(t, direction));
        }
        for (const other of others) notify(other, 'peerJoined', info(peer));
        reply({
          peerId: peer.id, roomId: roomName, role: peer.role, grants: GRANTS, routerRtpCapabilities: (capabilities ??= joinedRouter.rtpCapabilities),
          peers: others.map(info), iceServers: [], iceTransportPolicy: 'all', ...(transports.length ? { transports } : {}),
        });
      } else if (msg.method === 'createTransport') {
        // SCTP as the node does it: on unless the client asks for a transport without it.
        const t = await router!.createWebRtcTransport({ webRtcServer, enableUdp: true, enableTcp: true, preferUdp: true, enableSctp: msg.data.enableSctp ?? true });
        self!.transports.push(t);
        if (msg.data.direction === 'recv') self!.recv = t;
        reply(options(t, msg.data.direction));
      } else if (msg.method === 'setRtpCapabilities') {
        self!.caps = msg.data.rtpCapabilities;
        reply({});
        for (const other of room!.peers.values()) for (const p of other.producers) if (other !== self) await consume(router!, self!, other, p);
      } else if (msg.method === 'connectTransport') {
        await self!.transports.find((t) => t.id === msg.data.transportId)!.connect({ dtlsParameters: msg.data.dtlsParameters });
        reply({});
      } else if (msg.method === 'produce') {
        const t = self!.transports.find((x) => x.id === msg.data.transportId)!;
        const producer = await t.produce({ kind: msg.data.kind, rtpParameters: msg.data.rtpParameters, appData: msg.data.appData, paused: msg.data.paused });
        self!.producers.push(producer);
        reply({ producerId: producer.id });
        for (const other of room!.peers.values()) if (other !== self) await consume(router!, other, self!, producer);
      } else if (msg.method === 'resumeConsumer') {
        await self!.consumers.get(msg.data.consumerId)?.resume();
        reply({});
      } else if (msg.method === 'leave') {
        await leave();
        reply({});
      } else {
        reply({}); // reportQuality and the like: nothing to do here
      }
    } catch (err) {
      ws.send(JSON.stringify({ type: 'response', id: msg.id, ok: false, error: { code: 'ERROR', message: (err as Error).message } }));
    }
  });
  ws.on('close', () => void leave());
});
server.listen(Number(process.env.PORT ?? 0), HOST, () => process.send?.({ type: 'listening', url: `http://${HOST}:${(server.address() as AddressInfo).port}` }));
// The same memory report the node gives (src/main.ts), so both are measured the same way.
process.on('message', (m: { type?: string; collect?: boolean }) => {
  if (m?.type !== 'memory') return;
  if (m.collect) globalThis.gc?.();
  process.send?.({ type: 'memory', collected: Boolean(m.collect && globalThis.gc), memory: process.memoryUsage() });
});
process.channel?.unref();
// Exits on SIGINT as the node does (so a profiler's --cpu-prof is written).
process.on('SIGINT', () => process.exit(0));
