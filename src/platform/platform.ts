import type { Registry } from 'prom-client';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logging/logger.js';
import { createPlatformMetrics } from '../metrics/platform-metrics.js';
import type { RoomDirectory } from '../rooms/directory.js';
import type { Room } from '../rooms/room.js';
import type { Tenants } from '../tenants/tenants.js';
import { trackCall, type TrackerDeps } from './call-tracker.js';
import type { JournaledCall } from './call-journal.js';
import type { ParticipantLedger } from './participant-ledger.js';
import type { Stores } from './stores.js';
import { UsageMeter } from './usage.js';
import { WebhookDeliverer } from './webhooks.js';

/** Transport stats of a few participants are sampled this often (usage bytes). */
const USAGE_TICK_MS = 1000;
const PRUNE_EVERY_MS = 3_600_000;
const ALIVE_EVERY_MS = 5000;

const take = <K, V>(map: Map<K, V>, key: K) => {
  const value = map.get(key);
  map.delete(key);
  return value;
};

/**
 * The platform's side of a node: call records and usage in the stores, the webhook outbox and
 * its deliverer, the ledger of each participant's stay, and a call tracker on every room.
 */
export function createPlatform({ config, tenants, stores, ledger, directory, registry, log }: {
  config: Config; tenants: Tenants; stores: Stores; ledger: ParticipantLedger; directory: RoomDirectory; registry: Registry; log: Logger;
}) {
  const { store, outbox } = stores;
  const metrics = createPlatformMetrics(registry, () => outbox.pending(), { tenantLabels: config.metrics.tenantLabels });
  const deliverer = new WebhookDeliverer(outbox, tenants, config.webhooks, log.child({ component: 'webhooks' }), metrics.delivered);
  const usage = new UsageMeter(store, ledger, metrics.usage, USAGE_TICK_MS, log);
  let prune: NodeJS.Timeout | undefined;
  /** Call records being written: the node waits for them before it stops. */
  const finishing = new Set<Promise<void>>();
  /** Calls taken up again after a restart, by call id, until their room opens. */
  const resuming = new Map<string, JournaledCall>();
  let alive: NodeJS.Timeout | undefined;

  return {
    store,
    outbox,
    deliverer,
    usage,
    ledger,
    /**
     * Every new room gets its ledger entries and call tracker; its record waits until
     * `evidenceSettled(room)`, and has what `assistantRecord(room)` gives (its assistant's part).
     */
    observe(room: Room, { evidenceSettled, assistantRecord }: Pick<TrackerDeps, 'evidenceSettled' | 'assistantRecord'>) {
      ledger.observe(room);
      // Characters sent to translation engines, counted as they are sent.
      room.on('translated', (characters) => {
        const at = Date.now();
        usage.add({ tenant: room.settings.tenant, room: room.settings.name, callId: room.settings.callId, kind: 'translation', role: null, startAt: at, endAt: at, bytesIn: 0, bytesOut: 0, units: characters });
      });
      trackCall(room, {
        emit: (event) => deliverer.emit(event),
        hooked: deliverer.delivers(room.settings.tenant),
        store,
        usage,
        ledger,
        where: { node: directory.self.id, region: directory.self.region },
        isOwner: (r) => directory.owns(r),
        evidenceSettled,
        assistantRecord,
        finishing: (work) => {
          finishing.add(work);
          void work.finally(() => finishing.delete(work));
        },
        journal: stores.journal,
        resumed: take(resuming, room.settings.callId),
        log: room.log,
      });
    },
    /** A call the journal kept goes on in a room about to open with its settings. */
    resume(call: JournaledCall) {
      resuming.set(call.settings.callId, call);
    },
    start() {
      // A crash's time is the last of these (the journal closes the calls it left open at it).
      if (stores.journal) {
        const journal = stores.journal;
        journal.alive(Date.now());
        alive = setInterval(() => journal.alive(Date.now()), ALIVE_EVERY_MS);
        alive.unref();
      }
      deliverer.start();
      usage.start();
      const pruneNow = () => store.prune().catch((err) => log.warn({ err: (err as Error).message }, 'could not prune old records'));
      void pruneNow();
      prune = setInterval(pruneNow, PRUNE_EVERY_MS);
      prune.unref();
    },
    /** After the rooms closed: their last events are queued, deliveries settle, the stores close. */
    async stop() {
      clearInterval(prune);
      clearInterval(alive);
      await Promise.all(finishing);
      usage.stop();
      await deliverer.stop();
      await stores.close();
    },
  };
}

export type Platform = ReturnType<typeof createPlatform>;
