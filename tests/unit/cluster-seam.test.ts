import { describe, expect, it } from 'vitest';
import { ClusterAllocator } from '../../src/cluster/cluster-allocator.js';
import { nearestLeastLoaded } from '../../src/cluster/node-selector.js';
import { diffPeerView } from '../../src/cluster/peer-view-diff.js';
import { Regions } from '../../src/cluster/regions.js';
import { CodedError } from '../../src/common/errors.js';
import { Catalogue, type Consumable } from '../../src/rooms/catalogue.js';
import { LocalDirectory } from '../../src/rooms/local-directory.js';
import type { PeerInfo } from '../../src/rooms/peer.js';
import { roomKey } from '../../src/rooms/room-key.js';
import { newRoomSettings } from '../../src/rooms/room-settings.js';
import { Tenants, type Tenant } from '../../src/tenants/tenants.js';
import { loadConfig } from '../../src/config/load.js';
import { FakeNodeList, fakeNode, FakePlacementStore } from '../helpers/fakes.js';

const regions = new Regions({
  regions: {
    'us-west': { name: 'San Jose', lat: 37.34, lon: -121.89 },
    'eu-west': { name: 'London', lat: 51.51, lon: -0.13 },
    'ap-east': { name: 'Hong Kong', lat: 22.32, lon: 114.17 },
  },
});
const selfIn = (node: ReturnType<typeof fakeNode>) => ({ id: node.id, region: node.region, url: node.url });

describe('ClusterAllocator, with a fake store and node list', () => {
  it('places a new room near the buyer, and answers local only on the node it chose', async () => {
    const [eu, ap] = [fakeNode('eu-1', 'eu-west'), fakeNode('ap-1', 'ap-east')];
    const store = new FakePlacementStore();
    const nodes = new FakeNodeList([eu, ap]);
    const fromEu = new ClusterAllocator(selfIn(eu), store, nodes, regions, nearestLeastLoaded, false);
    const fromAp = new ClusterAllocator(selfIn(ap), store, nodes, regions, nearestLeastLoaded, false);
    expect(await fromEu.allocate('shop/t-1', 'ap-east')).toEqual({ kind: 'redirect', node: selfIn(ap) });
    expect(await fromAp.allocate('shop/t-1', 'eu-west')).toEqual({ kind: 'local', node: selfIn(ap) });
    expect(store.claims).toEqual([['shop/t-1', 'ap-1', '', 'ap-1']]);
  });

  it('spans regions instead of redirecting when cluster.spanRegions is on', async () => {
    const [eu, ap] = [fakeNode('eu-1', 'eu-west'), fakeNode('ap-1', 'ap-east')];
    const allocator = new ClusterAllocator(selfIn(eu), new FakePlacementStore(), new FakeNodeList([eu, ap]), regions, nearestLeastLoaded, true);
    expect(await allocator.allocate('shop/t-2', 'ap-east')).toEqual({ kind: 'span', node: selfIn(ap) });
  });

  it('claims over an owner that is no longer a live node, and keeps a live one', async () => {
    const [eu, us] = [fakeNode('eu-1', 'eu-west'), fakeNode('us-1', 'us-west')];
    const store = new FakePlacementStore();
    store.owners.set('shop/t-3', 'gone-node');
    store.owners.set('shop/t-4', 'us-1');
    const allocator = new ClusterAllocator(selfIn(eu), store, new FakeNodeList([eu, us]), regions, nearestLeastLoaded, false);
    expect((await allocator.allocate('shop/t-3', 'eu-west')).node.id).toBe('eu-1');
    expect(store.claims).toEqual([['shop/t-3', 'eu-1', 'gone-node', 'eu-1']]);
    expect(await allocator.allocate('shop/t-4', 'eu-west')).toEqual({ kind: 'redirect', node: selfIn(us) });
    expect(store.claims).toHaveLength(1);
  });

  it('two nodes racing for one room agree on the first claim', async () => {
    const [a, b] = [fakeNode('a', 'eu-west', 10), fakeNode('b', 'eu-west', 0)];
    const store = new FakePlacementStore();
    const nodes = new FakeNodeList([a, b]);
    const results = await Promise.all([
      new ClusterAllocator(selfIn(a), store, nodes, regions, nearestLeastLoaded, false).allocate('shop/race'),
      new ClusterAllocator(selfIn(b), store, nodes, regions, nearestLeastLoaded, false).allocate('shop/race'),
    ]);
    expect(results.map((r) => r.node.id)).toEqual(['b', 'b']);
    expect(results.map((r) => r.kind)).toEqual(['redirect', 'local']);
  });

  it('refuses with NODE_UNAVAILABLE when no node can take the room, and prefers a node whose media processes are free', async () => {
    const [busy, free] = [fakeNode('busy', 'eu-west', 0, { egressFull: true }), fakeNode('free', 'eu-west', 50)];
    const allocator = new ClusterAllocator(selfIn(busy), new FakePlacementStore(), new FakeNodeList([busy, free]), regions, nearestLeastLoaded, false);
    expect((await allocator.allocate('shop/media')).node.id).toBe('free');
    const none = new ClusterAllocator(selfIn(busy), new FakePlacementStore(), new FakeNodeList([fakeNode('d', 'eu-west', 0, { draining: true })]), regions, nearestLeastLoaded, false);
    await expect(none.allocate('shop/none')).rejects.toMatchObject({ code: 'NODE_UNAVAILABLE' });
  });

  it('turns a store failure into NODE_UNAVAILABLE', async () => {
    const broken = { owner: async () => { throw new Error('connection is closed'); }, claim: async () => 'x' };
    const allocator = new ClusterAllocator(selfIn(fakeNode('a', 'eu-west')), broken, new FakeNodeList([fakeNode('a', 'eu-west')]), regions, nearestLeastLoaded, false);
    await expect(allocator.allocate('shop/x')).rejects.toSatisfy((e: unknown) => e instanceof CodedError && e.code === 'NODE_UNAVAILABLE' && /connection is closed/.test(e.message));
  });
});

const peerView = (producers: Array<[string, boolean]>, data: string[] = []): PeerInfo => ({
  id: 'buyer', name: 'Ana', role: 'buyer',
  producers: producers.map(([id, paused]) => ({ id, kind: 'video' as const, paused, appData: {} })),
  dataProducers: data.map((id) => ({ id, label: 'chat', protocol: 'json', appData: {} })),
});

describe('diffPeerView (what a span applies from a remote peer\'s full view)', () => {
  it('offers everything of a new peer', () => {
    const diff = diffPeerView(undefined, peerView([['p1', false]], ['d1']));
    expect(diff).toMatchObject({ ended: [], paused: [] });
    expect(diff.added.map((p) => p.id)).toEqual(['p1']);
    expect(diff.dataAdded.map((d) => d.id)).toEqual(['d1']);
  });

  it('ends what is gone, mirrors pause changes, and offers only what is new', () => {
    const diff = diffPeerView(peerView([['p1', false], ['p2', false]], ['d1']), peerView([['p2', true], ['p3', false]], ['d2']));
    expect(diff.ended.sort()).toEqual(['d1', 'p1']);
    expect(diff.paused).toEqual([{ id: 'p2', paused: true }]);
    expect(diff.added.map((p) => p.id)).toEqual(['p3']);
    expect(diff.dataAdded.map((d) => d.id)).toEqual(['d2']);
  });

  it('is empty for the same view twice (a republished view changes nothing)', () => {
    const view = peerView([['p1', true]], ['d1']);
    expect(diffPeerView(view, view)).toEqual({ ended: [], paused: [], added: [], dataAdded: [] });
  });
});

describe('Catalogue', () => {
  const item = (id: string, peerId: string): Consumable => ({
    kind: 'producer', id, peerId, info: { id, kind: 'audio', paused: false, appData: {} }, locate: async () => { throw new Error('not used'); },
  });

  it('offers every peer what the others publish, and finds and forgets by id', () => {
    const c = new Catalogue();
    c.add(item('a1', 'ana'));
    c.add(item('b1', 'bo'));
    c.add(item('b2', 'bo'));
    expect(c.forPeer('ana').map((i) => i.id)).toEqual(['b1', 'b2']);
    expect(c.ofPeer('bo').map((i) => i.id)).toEqual(['b1', 'b2']);
    expect(c.get('a1')?.peerId).toBe('ana');
    expect(c.remove('b1')).toBe(true);
    expect(c.remove('b1')).toBe(false);
    expect(c.forPeer('ana').map((i) => i.id)).toEqual(['b2']);
  });
});

describe('LocalDirectory (a node alone)', () => {
  const tenant: Tenant = new Tenants({ ...loadConfig({}), tenants: [{ id: 'shop', limits: { rooms: 2, participantsPerRoom: 10 } }] }).get('shop')!;

  it('admits a tenant\'s rooms up to its limit even when the requests arrive together, and frees a place on release', async () => {
    const directory = new LocalDirectory({ id: 'n1', region: 'local', url: 'http://n1' });
    const tries = await Promise.allSettled(['r1', 'r2', 'r3', 'r4'].map((name) => directory.admit(newRoomSettings(tenant, name), tenant.limits.rooms)));
    expect(tries.filter((t) => t.status === 'fulfilled')).toHaveLength(2);
    expect(tries.filter((t) => t.status === 'rejected').map((t) => (t as PromiseRejectedResult).reason.code)).toEqual(['TENANT_LIMIT', 'TENANT_LIMIT']);
    const release = (tries[0] as PromiseFulfilledResult<() => void>).value;
    release();
    release(); // twice is once
    await expect(directory.admit(newRoomSettings(tenant, 'r5'), 2)).resolves.toBeTypeOf('function');
    await expect(directory.admit(newRoomSettings(tenant, 'r6'), 2)).rejects.toMatchObject({ code: 'TENANT_LIMIT' });
  });

  it('knows no room it was not given, keeps every record, and has one endpoint', async () => {
    const directory = new LocalDirectory({ id: 'n1', region: 'local', url: 'http://n1' });
    expect(await directory.settings(roomKey('shop', 'nope'))).toBeUndefined();
    expect(await directory.hosts(roomKey('shop', 'nope'))).toEqual([]);
    expect(await directory.endpoints()).toEqual([{ region: 'local', name: 'local', url: 'http://n1' }]);
    expect(await directory.nodeUrl('n1')).toBe('http://n1');
    expect(await directory.nodeUrl('n2')).toBeUndefined();
  });
});
