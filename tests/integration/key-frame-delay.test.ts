import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rtpPacket } from '../../bench/rtp.js';
import { sleep } from '../helpers/time.js';
import { vp8Packets, vp8TestFrame } from '../helpers/vp8.js';
import { waitFor } from '../helpers/werift-peer.js';

/** Longer than the few loopback round trips each step takes, so a busy machine stays inside it. */
const DELAY_MS = 2000;
const SSRC = 1111;

/** A socket bound on loopback, and every datagram it gets. */
async function udp() {
  const socket = dgram.createSocket('udp4');
  const got: Buffer[] = [];
  socket.on('message', (m) => got.push(m));
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  return { socket, got, port: (socket.address() as AddressInfo).port };
}

/** RTCP picture loss indications (PT 206, FMT 1) in the compound packets a socket got. */
const plis = (packets: Buffer[]) => packets.reduce((n, p) => {
  for (let o = 0; o + 4 <= p.length; o += 4 * (p.readUInt16BE(o + 2) + 1)) if (p[o + 1] === 206 && (p[o] & 0x1f) === 1) n++;
  return n;
}, 0);

/** An RTP packet's payload, past its CSRCs and header extensions; undefined for RTCP (RFC 5761: 192–223). */
function rtpPayload(p: Buffer) {
  if (p[1] >= 192 && p[1] <= 223) return undefined;
  let offset = 12 + 4 * (p[0] & 0x0f);
  if (p[0] & 0x10) offset += 4 + 4 * p.readUInt16BE(offset + 2);
  return p.subarray(offset);
}

/**
 * mediasoup's key frame request delay (the producer's `keyFrameRequestDelay`, the node's
 * media.keyFrameRequestDelayMs) holds a request that comes within the delay of the last one sent
 * for a stream. Upstream sends a held request when the delay ends even if a key frame arrived in
 * the meantime, which every receiver got; the project's worker patch
 * (scripts/mediasoup-worker/patches/03-key-frame-clears-held-request.patch) lets that key frame
 * answer it. Counted in the PLIs that reach the sender, with the receiver's PLIs sent by hand.
 */
describe('the key frame request delay of the worker the project builds', () => {
  let worker: types.Worker;
  let consumer: types.Consumer;
  let sender: Awaited<ReturnType<typeof udp>>;
  let receiver: Awaited<ReturnType<typeof udp>>;
  let consumerSsrc: number;
  let seq = 0;
  let timer: NodeJS.Timeout;

  /** The node's ports: the producer's plain transport, and the consumer's. */
  const transportPort = { sender: 0, receiver: 0 };
  /** One packet of the sender's stream, its sequence number and timestamp going on. */
  const rtp = (payload: Buffer) => {
    seq++;
    sender.socket.send(rtpPacket(101, seq, seq * 3000, SSRC, payload), transportPort.sender, '127.0.0.1');
  };
  /** The receiver's PLI for the consumer's stream, as a browser sends it. */
  const pli = () => {
    const p = Buffer.alloc(12);
    p[0] = 0x81;
    p[1] = 206;
    p.writeUInt16BE(2, 2);
    p.writeUInt32BE(4321, 4);
    p.writeUInt32BE(consumerSsrc, 8);
    receiver.socket.send(p, transportPort.receiver, '127.0.0.1');
  };
  /** Key frame packets (S=1 and the VP8 key frame bit clear) that reached the receiver. */
  const keyFramesAtReceiver = () => receiver.got.filter((p) => {
    const payload = rtpPayload(p);
    return payload !== undefined && payload[0] === 0x10 && !(payload[1] & 1);
  }).length;
  /** PLIs the node took in from the receiver (the consumer's own stream; its stats also hold the producer's). */
  const receivedPlis = async () => (await consumer.getStats()).filter((s) => s.type === 'outbound-rtp').reduce((n, s) => n + (s as { pliCount: number }).pliCount, 0);
  /** The sender answers with a key frame, and the test waits until the receiver has it. */
  const sendKeyFrame = async () => {
    const before = keyFramesAtReceiver();
    for (const payload of vp8Packets(vp8TestFrame())) rtp(payload);
    await waitFor(() => keyFramesAtReceiver() > before, 'the key frame at the receiver');
  };

  beforeAll(async () => {
    worker = await mediasoup.createWorker({ logLevel: 'error' });
    const router = await worker.createRouter({ mediaCodecs: [{ kind: 'video', mimeType: 'video/VP8', clockRate: 90000 }] });
    sender = await udp();
    receiver = await udp();
    const listenInfo = { protocol: 'udp' as const, ip: '127.0.0.1' };
    const inbound = await router.createPlainTransport({ listenInfo, rtcpMux: true, comedia: false });
    await inbound.connect({ ip: '127.0.0.1', port: sender.port });
    transportPort.sender = inbound.tuple.localPort;
    const outbound = await router.createPlainTransport({ listenInfo, rtcpMux: true, comedia: false });
    await outbound.connect({ ip: '127.0.0.1', port: receiver.port });
    transportPort.receiver = outbound.tuple.localPort;
    const producer = await inbound.produce({
      kind: 'video',
      keyFrameRequestDelay: DELAY_MS,
      rtpParameters: {
        codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000, rtcpFeedback: [{ type: 'nack', parameter: 'pli' }] }],
        encodings: [{ ssrc: SSRC }],
      },
    });
    // The stream starts on a key frame (a first packet that is not one makes mediasoup ask for one),
    // then inter frames at 30 a second, as an encoder sends.
    for (const payload of vp8Packets(vp8TestFrame())) rtp(payload);
    timer = setInterval(() => rtp(Buffer.from([0x10, 0x01, 0, 0, 0])), 33);
    await waitFor(async () => (await producer.getStats()).length > 0, 'the producer\'s stream');
    consumer = await outbound.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities });
    consumerSsrc = consumer.rtpParameters.encodings![0].ssrc!;
    // The new consumer asks for a key frame of its own; answer it and let its delay run out.
    await waitFor(() => plis(sender.got) === 1, 'the consumer\'s first request');
    await sendKeyFrame();
    await sleep(DELAY_MS + 300);
  }, 30_000);
  afterAll(() => {
    clearInterval(timer);
    worker?.close();
    sender?.socket.close();
    receiver?.socket.close();
  });

  it('lets a key frame that arrives while a request is held answer it', async () => {
    const base = plis(sender.got);
    pli();
    await waitFor(() => plis(sender.got) === base + 1, 'the first request at the sender');
    const pliBefore = await receivedPlis();
    pli(); // within the delay: held
    await waitFor(async () => (await receivedPlis()) === pliBefore + 1, 'the second request at the node');
    await sendKeyFrame(); // the answer to the first, which the second receiver gets too
    // Past the end of the delay, when upstream's worker sends the held request.
    await sleep(DELAY_MS + 300);
    expect(plis(sender.got), 'requests the sender got: only the first').toBe(base + 1);
    // The node still asks: a request after the delay goes out at once.
    pli();
    await waitFor(() => plis(sender.got) === base + 2, 'the next request at the sender');
    await sendKeyFrame();
    await sleep(DELAY_MS + 300);
  }, 30_000);

  it('still sends a request that came after the key frame once the delay ends', async () => {
    const base = plis(sender.got);
    pli();
    await waitFor(() => plis(sender.got) === base + 1, 'the first request at the sender');
    await sendKeyFrame();
    const pliBefore = await receivedPlis();
    pli(); // after the key frame, within the delay: held, and not answered by anything
    await waitFor(async () => (await receivedPlis()) === pliBefore + 1, 'the second request at the node');
    expect(plis(sender.got)).toBe(base + 1);
    await waitFor(() => plis(sender.got) === base + 2, 'the held request at the sender');
  }, 30_000);
});
