import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DocRunner } from '../helpers/doc-runner.js';
import { freePort } from '../helpers/redis-server.js';
import { WeriftPeer, waitFor } from '../helpers/werift-peer.js';

const json = (text: string) => JSON.parse(text.trim());

/**
 * docs/integration.md, run as a platform team would: the node started with the document's own
 * command in the checkout, the receiver saved and started in a backend directory, the curl
 * commands in order. Between them, the two participants join with the tokens the document got.
 */
describe('docs/integration.md, every command in order', () => {
  const backend = fs.mkdtempSync(path.join(os.tmpdir(), 'platform-backend-'));
  const store = fs.mkdtempSync(path.join(os.tmpdir(), 'doc-store-'));
  let doc: DocRunner;
  afterAll(async () => {
    await doc?.close();
    fs.rmSync(backend, { recursive: true, force: true });
    fs.rmSync(store, { recursive: true, force: true });
  });

  it('creates the ticket\'s call, verifies its webhooks, and finds its record and usage', async () => {
    const [nodePort, hookPort] = [await freePort(), await freePort()];
    doc = new DocRunner('docs/integration.md', {
      ports: { 8080: nodePort, 8787: hookPort },
      dirs: { sfu: process.cwd(), backend },
      // This machine's part, not the document's: the node's port, loopback media, a temp store.
      env: {
        PORT: String(nodePort), HOST: '127.0.0.1', STORE_PATH: path.join(store, 'sfu.sqlite'),
        MEDIA_NUM_WORKERS: '1', MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WEBRTC_PORT_BASE: '0', LOG_LEVEL: 'warn',
      },
      timeoutMs: 180_000,
    });
    const receiver = () => doc.background.find((b) => b.block.code.includes('receiver.mjs'))!;
    const events = () => receiver().output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));

    const created = json(await doc.runUntil('create-room'));
    expect(created.room).toMatchObject({ room: 'ticket-T-5531', metadata: { orderId: 'A-1001', ticketId: 'T-5531' }, maxParticipants: 3 });
    expect(created.tokens.map((t: { identity: string }) => t.identity)).toEqual(['buyer-88', 'seller-12']);

    // The two pages join with their tokens; the seller shows the product, the buyer the lid.
    const ws = created.signalingUrl.replace('localhost', '127.0.0.1');
    const buyer = await WeriftPeer.connect(ws, created.tokens[0].token);
    const seller = await WeriftPeer.connect(ws, created.tokens[1].token);
    try {
      await seller.publish({ data: false });
      await buyer.publish({ data: false });
      await buyer.subscribe({ consumers: 2 });
      await waitFor(() => buyer.received.video.packets > 10, 'the seller\'s video at the buyer');

      const room = json(await doc.runUntil('room'));
      expect(room.participants.map((p: { identity: string; role: string }) => `${p.identity}:${p.role}`).sort()).toEqual(['buyer-88:buyer', 'seller-12:seller']);
      expect(room.participants.every((p: { tracks: unknown[] }) => p.tracks.length === 2)).toBe(true);

      expect(json(await doc.runUntil('message'))).toEqual({ delivered: 2 });
      const note = await seller.client.notification('systemMessage');
      expect(note).toMatchObject({ from: 'after-sales', text: expect.stringContaining('Refund of 15 EUR approved') });

      expect((await doc.runUntil('end')).trim()).toBe('204');
      await buyer.client.until(() => buyer.client.notifications.some((n) => n.method === 'disconnected' && (n.data as { code: string }).code === 'ROOM_ENDED'), 'ROOM_ENDED');
    } finally {
      await Promise.all([buyer.close(), seller.close()]);
    }

    // The receiver verified each event and printed it once.
    await waitFor(() => events().some((e) => e.type === 'call.record'), 'call.record at the receiver', 20_000);
    const types = events().map((e) => e.type);
    expect(types[0]).toBe('room.started');
    expect(types.filter((t) => t === 'participant.joined')).toHaveLength(2);
    expect(types.filter((t) => t === 'track.published')).toHaveLength(4);
    expect(types.filter((t) => t === 'participant.left')).toHaveLength(2);
    expect(types.slice(-2)).toEqual(['room.finished', 'call.record']);
    const record = events().at(-1).data;
    expect(record).toMatchObject({ room: 'ticket-T-5531', callId: created.room.callId, metadata: { orderId: 'A-1001' } });

    expect(json(await doc.runUntil('gone')).error.code).toBe('NOT_FOUND');

    const calls = json(await doc.runUntil('calls')).calls;
    expect(calls).toHaveLength(1);
    expect(calls[0]).toEqual(record);
    expect(calls[0].participants.map((p: { identity: string; leaveReason: string }) => `${p.identity}:${p.leaveReason}`).sort()).toEqual(['buyer-88:ROOM_ENDED', 'seller-12:ROOM_ENDED']);

    const usage = json(await doc.runUntil('usage'));
    expect(usage.total.participantSeconds.buyer).toBeGreaterThan(0);
    expect(usage.total.participantSeconds.seller).toBeGreaterThan(0);
    expect(usage.total.mediaSeconds.video).toBeGreaterThan(0);
    expect(usage.total.bytesIn).toBeGreaterThan(0);
    expect(usage.rooms.map((r: { room: string }) => r.room)).toEqual(['ticket-T-5531']);

    expect(json(await doc.runUntil('failures'))).toEqual({ failures: [] });
    await doc.runUntil();
    expect(doc.pending()).toEqual([]);
  }, 300_000);
});
