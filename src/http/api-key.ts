import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
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

/** preHandler for the integrator-facing API: `Authorization: Bearer <key>` or `x-api-key`. */
export const requireApiKey = (auth: Config['auth']) => async (req: FastifyRequest, reply: FastifyReply) => {
  const key = presentedKey(req);
  if (!key || !auth.apiKeys.some((k) => sameSecret(k, key))) {
    return reply.code(401).send({ error: { code: 'UNAUTHORIZED', message: 'a valid API key is required (Authorization: Bearer <key>)' } });
  }
};
