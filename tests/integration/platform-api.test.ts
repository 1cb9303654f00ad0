import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRoutes } from '../../src/http/api-routes.js';
import { errorResponses } from '../../src/http/api-plugin.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { SignalingClient } from '../helpers/signaling-client.js';
import { WeriftPeer } from '../helpers/werift-peer.js';

const KEY_A = 'shop-a-api-key-0123456789abcdef';
const KEY_B = 'shop-b-api-key-0123456789abcdef';

/** The server API a platform's backend uses: two tenants on one node, and the default one. */
describe('the server API, per tenant', () => {
  let t: TestNode;
  const peers: WeriftPeer[] = [];
  const clients: SignalingClient[] = [];

  const api = (key: string, method: string, path: string, body?: unknown) => fetch(`${t.http}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const json = async (res: Response) => ({ status: res.status, body: res.status === 204 ? null : await res.json() });

  beforeAll(async () => {
    t = await startTestNode({
      tenants: [{ id: 'shop-a', apiKeys: [KEY_A] }, { id: 'shop-b', apiKeys: [KEY_B], limits: { rooms: 2, participantsPerRoom: 3 } }],
    });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all(peers.map((p) => p.close()));
    await t.close();
  });

  it('serves every room route for a room named with 128 characters, and answers an over-long path in its own error format', async () => {
    const name = `long-${'y'.repeat(123)}`;
    const created = await json(await api(KEY_A, 'POST', '/v1/rooms', { room: name, participants: [{ identity: 'buyer-long', role: 'buyer' }] }));
    expect(created.status).toBe(201);
    const buyer = await WeriftPeer.connect(t.ws, created.body.tokens[0].token);
    peers.push(buyer);
    await buyer.publish({ video: false, data: false });
    const room = await json(await api(KEY_A, 'GET', `/v1/rooms/${name}`));
    expect(room.status).toBe(200);
    expect(room.body.participants.map((p: { identity: string }) => p.identity)).toEqual(['buyer-long']);
    expect((await json(await api(KEY_A, 'POST', `/v1/rooms/${name}/messages`, { text: 'hi' }))).body.delivered).toBe(1);
    expect((await json(await api(KEY_A, 'POST', `/v1/rooms/${name}/participants/buyer-long/mute`, { kind: 'audio' }))).status).toBe(200);
    expect((await api(KEY_A, 'GET', `/v1/rooms/${name}/recordings`)).status).toBe(200);
    expect((await api(KEY_A, 'DELETE', `/v1/rooms/${name}`)).status).toBe(204);
    // Longer than any room name can be: refused in the API's own format, not the framework's.
    const tooLong = await json(await api(KEY_A, 'GET', `/v1/rooms/${'z'.repeat(600)}`));
    expect(tooLong).toMatchObject({ status: 414, body: { error: { code: 'URI_TOO_LONG' } } });
  });

  it('creates a room ahead of time with metadata, and mints its participants\' tokens', async () => {
    const { status, body } = await json(await api(KEY_A, 'POST', '/v1/rooms', {
      room: 'ticket-42', region: 'local', maxParticipants: 4, emptyTimeoutSeconds: 60,
      metadata: { orderId: 'A-1001', ticketId: 'T-42', buyerLanguage: 'de', sellerLanguage: 'zh' },
      participants: [{ identity: 'buyer-7', name: 'Ana', role: 'buyer' }, { identity: 'seller-3', role: 'seller' }],
    }));
    expect(status).toBe(201);
    expect(body.room).toMatchObject({ room: 'ticket-42', metadata: { orderId: 'A-1001' }, maxParticipants: 4, emptyTimeoutSeconds: 60, participants: [] });
    expect(body.signalingUrl).toBe(`${t.ws}`);
    expect(body.tokens.map((x: { identity: string }) => x.identity)).toEqual(['buyer-7', 'seller-3']);
    // Creating it again is idempotent: 200, the same call.
    const again = await json(await api(KEY_A, 'POST', '/v1/rooms', { room: 'ticket-42' }));
    expect(again.status).toBe(200);
    expect(again.body.room.callId).toBe(body.room.callId);

    // Its participants join with those tokens, and see the room's metadata.
    const seller = await WeriftPeer.connect(t.ws, body.tokens[1].token);
    const buyer = await WeriftPeer.connect(t.ws, body.tokens[0].token);
    peers.push(seller, buyer);
    expect(buyer.join.metadata).toMatchObject({ orderId: 'A-1001', buyerLanguage: 'de' });
    await seller.publish({ data: false });
    await buyer.subscribe({ consumers: 2 });
    await buyer.client.request('reportQuality', { intervalMs: 2000, rttMs: 120, lossRate: 0.02, bitrateBps: 800_000, frozenRatio: 0, concealedRatio: 0.01 });
    const room = await json(await api(KEY_A, 'GET', '/v1/rooms/ticket-42'));
    expect(room.body.participants.map((p: { identity: string; role: string }) => [p.identity, p.role])).toEqual([['seller-3', 'seller'], ['buyer-7', 'buyer']]);
    const sellerView = room.body.participants[0];
    expect(sellerView).toMatchObject({ node: t.node.self.id, region: 'local', state: 'active' });
    expect(sellerView.tracks.map((x: { kind: string }) => x.kind).sort()).toEqual(['audio', 'video']);
    expect(room.body.participants[1].quality.latest).toMatchObject({ rttMs: 120, lossRate: 0.02 });
  });

  it('room names are per tenant, and no tenant sees or touches another\'s rooms, records or usage', async () => {
    const b = await json(await api(KEY_B, 'POST', '/v1/rooms', { room: 'ticket-42', metadata: { orderId: 'B-9' } }));
    expect(b.status).toBe(201);
    const a = await json(await api(KEY_A, 'GET', '/v1/rooms/ticket-42'));
    expect(a.body.metadata.orderId).toBe('A-1001');
    expect(b.body.room.callId).not.toBe(a.body.callId);
    await api(KEY_B, 'POST', '/v1/rooms', { room: 'b-only' });
    for (const [method, path] of [['GET', '/v1/rooms/b-only'], ['DELETE', '/v1/rooms/b-only'], ['POST', '/v1/rooms/b-only/messages'], ['DELETE', '/v1/rooms/b-only/participants/x']] as const) {
      const res = await api(KEY_A, method, path, method === 'POST' ? { text: 'hi' } : undefined);
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    const listA = (await json(await api(KEY_A, 'GET', '/v1/rooms'))).body.rooms.map((r: { room: string }) => r.room);
    expect(listA).toEqual(['ticket-42']);
    const listB = (await json(await api(KEY_B, 'GET', '/v1/rooms'))).body.rooms.map((r: { room: string }) => r.room);
    expect(listB.sort()).toEqual(['b-only', 'ticket-42']);
    // A token from shop-b's key enters shop-b's ticket-42, not shop-a's.
    const token = (await json(await api(KEY_B, 'POST', '/v1/tokens', { room: 'ticket-42', identity: 'b-buyer' }))).body.token;
    const c = await SignalingClient.connect(t.ws);
    clients.push(c);
    const joined = await c.request('join', { token });
    expect(joined.metadata).toEqual({ orderId: 'B-9' });
    expect(joined.peers).toEqual([]);
    await c.request('leave', {});
  });

  it('a tenant\'s limits: rooms at once (TENANT_LIMIT) and participants per room (ROOM_FULL)', async () => {
    const third = await json(await api(KEY_B, 'POST', '/v1/rooms', { room: 'third' }));
    expect(third).toMatchObject({ status: 429, body: { error: { code: 'TENANT_LIMIT' } } });
    const limited = await json(await api(KEY_A, 'POST', '/v1/rooms', { room: 'small', maxParticipants: 1 }));
    const join = async (identity: string) => {
      const c = await SignalingClient.connect(t.ws);
      clients.push(c);
      const token = (await json(await api(KEY_A, 'POST', '/v1/tokens', { room: 'small', identity }))).body.token;
      return c.request('join', { token }).then(() => 'ok', (e) => e.code);
    };
    expect(limited.status).toBe(201);
    expect(await join('first')).toBe('ok');
    expect(await join('second')).toBe('ROOM_FULL');
  });

  it('bad input gets a clear error with a stable code', async () => {
    const cases: Array<[string, string, unknown, number, string]> = [
      ['GET', '/v1/rooms/nowhere', undefined, 404, 'NOT_FOUND'],
      ['POST', '/v1/rooms', { room: 'big', metadata: Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`note${i}`, 'x'.repeat(1000)])) }, 400, 'METADATA_TOO_LARGE'],
      ['POST', '/v1/rooms', '{"room": ', 400, 'BAD_REQUEST'],
      ['POST', '/v1/rooms', { room: 'bad name!' }, 400, 'BAD_REQUEST'],
      ['POST', '/v1/rooms', { room: 'x', surprise: true }, 400, 'BAD_REQUEST'],
      ['POST', '/v1/rooms', { room: 'x', metadata: { nested: { no: 1 } } }, 400, 'BAD_REQUEST'],
      ['GET', '/v1/calls?from=yesterday', undefined, 400, 'BAD_REQUEST'],
      ['GET', '/v1/calls?orderId=A-1001', undefined, 400, 'BAD_REQUEST'],
      ['GET', '/v1/usage', undefined, 400, 'BAD_REQUEST'],
      ['GET', '/v1/calls/no-such-call', undefined, 404, 'NOT_FOUND'],
      ['POST', '/v1/rooms/ticket-42/participants/nobody/mute', {}, 404, 'NOT_FOUND'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const res = await json(await api(KEY_A, method, path, body));
      expect([res.status, res.body?.error?.code], `${method} ${path}`).toEqual([status, code]);
    }
    expect((await api('not-a-key-at-all-0000', 'GET', '/v1/rooms')).status).toBe(401);
    // The operator's API takes the operator's key only.
    expect((await api(KEY_A, 'POST', '/v1/admin/drain')).status).toBe(403);
  });

  it('removes one participant (REMOVED), and ends the call for everyone (ROOM_ENDED); the call record follows', async () => {
    const [seller, buyer] = peers;
    const agentToken = (await json(await api(KEY_A, 'POST', '/v1/tokens', { room: 'ticket-42', identity: 'agent-1', role: 'agent' }))).body.token;
    const agent = await SignalingClient.connect(t.ws);
    clients.push(agent);
    await agent.request('join', { token: agentToken });
    expect((await api(KEY_A, 'DELETE', '/v1/rooms/ticket-42/participants/agent-1')).status).toBe(204);
    expect(await agent.notification('disconnected')).toMatchObject({ code: 'REMOVED', rejoin: false });
    expect((await api(KEY_A, 'POST', '/v1/rooms/ticket-42/messages', { text: 'refund approved', from: 'Returns desk' })).status).toBe(202);
    expect(await buyer.client.notification('systemMessage')).toMatchObject({ text: 'refund approved', from: 'Returns desk' });

    expect((await api(KEY_A, 'DELETE', '/v1/rooms/ticket-42')).status).toBe(204);
    for (const p of [seller, buyer]) expect(await p.client.notification('disconnected')).toMatchObject({ code: 'ROOM_ENDED', rejoin: false });
    expect((await api(KEY_A, 'GET', '/v1/rooms/ticket-42')).status).toBe(404);

    const calls = await json(await api(KEY_A, 'GET', '/v1/calls?metadata.orderId=A-1001'));
    expect(calls.body.calls).toHaveLength(1);
    const record = calls.body.calls[0];
    expect(record).toMatchObject({ tenant: 'shop-a', room: 'ticket-42', metadata: { orderId: 'A-1001' }, nodes: [t.node.self.id], regions: ['local'] });
    expect(record.durationSeconds).toBeGreaterThan(0);
    const byId = new Map(record.participants.map((p: { identity: string }) => [p.identity, p]));
    expect(byId.get('agent-1')).toMatchObject({ role: 'agent', leaveReason: 'REMOVED' });
    expect(byId.get('seller-3')).toMatchObject({ role: 'seller', leaveReason: 'ROOM_ENDED' });
    expect((byId.get('seller-3') as { tracks: unknown[] }).tracks).toHaveLength(2);
    expect(byId.get('buyer-7')).toMatchObject({ quality: { rttMsP50: 120, lossRate: 0.02 } });
    expect(record.timeline.map((e: { type: string }) => e.type)).toEqual(expect.arrayContaining(['room.started', 'participant.joined', 'participant.left', 'message', 'room.finished']));
    expect((await json(await api(KEY_A, 'GET', `/v1/calls/${record.callId}`))).body.callId).toBe(record.callId);
    // Another tenant cannot read it, nor find it by its metadata.
    expect((await api(KEY_B, 'GET', `/v1/calls/${record.callId}`)).status).toBe(404);
    expect((await json(await api(KEY_B, 'GET', '/v1/calls?metadata.orderId=A-1001'))).body.calls).toEqual([]);
  });

  it('serves its OpenAPI document', async () => {
    const doc = await (await fetch(`${t.http}/v1/openapi.json`)).json();
    expect(doc.openapi).toBe('3.1.0');
    // Every route of the table, with its answers and its documented errors.
    for (const r of apiRoutes) {
      const op = doc.paths[r.url.replace(/:(\w+)/g, '{$1}')]?.[r.method.toLowerCase()];
      expect(op, `${r.method} ${r.url}`).toBeDefined();
      expect(Object.keys(op.responses).sort()).toEqual([...new Set([...Object.keys(r.responses), ...Object.keys(errorResponses(r))])].sort());
    }
    expect(Object.keys(doc.paths)).not.toContain('/v1/openapi.json');
  });

  it('pages through rooms', async () => {
    for (let i = 0; i < 5; i++) await api(KEY_A, 'POST', '/v1/rooms', { room: `page-${i}` });
    const first = await json(await api(KEY_A, 'GET', '/v1/rooms?limit=2'));
    const second = await json(await api(KEY_A, 'GET', `/v1/rooms?limit=2&cursor=${first.body.nextCursor}`));
    expect(first.body.rooms.map((r: { room: string }) => r.room)).toEqual(['page-4', 'page-3']);
    expect(second.body.rooms.map((r: { room: string }) => r.room)).toEqual(['page-2', 'page-1']);
  });
});

describe('a node that cannot mint tokens', () => {
  it('refuses a room with participants before creating it (MINTING_DISABLED), and creates one without', async () => {
    // A platform that signs its own tokens: the node holds only its public key.
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const t = await startTestNode({ auth: { hs256Secret: '', publicKeys: [{ alg: 'ES256', pem: publicKey.export({ type: 'spki', format: 'pem' }).toString() }] } });
    try {
      const post = (body: object) => fetch(`${t.http}/v1/rooms`, { method: 'POST', headers: { authorization: `Bearer ${t.config.auth.apiKeys[0]}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const refused = await post({ room: 'r-1', participants: [{ identity: 'buyer-1' }] });
      expect(refused.status).toBe(409);
      expect((await refused.json()).error.code).toBe('MINTING_DISABLED');
      const list = await fetch(`${t.http}/v1/rooms`, { headers: { authorization: `Bearer ${t.config.auth.apiKeys[0]}` } });
      expect((await list.json()).total).toBe(0);
      expect((await post({ room: 'r-1' })).status).toBe(201);
    } finally {
      await t.close();
    }
  });
});
