import { timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { MintRequest, mintToken } from '../auth/tokens.js';
import type { Config } from '../config/schema.js';

function presentedKey(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7);
  const apiKey = req.headers['x-api-key'];
  return typeof apiKey === 'string' ? apiKey : undefined;
}

const sameSecret = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** POST /v1/tokens: the integrator's backend mints access tokens with an API key. */
export const tokenPlugin: FastifyPluginAsync<{ auth: Config['auth'] }> = async (app, { auth }) => {
  app.post<{ Body: MintRequest }>('/v1/tokens', { schema: { body: MintRequest } }, async (req, reply) => {
    const key = presentedKey(req);
    if (!key || !auth.apiKeys.some((k) => sameSecret(k, key))) {
      return reply.code(401).send({ error: { code: 'UNAUTHORIZED', message: 'a valid API key is required (Authorization: Bearer <key>)' } });
    }
    if (!auth.hs256Secret) {
      return reply.code(409).send({ error: { code: 'MINTING_DISABLED', message: 'this node has no auth.hs256Secret to sign tokens with' } });
    }
    return reply.code(201).send(mintToken(auth, req.body));
  });
};
