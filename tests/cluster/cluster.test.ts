import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { ClusterNode, token } from '../helpers/cluster-node.js';
import { RedisServer } from '../helpers/redis-server.js';
import { RequestFailed, SignalingClient } from '../helpers/signaling-client.js';
import { startCall, waitFor, WeriftPeer } from '../helpers/werift-peer.js';

/**
 * Three node processes in two regions sharing one private redis-server:
 * a and b in us-west (near the buyer), c in cn-south (near the seller), c with room for 2 peers.
 */
describe('regional cluster', () => {
  let redis: RedisServer;
  let db: Redis;
  let a: ClusterNode;
  let b: ClusterNode;
  let c: ClusterNode;
  const peers: WeriftPeer[] = [];
  const clients: SignalingClient[] = [];
  /** The buyer on a in a room whose seller is on c (kept to watch c's death). */
  let acrossBuyer: WeriftPeer;

  beforeAll(async () => {
    redis = await RedisServer.start();
    db = redis.client();
    [a, b, c] = await Promise.all([
      ClusterNode.start('a', 'us-west', redis.url),
      ClusterNode.start('b', 'us-west', redis.url),
      ClusterNode.start('c', 'cn-south', redis.url, { NODE_CAPACITY: '2' }),
    ]);
  }, 90_000);
  afterAll(async () => {
    await Promise.all(peers.map((p) => p.close()));
    for (const c of clients) c.close();
    await Promise.all([a, b, c].map((n) => n?.stop()));
    db?.disconnect();
    await redis?.down();
  });

  const liveNodes = async () => (await db.zrangebyscore('sfu:nodes', Date.now(), '+inf')).sort();
  const client = async (node: ClusterNode) => {
    const s = await SignalingClient.connect(node.ws);
    clients.push(s);
    return s;
  };
  const call = async (node: ClusterNode, room: string, region?: string) => {
    const started = await startCall(node.ws, room, (identity, role) => token({ room, identity, role, ...(region ? { region } : {}) }));
    peers.push(started.seller, started.buyer);
    return started;
  };

  it('every node registers itself with its region, URL and load', async () => {
    expect(await liveNodes()).toEqual(['a', 'b', 'c']);
    const info = await db.hgetall('sfu:node:c');
    expect(info).toMatchObject({ id: 'c', region: 'cn-south', url: c.url, capacity: '2', draining: '0' });
    expect(Number(await db.pttl('sfu:node:c'))).toBeGreaterThan(0);
  });

  it('places a room on the least-loaded node in the buyer’s region, else the nearest region with capacity', async () => {
    expect((await a.place('near-cn', 'cn-south')).node.id).toBe('c');
    expect(['a', 'b']).toContain((await c.place('near-us', 'us-west')).node.id);
    // A buyer token without a region, on c: the buyer's own node is near the buyer.
    const buyer = await client(c);
    await buyer.request('join', { token: token({ room: 'near-here', identity: 'buyer-1', role: 'buyer' }) });
    expect((await a.place('near-here')).node.id).toBe('c');
    // Fill c (capacity 2), then cn-south has no room left: the nearest region takes it.
    const second = await client(c);
    await second.request('join', { token: token({ room: 'near-here', identity: 'seller-1', role: 'seller' }) });
    await waitFor(async () => (await db.hget('sfu:node:c', 'peers')) === '2', "c's heartbeat reporting it full"); // capacity 2
    expect(['a', 'b']).toContain((await a.place('near-cn-full', 'cn-south')).node.id);
    buyer.close();
    second.close();
  });

  it('a client that reaches the wrong node in the room’s region is redirected, and can follow', async () => {
    const placed = await a.place('redirect-1', 'us-west');
    const owner = placed.node;
    expect(placed.signalingUrl).toBe(`${owner.url.replace(/^http/, 'ws')}/v1/rtc`);
    const other = owner.id === 'a' ? b : a;
    const s = await client(other);
    const err = await s.request('join', { token: token({ room: 'redirect-1', identity: 'buyer-2', region: 'us-west' }) }).catch((e) => e);
    expect(err).toBeInstanceOf(RequestFailed);
    expect((err as RequestFailed).code).toBe('REDIRECT');
    const frame = s.rawResponses.at(-1);
    expect(frame.error.redirect).toEqual({ nodeId: owner.id, region: 'us-west', url: owner.url });
    const followed = await SignalingClient.connect(`${frame.error.redirect.url.replace(/^http/, 'ws')}/v1/rtc`);
    clients.push(followed);
    expect((await followed.request('join', { token: token({ room: 'redirect-1', identity: 'buyer-2', region: 'us-west' }) })).roomId).toBe('redirect-1');
  });

  it('200 rooms claimed at once through 3 nodes get exactly one owner each', async () => {
    const rooms = Array.from({ length: 200 }, (_, i) => `race-${i}`);
    const answers = await Promise.all(rooms.flatMap((room) => [a, b, c].map(async (n) => [room, (await n.place(room, 'us-west')).node.id] as const)));
    const owners = new Map<string, Set<string>>();
    for (const [room, id] of answers) owners.set(room, (owners.get(room) ?? new Set()).add(id));
    expect([...owners.values()].filter((s) => s.size !== 1)).toEqual([]);
    const stored = await db.mget(rooms.map((r) => `sfu:room:default/${r}`));
    expect(stored).toEqual(rooms.map((r) => [...owners.get(r)!][0]));
  });

  it('a room spans regions: each side attaches locally, only consumed streams cross, and pipes close when a side leaves', async () => {
    const owner = (await c.place('span-1', 'us-west')).node; // placed near the buyer
    const home = owner.id === 'a' ? a : b;
    const metric = async (n: ClusterNode, name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(await (await fetch(`${n.url}/metrics`)).text())?.[1]);
    const piped = (n: ClusterNode) => metric(n, 'sfu_remote_streams_piped');
    // The seller in China reaches c; the room lives in us-west, so c hosts the seller's side.
    const seller = await WeriftPeer.connect(c.ws, token({ room: 'span-1', identity: 'seller', role: 'seller', region: 'us-west' }));
    const buyer = await WeriftPeer.connect(home.ws, token({ room: 'span-1', identity: 'buyer', role: 'buyer', region: 'us-west' }), false);
    peers.push(seller, buyer);
    expect(buyer.join.peers.map((p) => p.id)).toEqual(['seller']);
    await seller.publish();
    const audioAdded = await buyer.client.notification('producerAdded', (d) => d.producer.kind === 'audio');
    await buyer.client.notification('producerAdded', (d) => d.producer.kind === 'video');
    expect(await piped(home)).toBe(0); // nothing consumed yet: nothing crossed

    // The buyer asks for the audio only: one stream crosses.
    await buyer.subscribeByHand([audioAdded.producer.id]);
    expect(await piped(home)).toBe(1);
    await waitFor(() => buyer.received.audio.packets > 30, 'audio across regions');
    expect(buyer.received.video.packets).toBe(0);

    // Then the video too, decrypted on the far side.
    const video = buyer.client.notificationsOf('producerAdded').find((d) => d.producer.kind === 'video')!;
    await buyer.consumeMore([video.producer.id]);
    await waitFor(() => buyer.received.video.packets > 30, 'video across regions');
    expect(buyer.received.video.bytes).toBeGreaterThan(30 * 500);
    expect(await piped(home)).toBe(2);
    // The piped streams' reception is counted on the receiving side (sampled once a second).
    await waitFor(async () => (await metric(home, 'sfu_pipe_received_packets_total')) > 60, 'piped packets counted');
    expect(await metric(c, 'sfu_pipe_received_packets_total')).toBe(0); // nothing was piped into the seller's node
    for (const name of ['sfu_pipe_lost_packets_total', 'sfu_pipe_repaired_packets_total', 'sfu_pipe_nacked_packets_total']) expect(await metric(home, name)).toBeGreaterThanOrEqual(0);

    // The seller leaves: c closes its pipes; the buyer's consumers end and the gauge drops.
    await seller.client.request('leave', {});
    await buyer.client.notification('peerLeft', (d) => d.peerId === 'seller');
    await buyer.client.until(() => buyer.client.notificationsOf('consumerClosed').length >= 2, 'consumers closed');
    await waitFor(async () => (await piped(home)) === 0, 'the piped streams closed');
  });

  it('cross-node media with auto-subscribe and chat both ways', async () => {
    const owner = (await a.place('span-2', 'cn-south')).node;
    expect(owner.id).toBe('c');
    const seller = await WeriftPeer.connect(c.ws, token({ room: 'span-2', identity: 'seller', role: 'seller' }));
    const buyer = await WeriftPeer.connect(a.ws, token({ room: 'span-2', identity: 'buyer', role: 'buyer', region: 'cn-south' }));
    peers.push(seller, buyer);
    acrossBuyer = buyer;
    await seller.publish();
    await buyer.publish({ audio: false, video: false, data: true });
    await buyer.subscribe({ consumers: 2, dataConsumers: 1 });
    await seller.subscribe({ consumers: 0, dataConsumers: 1 });
    await waitFor(() => buyer.received.video.packets > 30 && buyer.received.audio.packets > 30, 'media from c to a');
    seller.sendMessage('the spare part ships today');
    await waitFor(() => buyer.messages.includes('the spare part ships today'), 'chat c → a');
    buyer.sendMessage('thank you!');
    await waitFor(() => seller.messages.includes('thank you!'), 'chat a → c');
  });

  it('one identity joined on two nodes: the newer join wins everywhere', async () => {
    const cLoad = await db.hget('sfu:node:c', 'peers');
    const home = (await a.place('moving', 'us-west')).node.id === 'a' ? a : b;
    const join = async (node: ClusterNode, identity: string) => {
      const s = await client(node);
      await s.request('join', { token: token({ room: 'moving', identity, region: 'us-west' }) });
      return s;
    };
    const old = await join(home, 'mover');
    const watcher = await join(home, 'watcher');
    const moved = await join(c, 'mover'); // the buyer's phone switched networks and reached c
    expect(await old.notification('disconnected')).toMatchObject({ code: 'DUPLICATE_IDENTITY', rejoin: false });
    await watcher.until(() => watcher.notificationsOf('peerJoined').some((p) => p.id === 'mover'), 'mover back, from c');
    expect(watcher.notificationsOf('peerLeft').map((p) => p.peerId)).toEqual(['mover']);
    expect(moved.notificationsOf('peerLeft')).toEqual([]);
    expect(moved.notificationsOf('disconnected')).toEqual([]);
    await waitFor(async () => JSON.parse((await db.hget('sfu:room:default/moving:peers', 'mover')) ?? '{}').nodeId === 'c', "mover's entry naming c");
    // Leave c's capacity (2) as it was for the tests after this one.
    for (const s of [old, watcher, moved]) s.close();
    await waitFor(async () => (await db.hget('sfu:node:c', 'peers')) === cLoad, "c's load back as before");
  });

  it('restarting Redis mid-call: media keeps flowing, and the registry and placements heal', async () => {
    const owner = (await a.place('redis-1', 'us-west')).node;
    const host = owner.id === 'a' ? a : b;
    const { buyer } = await call(host, 'redis-1', 'us-west');
    await redis.down();
    const during = buyer.received.video.packets;
    await waitFor(() => buyer.received.video.packets > during + 30, 'media while Redis is down');
    // New placements fail fast and clearly meanwhile.
    const s = await client(host);
    const err = await s.request('join', { token: token({ room: 'redis-2', identity: 'x' }) }).catch((e) => e);
    expect((err as RequestFailed).code).toBe('NODE_UNAVAILABLE');
    await redis.up();
    db.disconnect();
    db = redis.client();
    await waitFor(async () => (await liveNodes()).length === 3, 'every node registered again', 10_000);
    expect(await liveNodes()).toEqual(['a', 'b', 'c']);
    await waitFor(async () => (await db.get('sfu:room:default/redis-1')) === owner.id, 'the owner re-claiming its room');
    // The next heartbeat finds the peer entries gone and writes them again.
    await waitFor(async () => Object.keys(await db.hgetall('sfu:room:default/redis-1:peers')).length === 2, 'the room\'s peers written again');
    expect(Object.keys(await db.hgetall('sfu:room:default/redis-1:peers')).sort()).toEqual(['redis-1-buyer', 'redis-1-seller']);
    const after = buyer.received.video.packets;
    await waitFor(() => buyer.received.video.packets > after + 30, 'media after the restart');
  });

  it('a node that dies drops out, and its rooms are placed again on the next join', async () => {
    expect((await a.place('orphan', 'cn-south')).node.id).toBe('c');
    // The Redis restart before this test did not make anyone think c was gone.
    expect(acrossBuyer.client.notificationsOf('peerLeft')).toEqual([]);
    await c.stop('SIGKILL');
    await waitFor(async () => !(await liveNodes()).includes('c'), 'c dropping out', 10_000);
    expect(await liveNodes()).toEqual(['a', 'b']);
    // a's part of span-2 learns that c's peers are gone with it.
    expect(await acrossBuyer.client.notification('peerLeft', (d) => d.peerId === 'seller', 15_000)).toBeTruthy();
    await acrossBuyer.client.until(() => acrossBuyer.client.notificationsOf('consumerClosed').length >= 2, 'consumers from c closed');
    const again = (await a.place('orphan', 'cn-south')).node.id;
    expect(['a', 'b']).toContain(again);
    const host = again === 'a' ? a : b;
    const { buyer } = await call(host, 'orphan', 'cn-south');
    expect(buyer.received.video.packets).toBeGreaterThan(10);
  });

  it('drain: no new rooms, calls go on until they end, then the node exits', async () => {
    // Only this test's call may keep the draining node alive.
    await Promise.all(peers.splice(0).map((p) => p.close()));
    for (const s of clients.splice(0)) s.close();
    const owner = (await b.place('drain-1', 'us-west')).node.id;
    const node = owner === 'a' ? a : b;
    const other = owner === 'a' ? b : a;
    const { seller, buyer } = await call(node, 'drain-1', 'us-west');
    const res = await node.post('/v1/admin/drain');
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ draining: true, rooms: expect.any(Number) });
    const ready = await fetch(`${node.url}/readyz`);
    expect(ready.status).toBe(503);
    expect((await ready.json()).status).toBe('draining');
    await waitFor(async () => (await db.hget(`sfu:node:${node.id}`, 'draining')) === '1', 'the drain published in the registry', 3000);
    expect((await other.place('drain-new', 'us-west')).node.id).toBe(other.id);
    const before = buyer.received.video.packets;
    await waitFor(() => buyer.received.video.packets > before + 30, 'the call goes on while draining');
    await seller.client.request('leave', {});
    await buyer.client.request('leave', {});
    expect(await node.exited()).toBe(0);
  });
});
