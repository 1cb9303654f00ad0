import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeDocument } from '../helpers/doc-runner.js';
import { freeRtpPort } from '../helpers/rtp-port.js';
import { waitFor, WeriftPeer } from '../helpers/werift-peer.js';
import { sleep } from '../helpers/time.js';


/**
 * docs/recording-and-ai.md, every command in order, against a call in ticket-42: the node
 * started with npm start, a seller and a buyer (werift, real VP8) in the call, then the
 * document's recording, snapshot, forwarding (ffmpeg and GStreamer) and bot commands.
 */
describe('docs/recording-and-ai.md, every command in order', () => {
  let document: Awaited<ReturnType<typeof nodeDocument>>;
  const peers: WeriftPeer[] = [];
  afterAll(async () => {
    for (const p of peers) await p.close();
    await document?.close();
  });

  it('records, captures, forwards to ffmpeg and GStreamer, and takes bot audio in', async () => {
    // The reader's RTP port stands for 5004: a free even pair, outside the node's RTC range and
    // the kernel's ephemeral one, so nothing takes it before ffmpeg binds it.
    const rtpPort = await freeRtpPort();
    document = await nodeDocument('docs/recording-and-ai.md', { ports: { 5004: rtpPort } });
    const { doc, backend, base, ws } = document;
    await doc.runUntil('env');
    const token = async (identity: string, role: string, autoSubscribe = true) => {
      const res = await fetch(`${base}/v1/tokens`, { method: 'POST', headers: { authorization: 'Bearer dev-only-api-key-change-me', 'content-type': 'application/json' }, body: JSON.stringify({ room: 'ticket-42', identity, role }) });
      return WeriftPeer.connect(ws, (await res.json()).token, autoSubscribe);
    };
    // The call the document works on.
    const seller = await token('seller-3', 'seller');
    const buyer = await token('buyer-7', 'buyer');
    peers.push(seller, buyer);
    await seller.publish({ data: false });
    await buyer.publish({ data: false });
    await buyer.subscribe({ consumers: 2 });
    await waitFor(() => buyer.received.video.packets > 20, 'the call\'s media');

    expect((await doc.runUntil('record')).trim()).toMatch(/^rec_/);
    await sleep(3000);
    const files = (await doc.runUntil('stop')).trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    expect(files.map((f) => `${f.identity}:${f.kind}:${f.codec}:${f.status}`).sort()).toEqual([
      'buyer-7:audio:opus:complete', 'buyer-7:video:VP8:complete', 'seller-3:audio:opus:complete', 'seller-3:video:VP8:complete',
    ]);
    for (const f of files) expect(f.durationSeconds).toBeGreaterThan(2);
    expect((await doc.runUntil('download')).trim()).toBe('vp8,320,240');

    const snapshot = (await doc.runUntil('snapshot')).trim().split('\n');
    expect(JSON.parse(snapshot[0])).toMatchObject({ identity: 'buyer-7', width: 320, height: 240 });
    expect(snapshot[1]).toBe('mjpeg,320,240');

    expect(await doc.runUntil('forward')).toContain(`m=audio ${rtpPort} RTP/AVP`);
    expect((await doc.runUntil('ffmpeg-receive')).trim()).toBe('opus');
    expect((await doc.runUntil('gstreamer-receive')).trim()).toBe('pcm_s16le,16000,1');
    expect((await doc.runUntil('forward-stop')).trim()).toBe('204');

    // The product guide bot joins; a listener consumes just its audio while ffmpeg plays the tone.
    await doc.runUntil('guide-bot');
    await waitFor(() => fs.existsSync(path.join(backend, 'guide-bot-url.txt')) && fs.statSync(path.join(backend, 'guide-bot-url.txt')).size > 0, 'the guide bot', 20_000);
    const room = await (await fetch(`${base}/v1/rooms/ticket-42`, { headers: { authorization: 'Bearer dev-only-api-key-change-me' } })).json();
    const guide = room.participants.find((p: { identity: string }) => p.identity === 'guide-bot');
    expect(guide).toMatchObject({ role: 'bot', name: 'Product guide', tracks: [{ kind: 'audio', source: 'guide' }] });
    const listener = await token('listener', 'observer', false);
    peers.push(listener);
    await listener.subscribeByHand([guide.tracks[0].id]);
    await doc.runUntil('bot-send');
    expect(listener.received.audio.packets).toBeGreaterThan(150);

    expect(doc.pending()).toEqual([]);
  }, 240_000);
});
