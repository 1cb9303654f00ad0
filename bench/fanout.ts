/**
 * Fan-out: one publisher's stream to N receivers on one worker, plain RTP and SRTP. The
 * publisher is plain RTP in (a bot's ingest on the node); each receiver is a plain transport
 * and consumer sending to a loopback port the kernel counts (RtpCounter). On the node, the
 * receivers are its RTP forwards (POST .../forwards); the baseline makes the same transports and
 * consumers with the same options on bare mediasoup. Steps N up until 1% or more is lost.
 */
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../src/config/load.js';
import { MEDIA_CODECS } from '../src/media/codecs.js';
import { connect, token, type Client } from './load.js';
import { cpuSeconds, sleep, startNode } from './proc.js';
import { PAYLOAD_BYTES, RTP_PARAMETERS, RtpCounter, RtpSender } from './rtp.js';

const FIRST_PORT = 23000; // below Linux's ephemeral range, where the servers' own sockets live

interface Fanout {
  ingestPort: number;
  workerPid: number;
  /** Adds one receiver sending to `port` (RTCP to port + 1). */
  add(port: number, srtp: boolean): Promise<void>;
  close(): Promise<void>;
}

async function nodeFanout(url: string, room: string): Promise<Fanout & { bot: Client }> {
  const apiKey = loadConfig({}).auth.apiKeys[0];
  const bot = await connect(url);
  await bot.request('join', { token: token(room, 'publisher', 'bot') });
  const plain = await bot.request('createPlainTransport', { rtcpMux: true });
  await bot.request('produce', { transportId: plain.transportId, kind: 'audio', rtpParameters: RTP_PARAMETERS, appData: { source: 'voice' } });
  return {
    bot, ingestPort: plain.port, workerPid: 0,
    async add(port, srtp) {
      const res = await fetch(`${url}/v1/rooms/${room}/participants/publisher/forwards`, {
        method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ host: '127.0.0.1', audioPort: port, srtp }),
      });
      if (res.status !== 201) throw new Error(`forward: ${res.status} ${await res.text()}`);
    },
    close: () => bot.leave(),
  };
}

async function bareFanout(worker: types.Worker): Promise<Fanout> {
  const router = await worker.createRouter({ mediaCodecs: MEDIA_CODECS });
  const ingest = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: true });
  const producer = await ingest.produce({ kind: 'audio', rtpParameters: RTP_PARAMETERS as types.RtpParameters });
  const caps = { codecs: router.rtpCapabilities.codecs!.filter((c) => !c.mimeType.toLowerCase().endsWith('/rtx')), headerExtensions: [] };
  return {
    ingestPort: ingest.tuple.localPort, workerPid: worker.pid,
    async add(port, srtp) {
      const t = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: false, comedia: false, enableSrtp: srtp });
      await t.connect({ ip: '127.0.0.1', port, rtcpPort: port + 1, ...(srtp ? { srtpParameters: { cryptoSuite: 'AES_CM_128_HMAC_SHA1_80', keyBase64: randomBytes(30).toString('base64') } } : {}) });
      await t.consume({ producerId: producer.id, rtpCapabilities: caps });
    },
    async close() {
      router.close();
    },
  };
}

export interface FanoutOptions {
  smoke: boolean;
}

/** Steps N up on one fan-out; each step sends for `seconds` and counts what came out. */
async function steps(f: Fanout, srtp: boolean, counter: RtpCounter, o: { ns: number[]; pps: number; seconds: number }) {
  const payload = Buffer.alloc(PAYLOAD_BYTES, 0x5a);
  const sender = new RtpSender(f.ingestPort);
  await sender.send(o.pps, 0.3, () => payload); // the transport learns the sender (comedia)
  const results = [];
  let n = 0;
  for (const target of o.ns) {
    for (; n < target; n++) await f.add(FIRST_PORT + 2 * n, srtp);
    await sleep(200);
    const [count0, cpu0] = [counter.packets(), cpuSeconds(f.workerPid)];
    const sent = await sender.send(o.pps, o.seconds, () => payload);
    await sleep(300);
    const forwarded = counter.packets() - count0;
    const cpu = cpuSeconds(f.workerPid) - cpu0;
    const lossPercent = 100 * (1 - forwarded / (sent * n));
    results.push({ receivers: n, packetsIn: sent, forwarded, packetsPerSecondOut: forwarded / o.seconds, lossPercent, workerCpuPercent: (100 * cpu) / o.seconds, usPerPacket: (cpu * 1e6) / forwarded });
    if (lossPercent >= 1) break;
  }
  sender.close();
  const under = results.filter((r) => r.lossPercent < 1);
  return { steps: results, largestUnder1Percent: under.at(-1)?.receivers ?? 0 };
}

/** Node and bare, plain and SRTP, in one run. */
export async function fanoutBench(o: FanoutOptions) {
  const plan = o.smoke ? { ns: [2], pps: 100, seconds: 0.5 } : { ns: [25, 50, 100, 200, 400, 800], pps: 500, seconds: 3 };
  const max = plan.ns.at(-1)!;
  const counter = RtpCounter.open(FIRST_PORT, FIRST_PORT + 2 * max + 1);
  const server = await startNode({ LIMIT_FORWARDS_PER_ROOM: String(max) });
  const worker = await mediasoup.createWorker({ logLevel: 'warn' });
  type Steps = Awaited<ReturnType<typeof steps>>;
  const out = { node: {} as Record<'plain' | 'srtp', Steps>, bare: {} as Record<'plain' | 'srtp', Steps> };
  try {
    for (const srtp of [false, true]) {
      const mode = srtp ? 'srtp' : 'plain';
      const node = await nodeFanout(server.url, `fanout-${mode}`);
      node.workerPid = server.workerPids[0];
      out.node[mode] = await steps(node, srtp, counter, plan);
      await node.close();
      await sleep(500);
      const bare = await bareFanout(worker);
      out.bare[mode] = await steps(bare, srtp, counter, plan);
      await bare.close();
      await sleep(500);
    }
  } finally {
    worker.close();
    await server.stop();
    counter.close();
  }
  return { payloadBytes: PAYLOAD_BYTES, packetsPerSecondIn: plan.pps, secondsPerStep: plan.seconds, ...out };
}
