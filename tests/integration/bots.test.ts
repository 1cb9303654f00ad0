import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { SignalingClient } from '../helpers/signaling-client.js';
import { waitFor, WeriftPeer } from '../helpers/werift-peer.js';

/** An RTP packet: version 2, the given payload type, sequence number, timestamp and SSRC. */
function rtp(payloadType: number, seq: number, timestamp: number, ssrc: number, payload: Buffer) {
  const header = Buffer.alloc(12);
  header[0] = 0x80;
  header[1] = payloadType;
  header.writeUInt16BE(seq & 0xffff, 2);
  header.writeUInt32BE(timestamp >>> 0, 4);
  header.writeUInt32BE(ssrc, 8);
  return Buffer.concat([header, payload]);
}

describe('bots: media in over plain RTP, chat without a data channel', () => {
  let t: TestNode;
  const closers: Array<() => unknown> = [];
  beforeAll(async () => {
    t = await startTestNode();
  });
  afterAll(async () => {
    for (const close of closers) await close();
    await t.close();
  });

  it('a bot sends audio in over a plain transport; a werift subscriber receives it, and the room shows a bot participant', async () => {
    const bot = await SignalingClient.connect(t.ws);
    closers.push(() => bot.close());
    await bot.request('join', { token: t.token({ room: 'ingest', identity: 'guide-bot', name: 'Product guide', role: 'bot' }) });
    const buyer = await WeriftPeer.connect(t.ws, t.token({ room: 'ingest', identity: 'buyer' }));
    closers.push(() => buyer.close());
    // Only bots may: a buyer has no ingest grant.
    await expect(buyer.client.request('createPlainTransport', {})).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });

    const plain = await bot.request('createPlainTransport', { rtcpMux: false });
    expect(plain).toMatchObject({ ip: '127.0.0.1', port: expect.any(Number), rtcpPort: expect.any(Number) });
    await expect(bot.request('connectTransport', { transportId: plain.transportId, dtlsParameters: { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: 'AB:CD' }] } })).rejects.toMatchObject({ code: 'INVALID_STATE' });
    const { producerId } = await bot.request('produce', {
      transportId: plain.transportId, kind: 'audio',
      rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 101, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: 4242 }] },
      appData: { source: 'voice' },
    });
    await buyer.subscribe({ consumers: 1 });

    const socket = dgram.createSocket('udp4');
    closers.push(() => socket.close());
    for (let n = 1; n <= 100 && buyer.received.audio.packets < 30; n++) {
      socket.send(rtp(101, n, n * 960, 4242, Buffer.alloc(60, n)), plain.port, plain.ip);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(buyer.received.audio.packets).toBeGreaterThanOrEqual(30);

    const view = await (await fetch(`${t.http}/v1/rooms/ingest`, { headers: { authorization: `Bearer ${t.config.auth.apiKeys[0]}` } })).json();
    expect(view.participants.find((p: { identity: string }) => p.identity === 'guide-bot')).toMatchObject({
      role: 'bot', name: 'Product guide', tracks: [{ id: producerId, kind: 'audio', source: 'voice' }],
    });
  });

  it('a bot chats over signaling with a data-channel client, both ways', async () => {
    const bot = await SignalingClient.connect(t.ws);
    closers.push(() => bot.close());
    await bot.request('join', { token: t.token({ room: 'triage', identity: 'triage-bot', role: 'bot' }) });
    await bot.request('subscribeChat', {});

    const buyer = await WeriftPeer.connect(t.ws, t.token({ room: 'triage', identity: 'buyer' }));
    closers.push(() => buyer.close());
    await buyer.publish({ audio: false, video: false, data: true });
    buyer.sendMessage(JSON.stringify({ type: 'chat', text: 'the lid arrived cracked', at: 1234 }));
    expect(await bot.notification('chat')).toEqual({ peerId: 'buyer', text: 'the lid arrived cracked', at: 1234 });
    // Not chat: ignored, not relayed.
    buyer.sendMessage('not json');

    // The bot's first message waits until the buyer's channel for it is open.
    const sent = bot.request('sendChat', { text: 'Sorry to hear that. Can you show me the lid?' });
    await buyer.subscribe({ consumers: 0, dataConsumers: 1 });
    await sent;
    await waitFor(() => buyer.messages.length > 0, 'the bot\'s message on the buyer\'s data channel');
    expect(JSON.parse(buyer.messages[0])).toMatchObject({ type: 'chat', text: 'Sorry to hear that. Can you show me the lid?' });
    expect(bot.notificationsOf('chat')).toHaveLength(1);
  });
});

describe('a node whose plain-transport ports are used up', () => {
  it('answers NO_PORTS to a bot and to the forwards API, and serves again once a port is free', async () => {
    // Two ports: the worker's WebRtcServer (base port 0 here) takes one of them, the bot the other.
    const t = await startTestNode({ media: { rtcMinPort: 47_310, rtcMaxPort: 47_311 } });
    const bot = await SignalingClient.connect(t.ws);
    try {
      await bot.request('join', { token: t.token({ room: 'ports', identity: 'bot', role: 'bot' }) });
      const first = await bot.request('createPlainTransport', {});
      await expect(bot.request('createPlainTransport', {})).rejects.toMatchObject({ code: 'NO_PORTS' });
      await bot.request('produce', {
        transportId: first.transportId, kind: 'audio',
        rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 101, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: 77 }] },
      });
      const forward = () => fetch(`${t.http}/v1/rooms/ports/participants/bot/forwards`, {
        method: 'POST', headers: { authorization: `Bearer ${t.config.auth.apiKeys[0]}`, 'content-type': 'application/json' },
        body: JSON.stringify({ host: '127.0.0.1', audioPort: 47_400 }),
      });
      const refused = await forward();
      expect(refused.status).toBe(503);
      expect((await refused.json()).error.code).toBe('NO_PORTS');
      // The session is unharmed: its port comes back when it closes the transport.
      await bot.request('closeTransport', { transportId: first.transportId });
      expect((await bot.request('createPlainTransport', {})).port).toBe(first.port);
    } finally {
      bot.close();
      await t.close();
    }
  });
});
