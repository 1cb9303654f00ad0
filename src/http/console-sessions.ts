import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { DEFAULT_TENANT, type Tenant, type Tenants } from '../tenants/tenants.js';

export const SESSION_COOKIE = 'sfu_console';

/** A console sign-in: whose key it was, the tenant it looks at, and the token its changes must carry. */
export interface ConsoleSession {
  id: string;
  /** The tenant whose key signed in. */
  tenant: string;
  /** Signed in with the operator's key (the default tenant's): may look at any tenant. */
  operator: boolean;
  /** The tenant it looks at now (its own, or for the operator any). */
  viewing: string;
  csrf: string;
  expiresAt: number;
}

const token = () => randomBytes(32).toString('base64url');
const same = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** The session id in a request's Cookie header, if any. */
export function sessionCookie(req: FastifyRequest): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === SESSION_COOKIE) return value.join('=');
  }
  return undefined;
}

/**
 * The console's sessions, in this node's memory: short-lived (they end at expiresAt, not when
 * used), at most `max` at once (the oldest gives way), so sign-ins cannot grow it without bound.
 * A restart signs everyone out, which a console can live with.
 */
export class ConsoleSessions {
  private readonly byId = new Map<string, ConsoleSession>();

  constructor(private readonly tenants: Tenants, readonly ttlMs: number, private readonly max: number) {}

  create(tenant: Tenant, now = Date.now()): ConsoleSession {
    for (const [id, s] of this.byId) if (s.expiresAt <= now) this.byId.delete(id);
    while (this.byId.size >= this.max) this.byId.delete(this.byId.keys().next().value!);
    const session: ConsoleSession = {
      id: token(), tenant: tenant.id, operator: tenant.id === DEFAULT_TENANT, viewing: tenant.id, csrf: token(), expiresAt: now + this.ttlMs,
    };
    this.byId.set(session.id, session);
    return session;
  }

  get(id: string | undefined, now = Date.now()): ConsoleSession | undefined {
    const session = id ? this.byId.get(id) : undefined;
    if (!session) return undefined;
    if (session.expiresAt > now) return session;
    this.byId.delete(session.id);
    return undefined;
  }

  end(id: string) {
    this.byId.delete(id);
  }

  /** The tenant a session acts as; undefined if that tenant is gone from config. */
  tenantOf(session: ConsoleSession): Tenant | undefined {
    return this.tenants.get(session.viewing);
  }

  /** Whether a change carries the session's CSRF token (x-csrf-token). */
  csrfOk(session: ConsoleSession, req: FastifyRequest) {
    const sent = req.headers['x-csrf-token'];
    return typeof sent === 'string' && same(sent, session.csrf);
  }

  get size() {
    return this.byId.size;
  }
}

/** Reads change nothing; everything else must prove it comes from the console's own page. */
export const isChange = (method: string) => method !== 'GET' && method !== 'HEAD';
