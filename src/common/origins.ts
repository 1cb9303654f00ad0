import type { FastifyReply, FastifyRequest } from 'fastify';
/**
 * Whether a browser origin is in server.allowedOrigins: an exact origin, a `scheme://*.domain`
 * wildcard (any subdomain, not the domain itself), or `*` for any.
 */
export function originAllowed(origin: string, allowed: readonly string[]): boolean {
  for (const rule of allowed) {
    if (rule === '*' || rule === origin) return true;
    const wild = /^([a-z][a-z0-9+.-]*):\/\/\*\.(.+)$/i.exec(rule);
    if (!wild) continue;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false;
    }
    const [, scheme, domain] = wild;
    const host = url.port ? `${url.hostname}:${url.port}` : url.hostname;
    if (url.protocol === `${scheme.toLowerCase()}:` && host.endsWith(`.${domain.toLowerCase()}`)) return true;
  }
  return false;
}

/**
 * CORS headers for resources pages on other origins load (the SDK, the region list, the
 * probe): the origin back when allowed (or `*` when any is), and CORP for module scripts.
 */
export function applyCors(req: FastifyRequest, reply: FastifyReply, allowed: readonly string[]) {
  reply.header('cross-origin-resource-policy', 'cross-origin');
  const origin = req.headers.origin;
  if (!origin) return;
  reply.header('vary', 'Origin');
  if (originAllowed(origin, allowed)) reply.header('access-control-allow-origin', allowed.includes('*') ? '*' : origin);
}
