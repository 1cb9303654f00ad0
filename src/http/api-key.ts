import { errorBody } from '../platform/api-errors.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Tenant, Tenants } from '../tenants/tenants.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The tenant whose API key the request carried (set by requireTenant). */
    tenant: Tenant;
  }
}

function presentedKey(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7);
  const apiKey = req.headers['x-api-key'];
  return typeof apiKey === 'string' ? apiKey : undefined;
}

/**
 * onRequest hook of the server API: `Authorization: Bearer <key>` or `x-api-key` names the
 * tenant. It runs before the body is read, so a caller without a key learns nothing.
 */
export const requireTenant = (tenants: Tenants) => async (req: FastifyRequest, reply: FastifyReply) => {
  const key = presentedKey(req);
  const tenant = key ? tenants.byApiKey(key) : undefined;
  if (!tenant) return reply.code(401).send(errorBody('UNAUTHORIZED', 'a valid API key is required (Authorization: Bearer <key>)'));
  req.tenant = tenant;
};
