import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kind, type TObject, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ConfigSchema, type Config } from './schema.js';

export const DEFAULT_CONFIG_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../config/default.json');
const DEV_MARKER = 'dev-only-';

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

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`config file ${file}: ${(err as Error).message}`);
  }
}

/**
 * Defaults from config/default.json, then CONFIG_FILE (if set), then environment
 * variables, then the explicit overrides (tests). Throws ConfigError naming the key.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: object = {}): Config {
  let raw = readJson(DEFAULT_CONFIG_FILE);
  if (env.CONFIG_FILE) raw = deepMerge(raw, readJson(env.CONFIG_FILE));
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
  if (config.env === 'production') {
    if (config.cluster.redisUrl && config.cluster.secret.startsWith(DEV_MARKER)) {
      throw new ConfigError('config cluster.secret (CLUSTER_SECRET): the development secret is refused in production');
    }
    if (config.auth.hs256Secret.startsWith(DEV_MARKER)) {
      throw new ConfigError('config auth.hs256Secret (AUTH_HS256_SECRET): the development secret is refused in production');
    }
    if (config.auth.apiKeys.some((k) => k.startsWith(DEV_MARKER))) {
      throw new ConfigError('config auth.apiKeys (AUTH_API_KEYS): the development API key is refused in production');
    }
  }
  return config;
}

export const usesDevelopmentSecrets = (config: Config) =>
  config.auth.hs256Secret.startsWith(DEV_MARKER) || config.auth.apiKeys.some((k) => k.startsWith(DEV_MARKER))
  || Boolean(config.cluster.redisUrl && config.cluster.secret.startsWith(DEV_MARKER));
