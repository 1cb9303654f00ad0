import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { applyCors } from '../common/origins.js';
import { buildSdkBundle, SDK_VERSION } from './sdk-bundle.js';

const FILE = 'sfu-client.js';

/**
 * The browser SDK on every node, whether or not the demo is on, for pages on other origins:
 * - /sdk/<version>/sfu-client.js: this exact build, immutable (cache it for a year);
 * - /sdk/v1/sfu-client.js: the current SDK for protocol v1, revalidated with its ETag;
 * - /sdk/sfu-client.js: the same, as older pages load it.
 * Each with its source map (.map), and CORS for the origins in server.allowedOrigins.
 */
export const sdkPlugin: FastifyPluginAsync<{ allowedOrigins: readonly string[] }> = async (app, { allowedOrigins }) => {
  // Bundled once at start, from the same sources the node runs, so it is never stale.
  const { code, map } = await buildSdkBundle(FILE);
  const etag = `"${SDK_VERSION}-${createHash('sha256').update(code).digest('base64url').slice(0, 16)}"`;

  // Compressed once, too: a quarter of the bytes is a few round trips less for a buyer far away.
  const gzipped = new Map([[code, gzipSync(code, { level: 9 })], [map, gzipSync(map, { level: 9 })]]);
  const acceptsGzip = (req: FastifyRequest) => /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));

  const cors = (req: FastifyRequest, reply: FastifyReply) => applyCors(req, reply, allowedOrigins);
  const serve = (body: string, type: string, cache: string) => async (req: FastifyRequest, reply: FastifyReply) => {
    cors(req, reply);
    const vary = reply.getHeader('vary');
    reply.header('cache-control', cache).header('etag', etag).header('vary', vary ? `${vary}, Accept-Encoding` : 'Accept-Encoding');
    if (req.headers['if-none-match'] === etag) return reply.code(304).send();
    if (acceptsGzip(req)) return reply.type(type).header('content-encoding', 'gzip').send(gzipped.get(body));
    return reply.type(type).send(body);
  };
  for (const [dir, cache] of [[SDK_VERSION, 'public, max-age=31536000, immutable'], ['v1', 'public, max-age=300, must-revalidate'], ['', 'no-cache']] as const) {
    const base = dir ? `/sdk/${dir}/${FILE}` : `/sdk/${FILE}`;
    // The module names its map relative to itself, so one map serves every path.
    app.get(base, serve(code, 'text/javascript; charset=utf-8', cache));
    app.get(`${base}.map`, serve(map, 'application/json; charset=utf-8', cache));
  }
  // A cross-origin page may ask first (a bundler's loader, or a module with credentials).
  app.options('/sdk/*', async (req, reply) => {
    cors(req, reply);
    return reply.code(204).header('access-control-allow-methods', 'GET, OPTIONS').header('access-control-max-age', '86400').send();
  });
};
