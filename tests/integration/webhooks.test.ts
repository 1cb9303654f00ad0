import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ClusterNode } from '../helpers/cluster-node.js';
import { startTestNode } from '../helpers/node.js';
import { newWebhookSecret, WebhookReceiver, type Received } from '../helpers/webhook-receiver.js';
import { waitFor, WeriftPeer } from '../helpers/werift-peer.js';
import { sleep } from '../helpers/time.js';

const KEY = 'shop-webhooks-api-key-0123456789';

/** The events of one room arrive in the order they happened. */
function expectInOrder(events: Received[], room: string) {
  const types = events.map((e) => e.type);
  expect(types[0], `${room}: first`).toBe('room.started');
  expect(types.slice(-2), `${room}: last`).toEqual(['room.finished', 'call.record']);
  const at = (type: string, identity?: string) => events.findIndex((e) => e.type === type && (!identity || e.data.identity === identity));
  for (const identity of new Set(events.filter((e) => e.data.identity).map((e) => e.data.identity as string))) {
    expect(at('participant.joined', identity), `${room}: ${identity} joined before it left`).toBeLessThan(at('participant.left', identity));
  }
  for (let i = 1; i < events.length; i++) expect(Date.parse(events[i].timestamp)).toBeGreaterThanOrEqual(Date.parse(events[i - 1].timestamp));
}

/** A short call in `room`: a seller publishes, a buyer receives, both leave. */
async function shortCall(node: { http: string; ws: string }, room: string) {
  const api = (p: string, body: unknown) => fetch(`${node.http}${p}`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const res = await api('/v1/rooms', {
    room, emptyTimeoutSeconds: 1, metadata: { orderId: `O-${room}` },
    participants: [{ identity: `${room}-seller`, role: 'seller' }, { identity: `${room}-buyer`, role: 'buyer' }],
  });
  const created = await res.json();
  if (res.status !== 201) throw new Error(`POST /v1/rooms: ${res.status} ${JSON.stringify(created)}`);
  const seller = await WeriftPeer.connect(node.ws, created.tokens[0].token);
  const buyer = await WeriftPeer.connect(node.ws, created.tokens[1].token);
  await seller.publish({ data: false });
  await buyer.subscribe({ consumers: 2 });
  await waitFor(() => buyer.received.video.packets > 10, `media in ${room}`);
  await buyer.client.request('leave', {});
  await seller.client.request('leave', {});
  await Promise.all([seller.close(), buyer.close()]);
}

describe('webhooks: signed, at least once, in order per room, through restarts', () => {
  const receivers: WebhookReceiver[] = [];
  afterAll(async () => {
    for (const r of receivers) await r.stop();
  });

  it('a receiver down and a node killed mid-retries lose nothing; a receiver that stops and starts again gets the rest', async () => {
    const secret = newWebhookSecret();
    const receiver = new WebhookReceiver(secret, await WebhookReceiver.reservePort());
    receivers.push(receiver);
    const store = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sfu-webhooks-')), 'sfu.sqlite');
    const env = {
      STORE_PATH: store,
      TENANTS: JSON.stringify([{ id: 'shop', apiKeys: [KEY], webhook: { url: receiver.url, secret } }]),
      WEBHOOK_RETRY_DELAYS_MS: JSON.stringify([200, 300, 500, 800, 1000, 1000, 2000, 2000, 3000, 5000, 5000]),
      WEBHOOK_TIMEOUT_MS: '1000',
    };
    let node = await ClusterNode.start('webhooks-1', 'local', '', env);
    const retried = async () => Number(/sfu_webhook_deliveries_total\{tenant="shop",outcome="retried"\} (\d+)/.exec(await (await fetch(`${node.url}/metrics`)).text())?.[1] ?? 0);
    try {
      // The receiver is down: two calls' events wait in the outbox, and are retried.
      await shortCall({ http: node.url, ws: node.ws }, 'room-a');
      await shortCall({ http: node.url, ws: node.ws }, 'room-b');
      // Both calls have ended (their records are in the outbox too), and deliveries are being retried.
      const rooms = async () => (await (await fetch(`${node.url}/v1/rooms`, { headers: { authorization: `Bearer ${KEY}` } })).json()).total;
      await waitFor(async () => (await rooms()) === 0 && (await retried()) >= 2, 'the calls over, and retries while the receiver is down');
      await node.stop('SIGKILL');

      // Back up on the same store, with the receiver up: everything arrives.
      await receiver.start();
      node = await ClusterNode.start('webhooks-1', 'local', '', env);
      await waitFor(() => receiver.ofRoom('room-a').some((e) => e.type === 'call.record') && receiver.ofRoom('room-b').some((e) => e.type === 'call.record'), 'both calls delivered', 30_000);

      // The receiver goes away for a while and comes back: a third call's events wait, then arrive.
      await receiver.stop();
      await shortCall({ http: node.url, ws: node.ws }, 'room-c');
      await sleep(1500);
      await receiver.start();
      await waitFor(() => receiver.ofRoom('room-c').some((e) => e.type === 'call.record'), 'the third call delivered', 30_000);

      expect(receiver.badSignatures).toBe(0);
      expect(receiver.invalid).toEqual([]);
      for (const room of ['room-a', 'room-b', 'room-c']) {
        const events = receiver.ofRoom(room);
        expectInOrder(events, room);
        const types = new Set(events.map((e) => e.type));
        for (const t of ['room.started', 'participant.joined', 'track.published', 'track.unpublished', 'participant.left', 'room.finished', 'call.record']) expect(types, `${room} ${t}`).toContain(t);
        const record = events.find((e) => e.type === 'call.record')!.data;
        expect(record).toMatchObject({ tenant: 'shop', room, metadata: { orderId: `O-${room}` } });
        expect(record.participants.map((p: { identity: string }) => p.identity).sort()).toEqual([`${room}-buyer`, `${room}-seller`]);
      }
    } finally {
      await node.stop();
    }
  }, 120_000);

  it('a receiver that answers 500, or hangs, is retried within bounded timeouts, then listed as failed and counted', async () => {
    const secret = newWebhookSecret();
    const receiver = new WebhookReceiver(secret);
    receivers.push(receiver);
    await receiver.start();
    receiver.mode = 'fail';
    const t = await startTestNode({
      tenants: [{ id: 'shop', apiKeys: [KEY], webhook: { url: receiver.url, secret } }],
      webhooks: { retryDelaysMs: [50, 50], timeoutMs: 300, concurrency: 4 },
    });
    try {
      const failures = async () => (await (await fetch(`${t.http}/v1/webhooks/failures?limit=100`, { headers: { authorization: `Bearer ${KEY}` } })).json()).failures;
      await fetch(`${t.http}/v1/rooms`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ room: 'failing' }) });
      await waitFor(async () => (await failures()).length >= 1, 'room.started failed for good');
      const [failed] = await failures();
      expect(failed).toMatchObject({ event: { type: 'room.started' }, attempts: 3, lastError: 'HTTP 500' });
      receiver.mode = 'hang';
      await fetch(`${t.http}/v1/rooms/failing/messages`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ text: 'x' }) });
      await fetch(`${t.http}/v1/rooms`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ room: 'hanging' }) });
      await waitFor(async () => (await failures()).some((f: { lastError: string }) => f.lastError === 'no answer within 300 ms'), 'the hanging delivery failed for good', 10_000);
      const metrics = await (await fetch(`${t.http}/metrics`)).text();
      expect(Number(/sfu_webhook_deliveries_total\{tenant="shop",outcome="failed"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2);
      // Other tenants see none of this.
      const other = await fetch(`${t.http}/v1/webhooks/failures`, { headers: { authorization: `Bearer ${t.config.auth.apiKeys[0]}` } });
      expect((await other.json()).failures).toEqual([]);
    } finally {
      await t.close();
    }
  });

  it('quality.degraded when a participant\'s receivers report poor quality for more than 10 s', async () => {
    const secret = newWebhookSecret();
    const receiver = new WebhookReceiver(secret);
    receivers.push(receiver);
    await receiver.start();
    const t = await startTestNode({ tenants: [{ id: 'shop', apiKeys: [KEY], webhook: { url: receiver.url, secret } }] });
    try {
      const token = (await (await fetch(`${t.http}/v1/tokens`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ room: 'bad-link', identity: 'far-buyer' }) })).json()).token;
      const buyer = await WeriftPeer.connect(t.ws, token);
      try {
        for (let i = 0; i < 13; i++) {
          await sleep(1000);
          await buyer.client.request('reportQuality', { intervalMs: 1000, rttMs: 450, lossRate: 0.08, frozenRatio: 0.3, concealedRatio: 0.1 });
        }
        await waitFor(() => receiver.ofRoom('bad-link').some((e) => e.type === 'quality.degraded'), 'quality.degraded');
        const degraded = receiver.ofRoom('bad-link').find((e) => e.type === 'quality.degraded')!;
        expect(degraded.data).toMatchObject({ identity: 'far-buyer', quality: { frozenRatio: 0.3 } });
        expect(degraded.data.summary.poorSeconds).toBeGreaterThanOrEqual(10);
        expect(receiver.invalid).toEqual([]);
      } finally {
        await buyer.close();
      }
    } finally {
      await t.close();
    }
  }, 60_000);
});
