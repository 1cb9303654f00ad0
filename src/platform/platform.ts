import type { Registry } from 'prom-client';
import type { Cluster } from '../cluster/cluster.js';
import type { NodeRef } from '../cluster/allocator.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logging/logger.js';
import { createPlatformMetrics } from '../metrics/platform-metrics.js';
import type { Room } from '../rooms/room.js';
import type { Tenants } from '../tenants/tenants.js';
import { trackCall } from './call-tracker.js';
import { RedisOutbox } from './redis-outbox.js';
import { RedisPlatformStore } from './redis-store.js';
import { SqliteStore } from './sqlite-store.js';
import type { Outbox, PlatformStore } from './store.js';
import { UsageMeter } from './usage.js';
import { WebhookDeliverer } from './webhooks.js';

/** Transport stats of a few participants are sampled this often (usage bytes). */
const USAGE_TICK_MS = 1000;
const PRUNE_EVERY_MS = 3_600_000;

/**
 * The platform's side of a node: call records and usage (SQLite alone, Redis in a cluster),
 * the webhook outbox and its deliverer, and a call tracker on every room.
 */
export function createPlatform({ config, tenants, cluster, self, registry, log }: {
  config: Config; tenants: Tenants; cluster?: Cluster; self: NodeRef; registry: Registry; log: Logger;
}) {
  const retentionMs = config.store.retentionDays * 86_400_000;
  const sqlite = cluster ? undefined : new SqliteStore(config.store.path, retentionMs);
  const store: PlatformStore = cluster ? new RedisPlatformStore(cluster.redis, retentionMs) : sqlite!;
  const redisOutbox = cluster ? new RedisOutbox(cluster.redis, self.id, config.cluster.nodeTtlMs, log.child({ component: 'webhooks' })) : undefined;
  const outbox: Outbox = redisOutbox ?? sqlite!;
  const metrics = createPlatformMetrics(registry, () => outbox.pending());
  const deliverer = new WebhookDeliverer(outbox, tenants, config.webhooks, log.child({ component: 'webhooks' }), metrics.delivered);
  const usage = new UsageMeter(store, metrics.usage, USAGE_TICK_MS, log);
  let prune: NodeJS.Timeout | undefined;
  /** Call records being written: the node waits for them before it stops. */
  const finishing = new Set<Promise<void>>();

  return {
    store,
    outbox,
    deliverer,
    usage,
    /** Every new room gets its call tracker; its record waits until `evidenceSettled(room)`. */
    observe(room: Room, evidenceSettled: (room: Room) => Promise<void>) {
      trackCall(room, {
        emit: (event) => deliverer.emit(event),
        store,
        usage,
        where: { node: self.id, region: self.region },
        isOwner: cluster ? (r) => cluster.owns(r) : () => true,
        evidenceSettled,
        finishing: (work) => {
          finishing.add(work);
          void work.finally(() => finishing.delete(work));
        },
        log: room.log,
      });
    },
    start() {
      deliverer.start();
      usage.start();
      const pruneNow = () => store.prune().catch((err) => log.warn({ err: (err as Error).message }, 'could not prune old records'));
      void pruneNow();
      prune = setInterval(pruneNow, PRUNE_EVERY_MS);
      prune.unref();
    },
    /** After the rooms closed: their last events are queued, deliveries settle, the store closes. */
    async stop() {
      clearInterval(prune);
      await Promise.all(finishing);
      usage.stop();
      await deliverer.stop();
      await redisOutbox?.release();
      sqlite?.close();
    },
  };
}

export type Platform = ReturnType<typeof createPlatform>;
