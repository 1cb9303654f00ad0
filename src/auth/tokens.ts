import jwt from 'jsonwebtoken';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { Config } from '../config/schema.js';
import { DEFAULT_GRANTS, Grants, Role } from './grants.js';

/** Claims of an access token. `exp` is required: tokens without an expiry are refused. */
export const TokenClaims = Type.Object({
  room: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$' }),
  sub: Type.String({ minLength: 1, maxLength: 128, description: 'The participant identity, unique in the room.' }),
  name: Type.Optional(Type.String({ maxLength: 128 })),
  role: Role,
  grants: Type.Optional(Type.Partial(Grants)),
  region: Type.Optional(Type.String({ maxLength: 64, description: 'Region hint for placing the room (cluster mode).' })),
  exp: Type.Integer(),
}, { additionalProperties: true });
export type TokenClaims = Static<typeof TokenClaims>;

const claimsCheck = TypeCompiler.Compile(TokenClaims);

/** What a verified access token grants: who (identity) may do what (role, grants) in which room. */
export interface Claims {
  room: string;
  identity: string;
  name: string;
  role: Role;
  grants: Grants;
  region?: string;
  expiresAt: number;
}

export class TokenError extends Error {
  constructor(readonly code: 'TOKEN_INVALID' | 'TOKEN_EXPIRED', message: string) {
    super(message);
  }
}

/**
 * Verifies tokens with pinned algorithms: HS256 with the shared secret, RS256/ES256 with
 * configured public keys. The algorithm list passed to jsonwebtoken always comes from the
 * key, never from the token, so `alg: none` and algorithm-confusion tokens are refused.
 */
export class TokenVerifier {
  constructor(private readonly auth: Config['auth']) {}

  verify(token: string): Claims {
    const decoded = jwt.decode(token, { complete: true });
    if (!decoded || typeof decoded.payload === 'string') throw new TokenError('TOKEN_INVALID', 'token is not a JWT');
    const { alg, kid } = decoded.header;
    const options = {
      clockTolerance: 5,
      ...(this.auth.issuer ? { issuer: this.auth.issuer } : {}),
      ...(this.auth.audience ? { audience: this.auth.audience } : {}),
    };
    const keys: Array<{ key: string; alg: jwt.Algorithm }> = alg === 'HS256' && this.auth.hs256Secret
      ? [{ key: this.auth.hs256Secret, alg: 'HS256' }]
      : this.auth.publicKeys.filter((k) => k.alg === alg && (!kid || !k.kid || k.kid === kid)).map((k) => ({ key: k.pem, alg: k.alg }));
    if (keys.length === 0) throw new TokenError('TOKEN_INVALID', `token algorithm ${JSON.stringify(alg)} is not accepted`);

    let lastError: unknown;
    for (const { key, alg: pinned } of keys) {
      try {
        const payload = jwt.verify(token, key, { ...options, algorithms: [pinned] });
        return toClaims(payload);
      } catch (err) {
        if (err instanceof jwt.TokenExpiredError) throw new TokenError('TOKEN_EXPIRED', 'token has expired');
        if (err instanceof TokenError) throw err;
        lastError = err;
      }
    }
    throw new TokenError('TOKEN_INVALID', `token rejected: ${(lastError as Error).message}`);
  }
}

function toClaims(payload: unknown): Claims {
  if (!claimsCheck.Check(payload)) {
    const e = claimsCheck.Errors(payload).First();
    throw new TokenError('TOKEN_INVALID', `token claims invalid at ${e?.path || '/'}: ${e?.message}`);
  }
  return {
    room: payload.room,
    identity: payload.sub,
    name: payload.name ?? payload.sub,
    role: payload.role,
    grants: { ...DEFAULT_GRANTS[payload.role], ...payload.grants },
    region: payload.region,
    expiresAt: payload.exp,
  };
}

export const MintRequest = Type.Object({
  room: TokenClaims.properties.room,
  identity: TokenClaims.properties.sub,
  name: TokenClaims.properties.name,
  role: Type.Optional(Role),
  grants: TokenClaims.properties.grants,
  region: TokenClaims.properties.region,
  ttlSeconds: Type.Optional(Type.Integer({ minimum: 1 })),
}, { additionalProperties: false });
export type MintRequest = Static<typeof MintRequest>;

/** Signs HS256 tokens with the node's shared secret (the integrator's backend may sign its own instead). */
export function mintToken(auth: Config['auth'], req: MintRequest): { token: string; expiresAt: number } {
  if (!auth.hs256Secret) throw new Error('auth.hs256Secret is empty: this node cannot mint tokens');
  const ttl = Math.min(req.ttlSeconds ?? auth.defaultTokenTtlSeconds, auth.maxTokenTtlSeconds);
  const expiresAt = Math.floor(Date.now() / 1000) + ttl;
  const claims: TokenClaims = {
    room: req.room,
    sub: req.identity,
    role: req.role ?? 'buyer',
    exp: expiresAt,
    ...(req.name ? { name: req.name } : {}),
    ...(req.grants ? { grants: req.grants } : {}),
    ...(req.region ? { region: req.region } : {}),
  };
  const token = jwt.sign(
    { ...claims, ...(auth.issuer ? { iss: auth.issuer } : {}), ...(auth.audience ? { aud: auth.audience } : {}) },
    auth.hs256Secret,
    { algorithm: 'HS256' },
  );
  return { token, expiresAt };
}
