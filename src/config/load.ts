import { createPublicKey } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kind, type TObject, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ConfigSchema, type Config } from './schema.js';

export const DEFAULT_CONFIG_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../config/default.json');
/** The built-in development values, in any spelling (padded, upper-cased, inside a longer string). */
const isDevelopmentValue = (value: string) => /dev-only|change-me/i.test(value);
/** Secrets shorter than this are refused in production (HMAC keys want at least 256 bits). */
export const MIN_SECRET_BYTES = 32;

export class ConfigError extends Error {}

export interface ConfigLeaf { key: string; env: string; schema: TSchema }

/** Every overridable leaf of the schema, in document order. */
export function configLeaves(schema: TSchema = ConfigSchema, prefix = ''): ConfigLeaf[] {
  if (schema[Kind] === 'Object' && !('env' in schema)) {
    return Object.entries((schema as TObject).properties).flatMap(([k, s]) => configLeaves(s, prefix ? `${prefix}.${k}` : k));
  }
  return [{ key: prefix, env: (schema as unknown as { env: string }).env, schema }];
}

function parseEnvValue(leaf: ConfigLeaf, raw: string): unknown {
  switch (leaf.schema[Kind]) {
    case 'Integer':
    case 'Number':
      return raw.trim() === '' ? raw : Number(raw);
    case 'Boolean':
      return raw === 'true' || raw === '1' ? true : raw === 'false' || raw === '0' ? false : raw;
    case 'Array':
      if (leaf.schema.items?.[Kind] === 'String') return raw.split(',').map((s) => s.trim()).filter(Boolean);
      try {
        return JSON.parse(raw);
      } catch {
        throw new ConfigError(`config ${leaf.key} (${leaf.env}): not valid JSON`);
      }
    default:
      return raw;
  }
}

function setPath(target: Record<string, any>, key: string, value: unknown) {
  const parts = key.split('.');
  let obj = target;
  for (const p of parts.slice(0, -1)) obj = obj[p] ??= {};
  obj[parts.at(-1)!] = value;
}

function deepMerge(base: any, over: any): any {
  if (typeof base !== 'object' || base === null || Array.isArray(base) || typeof over !== 'object' || over === null || Array.isArray(over)) {
    return over === undefined ? base : over;
  }
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = deepMerge(base[k], v);
  return out;
}

function readJson(file: string, variable?: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`config file ${file}${variable ? ` (${variable})` : ''}: ${(err as Error).message}`);
  }
}

/**
 * Defaults from config/default.json, then CONFIG_FILE (if set), then environment
 * variables, then the explicit overrides (tests). Throws ConfigError naming the key.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: object = {}): Config {
  let raw = readJson(DEFAULT_CONFIG_FILE);
  if (env.CONFIG_FILE) raw = deepMerge(raw, readJson(env.CONFIG_FILE, 'CONFIG_FILE'));
  const fromEnv: Record<string, any> = {};
  for (const leaf of configLeaves()) {
    const value = env[leaf.env];
    if (value !== undefined) setPath(fromEnv, leaf.key, parseEnvValue(leaf, value));
  }
  raw = deepMerge(deepMerge(raw, fromEnv), overrides);
  return validateConfig(raw);
}

export function validateConfig(raw: unknown): Config {
  const leaves = configLeaves();
  const first = Value.Errors(ConfigSchema, raw).First();
  if (first) {
    const key = first.path.replace(/^\//, '').replace(/\//g, '.');
    const leaf = leaves.find((l) => key === l.key || key.startsWith(`${l.key}.`));
    const value = JSON.stringify(first.value);
    throw new ConfigError(`config ${key || '(root)'}${leaf ? ` (${leaf.env})` : ''}: ${first.message}, got ${value}`);
  }
  const config = raw as Config;
  if (config.media.rtcMinPort > config.media.rtcMaxPort) {
    throw new ConfigError('config media.rtcMinPort (MEDIA_RTC_MIN_PORT): must not exceed media.rtcMaxPort');
  }
  if (!config.auth.hs256Secret && config.auth.publicKeys.length === 0) {
    throw new ConfigError('config auth.hs256Secret (AUTH_HS256_SECRET): set a secret or auth.publicKeys, or no token can be verified');
  }
  if (config.cluster.nodeTtlMs <= config.cluster.heartbeatMs) {
    throw new ConfigError('config cluster.nodeTtlMs (CLUSTER_NODE_TTL_MS): must exceed cluster.heartbeatMs, or live nodes expire between heartbeats');
  }
  for (const [i, k] of config.auth.publicKeys.entries()) {
    try {
      createPublicKey(k.pem);
    } catch (err) {
      throw new ConfigError(`config auth.publicKeys (AUTH_PUBLIC_KEYS): key ${k.kid ?? i} is not a usable public key: ${(err as Error).message}`);
    }
  }
  const ids = config.tenants.map((t) => t.id);
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup) throw new ConfigError(`config tenants (TENANTS): the tenant id ${dup} appears twice`);
  const keys = [...config.auth.apiKeys, ...config.tenants.flatMap((t) => t.apiKeys ?? [])];
  if (new Set(keys).size !== keys.length) throw new ConfigError('config tenants (TENANTS): an API key belongs to two tenants');
  const relays = config.turn.urls.some((u) => !u.startsWith('stun:'));
  if (relays && !config.turn.secret) throw new ConfigError('config turn.secret (TURN_SECRET): TURN URLs need the secret coturn shares (static-auth-secret), or no credential works');
  const relayOnly = config.tenants.find((t) => t.forceRelay);
  if (relayOnly && !relays) throw new ConfigError(`config tenants (TENANTS): tenant ${relayOnly.id} forces relay, which needs a TURN server in turn.urls (TURN_URLS)`);
  if (config.env === 'production') checkProductionSecrets(config);
  return config;
}

/** Production refuses the development values, weak secrets and the open demo token route. */
function checkProductionSecrets(config: Config) {
  const secrets: Array<[string, string, string[]]> = [
    ['auth.hs256Secret (AUTH_HS256_SECRET)', 'secret', config.auth.hs256Secret ? [config.auth.hs256Secret] : []],
    ['auth.apiKeys (AUTH_API_KEYS)', 'API key', config.auth.apiKeys],
    ['tenants (TENANTS)', 'API key', config.tenants.flatMap((t) => t.apiKeys ?? [])],
    ...(config.cluster.redisUrl ? [['cluster.secret (CLUSTER_SECRET)', 'secret', [config.cluster.secret]] as [string, string, string[]]] : []),
    ['turn.secret (TURN_SECRET)', 'secret', config.turn.secret ? [config.turn.secret] : []],
  ];
  for (const [key, what, values] of secrets) {
    for (const value of values) {
      if (isDevelopmentValue(value)) throw new ConfigError(`config ${key}: the development ${what} is refused in production`);
      if (Buffer.byteLength(value.trim()) < MIN_SECRET_BYTES) {
        throw new ConfigError(`config ${key}: a ${what} of fewer than ${MIN_SECRET_BYTES} bytes is refused in production`);
      }
    }
  }
  if (config.demo.devTokens === 'on') {
    throw new ConfigError('config demo.devTokens (DEMO_DEV_TOKENS): the open token route is refused in production');
  }
  for (const t of config.tenants) {
    if (!t.webhook) continue;
    const key = Buffer.from(t.webhook.secret.slice('whsec_'.length), 'base64');
    if (key.length < MIN_WEBHOOK_SECRET_BYTES || key.every((b) => b === key[0])) {
      throw new ConfigError(`config tenants (TENANTS): tenant ${t.id}'s webhook.secret is ${key.length} bytes${key.length && key.every((b) => b === key[0]) ? ' of one repeated value' : ''}; production needs at least ${MIN_WEBHOOK_SECRET_BYTES} random bytes (whsec_ + base64)`);
    }
  }
  if (catchAllTargets(config.forwarding.allowedTargets)) {
    throw new ConfigError('config forwarding.allowedTargets (FORWARD_ALLOWED_TARGETS): a range of every address (/0) is refused in production; name the transcription or vision hosts');
  }
  if (config.auth.maxTokenTtlSeconds > MAX_PRODUCTION_TOKEN_TTL_SECONDS) {
    throw new ConfigError(`config auth.maxTokenTtlSeconds (AUTH_MAX_TOKEN_TTL_SECONDS): ${config.auth.maxTokenTtlSeconds} s is more than the ${MAX_PRODUCTION_TOKEN_TTL_SECONDS} s (7 days) production allows: a leaked token would open calls for that long`);
  }
  if (config.recording.minFreeMegabytes < MIN_PRODUCTION_FREE_MB) {
    throw new ConfigError(`config recording.minFreeMegabytes (RECORDING_MIN_FREE_MB): ${config.recording.minFreeMegabytes} MB lets recordings fill the disk; production needs at least ${MIN_PRODUCTION_FREE_MB}`);
  }
  const unbound = config.auth.publicKeys.filter((k) => !k.tenant);
  const tenantCount = new Set([DEFAULT, ...config.tenants.map((t) => t.id)]).size;
  if (unbound.length && tenantCount > 1) {
    throw new ConfigError(`config auth.publicKeys (AUTH_PUBLIC_KEYS): key ${unbound[0].kid ?? 0} is bound to no tenant while this node serves ${tenantCount} tenants: its tokens could name any of them; set its tenant`);
  }
}

/** Webhook signing keys shorter than this (Standard Webhooks: 24 to 64 bytes) are refused in production. */
const MIN_WEBHOOK_SECRET_BYTES = 24;
const MAX_PRODUCTION_TOKEN_TTL_SECONDS = 7 * 86_400;
const MIN_PRODUCTION_FREE_MB = 256;
const DEFAULT = 'default';
const catchAllTargets = (targets: string[]) => targets.some((t) => /\/0$/.test(t.trim()));
const isLocalHost = (host: string) => host === 'localhost' || host.endsWith('.localhost') || /^127\./.test(host) || host === '[::1]' || host === '::1' || host === '0.0.0.0';

/**
 * Settings a production node starts with, but should not: each warning names its setting. (The
 * ones that would expose the node are refused by validateConfig instead.)
 */
export function productionWarnings(config: Config): string[] {
  if (config.env !== 'production') return [];
  const warnings: string[] = [];
  if (config.server.allowedOrigins.includes('*')) {
    warnings.push('server.allowedOrigins (SERVER_ALLOWED_ORIGINS) is *: any web page may open signaling sockets and load the SDK with a token it holds; name the shop and platform origins');
  }
  for (const t of config.tenants) {
    if (!t.webhook) continue;
    const url = new URL(t.webhook.url);
    if (url.protocol === 'http:' && isLocalHost(url.hostname)) warnings.push(`tenants (TENANTS): tenant ${t.id}'s webhook.url ${t.webhook.url} is plain http to this machine; production webhooks usually go over https to the platform`);
  }
  if (config.metrics.requireKey === 'off' && config.metrics.tenantLabels) {
    warnings.push('metrics.requireKey (METRICS_REQUIRE_KEY) is off while metrics.tenantLabels is on: anyone who reaches /metrics reads tenant ids and their usage');
  }
  return warnings;
}

export const usesDevelopmentSecrets = (config: Config) =>
  isDevelopmentValue(config.auth.hs256Secret) || config.auth.apiKeys.some(isDevelopmentValue)
  || Boolean(config.cluster.redisUrl && isDevelopmentValue(config.cluster.secret));
