import { generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { mintToken, TokenError, TokenVerifier } from '../../src/auth/tokens.js';
import { loadConfig } from '../../src/config/load.js';

const exp = () => Math.floor(Date.now() / 1000) + 300;
const claims = () => ({ room: 'r1', sub: 'buyer-7', role: 'buyer', exp: exp() });
const pem = (alg: 'rsa' | 'ec') => {
  const pair = alg === 'rsa'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { priv: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), pub: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString() };
};
const codeOf = (fn: () => unknown) => {
  try {
    fn();
    return 'accepted';
  } catch (err) {
    return (err as TokenError).code;
  }
};

describe('tokens', () => {
  const rsa = pem('rsa');
  const ec = pem('ec');
  const auth = loadConfig({}, { auth: { publicKeys: [{ alg: 'RS256', pem: rsa.pub, kid: 'rsa-1' }, { alg: 'ES256', pem: ec.pub }] } }).auth;
  const verifier = new TokenVerifier(auth);

  it('round-trips a minted token with role defaults and explicit grants', () => {
    const { token } = mintToken(auth, { room: 'r1', identity: 'bot-1', role: 'bot', grants: { publishVideo: true }, region: 'us-east' });
    expect(verifier.verify(token)).toMatchObject({
      room: 'r1', identity: 'bot-1', role: 'bot', region: 'us-east',
      grants: { publishAudio: true, publishVideo: true, publishData: true, subscribe: true, admin: false },
    });
  });

  it('caps the lifetime of minted tokens', () => {
    const { expiresAt } = mintToken(auth, { room: 'r', identity: 'i', ttlSeconds: 10 ** 9 });
    expect(expiresAt - Date.now() / 1000).toBeLessThanOrEqual(auth.maxTokenTtlSeconds + 1);
  });

  it('accepts RS256 and ES256 from configured public keys', () => {
    expect(verifier.verify(jwt.sign(claims(), rsa.priv, { algorithm: 'RS256', keyid: 'rsa-1' })).identity).toBe('buyer-7');
    expect(verifier.verify(jwt.sign(claims(), ec.priv, { algorithm: 'ES256' })).identity).toBe('buyer-7');
  });

  it('refuses forgeries, alg none and algorithm confusion', () => {
    const other = pem('rsa');
    expect(codeOf(() => verifier.verify(jwt.sign(claims(), other.priv, { algorithm: 'RS256' })))).toBe('TOKEN_INVALID');
    expect(codeOf(() => verifier.verify(jwt.sign(claims(), rsa.priv, { algorithm: 'RS256', keyid: 'other' })))).toBe('TOKEN_INVALID');
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims())).toString('base64url')}.`;
    expect(codeOf(() => verifier.verify(none))).toBe('TOKEN_INVALID');
    // HS256 signed with the RSA public key as the "secret": the classic confusion attack.
    expect(codeOf(() => new TokenVerifier({ ...auth, hs256Secret: '' }).verify(jwt.sign(claims(), rsa.pub, { algorithm: 'HS256' })))).toBe('TOKEN_INVALID');
    expect(codeOf(() => verifier.verify(jwt.sign(claims(), 'wrong-secret')))).toBe('TOKEN_INVALID');
  });

  it('refuses expired tokens, and tokens without expiry or with bad claims', () => {
    expect(codeOf(() => verifier.verify(jwt.sign({ ...claims(), exp: exp() - 3600 }, auth.hs256Secret)))).toBe('TOKEN_EXPIRED');
    const { exp: _, ...noExp } = claims();
    expect(codeOf(() => verifier.verify(jwt.sign(noExp, auth.hs256Secret)))).toBe('TOKEN_INVALID');
    expect(codeOf(() => verifier.verify(jwt.sign({ ...claims(), room: 'bad room!' }, auth.hs256Secret)))).toBe('TOKEN_INVALID');
    expect(codeOf(() => verifier.verify(jwt.sign({ ...claims(), grants: { admin: 'yes' } }, auth.hs256Secret)))).toBe('TOKEN_INVALID');
  });

  it('checks issuer and audience when configured', () => {
    const strict = new TokenVerifier({ ...auth, issuer: 'shop-backend', audience: 'sfu' });
    const ok = mintToken({ ...auth, issuer: 'shop-backend', audience: 'sfu' }, { room: 'r', identity: 'i' }).token;
    expect(strict.verify(ok).identity).toBe('i');
    expect(codeOf(() => strict.verify(mintToken(auth, { room: 'r', identity: 'i' }).token))).toBe('TOKEN_INVALID');
  });
});
