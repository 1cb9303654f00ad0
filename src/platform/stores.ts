import { createHmac, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { reachableAll } from '../common/reachable.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logging/logger.js';
import { RedisOutbox } from './redis-outbox.js';
import { RedisPlatformStore } from './redis-store.js';
import { SqliteStore } from './sqlite-store.js';
import type { CallJournal } from './call-journal.js';
import type { Outbox, PlatformStore } from './store.js';

/**
 * Where the platform keeps what outlives a call, chosen once at start: one SQLite file on a
 * lone node, Redis in a cluster. Either way the store holds records, usage, files and notes,
 * the outbox holds the webhooks, and linkKey signs file links that stay valid across restarts.
 */
export interface Stores {
  store: PlatformStore;
  outbox: Outbox;
  linkKey: Buffer;
  /** A lone node's journal of its live calls, closed or taken up again after a restart (none in a cluster). */
  journal?: CallJournal;
  /** Hands over what this node holds (its outbox lease), then closes. */
  close(): Promise<void>;
}

const retentionOf = (config: Config) => config.store.retentionDays * 86_400_000;

/** A lone node's SQLite file; its link key is kept in it, so links made before a restart still work. */
export function sqliteStores(config: Config): Stores & { sqlite: SqliteStore } {
  const sqlite = new SqliteStore(config.store.path, retentionOf(config));
  const linkKey = Buffer.from(sqlite.keep('link-key', () => randomBytes(32).toString('base64')), 'base64');
  return { sqlite, store: sqlite, outbox: sqlite, journal: sqlite, linkKey, close: async () => sqlite.close() };
}

/** A cluster's Redis; every node derives the same link key from the cluster secret, so any node verifies any link. */
export function redisStores(config: Config, redis: Redis, nodeId: string, log: Logger): Stores {
  const outbox = new RedisOutbox(redis, nodeId, config.cluster.nodeTtlMs, log.child({ component: 'webhooks' }));
  return {
    store: reachableAll(new RedisPlatformStore(redis, retentionOf(config))),
    outbox: reachableAll(outbox),
    linkKey: createHmac('sha256', config.cluster.secret).update('file-links').digest(),
    close: () => outbox.release(),
  };
}
