/**
 * Pipe: what a subscriber on another node costs. One plain-RTP stream into a room; first a
 * subscriber on the same node (direct), then one on a second node of a two-node cluster, the
 * stream crossing over the node's SRTP+RTX PipeTransport. Each packet carries its send time,
 * so the receiver gives the latency; the workers' CPU gives the cost per packet. The added
 * latency and CPU are piped minus direct. The baseline does the same on bare mediasoup: two
 * workers, a PipeTransport pair with the node's options (SRTP, RTX), plain receivers.
 */
import dgram from 'node:dgram';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { MEDIA_CODECS } from '../src/media/codecs.js';
import { RedisServer } from '../tests/helpers/redis-server.js';
import { WeriftPeer } from '../tests/helpers/werift-peer.js';
import { connect, percentile, token } from './load.js';
import { cpuSeconds, sleep, startNode, type Server } from './proc.js';
import { PAYLOAD_BYTES, RTP_PARAMETERS, RtpSender } from './rtp.js';


/** A payload stamped with its send time (this process's clock, which the receivers share). */
const stamped = () => {
  const b = Buffer.alloc(PAYLOAD_BYTES, 0x5a);
  b.writeDoubleBE(performance.now(), 0);
  return b;
};

/** Latencies of stamped payloads, ms. */
class Latencies {
  readonly ms: number[] = [];
  add(payload: Buffer) {
    this.ms.push(performance.now() - payload.readDoubleBE(0));
  }
  summary() {
    const s = [...this.ms].sort((a, b) => a - b);
    return { packets: s.length, p50: percentile(s, 0.5), p99: percentile(s, 0.99) };
  }
}

/** The payload of an RTP packet (after CSRCs and any header extension). */
function rtpPayload(packet: Buffer) {
  let offset = 12 + 4 * (packet[0] & 0x0f);
  if (packet[0] & 0x10) offset += 4 + 4 * packet.readUInt16BE(offset + 2);
  return packet.subarray(offset);
}

interface Phase { packets: number; p50: number; p99: number; cpuUsPerPacket: number }

/** Sends for `seconds` at `pps` while `latencies` collects; CPU of `pids` per packet received. */
async function phase(sender: RtpSender, pids: number[], pps: number, seconds: number, latencies: Latencies): Promise<Phase> {
  await sender.send(pps, 0.3, stamped); // the path settles
  latencies.ms.length = 0;
  const cpu = () => pids.reduce((t, p) => t + cpuSeconds(p), 0);
  const cpu0 = cpu();
  await sender.send(pps, seconds, stamped);
  await sleep(200);
  const s = latencies.summary();
  return { ...s, cpuUsPerPacket: ((cpu() - cpu0) * 1e6) / s.packets };
}

async function nodePipe(o: { pps: number; seconds: number }) {
  const redis = await RedisServer.start();
  const cluster = { REDIS_URL: redis.url, CLUSTER_HEARTBEAT_MS: '1000' };
  const servers: Server[] = [];
  const peers: WeriftPeer[] = [];
  try {
    servers.push(await startNode({ ...cluster, NODE_ID: 'bench-a', REGION: 'eu-west' }), await startNode({ ...cluster, NODE_ID: 'bench-b', REGION: 'us-east' }));
    const [a, b] = servers;
    const bot = await connect(a.url);
    await bot.request('join', { token: token('pipe', 'publisher', 'bot', { region: 'eu-west' }) });
    const plain = await bot.request('createPlainTransport', { rtcpMux: true });
    const { producerId } = await bot.request('produce', { transportId: plain.transportId, kind: 'audio', rtpParameters: RTP_PARAMETERS, appData: { source: 'voice' } });
    const sender = new RtpSender(plain.port);
    await sender.send(o.pps, 0.2, stamped);
    const subscriber = async (server: Server, identity: string) => {
      const latencies = new Latencies();
      const peer = await WeriftPeer.connect(server.url.replace(/^http/, 'ws') + '/v1/rtc', token('pipe', identity, 'buyer', { region: 'eu-west' }), false);
      peers.push(peer);
      peer.onRtp = (_kind, payload) => latencies.add(payload);
      await peer.subscribeByHand([producerId]);
      return { peer, latencies };
    };
    const direct = await subscriber(a, 'direct');
    const directPhase = await phase(sender, a.workerPids, o.pps, o.seconds, direct.latencies);
    await direct.peer.close();
    const piped = await subscriber(b, 'piped');
    const pipedPhase = await phase(sender, [...a.workerPids, ...b.workerPids], o.pps, o.seconds, piped.latencies);
    sender.close();
    await bot.leave();
    return { direct: directPhase, piped: pipedPhase };
  } finally {
    await Promise.all(peers.map((p) => p.close().catch(() => undefined)));
    for (const s of servers) await s.stop();
    await redis.down();
  }
}

async function barePipe(o: { pps: number; seconds: number }) {
  const workers = [await mediasoup.createWorker({ logLevel: 'warn' }), await mediasoup.createWorker({ logLevel: 'warn' })];
  const socket = dgram.createSocket('udp4');
  try {
    const [r1, r2] = await Promise.all(workers.map((w) => w.createRouter({ mediaCodecs: MEDIA_CODECS })));
    const ingest = await r1.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: true });
    const producer = await ingest.produce({ kind: 'audio', rtpParameters: RTP_PARAMETERS as types.RtpParameters });
    const latencies = new Latencies();
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    socket.on('message', (m) => m[1] < 200 && latencies.add(rtpPayload(m)));
    const receiver = async (router: types.Router, producerId: string) => {
      const t = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: false });
      await t.connect({ ip: '127.0.0.1', port: socket.address().port });
      await t.consume({ producerId, rtpCapabilities: router.rtpCapabilities });
      return t;
    };
    const sender = new RtpSender(ingest.tuple.localPort);
    await sender.send(o.pps, 0.2, stamped);
    const direct = await receiver(r1, producer.id);
    const directPhase = await phase(sender, [workers[0].pid], o.pps, o.seconds, latencies);
    direct.close();
    // A pipe as between nodes: a PipeTransport on each side, SRTP and RTX as the node sets them.
    const options = { listenInfo: { protocol: 'udp' as const, ip: '127.0.0.1' }, enableRtx: true, enableSrtp: true };
    const [out, into] = await Promise.all([r1.createPipeTransport(options), r2.createPipeTransport(options)]);
    await out.connect({ ip: '127.0.0.1', port: into.tuple.localPort, srtpParameters: into.srtpParameters });
    await into.connect({ ip: '127.0.0.1', port: out.tuple.localPort, srtpParameters: out.srtpParameters });
    const pipeConsumer = await out.consume({ producerId: producer.id });
    const piped = await into.produce({ id: producer.id, kind: pipeConsumer.kind, rtpParameters: pipeConsumer.rtpParameters, paused: pipeConsumer.producerPaused });
    await receiver(r2, piped.id);
    const pipedPhase = await phase(sender, workers.map((w) => w.pid), o.pps, o.seconds, latencies);
    sender.close();
    return { direct: directPhase, piped: pipedPhase };
  } finally {
    socket.close();
    for (const w of workers) w.close();
  }
}

export async function pipeBench(o: { smoke: boolean }) {
  const plan = o.smoke ? { pps: 100, seconds: 0.5 } : { pps: 500, seconds: 4 };
  const added = (r: { direct: Phase; piped: Phase }) => ({
    latencyP50Ms: r.piped.p50 - r.direct.p50, latencyP99Ms: r.piped.p99 - r.direct.p99, cpuUsPerPacket: r.piped.cpuUsPerPacket - r.direct.cpuUsPerPacket,
  });
  const node = await nodePipe(plan);
  const bare = await barePipe(plan);
  return { packetsPerSecond: plan.pps, payloadBytes: PAYLOAD_BYTES, node: { ...node, added: added(node) }, bare: { ...bare, added: added(bare) } };
}
