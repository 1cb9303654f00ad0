import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { startCall, waitFor, WeriftPeer } from '../helpers/werift-peer.js';
import { roomKey } from '../../src/rooms/room-key.js';

describe('a media worker dies mid-call', () => {
  let t: TestNode;
  const peers: WeriftPeer[] = [];

  beforeAll(async () => {
    t = await startTestNode({ media: { numWorkers: 2 } });
  });
  afterAll(async () => {
    await Promise.all(peers.map((p) => p.close()));
    await t.close();
  });

  const call = async (room: string) => {
    const { seller: a, buyer: b } = await startCall(t.ws, room, (identity, role) => t.token({ room, identity, role }));
    peers.push(a, b);
    return { a, b };
  };

  it('replaces the worker, tells only the affected peers to rejoin, and keeps other rooms flowing', async () => {
    const doomed = await call('doomed');
    const healthy = await call('healthy');
    const slots = t.node.pool.slots;
    const doomedSlot = t.node.rooms.get(roomKey('default', 'doomed'))!.media.routers[0].slot;
    expect(t.node.rooms.get(roomKey('default', 'healthy'))!.media.routers[0].slot).not.toBe(doomedSlot); // least-loaded placement
    const oldPid = doomedSlot.worker.pid;

    const replaced = new Promise((r) => t.node.pool.once('workerReplaced', r));
    process.kill(oldPid, 'SIGKILL');

    for (const p of [doomed.a, doomed.b]) {
      expect(await p.client.notification('disconnected')).toMatchObject({ code: 'MEDIA_WORKER_DIED', rejoin: true });
    }
    expect(healthy.a.client.notificationsOf('disconnected')).toEqual([]);
    const before = healthy.b.received.video.packets;
    await waitFor(() => healthy.b.received.video.packets > before + 20, 'media in the healthy room');

    await replaced;
    expect(slots).toHaveLength(2);
    expect(doomedSlot.alive).toBe(true);
    expect(doomedSlot.worker.pid).not.toBe(oldPid);
    const ready = await fetch(`${t.http}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ workers: { alive: 2, total: 2 } });

    // A disconnected session joins again on the same socket; fresh WebRTC connections get media again.
    const rejoin = await doomed.a.client.request('join', { token: t.token({ room: 'doomed', identity: 'doomed-seller', role: 'seller' }) });
    expect(rejoin.roomId).toBe('doomed');
    const again = await WeriftPeer.connect(t.ws, t.token({ room: 'doomed', identity: 'doomed-buyer-2' }));
    const back = await WeriftPeer.connect(t.ws, t.token({ room: 'doomed', identity: 'doomed-seller-2', role: 'seller' }));
    peers.push(again, back);
    await back.publish({ data: false });
    await again.subscribe({ consumers: 2 });
    await waitFor(() => again.received.video.packets > 10, 'media after the rejoin');
    const metrics = await (await fetch(`${t.http}/metrics`)).text();
    expect(metrics).toMatch(/sfu_worker_deaths_total 1/);
  });
});
