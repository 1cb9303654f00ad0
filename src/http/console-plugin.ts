import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { RateLimiter } from '../common/rate-limiter.js';
import { errorBody } from '../common/errors.js';
import type { Tenants } from '../tenants/tenants.js';
import { isChange, SESSION_COOKIE, sessionCookie, type ConsoleSession, type ConsoleSessions } from './console-sessions.js';

const CONSOLE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../console');
/** uPlot's own files, served by the node: the console works offline, and no CDN sees who uses it. */
const UPLOT_DIR = path.dirname(createRequire(import.meta.url).resolve('uplot'));

/** No inline script or style, nothing from elsewhere; files and blobs only from this node. */
const CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' blob:", "media-src 'self' blob:",
  "connect-src 'self'", "font-src 'self'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ');

const SignIn = Type.Object({ key: Type.String({ minLength: 1, maxLength: 512 }) }, { additionalProperties: false });
const View = Type.Object({ tenant: Type.String({ minLength: 1, maxLength: 32 }) }, { additionalProperties: false });

export interface ConsoleDeps {
  tenants: Tenants;
  sessions: ConsoleSessions;
  signInsPerIpPerMinute: number;
}

/**
 * The console at /console/: static pages that use the server API like a platform's backend,
 * with a session cookie (HttpOnly, SameSite=Strict) in place of the key, and a CSRF token on
 * every change. /console/session signs in and out, and lets the operator pick a tenant.
 */
export const consolePlugin: FastifyPluginAsync<ConsoleDeps> = async (app, { tenants, sessions, signInsPerIpPerMinute }) => {
  const signIns = new RateLimiter(signInsPerIpPerMinute);

  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('content-security-policy', CSP);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('cross-origin-opener-policy', 'same-origin');
    reply.header('cross-origin-resource-policy', 'same-origin');
    return payload;
  });

  const describe = (s: ConsoleSession) => ({
    tenant: s.tenant, operator: s.operator, viewing: s.viewing, csrf: s.csrf, expiresAt: new Date(s.expiresAt).toISOString(),
    ...(s.operator ? { tenants: tenants.all().map((t) => t.id) } : {}),
  });
  const cookie = (req: FastifyRequest, value: string, maxAgeSeconds: number) =>
    `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${req.protocol === 'https' ? '; Secure' : ''}`;
  /** The request's session, with its CSRF token checked on a change; otherwise the answer is sent. */
  const session = (req: FastifyRequest, reply: FastifyReply): ConsoleSession | undefined => {
    const s = sessions.get(sessionCookie(req));
    if (!s) {
      void reply.code(401).send(errorBody('UNAUTHORIZED', 'not signed in'));
      return undefined;
    }
    if (isChange(req.method) && !sessions.csrfOk(s, req)) {
      void reply.code(403).send(errorBody('CSRF_REJECTED', 'a console change must carry the session\'s x-csrf-token header'));
      return undefined;
    }
    return s;
  };

  app.post<{ Body: Static<typeof SignIn> }>('/console/session', { schema: { body: SignIn } }, async (req, reply) => {
    if (!signIns.take(req.ip)) return reply.code(429).send(errorBody('RATE_LIMITED', 'too many sign-in attempts from this address; wait a minute'));
    const tenant = tenants.byApiKey(req.body.key);
    if (!tenant) return reply.code(401).send(errorBody('UNAUTHORIZED', 'no tenant has that API key'));
    const s = sessions.create(tenant);
    return reply.code(201).header('set-cookie', cookie(req, s.id, Math.floor(sessions.ttlMs / 1000))).header('cache-control', 'no-store').send(describe(s));
  });
  app.get('/console/session', async (req, reply) => {
    const s = session(req, reply);
    if (s) return reply.header('cache-control', 'no-store').send(describe(s));
  });
  app.delete('/console/session', async (req, reply) => {
    const s = session(req, reply);
    if (!s) return;
    sessions.end(s.id);
    return reply.header('set-cookie', cookie(req, '', 0)).code(204).send();
  });
  app.post<{ Body: Static<typeof View> }>('/console/session/tenant', { schema: { body: View } }, async (req, reply) => {
    const s = session(req, reply);
    if (!s) return;
    if (!s.operator && req.body.tenant !== s.tenant) return reply.code(403).send(errorBody('FORBIDDEN', 'only the operator may look at another tenant'));
    if (!tenants.get(req.body.tenant)) return reply.code(404).send(errorBody('NOT_FOUND', `no tenant ${req.body.tenant}`));
    s.viewing = req.body.tenant;
    return describe(s);
  });

  app.get('/console', async (_req, reply) => reply.redirect('/console/'));
  await app.register(fastifyStatic, { root: CONSOLE_DIR, prefix: '/console/', index: 'index.html', decorateReply: false });
  await app.register(fastifyStatic, { root: UPLOT_DIR, prefix: '/console/vendor/', allowedPath: (p) => /^\/uPlot\.(esm\.js|min\.css)$/.test(p), decorateReply: false });
};
