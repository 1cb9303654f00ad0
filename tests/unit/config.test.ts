import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';

const EC_PUBLIC_KEY = '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqPPJMZ0cOYTYAU0x0c7rjvnhyfGL\nu4pJTo9JZopftnmjinjCLx/IUCtCJmeCuItO06RpmH2IzfvV/i44MAlMZA==\n-----END PUBLIC KEY-----';
const STRONG = 'a-real-production-secret-of-32-bytes-or-more';
const PROD = { NODE_ENV: 'production', AUTH_HS256_SECRET: STRONG, AUTH_API_KEYS: 'prod-api-key-0123456789-abcdefghijklmnop' };

describe('configuration', () => {
  it('starts from config/default.json with no environment', () => {
    const config = loadConfig({});
    expect(config.server.port).toBe(8080);
    expect(config.media.numWorkers).toBe(0);
  });

  it('takes environment overrides, typed by the schema', () => {
    const config = loadConfig({
      PORT: '9000', MEDIA_NUM_WORKERS: '3', AUTH_API_KEYS: 'aaaaaaaaaaaaaaaa1, bbbbbbbbbbbbbbbb2',
      AUTH_PUBLIC_KEYS: JSON.stringify([{ alg: 'ES256', pem: EC_PUBLIC_KEY }]), LOG_LEVEL: 'debug',
    });
    expect(config.server.port).toBe(9000);
    expect(config.media.numWorkers).toBe(3);
    expect(config.auth.apiKeys).toEqual(['aaaaaaaaaaaaaaaa1', 'bbbbbbbbbbbbbbbb2']);
    expect(config.auth.publicKeys[0].alg).toBe('ES256');
    expect(config.log.level).toBe('debug');
  });

  it.each([
    [{ PORT: 'eighty' }, /server\.port \(PORT\)/],
    [{ PORT: '70000' }, /server\.port \(PORT\)/],
    [{ MEDIA_NUM_WORKERS: '-1' }, /media\.numWorkers \(MEDIA_NUM_WORKERS\)/],
    [{ LOG_LEVEL: 'loud' }, /log\.level \(LOG_LEVEL\)/],
    [{ AUTH_PUBLIC_KEYS: 'not json' }, /auth\.publicKeys \(AUTH_PUBLIC_KEYS\): not valid JSON/],
    [{ AUTH_PUBLIC_KEYS: '[{"alg":"HS256","pem":"x"}]' }, /auth\.publicKeys/],
    [{ AUTH_PUBLIC_KEYS: '[{"alg":"ES256","pem":"-----BEGIN PUBLIC KEY-----"}]' }, /auth\.publicKeys \(AUTH_PUBLIC_KEYS\): key 0 is not a usable public key/],
    [{ TENANTS: '[{"id":"shop-a","apiKeys":["dev-only-api-key-change-me"]}]' }, /an API key belongs to two tenants/],
    [{ TENANTS: '[{"id":"shop-a"},{"id":"shop-a"}]' }, /the tenant id shop-a appears twice/],
    [{ TENANTS: '[{"id":"Shop A"}]' }, /tenants/],
    [{ MEDIA_RTC_MIN_PORT: '50000', MEDIA_RTC_MAX_PORT: '40000' }, /media\.rtcMinPort/],
    [{ NODE_ENV: 'production' }, /auth\.hs256Secret \(AUTH_HS256_SECRET\): the development secret is refused/],
    [{ NODE_ENV: 'production', AUTH_HS256_SECRET: STRONG }, /auth\.apiKeys \(AUTH_API_KEYS\)/],
    [{ AUTH_HS256_SECRET: '' }, /auth\.hs256Secret/],
    // The production check has no gaps: weak secrets, any spelling of the development values, the open token route.
    [{ ...PROD, AUTH_HS256_SECRET: 'x' }, /auth\.hs256Secret \(AUTH_HS256_SECRET\): a secret of fewer than 32 bytes/],
    [{ ...PROD, AUTH_HS256_SECRET: ' dev-only-secret-change-me' }, /auth\.hs256Secret.*development secret is refused/],
    [{ ...PROD, AUTH_HS256_SECRET: 'DEV-ONLY-SECRET-CHANGE-ME-0123456789abcdef' }, /auth\.hs256Secret.*development secret is refused/],
    [{ ...PROD, AUTH_API_KEYS: 'short-api-key-0123' }, /auth\.apiKeys.*fewer than 32 bytes/],
    [{ ...PROD, REDIS_URL: 'redis://127.0.0.1:6379', CLUSTER_SECRET: '' }, /cluster\.secret \(CLUSTER_SECRET\): a secret of fewer than 32 bytes/],
    [{ ...PROD, REDIS_URL: 'redis://127.0.0.1:6379' }, /cluster\.secret.*development secret is refused/],
    [{ ...PROD, DEMO_DEV_TOKENS: 'on' }, /demo\.devTokens \(DEMO_DEV_TOKENS\): the open token route is refused/],
  ])('refuses %j, naming the key', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('accepts a production setup with real secrets', () => {
    expect(loadConfig(PROD).env).toBe('production');
    expect(loadConfig({ ...PROD, REDIS_URL: 'redis://127.0.0.1:6379', CLUSTER_SECRET: STRONG }).cluster.redisUrl).toBeTruthy();
  });
});

describe('a production start and the new features\' settings', () => {
  const withTenant = (webhook: object) => ({ ...PROD, TENANTS: JSON.stringify([{ id: 'shop', apiKeys: ['shop-key-0123456789abcdefghijklmnopqrstuv'], webhook }]) });
  const whsec = (bytes: Buffer) => `whsec_${bytes.toString('base64')}`;

  it.each([
    ['an 18-byte webhook secret', withTenant({ url: 'https://platform.example/hooks', secret: whsec(Buffer.from('0123456789abcdefgh')) }), /tenant shop's webhook.secret is 18 bytes/],
    ['an all-zero webhook secret', withTenant({ url: 'https://platform.example/hooks', secret: whsec(Buffer.alloc(32)) }), /webhook.secret is 32 bytes of one repeated value/],
    ['a catch-all forward list', { ...PROD, FORWARD_ALLOWED_TARGETS: '0.0.0.0/0' }, /forwarding.allowedTargets \(FORWARD_ALLOWED_TARGETS\): a range of every address/],
    ['a 10-year token lifetime', { ...PROD, AUTH_MAX_TOKEN_TTL_SECONDS: String(10 * 365 * 86_400) }, /auth.maxTokenTtlSeconds \(AUTH_MAX_TOKEN_TTL_SECONDS\)/],
    ['no free-space floor for recordings', { ...PROD, RECORDING_MIN_FREE_MB: '0' }, /recording.minFreeMegabytes \(RECORDING_MIN_FREE_MB\)/],
    ['a public key bound to no tenant beside several tenants', {
      ...PROD, AUTH_PUBLIC_KEYS: JSON.stringify([{ kid: 'k1', alg: 'ES256', pem: EC_PUBLIC_KEY }]),
      TENANTS: JSON.stringify([{ id: 'shop', apiKeys: ['shop-key-0123456789abcdefghijklmnopqrstuv'] }]),
    }, /auth.publicKeys \(AUTH_PUBLIC_KEYS\): key k1 is bound to no tenant/],
  ])('refuses %s, naming the setting', (_what, env, message) => {
    expect(() => loadConfig(env as NodeJS.ProcessEnv)).toThrow(message);
  });

  it('warns, naming the setting, about any origin, plain-http webhooks to this machine, and an open /metrics with tenant labels', async () => {
    const { productionWarnings } = await import('../../src/config/load.js');
    const strongSecret = whsec(Buffer.from('a3f1c9e27b5d48e0916c2fa47d8b3e15', 'utf8'));
    const warnings = productionWarnings(loadConfig({ ...withTenant({ url: 'http://127.0.0.1:9000/hooks', secret: strongSecret }), METRICS_REQUIRE_KEY: 'off' }));
    expect(warnings.join('\n')).toMatch(/server.allowedOrigins \(SERVER_ALLOWED_ORIGINS\) is \*/);
    expect(warnings.join('\n')).toMatch(/tenant shop's webhook.url http:\/\/127.0.0.1:9000\/hooks is plain http/);
    expect(warnings.join('\n')).toMatch(/metrics.requireKey \(METRICS_REQUIRE_KEY\) is off/);
    expect(productionWarnings(loadConfig({ ...PROD, SERVER_ALLOWED_ORIGINS: 'https://shop.example.com' }))).toEqual([]);
  });
});
