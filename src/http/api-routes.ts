/**
 * The server API under /v1, for a tenant's backend (its API key). One route table: the plugin
 * serves it, @fastify/swagger turns its TypeBox schemas into /v1/openapi.json, and docs/api.md
 * is generated from it.
 */
import { agentRoutes } from './agent-routes.js';
import { evidenceRoutes } from './evidence-routes.js';
import { roomRoutes } from './room-routes.js';
import { usageRoutes } from './usage-routes.js';
import { webhookRoutes } from './webhook-routes.js';
import type { Route } from './route.js';

export { COMMON_ERRORS, ErrorBody, type ApiDeps, type Route } from './route.js';

export const apiRoutes: Route[] = [...roomRoutes, ...usageRoutes, ...webhookRoutes, ...evidenceRoutes, ...agentRoutes];
