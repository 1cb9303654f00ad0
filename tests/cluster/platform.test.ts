import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterNode } from '../helpers/cluster-node.js';
import { RedisServer } from '../helpers/redis-server.js';
import { newWebhookSecret, WebhookReceiver } from '../helpers/webhook-receiver.js';
import { waitFor, WeriftPeer } from '../helpers/werift-peer.js';

const KEY = 'shop-cluster-api-key-0123456789abc';
const TIGHT_KEY = 'tight-cluster-api-key-0123456789ab';

/**
 * The platform API in a cluster: a room that spans two regions is driven from either node,
 * gives one call record assembled by its owner, and its webhooks survive the death of the
 * node that was delivering them.
 */
describe('the platform API across a cluster', () => {
  let redis: RedisServer;
  let db: Redis;
  let a: ClusterNode;
  let c: ClusterNode;
  const receiver = new WebhookReceiver(newWebhookSecret());
  const peers: WeriftPeer[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    db = redis.client();
    receiver.port = await WebhookReceiver.reservePort();
    const env = {
      TENANTS: JSON.stringify([{ id: 'shop', apiKeys: [KEY], webhook: { url: receiver.url, secret: receiver.secret } }, { id: 'tight', apiKeys: [TIGHT_KEY], limits: { rooms: 5 } }]),
      WEBHOOK_RETRY_DELAYS_MS: JSON.stringify([200, 300, 500, 800, 1000, 1000, 2000, 3000, 5000]),
      WEBHOOK_TIMEOUT_MS: '1000',
    };
    [a, c] = await Promise.all([ClusterNode.start('pa', 'us-west', redis.url, env), ClusterNode.start('pc', 'cn-south', redis.url, env)]);
  }, 90_000);
  afterAll(async () => {
    await Promise.all(peers.map((p) => p.close()));
    await Promise.all([a, c].map((n) => n?.stop()));
    await receiver.stop();
    db?.disconnect();
    await redis?.down();
  });

  const api = async (node: ClusterNode, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${node.url}${path}`, {
      method, headers: { authorization: `Bearer ${KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: res.status === 204 ? null : await res.json() };
  };

  it('a spanning room is driven from either node, and gives one call record assembled by its owner', async () => {
    const created = await api(a, 'POST', '/v1/rooms', {
      room: 'span-api', region: 'cn-south', emptyTimeoutSeconds: 1, metadata: { orderId: 'X-7' },
      participants: [{ identity: 'seller', role: 'seller' }, { identity: 'buyer', role: 'buyer' }],
    });
    expect(created.status).toBe(201);
    expect(created.body.node.id).toBe('pc');
    const seller = await WeriftPeer.connect(c.ws, created.body.tokens[0].token);
    // The buyer reaches the us-west node and stays there: the room spans both.
    // (Its token, minted with the room, names the buyer's region cn-south, as the room does.)
    const buyer = await WeriftPeer.connect(a.ws, created.body.tokens[1].token);
    peers.push(seller, buyer);
    await seller.publish({ data: false });
    await buyer.publish({ data: false });
    await buyer.subscribe({ consumers: 2 });
    await waitFor(() => buyer.received.video.packets > 20, 'media across the nodes');

    // A recording started on either node runs where each participant is hosted.
    const recording = await api(a, 'POST', '/v1/rooms/span-api/recordings', {});
    expect(recording.status).toBe(201);
    // Snapshots run where their subject is: the seller (pc) asks for the buyer (pa), the API (pa) for the seller (pc).
    const ofBuyer = await seller.client.request('takeSnapshot', { peerId: 'buyer' });
    expect(ofBuyer).toMatchObject({ identity: 'buyer', node: 'pa', takenBy: 'seller', width: 320 });
    expect(await buyer.client.notification('snapshotTaken')).toMatchObject({ snapshotId: ofBuyer.snapshotId });
    expect(await seller.client.notification('snapshotTaken')).toMatchObject({ snapshotId: ofBuyer.snapshotId });
    const ofSeller = await api(a, 'POST', '/v1/rooms/span-api/snapshots', { identity: 'seller' });
    expect(ofSeller.body).toMatchObject({ identity: 'seller', node: 'pc' });
    // A file held by the other node: the API answers with a redirect there, the link works on it.
    const held = await fetch(`${a.url}/v1/files/${ofSeller.body.snapshotId}`, { headers: { authorization: `Bearer ${KEY}` }, redirect: 'manual' });
    expect(held.status).toBe(307);
    expect(held.headers.get('location')).toContain(c.url);
    expect((await fetch(held.headers.get('location')!)).headers.get('content-type')).toBe('image/jpeg');
    await new Promise((r) => setTimeout(r, 2000));
    const files = (await api(c, 'GET', '/v1/rooms/span-api/recordings')).body.recordings[0].files;
    expect(files.map((f: { identity: string; kind: string; node: string }) => `${f.identity}:${f.kind}@${f.node}`).sort()).toEqual([
      'buyer:audio@pa', 'buyer:video@pa', 'seller:audio@pc', 'seller:video@pc',
    ]);

    for (const node of [a, c]) {
      const room = await api(node, 'GET', '/v1/rooms/span-api');
      expect(room.body.metadata).toEqual({ orderId: 'X-7' });
      expect(room.body.participants.map((p: { identity: string; node: string; region: string }) => [p.identity, p.node, p.region]).sort()).toEqual([
        ['buyer', 'pa', 'us-west'], ['seller', 'pc', 'cn-south'],
      ]);
    }
    expect((await api(a, 'GET', '/v1/rooms')).body.rooms.map((r: { room: string }) => r.room)).toContain('span-api');

    expect((await api(a, 'POST', '/v1/rooms/span-api/messages', { text: 'refund approved' })).body.delivered).toBe(2);
    for (const p of [seller, buyer]) expect(await p.client.notification('systemMessage')).toMatchObject({ text: 'refund approved' });
    expect((await api(a, 'POST', '/v1/rooms/span-api/participants/seller/mute', { kind: 'audio' })).status).toBe(200);
    expect(await seller.client.notification('producerMuted')).toMatchObject({ muted: true });

    expect((await api(c, 'DELETE', '/v1/rooms/span-api/participants/buyer')).status).toBe(204);
    expect(await buyer.client.notification('disconnected')).toMatchObject({ code: 'REMOVED' });
    expect((await api(a, 'DELETE', '/v1/rooms/span-api')).status).toBe(204);
    expect(await seller.client.notification('disconnected')).toMatchObject({ code: 'ROOM_ENDED' });

    // One record, on either node, with both participants and both regions.
    await waitFor(async () => (await api(a, 'GET', '/v1/calls?metadata.orderId=X-7')).body.calls.length === 1, 'the call record', 10_000);
    const [record] = (await api(c, 'GET', '/v1/calls?metadata.orderId=X-7')).body.calls;
    expect(record.nodes.sort()).toEqual(['pa', 'pc']);
    expect(record.regions.sort()).toEqual(['cn-south', 'us-west']);
    expect(record.participants.map((p: { identity: string; node: string; leaveReason: string }) => [p.identity, p.node, p.leaveReason]).sort()).toEqual([
      ['buyer', 'pa', 'REMOVED'], ['seller', 'pc', 'ROOM_ENDED'],
    ]);
    // The owner's timeline (a cluster keeps no journal): the start, and everyone coming and going.
    const timeline = record.timeline.map((t: { type: string; identity?: string }) => `${t.type}${t.identity ? `:${t.identity}` : ''}`);
    expect(timeline[0]).toBe('room.started');
    expect(timeline).toEqual(expect.arrayContaining(['participant.joined:buyer', 'participant.joined:seller', 'participant.left:buyer', 'participant.left:seller']));
    // One record (the call's files have a key of their own).
    expect((await db.keys('sfu:call:shop:*')).filter((k) => k.split(':').length === 4)).toHaveLength(1);
    // The owner's record lists every node's files, finished, and both snapshots.
    expect(record.recordings.map((f: { identity: string; node: string; status: string }) => `${f.identity}@${f.node}:${f.status}`).sort()).toEqual([
      'buyer@pa:complete', 'buyer@pa:complete', 'seller@pc:complete', 'seller@pc:complete',
    ]);
    expect(record.snapshots.map((s: { identity: string }) => s.identity).sort()).toEqual(['buyer', 'seller']);
  });

  it('a room named with 128 characters spans both nodes: media, the API on either node, a snapshot told everywhere, one record with everyone when the API ends it', async () => {
    const name = `long-${'x'.repeat(123)}`;
    expect(name).toHaveLength(128);
    const created = await api(a, 'POST', '/v1/rooms', {
      room: name, region: 'cn-south', emptyTimeoutSeconds: 1, metadata: { orderId: 'LONG-1' },
      participants: [{ identity: 'seller', role: 'seller' }, { identity: 'buyer', role: 'buyer' }],
    });
    expect(created.status).toBe(201);
    expect(created.body.node.id).toBe('pc');
    const seller = await WeriftPeer.connect(c.ws, created.body.tokens[0].token);
    const buyer = await WeriftPeer.connect(a.ws, created.body.tokens[1].token);
    peers.push(seller, buyer);
    await seller.publish({ data: false });
    await buyer.publish({ data: false });
    await buyer.subscribe({ consumers: 2 });
    await waitFor(() => buyer.received.video.packets > 20, 'media across the nodes');
    for (const node of [a, c]) {
      const room = await api(node, 'GET', `/v1/rooms/${name}`);
      expect(room.status).toBe(200);
      expect(room.body.participants.map((p: { identity: string; node: string }) => `${p.identity}@${p.node}`).sort()).toEqual(['buyer@pa', 'seller@pc']);
    }
    // A snapshot taken through the API on the buyer's node, of the seller on the other node: both are told.
    const snap = await api(a, 'POST', `/v1/rooms/${name}/snapshots`, { identity: 'seller' });
    expect(snap.body).toMatchObject({ identity: 'seller', node: 'pc', takenBy: 'api' });
    expect(await seller.client.notification('snapshotTaken')).toMatchObject({ snapshotId: snap.body.snapshotId, takenBy: 'api' });
    expect(await buyer.client.notification('snapshotTaken')).toMatchObject({ snapshotId: snap.body.snapshotId, takenBy: 'api' });
    expect((await api(a, 'POST', `/v1/rooms/${name}/messages`, { text: 'hello' })).body.delivered).toBe(2);
    expect((await api(a, 'DELETE', `/v1/rooms/${name}`)).status).toBe(204);
    await waitFor(async () => (await api(c, 'GET', '/v1/calls?metadata.orderId=LONG-1')).body.calls.length === 1, 'the call record', 10_000);
    const [record] = (await api(a, 'GET', '/v1/calls?metadata.orderId=LONG-1')).body.calls;
    expect(record.room).toBe(name);
    expect(record.participants.map((p: { identity: string; node: string }) => `${p.identity}@${p.node}`).sort()).toEqual(['buyer@pa', 'seller@pc']);
    expect(record.snapshots.map((s: { snapshotId: string }) => s.snapshotId)).toEqual([snap.body.snapshotId]);
  });

  it('30 concurrent room creations through both nodes against a tenant limit of 5 make exactly 5 rooms', async () => {
    const create = (node: ClusterNode, room: string) => fetch(`${node.url}/v1/rooms`, {
      method: 'POST', headers: { authorization: `Bearer ${TIGHT_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ room, region: room.endsWith('a') ? 'us-west' : 'cn-south' }),
    }).then(async (r) => ({ status: r.status, code: r.status === 429 ? (await r.json()).error.code : undefined }));
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => create(i % 2 ? a : c, `tight-${i}-${i % 3 ? 'a' : 'c'}`)));
    expect(results.filter((r) => r.status === 201)).toHaveLength(5);
    expect(results.filter((r) => r.status === 429 && r.code === 'TENANT_LIMIT')).toHaveLength(25);
    const listed = await (await fetch(`${a.url}/v1/rooms?limit=100`, { headers: { authorization: `Bearer ${TIGHT_KEY}` } })).json();
    expect(listed.total).toBe(5);
  });

  it('webhooks from both nodes arrive once the receiver is up, even after the delivering node dies', async () => {
    // Until now the receiver was down: the stream holds every event, the leader retries them.
    await waitFor(async () => Boolean(await db.get('sfu:webhooks:leader')), 'a node leading deliveries');
    const leader = (await db.get('sfu:webhooks:leader')) === 'pa' ? a : c;
    const other = leader === a ? c : a;
    await waitFor(async () => Number(await db.hlen('sfu:webhooks:attempts')) > 0, 'deliveries being retried');
    await leader.stop('SIGKILL');
    await receiver.start();
    await waitFor(() => receiver.ofRoom('span-api').some((e) => e.type === 'call.record'), `${other.id} delivering what ${leader.id} held`, 30_000);
    const events = receiver.ofRoom('span-api');
    expect(receiver.badSignatures).toBe(0);
    expect(receiver.invalid).toEqual([]);
    expect(events[0].type).toBe('room.started');
    expect(events.at(-1)!.type).toBe('call.record');
    // Participant events come from the node that hosted each participant.
    expect(events.filter((e) => e.type === 'participant.joined').map((e) => [e.data.identity, e.data.node]).sort()).toEqual([['buyer', 'pa'], ['seller', 'pc']]);
    expect(await db.get('sfu:webhooks:leader')).toBe(other.id);
  });

  // Last: Redis restarted without persistence forgets everything the tests above stored.
  it('while Redis is away, a room route answers 503 NODE_UNAVAILABLE, not 500', async () => {
    // The test above killed one of the nodes: ask the one that lives.
    const live = [a, c].find((n) => n.proc.exitCode === null && n.proc.signalCode === null)!;
    await redis.down();
    try {
      for (const [method, path] of [['DELETE', '/v1/rooms/gone-while-away'], ['GET', '/v1/rooms/gone-while-away'], ['GET', '/v1/calls']] as const) {
        const res = await fetch(`${live.url}${path}`, { method, headers: { authorization: `Bearer ${KEY}` } });
        expect([res.status, (await res.json()).error.code], `${method} ${path}`).toEqual([503, 'NODE_UNAVAILABLE']);
      }
    } finally {
      await redis.up();
    }
  });
});
