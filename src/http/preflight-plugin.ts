import type { FastifyPluginAsync } from 'fastify';
import { applyCors } from '../common/origins.js';

export interface RegionEndpoint {
  region: string;
  name: string;
  url: string;
}

/**
 * What a client measures before a call (Call.preflight), without an API key: the regions it
 * can be placed in, one node of each, and a probe each node answers at once. The answers are
 * tiny and never cached, so the time a probe takes is the round trip.
 */
export const preflightPlugin: FastifyPluginAsync<{ endpoints: () => Promise<RegionEndpoint[]>; stun: string[]; allowedOrigins: readonly string[] }> = async (app, { endpoints, stun, allowedOrigins }) => {
  app.get('/v1/regions', async (req, reply) => {
    applyCors(req, reply, allowedOrigins);
    reply.header('cache-control', 'no-store');
    return { regions: await endpoints(), stun };
  });
  app.get('/v1/ping', async (req, reply) => {
    applyCors(req, reply, allowedOrigins);
    return reply.header('cache-control', 'no-store').header('timing-allow-origin', '*').code(204).send();
  });
};
