import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { DEFAULT_TENANT, type Tenants } from '../tenants/tenants.js';
import { requireTenant } from './api-key.js';
import { errorBody } from '../common/errors.js';

export interface AdminDeps {
  tenants: Tenants;
  drain: () => { rooms: number; peers: number };
}

/**
 * The operator's API, for the node itself rather than a tenant's rooms: the default tenant's
 * keys (auth.apiKeys) only. POST /v1/admin/drain stops new rooms here, lets calls finish, then exits.
 */
/** onRequest hook after requireTenant: only the operator's key (the default tenant's, auth.apiKeys). */
export const operator = async (req: FastifyRequest, reply: FastifyReply) => {
  if (req.tenant.id !== DEFAULT_TENANT) return reply.code(403).send(errorBody('FORBIDDEN', 'this route takes the operator\'s key (auth.apiKeys)'));
};

export const adminPlugin: FastifyPluginAsync<AdminDeps> = async (app, { tenants, drain }) => {
  app.addHook('onRequest', requireTenant(tenants));
  app.addHook('onRequest', operator);
  app.post('/v1/admin/drain', async (_req, reply) => reply.code(202).send({ draining: true, ...drain() }));
};
