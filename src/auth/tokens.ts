import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { Config } from '../config/schema.js';
import { DEFAULT_TENANT } from '../tenants/tenants.js';
import { languageTag } from '../common/languages.js';
import { DEFAULT_GRANTS, GrantChanges, Grants, grantsOf, Role } from './grants.js';

/** Claims of an access token. `exp` is required: tokens without an expiry are refused. */
export const TokenClaims = Type.Object({
  room: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$' }),
  sub: Type.String({ minLength: 1, maxLength: 128, description: 'The participant identity, unique in the room.' }),
  name: Type.Optional(Type.String({ maxLength: 128 })),
  role: Role,
  // A token's grants beyond the known ones are ignored (grantsOf); the API refuses them when it mints.
  grants: Type.Optional(Type.Partial(Grants)),
  region: Type.Optional(Type.String({ maxLength: 64, description: 'Region hint for placing the room (cluster mode); the buyer\'s nearest region as Call.preflight() measured it.' })),
  relay: Type.Optional(Type.Boolean({ description: 'Only through TURN: for a participant known to sit behind a firewall that allows nothing else (needs turn.urls).' })),
  tenant: Type.Optional(Type.String({ minLength: 1, maxLength: 32, pattern: '^[a-z0-9][a-z0-9-]*$', description: 'The tenant whose room this is (set by the node when it mints). Default: "default".' })),
  language: Type.Optional(languageTag('The language the participant speaks and reads (BCP-47): its captions are recognised in it, and what others say is translated into it. Default: its tenant\'s language.')),
  exp: Type.Integer(),
}, { additionalProperties: true });
export type TokenClaims = Static<typeof TokenClaims>;

const claimsCheck = TypeCompiler.Compile(TokenClaims);

/** What a verified access token grants: who (identity) may do what (role, grants) in which room. */
export interface Claims {
  tenant: string;
  room: string;
  identity: string;
  name: string;
  role: Role;
  grants: Grants;
  region?: string;
  /** Media only through TURN (the token's relay claim). */
  relay: boolean;
  /** The language it speaks and reads, if the token says (else its tenant's). */
  language?: string;
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
  // KeyObjects built once: given a string, jsonwebtoken tries createPublicKey() on every call
  // before it falls back to a secret key, which was a third of the node's time per join.
  private readonly secret?: KeyObject;
  private readonly publicKeys: Array<{ kid?: string; alg: 'RS256' | 'ES256'; key: KeyObject; tenant?: string }>;

  constructor(private readonly auth: Config['auth']) {
    this.secret = auth.hs256Secret ? createSecretKey(Buffer.from(auth.hs256Secret)) : undefined;
    this.publicKeys = auth.publicKeys.map((k) => ({ kid: k.kid, alg: k.alg, key: createPublicKey(k.pem), tenant: k.tenant }));
  }

  verify(token: string): Claims {
    const decoded = jwt.decode(token, { complete: true });
    if (!decoded || typeof decoded.payload === 'string') throw new TokenError('TOKEN_INVALID', 'token is not a JWT');
    const { alg, kid } = decoded.header;
    const options = {
      clockTolerance: 5,
      ...(this.auth.issuer ? { issuer: this.auth.issuer } : {}),
      ...(this.auth.audience ? { audience: this.auth.audience } : {}),
    };
    const keys: Array<{ key: KeyObject; alg: jwt.Algorithm; tenant?: string }> = alg === 'HS256' && this.secret
      ? [{ key: this.secret, alg: 'HS256' }]
      : this.publicKeys.filter((k) => k.alg === alg && (!kid || !k.kid || k.kid === kid));
    if (keys.length === 0) throw new TokenError('TOKEN_INVALID', `token algorithm ${JSON.stringify(alg)} is not accepted`);

    let lastError: unknown;
    for (const { key, alg: pinned, tenant } of keys) {
      try {
        const payload = jwt.verify(token, key, { ...options, algorithms: [pinned] });
        return toClaims(payload, tenant);
      } catch (err) {
        if (err instanceof jwt.TokenExpiredError) throw new TokenError('TOKEN_EXPIRED', 'token has expired');
        if (err instanceof TokenError) throw err;
        lastError = err;
      }
    }
    throw new TokenError('TOKEN_INVALID', `token rejected: ${(lastError as Error).message}`);
  }
}

/** A key bound to a tenant (auth.publicKeys[].tenant) decides the tenant; a token may not claim another. */
function toClaims(payload: unknown, keyTenant?: string): Claims {
  if (!claimsCheck.Check(payload)) {
    const e = claimsCheck.Errors(payload).First();
    throw new TokenError('TOKEN_INVALID', `token claims invalid at ${e?.path || '/'}: ${e?.message}`);
  }
  if (keyTenant && payload.tenant && payload.tenant !== keyTenant) throw new TokenError('TOKEN_INVALID', `this key signs for tenant ${keyTenant} only`);
  return {
    tenant: keyTenant ?? payload.tenant ?? DEFAULT_TENANT,
    room: payload.room,
    identity: payload.sub,
    name: payload.name ?? payload.sub,
    role: payload.role,
    grants: grantsOf(payload.role, payload.grants),
    region: payload.region,
    relay: payload.relay === true,
    ...(payload.language ? { language: payload.language } : {}),
    expiresAt: payload.exp,
  };
}

export const MintRequest = Type.Object({
  room: TokenClaims.properties.room,
  identity: TokenClaims.properties.sub,
  name: TokenClaims.properties.name,
  role: Type.Optional(Role),
  grants: Type.Optional(GrantChanges),
  region: TokenClaims.properties.region,
  relay: TokenClaims.properties.relay,
  language: TokenClaims.properties.language,
  ttlSeconds: Type.Optional(Type.Integer({ minimum: 1 })),
}, { additionalProperties: false });
export type MintRequest = Static<typeof MintRequest>;

/** Signs HS256 tokens with the node's shared secret (the integrator's backend may sign its own instead). */
export function mintToken(auth: Config['auth'], req: MintRequest, tenant = DEFAULT_TENANT): { token: string; expiresAt: number } {
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
    ...(req.relay ? { relay: true } : {}),
    ...(req.language ? { language: req.language } : {}),
    ...(tenant !== DEFAULT_TENANT ? { tenant } : {}),
  };
  const token = jwt.sign(
    { ...claims, ...(auth.issuer ? { iss: auth.issuer } : {}), ...(auth.audience ? { aud: auth.audience } : {}) },
    auth.hs256Secret,
    { algorithm: 'HS256' },
  );
  return { token, expiresAt };
}
