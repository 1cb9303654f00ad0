import swagger from '@fastify/swagger';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest, RouteHandlerMethod } from 'fastify';
import type { ConsoleSessions } from './console-sessions.js';
import fp from 'fastify-plugin';
import type { Tenants } from '../tenants/tenants.js';
import { requireTenant } from './api-key.js';
import { apiRoutes, COMMON_ERRORS, ErrorBody, type ApiDeps, type Route } from './api-routes.js';
import { CODES } from '../common/errors.js';

export const OPENAPI_PATH = '/v1/openapi.json';

/** The OpenAPI document of the server API: registered before the routes, so it sees them all. */
export const openApiPlugin = fp(async (app: FastifyInstance) => {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'crossborder-sfu server API', version: '1', description: 'Rooms, participants, call records, usage and webhooks, for a tenant\'s backend.' },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'The tenant\'s API key, as Authorization: Bearer <key>.' },
          apiKeyHeader: { type: 'apiKey', in: 'header', name: 'x-api-key', description: 'The same key in an x-api-key header instead.' },
        },
      },
      security: [{ apiKey: [] }, { apiKeyHeader: [] }],
    },
    // What a route table cannot say in JSON Schema: GET /v1/calls takes any number of metadata.<key> filters.
    transformObject: (documentObject) => {
      const spec = (documentObject as { openapiObject: { paths?: Record<string, Record<string, { parameters?: unknown[] }>> } }).openapiObject;
      spec.paths?.['/v1/calls']?.get?.parameters?.push({
        name: 'metadata.<key>', in: 'query', required: false, schema: { type: 'string', maxLength: 1024 },
        description: 'Calls whose metadata has <key> equal to this value (compared as strings), for example metadata.orderId=A-1001; any number of them, all must match.',
      });
      return spec;
    },
  });
  app.get(OPENAPI_PATH, { schema: { hide: true } }, async () => app.swagger());
});

/** Status → error body, for the errors a route documents. */
export const errorResponses = (r: Route) =>
  Object.fromEntries([...COMMON_ERRORS, ...(r.errors ?? [])].map((code) => [CODES[code].status, ErrorBody]));

/** Registers the route table; `deps` is what the handlers work with. */
function registerApiRoutes(app: FastifyInstance, deps: ApiDeps) {
  for (const r of apiRoutes) {
    const handler: RouteHandlerMethod = async (req, reply) => r.handler(deps, req as never, reply);
    app.route({
      method: r.method,
      url: r.url,
      config: { signedLink: r.signedLink ?? false },
      schema: {
        summary: r.summary,
        response: { ...r.responses, ...errorResponses(r) },
        ...(r.body ? { body: r.body } : {}),
        ...(r.querystring ? { querystring: r.querystring } : {}),
        ...(r.params ? { params: r.params } : {}),
      },
      handler,
    });
  }
}

/** The server API (/v1, API key → tenant). */
export const apiPlugin: FastifyPluginAsync<{ deps: ApiDeps; tenants: Tenants; sessions?: ConsoleSessions }> = async (app, { deps, tenants, sessions }) => {
  const linkTenant = (req: FastifyRequest) => deps.evidence.linkTenant((req.params as { fileId?: string }).fileId ?? '', req.query as Record<string, unknown>);
  app.addHook('onRequest', requireTenant(tenants, linkTenant, sessions));
  registerApiRoutes(app, deps);
};
