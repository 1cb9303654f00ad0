import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/node.js';

const OPERATOR = 'dev-only-api-key-change-me';
const SHOP = 'shop-key-exposure-0123456789abcdef';

/** What an outsider, a tenant and the operator can read and ask of a node. */
describe('what the node exposes', () => {
  let locked: TestNode;
  let open: TestNode;
  beforeAll(async () => {
    locked = await startTestNode({ tenants: [{ id: 'shop', apiKeys: [SHOP] }], metrics: { requireKey: 'on', tenantLabels: false } });
    open = await startTestNode({ tenants: [{ id: 'shop', apiKeys: [SHOP] }] });
  });
  afterAll(async () => {
    await locked.close();
    await open.close();
  });

  const get = (t: TestNode, path: string, key?: string) => fetch(`${t.http}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });

  it('/metrics takes the operator\'s key when metrics.requireKey is on, and shows no tenant when metrics.tenantLabels is off', async () => {
    expect((await get(locked, '/metrics')).status).toBe(401);
    const tenant = await get(locked, '/metrics', SHOP);
    expect(tenant.status).toBe(403);
    expect(await tenant.json()).toMatchObject({ error: { code: 'FORBIDDEN' } });
    const operator = await get(locked, '/metrics', OPERATOR);
    expect(operator.status).toBe(200);
    const text = await operator.text();
    expect(text).toContain('sfu_rooms');
    expect(text).not.toMatch(/tenant="/);
    // /healthz and /readyz stay open for the orchestrator's probes.
    expect((await get(locked, '/readyz')).status).toBe(200);
    // With the defaults (development), /metrics is open and labels usage by tenant.
    expect((await get(open, '/metrics')).status).toBe(200);
  });

  it('refuses grants it does not know, when minting and when creating a room', async () => {
    const post = (path: string, body: object) => fetch(`${open.http}${path}`, { method: 'POST', headers: { authorization: `Bearer ${SHOP}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const minted = await post('/v1/tokens', { room: 'r', identity: 'x', grants: { root: true } });
    expect(minted.status).toBe(400);
    expect(await minted.json()).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    expect((await post('/v1/rooms', { room: 'r', participants: [{ identity: 'x', grants: { root: true } }] })).status).toBe(400);
    expect((await post('/v1/tokens', { room: 'r', identity: 'x', grants: { admin: true } })).status).toBe(201);
  });
});

describe('the OpenAPI document', () => {
  let t: TestNode;
  beforeAll(async () => {
    t = await startTestNode();
  });
  afterAll(() => t.close());

  it('names both ways to send the key and the metadata.<key> filter of GET /v1/calls', async () => {
    const doc = await (await fetch(`${t.http}/v1/openapi.json`)).json();
    expect(doc.components.securitySchemes).toMatchObject({ apiKey: { scheme: 'bearer' }, apiKeyHeader: { type: 'apiKey', in: 'header', name: 'x-api-key' } });
    expect(doc.paths['/v1/calls'].get.parameters.map((p: { name: string }) => p.name)).toContain('metadata.<key>');
    // The limits a platform engineer needs are in it: the room name's pattern and length, metadata's sizes, participants per create.
    const create = doc.paths['/v1/rooms'].post.requestBody.content['application/json'].schema;
    expect(create.properties.room).toMatchObject({ maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$' });
    expect(create.properties.participants.maxItems).toBe(20);
  });
});
