import type { FastifyPluginAsync } from 'fastify';
import { buildSdkBundle } from './sdk-bundle.js';

/** The browser SDK at /sdk/sfu-client.js, on every node, whether or not the demo is on. */
export const sdkPlugin: FastifyPluginAsync = async (app) => {
  // Bundled once at start, from the same sources the node runs, so it is never stale.
  const sdk = await buildSdkBundle();
  app.get('/sdk/sfu-client.js', async (_req, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(sdk));
};
