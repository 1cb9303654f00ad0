import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { RoomMessage } from '../../src/cluster/bus-messages.js';
import { ClusterBus, RemoteError } from '../../src/cluster/cluster-bus.js';
import { keys } from '../../src/cluster/keys.js';
import { Signer } from '../../src/cluster/signer.js';
import { LogLimiter } from '../../src/common/log-limiter.js';
import { RedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/werift-peer.js';
import { roomKey } from '../../src/rooms/room-key.js';
import { CodedError } from '../../src/common/errors.js';

const SECRET = 'shared-cluster-secret';
/** A message as a cluster member would sign it for `channel`. */
const signed = (channel: string, envelope: object) => {
  const body = JSON.stringify(envelope);
  return JSON.stringify({ body, sig: new Signer(SECRET).sign(channel, body) });
};

describe('node-to-node messages are authenticated and typed', () => {
  let redis: RedisServer;
  const conns: Redis[] = [];
  const log = pino({ level: 'silent' });
  const bus = (id: string, secret = SECRET) => {
    const [pub, sub] = [redis.client(), redis.client()];
    conns.push(pub, sub);
    return new ClusterBus(pub, sub, id, new Signer(secret), new LogLimiter(log));
  };

  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    for (const c of conns) c.disconnect();
    await redis.down();
  });

  it('delivers signed, well-formed messages; drops and counts forged, stale and malformed ones without throwing', async () => {
    const [a, b, mallory] = [bus('a'), bus('b'), bus('mallory', 'guessed-secret')];
    await Promise.all([a.start(), b.start(), mallory.start()]);
    const got: Array<[RoomMessage, string]> = [];
    await b.subscribe('room-x', (message, from) => got.push([message, from]));

    await a.publish('room-x', { type: 'peerLeft', data: { peerId: 'buyer' } });
    await mallory.publish('room-x', { type: 'peerLeft', data: { peerId: 'intruder' } });
    // A correctly signed message replayed long after it was sent.
    await conns[0].publish('room-x', signed('room-x', { from: 'a', ts: Date.now() - 120_000, type: 'peerLeft', data: { peerId: 'replayed' } }));
    await conns[0].publish('room-x', 'not json at all');
    // A message signed for another room's channel, replayed onto this one.
    await conns[0].publish('room-x', signed('room-y', { from: 'a', ts: Date.now(), type: 'peerLeft', data: { peerId: 'from-room-y' } }));
    // Correctly signed, but not a message of the protocol: unknown type, wrong data, no envelope.
    await conns[0].publish('room-x', signed('room-x', { from: 'a', ts: Date.now(), type: 'takeOver', data: {} }));
    await conns[0].publish('room-x', signed('room-x', { from: 'a', ts: Date.now(), type: 'peer', data: { info: { id: 'x' }, joinedAt: 'soon' } }));
    await conns[0].publish('room-x', signed('room-x', ['not', 'an', 'envelope']));

    await waitFor(() => b.dropped.unauthenticated >= 3 && b.dropped.stale >= 1 && b.dropped.malformed >= 3, 'every bad message counted');
    expect(b.dropped).toEqual({ unauthenticated: 3, stale: 1, malformed: 3 });
    expect(got).toEqual([[{ type: 'peerLeft', data: { peerId: 'buyer' } }, 'a']]);
    for (const x of [a, b, mallory]) x.close();
  });

  it('answers typed RPCs, refuses malformed requests and replies, and times out for the wrong secret', async () => {
    const [a, b, mallory] = [bus('a2'), bus('b2'), bus('mallory2', 'guessed-secret')];
    await Promise.all([a.start(), b.start(), mallory.start()]);
    b.onRpc('pipe.close', async ({ roomId }) => (roomId === roomKey('shop', 'r1') ? null : Promise.reject(new Error(`no room ${roomId}`))));
    expect(await a.rpc('b2', 'pipe.close', { roomId: roomKey('shop', 'r1') })).toBeNull();
    await expect(a.rpc('b2', 'pipe.close', { roomId: roomKey('shop', 'r2') })).rejects.toThrow(/no room shop\/r2/);
    await expect(a.rpc('b2', 'pipe.consume', { roomId: roomKey('shop', 'r1'), producerId: 'p' })).rejects.toThrow(/no cluster method pipe.consume/);
    // A refusal with a stable code keeps it across the bus (the API answers NODE_FULL, not 502).
    b.onRpc('api.endRoom', async () => Promise.reject(new CodedError('NODE_FULL', 'this node hosts 2 rooms already')));
    const refused = await a.rpc('b2', 'api.endRoom', { roomId: roomKey('shop', 'r1') }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(RemoteError);
    expect(refused).toMatchObject({ code: 'NODE_FULL', message: 'this node hosts 2 rooms already' });
    await expect(mallory.rpc('b2', 'pipe.close', { roomId: roomKey('shop', 'r1') }, 500)).rejects.toThrow(/did not answer/);

    // A request whose data does not match its schema is dropped, never handed to the handler.
    const before = b.dropped.malformed;
    await conns[0].publish(keys.nodeRpc('b2'), signed(keys.nodeRpc('b2'), { from: 'a2', ts: Date.now(), type: 'pipe.close', data: { roomId: 42 }, id: 'x', replyTo: keys.nodeRpc('a2') }));
    await waitFor(() => b.dropped.malformed > before, 'the malformed request counted');

    // A reply that does not match the method's response schema rejects the caller.
    a.onRpc('pipe.consume', async () => ({ kind: 'audio' as const, rtpParameters: { codecs: [] }, paused: false, appData: {} }));
    b.onRpc('pipe.consume', async () => ({ kind: 'smell' }) as never);
    await expect(a.rpc('b2', 'pipe.consume', { roomId: roomKey('shop', 'r1'), producerId: 'p' })).rejects.toThrow(/malformed reply/);
    for (const x of [a, b, mallory]) x.close();
  });
});
