import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_GRANTS } from '../../src/auth/grants.js';
import type { Claims } from '../../src/auth/tokens.js';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/logging/logger.js';
import { WorkerPool } from '../../src/media/worker-pool.js';
import type { Peer, PeerSession } from '../../src/rooms/peer.js';
import { RoomRegistry } from '../../src/rooms/room-registry.js';
import { roomKey } from '../../src/rooms/room-key.js';
import { LocalDirectory } from '../../src/rooms/local-directory.js';

/** A session whose queue runs only when told to: a subscriber stuck behind its own slow work. */
class HeldSession implements PeerSession {
  readonly sent: Array<{ method: string; data: unknown }> = [];
  readonly held: Array<() => Promise<unknown>> = [];
  notify = (method: string, data: unknown) => void this.sent.push({ method, data });
  schedule(job: () => Promise<unknown>) {
    this.held.push(job);
  }
  removed() {}
  superseded() {}
  async release() {
    while (this.held.length) await this.held.shift()!();
  }
}

const settings = (name: string) => () => ({ tenant: 'default', name, callId: name, metadata: {}, maxParticipants: 50, emptyTimeoutMs: 0, createdAt: Date.now(), recordings: [] });
const claims = (identity: string): Claims => ({ tenant: 'default', room: 'fanout', identity, name: identity, role: 'buyer', grants: DEFAULT_GRANTS.buyer, relay: false, expiresAt: 0 });
const opus = { codecs: [{ mimeType: 'audio/opus' as const, payloadType: 100, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: 1111 }] };

describe('Room', () => {
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' }, { media: { numWorkers: 1, listenIp: '127.0.0.1', webRtcServerBasePort: 0 } });
  const log = createLogger(config);
  let pool: WorkerPool;
  let rooms: RoomRegistry;

  beforeAll(async () => {
    pool = await WorkerPool.create(config.media, log);
    rooms = new RoomRegistry({
      pool, media: config.media, log,
      directory: new LocalDirectory({ id: 'node-1', region: 'local', url: 'http://127.0.0.1' }), tenantRoomLimit: () => 100, observe: () => undefined,
      limits: { ingest: { ip: '127.0.0.1' }, transports: 4, producers: 16, initialOutgoingBitrate: 1_000_000, keyFrameRequestDelayMs: 400, appDataBytes: 4096, appDataDepth: 8, peersPerRoom: 50, roomsPerNode: 100 },
    });
  });
  afterAll(() => pool.close());

  it("fans a new producer out in each subscriber's own queue: the producer never waits on a stuck subscriber", async () => {
    const { room } = await rooms.getOrCreate(roomKey('default', 'fanout'), settings('fanout'));
    const subscriberSession = new HeldSession();
    const subscriber = (await room.join(claims('subscriber'), true, subscriberSession, log)) as Peer;
    await subscriber.createTransport({ direction: 'recv' });
    subscriber.setRtpCapabilities(room.media.rtpCapabilities);
    // Becoming ready scheduled a subscribe-to-everything in the subscriber's queue, which is held.
    expect(subscriberSession.held).toHaveLength(1);

    const producerSession = new HeldSession();
    const producer = (await room.join(claims('publisher'), true, producerSession, log)) as Peer;
    const send = await producer.createTransport({ direction: 'send', enableSctp: false });
    const produced = await producer.produce({ transportId: send.id, kind: 'audio', rtpParameters: opus });
    // The produce request is done; the subscriber was told, but consumes only when its queue runs.
    expect(subscriberSession.sent.map((m) => m.method)).toEqual(['peerJoined', 'producerAdded']);
    expect(subscriber.count('consumer')).toBe(0);
    expect(producerSession.held).toHaveLength(0);

    await subscriberSession.release();
    expect(subscriber.count('consumer')).toBe(1);
    const newConsumers = subscriberSession.sent.filter((m) => m.method === 'newConsumer');
    // Both the held subscribe-all and the fan-out job ran; one consumer came of it.
    expect(newConsumers).toEqual([expect.objectContaining({ data: expect.objectContaining({ producerId: produced.id, peerId: 'publisher' }) })]);
    room.close();
  });

  it('a peer that leaves while its transport is being created leaves nothing behind', async () => {
    const { room } = await rooms.getOrCreate(roomKey('default', 'leaver'), settings('leaver'));
    const peer = (await room.join(claims('leaver'), true, new HeldSession(), log)) as Peer;
    const stay = await room.join(claims('stayer'), true, new HeldSession(), log);
    const creating = peer.createTransport({ direction: 'recv' });
    room.remove(peer);
    await expect(creating).rejects.toMatchObject({ code: 'NOT_JOINED' });
    const dump = await room.media.routers[0].router.dump();
    expect(dump.transportIds).toHaveLength(0);
    room.remove(stay!);
  });
});
