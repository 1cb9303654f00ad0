import type { FastifyPluginAsync } from 'fastify';
import { MintRequest, mintToken } from '../auth/tokens.js';
import type { Config } from '../config/schema.js';
import { requireApiKey } from './api-key.js';

/** POST /v1/tokens: the integrator's backend mints access tokens with an API key. */
export const tokenPlugin: FastifyPluginAsync<{ auth: Config['auth'] }> = async (app, { auth }) => {
  // The key is checked on request, before the body is parsed: a caller without one learns nothing of the schema.
  app.post<{ Body: MintRequest }>('/v1/tokens', { schema: { body: MintRequest }, onRequest: requireApiKey(auth) }, async (req, reply) => {
    if (!auth.hs256Secret) {
      return reply.code(409).send({ error: { code: 'MINTING_DISABLED', message: 'this node has no auth.hs256Secret to sign tokens with' } });
    }
    return reply.code(201).send(mintToken(auth, req.body));
  });
};
