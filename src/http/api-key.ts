import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Tenant, Tenants } from '../tenants/tenants.js';
import { errorBody } from '../common/errors.js';
import { isChange, sessionCookie, type ConsoleSessions } from './console-sessions.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A signed link (?tenant=&expires=&sig=) stands in for the API key on this route. */
    signedLink?: boolean;
  }
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

/** The tenant a request's signed link speaks for (routes with signedLink), if it has a valid one. */
export type LinkCheck = (req: FastifyRequest) => string | undefined;

/**
 * onRequest hook of the server API: `Authorization: Bearer <key>` or `x-api-key` names the
 * tenant (or, on a route that allows it, a signed link, or the console's session cookie, whose
 * changes must carry its CSRF token). It runs before the body is read, so a caller without a
 * key learns nothing.
 */
export const requireTenant = (tenants: Tenants, linkTenant?: LinkCheck, sessions?: ConsoleSessions) => async (req: FastifyRequest, reply: FastifyReply) => {
  const key = presentedKey(req);
  const session = !key ? sessions?.get(sessionCookie(req)) : undefined;
  if (session && isChange(req.method) && !sessions!.csrfOk(session, req)) {
    return reply.code(403).send(errorBody('CSRF_REJECTED', 'a console change must carry the session\'s x-csrf-token header'));
  }
  const linked = !key && !session && req.routeOptions.config?.signedLink ? linkTenant?.(req) : undefined;
  const tenant = key ? tenants.byApiKey(key) : session ? sessions!.tenantOf(session) : linked ? tenants.get(linked) : undefined;
  if (!tenant) return reply.code(401).send(errorBody('UNAUTHORIZED', 'a valid API key is required (Authorization: Bearer <key>)'));
  req.tenant = tenant;
};
