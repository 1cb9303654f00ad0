import dgram from 'node:dgram';
import net from 'node:net';
import type { types } from 'mediasoup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { startCall, waitFor, type WeriftPeer } from '../helpers/werift-peer.js';
import { prng, type Rng } from './frames.js';
import { roomKey } from '../../src/rooms/room-key.js';
import { sleep } from '../helpers/time.js';

const PACKETS = Number(process.env.FUZZ_PACKETS ?? 4000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261127);
const bytes = (r: Rng, n: number) => Buffer.from(Array.from({ length: n }, () => r.int(256)));

/** A STUN message: sometimes well-formed with our server's ufrag and a wrong integrity, sometimes not. */
function stun(r: Rng, ufrag: string) {
  const attrs: Buffer[] = [];
  const attr = (type: number, value: Buffer) => {
    const h = Buffer.alloc(4);
    h.writeUInt16BE(type, 0);
    h.writeUInt16BE(r.chance(0.1) ? r.int(0xffff) : value.length, 2);
    attrs.push(h, value, Buffer.alloc((4 - (value.length % 4)) % 4));
  };
  if (r.chance(0.7)) attr(0x0006, Buffer.from(`${ufrag}:${r.int(1e6)}`)); // USERNAME
  if (r.chance(0.5)) attr(0x0024, bytes(r, 4)); // PRIORITY
  if (r.chance(0.5)) attr(0x0008, bytes(r, r.pick([20, 19, 0]))); // MESSAGE-INTEGRITY
  if (r.chance(0.3)) attr(0x8028, bytes(r, 4)); // FINGERPRINT
  if (r.chance(0.2)) attr(r.int(0xffff), bytes(r, r.int(40)));
  const body = Buffer.concat(attrs);
  const head = Buffer.alloc(20);
  head.writeUInt16BE(r.pick([0x0001, 0x0101, 0x0111, r.int(0x3fff)]), 0);
  head.writeUInt16BE(r.chance(0.9) ? body.length : r.int(0xffff), 2);
  head.writeUInt32BE(0x2112a442, 4);
  bytes(r, 12).copy(head, 8);
  return Buffer.concat([head, body]);
}

/** A DTLS record: handshake, alert, application data or change-cipher-spec, of any length. */
function dtls(r: Rng) {
  const head = Buffer.alloc(13);
  head[0] = r.pick([20, 21, 22, 23, 24]);
  head.writeUInt16BE(r.pick([0xfefd, 0xfeff, 0x0303]), 1);
  bytes(r, 8).copy(head, 3);
  const body = bytes(r, r.int(300));
  if (head[0] === 22 && body.length > 0) body[0] = r.pick([1, 2, 11, 12, 14, 16, 20]); // ClientHello, ServerHello, …
  head.writeUInt16BE(r.chance(0.9) ? body.length : r.int(0xffff), 11);
  return Buffer.concat([head, body]);
}

/** An RTP packet (sometimes with a header extension of a lying length) or an RTCP compound packet. */
function rtpOrRtcp(r: Rng, ssrcs: number[]) {
  if (r.chance(0.3)) {
    const packets: Buffer[] = [];
    for (let i = 0; i < 1 + r.int(3); i++) {
      const words = r.int(12);
      const p = Buffer.concat([Buffer.alloc(4), bytes(r, words * 4)]);
      p[0] = 0x80 | r.int(32);
      p[1] = r.pick([200, 201, 202, 203, 204, 205, 206, 207, r.int(256)]);
      p.writeUInt16BE(r.chance(0.9) ? words : r.int(0xffff), 2);
      if (p.length >= 8) p.writeUInt32BE(r.pick(ssrcs), 4);
      packets.push(p);
    }
    return Buffer.concat(packets);
  }
  const head = Buffer.alloc(12);
  head[0] = 0x80 | (r.chance(0.3) ? 0x10 : 0) | (r.chance(0.1) ? 0x20 : 0) | r.int(16);
  head[1] = (r.chance(0.5) ? 0x80 : 0) | r.pick([100, 101, 102, r.int(128)]);
  head.writeUInt16BE(r.int(0x10000), 2);
  head.writeUInt32BE(r.int(0xffffffff), 4);
  head.writeUInt32BE(r.pick(ssrcs), 8);
  const parts = [head, bytes(r, 4 * (head[0] & 0x0f))];
  if (head[0] & 0x10) {
    const ext = Buffer.alloc(4);
    ext.writeUInt16BE(r.pick([0xbede, 0x1000, r.int(0x10000)]), 0);
    const words = r.int(6);
    ext.writeUInt16BE(r.chance(0.8) ? words : r.int(0xffff), 2);
    parts.push(ext, bytes(r, words * 4));
  }
  parts.push(bytes(r, r.int(1200)));
  return Buffer.concat(parts);
}

/** Any of them, sometimes truncated anywhere. */
function packet(r: Rng, ufrag: string, ssrcs: number[]) {
  const p = r.pick([() => stun(r, ufrag), () => dtls(r), () => rtpOrRtcp(r, ssrcs), () => bytes(r, r.int(1500))])();
  return r.chance(0.25) ? p.subarray(0, r.int(p.length + 1)) : p;
}

/**
 * Random and truncated STUN, DTLS and RTP/RTCP at the WebRtcServer's UDP and TCP ports and at
 * pipe ports (one plain with a producer on it, one with SRTP), while a call runs on the worker.
 */
describe(`media ports fuzz: ${PACKETS} packets per target (seed ${SEED})`, () => {
  let t: TestNode;
  let seller: WeriftPeer;
  let buyer: WeriftPeer;
  const pipes: types.PipeTransport[] = [];

  beforeAll(async () => {
    t = await startTestNode();
    ({ seller, buyer } = await startCall(t.ws, 'ports', (identity, role) => t.token({ room: 'ports', identity, role })));
  });
  afterAll(async () => {
    for (const p of pipes) p.close();
    await seller?.close();
    await buyer?.close();
    await t?.close();
  });

  it('no worker dies and the call holds', async () => {
    const r = prng(SEED);
    const slot = t.node.pool.slots[0];
    const pid = slot.worker.pid;
    let died = false;
    slot.worker.on('died', () => (died = true));
    const server = await slot.webRtcServer.dump();
    const udpPort = server.udpSockets[0].port;
    const tcpPort = server.tcpServers[0].port;
    const ufrag = server.localIceUsernameFragments[0]?.localIceUsernameFragment ?? 'x';
    const router = t.node.rooms.get(roomKey('default', 'ports'))!.media.routers[0].router;
    // 1111 is the plain pipe's producer: its packets are parsed and routed, not just dropped.
    const ssrcs = [1111, 2222, r.int(0xffffffff)];

    // Pipe ports, connected to our fuzzing socket so that what it sends is taken in.
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
    const plain = await router.createPipeTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' } });
    const secure = await router.createPipeTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, enableSrtp: true });
    pipes.push(plain, secure);
    await plain.connect({ ip: '127.0.0.1', port: sock.address().port });
    await secure.connect({ ip: '127.0.0.1', port: sock.address().port, srtpParameters: secure.srtpParameters! });
    await plain.produce({ kind: 'audio', rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: 1111 }] } });

    const flowing = async (what: string) => {
      const before = buyer.received.video.packets;
      await waitFor(() => buyer.received.video.packets > before + 15, what);
    };
    await flowing('media before');

    const targets = [udpPort, plain.tuple.localPort, secure.tuple.localPort];
    for (let i = 0; i < PACKETS; i++) {
      for (const port of targets) sock.send(packet(r, ufrag, ssrcs), port, '127.0.0.1');
      if (i % 200 === 199) await sleep(5); // bounded bursts: the kernel drops what overflows, not the worker
    }
    // TCP: RFC 4571 framing (2-byte length), lying lengths, and unframed junk, over a few connections.
    for (let c = 0; c < 8; c++) {
      const tcp = net.connect(tcpPort, '127.0.0.1');
      await new Promise((resolve) => tcp.once('connect', resolve).once('error', resolve));
      for (let i = 0; i < PACKETS / 8; i++) {
        const p = packet(r, ufrag, ssrcs);
        const len = Buffer.alloc(2);
        len.writeUInt16BE(r.chance(0.9) ? p.length : r.int(0xffff));
        if (!tcp.destroyed) tcp.write(r.chance(0.9) ? Buffer.concat([len, p]) : p);
      }
      tcp.destroy();
    }
    sock.close();

    await flowing('media after');
    expect(died).toBe(false);
    expect(slot.alive).toBe(true);
    expect(slot.worker.pid).toBe(pid);
    expect((await slot.worker.getResourceUsage()).ru_maxrss).toBeGreaterThan(0);
  }, 120_000);
});
