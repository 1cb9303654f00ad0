import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { MintRequest, mintToken } from '../auth/tokens.js';
import type { Config } from '../config/schema.js';
import { errorBody } from '../common/errors.js';

const DEMO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../demo');
const DEMO_TOKEN_TTL_SECONDS = 2 * 3600;

const devTokensEnabled = (config: Config) =>
  config.demo.devTokens === 'on' || (config.demo.devTokens === 'auto' && config.env === 'development');

/**
 * The seller/buyer demo at /demo (it loads the SDK from /sdk/v1/sfu-client.js), and (development
 * only) POST /demo/token, which gives anyone a short-lived token for the room they ask for.
 */
export const demoPlugin: FastifyPluginAsync<{ config: Config }> = async (app, { config }) => {
  const devTokens = devTokensEnabled(config);
  app.get('/demo/config.json', async () => ({ devTokens }));
  app.get('/demo', async (_req, reply) => reply.redirect('/demo/'));
  await app.register(fastifyStatic, { root: DEMO_DIR, prefix: '/demo/', index: 'index.html' });

  if (devTokens) {
    app.post<{ Body: MintRequest }>('/demo/token', { schema: { body: MintRequest } }, async (req, reply) => {
      const { role } = req.body;
      if (role && role !== 'buyer' && role !== 'seller') {
        return reply.code(400).send(errorBody('BAD_REQUEST', 'the demo hands out buyer and seller tokens only'));
      }
      return reply.code(201).send(mintToken(config.auth, { ...req.body, grants: undefined, ttlSeconds: DEMO_TOKEN_TTL_SECONDS }));
    });
  }
};
