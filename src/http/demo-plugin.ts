import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { MintRequest, mintToken } from '../auth/tokens.js';
import type { Config } from '../config/schema.js';
import { errorBody } from '../common/errors.js';
import { Type, type Static } from '@sinclair/typebox';
import type { RoomService } from '../platform/room-service.js';
import { DEFAULT_TENANT, type Tenants } from '../tenants/tenants.js';

const DEMO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../demo');
const DEMO_TOKEN_TTL_SECONDS = 2 * 3600;

const devTokensEnabled = (config: Config) =>
  config.demo.devTokens === 'on' || (config.demo.devTokens === 'auto' && config.env === 'development');

const DemoTokenRequest = Type.Object({
  ...MintRequest.properties,
  captions: Type.Optional(Type.Boolean({ description: 'Create the room with captions (if it does not exist yet), as POST /v1/rooms would.' })),
}, { additionalProperties: false });
type DemoTokenRequest = Static<typeof DemoTokenRequest>;

/**
 * The seller/buyer demo at /demo (it loads the SDK from /sdk/v1/sfu-client.js), and (development
 * only) POST /demo/token, which gives anyone a short-lived token for the room they ask for, and
 * creates the room with captions if asked (the default tenant captions rooms created so).
 */
export const demoPlugin: FastifyPluginAsync<{ config: Config; service: RoomService; tenants: Tenants }> = async (app, { config, service, tenants }) => {
  const devTokens = devTokensEnabled(config);
  app.get('/demo/config.json', async () => ({ devTokens }));
  app.get('/demo', async (_req, reply) => reply.redirect('/demo/'));
  await app.register(fastifyStatic, { root: DEMO_DIR, prefix: '/demo/', index: 'index.html' });

  if (devTokens) {
    app.post<{ Body: DemoTokenRequest }>('/demo/token', { schema: { body: DemoTokenRequest } }, async (req, reply) => {
      const { role, captions, ...mint } = req.body;
      if (role && role !== 'buyer' && role !== 'seller') {
        return reply.code(400).send(errorBody('BAD_REQUEST', 'the demo hands out buyer and seller tokens only'));
      }
      if (captions) await service.create(tenants.get(DEFAULT_TENANT)!, { room: mint.room, captions: true, ...(mint.region ? { region: mint.region } : {}) });
      return reply.code(201).send(mintToken(config.auth, { ...mint, role, grants: undefined, ttlSeconds: DEMO_TOKEN_TTL_SECONDS }));
    });
  }
};
