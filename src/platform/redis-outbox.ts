import type { Redis } from 'ioredis';
import { keys } from '../cluster/keys.js';
import type { Logger } from '../logging/logger.js';
import type { WebhookEvent } from '../contracts/webhook-events.js';
import { MAX_DELIVERIES, type Delivery, type FailedDelivery, type Outbox, type OutboxEntry, type Resent } from './store.js';

const GROUP = 'deliverers';
const MAX_FAILURES = 1000;

// Takes or keeps the lease: KEYS[1] lease; ARGV[1] node id; ARGV[2] ttl ms. 1 when this node holds it.
const LEAD = `
local holder = redis.call('GET', KEYS[1])
if not holder or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`;

// Queues an event unless its tenant's backlog is full: KEYS[1] stream; KEYS[2] pending counts;
// KEYS[3] the tenant's failures; ARGV[1] tenant; ARGV[2] event JSON; ARGV[3] max pending;
// ARGV[4] the failure entry to list instead; ARGV[5] failures kept. 1 when queued.
const ADD = `
local n = redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
if n > tonumber(ARGV[3]) then
  redis.call('HINCRBY', KEYS[2], ARGV[1], -1)
  redis.call('LPUSH', KEYS[3], ARGV[4])
  redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[5]) - 1)
  return 0
end
redis.call('XADD', KEYS[1], '*', 'event', ARGV[2])
return 1`;

type LeadRedis = Redis & {
  leadWebhooks(key: string, nodeId: string, ttlMs: number): Promise<number>;
  addWebhook(stream: string, pending: string, failures: string, tenant: string, event: string, max: number, failure: string, keep: number): Promise<number>;
};
type StreamEntry = [id: string, fields: string[]];

/**
 * Cluster mode's outbox: a Redis stream with a consumer group. Any node adds events; one node
 * at a time, the holder of a lease, delivers them. A new holder claims what the old one had
 * read and not settled (XAUTOCLAIM), so a node that dies mid-delivery loses nothing: its
 * deliveries are taken over, at least once. Retry state lives in Redis too.
 */
export class RedisOutbox implements Outbox {
  private readonly redis: LeadRedis;
  /** Read and not yet settled, by room, oldest first (only while this node leads). */
  private readonly queues = new Map<string, OutboxEntry[]>();
  private leading = false;

  constructor(redis: Redis, private readonly nodeId: string, private readonly leaseMs: number, private readonly log: Logger) {
    redis.defineCommand('leadWebhooks', { numberOfKeys: 1, lua: LEAD });
    redis.defineCommand('addWebhook', { numberOfKeys: 3, lua: ADD });
    this.redis = redis as LeadRedis;
  }

  async add(event: WebhookEvent, maxPending: number) {
    const failure: FailedDelivery = { event, attempts: 0, lastError: `not queued: the tenant has ${maxPending} undelivered events (webhooks.maxPendingPerTenant)`, failedAt: new Date().toISOString() };
    const queued = await this.redis.addWebhook(keys.webhooks, keys.webhooksPending, keys.webhookFailures(event.tenant), event.tenant, JSON.stringify(event), maxPending, JSON.stringify(failure), MAX_FAILURES);
    return queued === 1;
  }

  /** Keeps the lease; on taking it, reads every unsettled entry of the group, whoever read it. */
  private async lead(): Promise<boolean> {
    const held = (await this.redis.leadWebhooks(keys.webhookLeader, this.nodeId, this.leaseMs)) === 1;
    if (!held) {
      if (this.leading) this.log.info('another node delivers webhooks now');
      this.leading = false;
      this.queues.clear();
      return false;
    }
    if (!this.leading) {
      this.leading = true;
      await this.redis.xgroup('CREATE', keys.webhooks, GROUP, '0', 'MKSTREAM').catch(() => undefined); // BUSYGROUP: exists
      let cursor = '0-0';
      do {
        // Entries other consumers read and never acknowledged (a dead leader's) become ours.
        const [next, claimed] = (await this.redis.xautoclaim(keys.webhooks, GROUP, this.nodeId, 0, cursor, 'COUNT', 500)) as [string, StreamEntry[]];
        for (const entry of claimed) await this.enqueue(entry);
        cursor = next;
      } while (cursor !== '0-0');
      this.log.info({ rooms: this.queues.size }, 'this node delivers webhooks now');
    }
    return true;
  }

  private async enqueue([id, fields]: StreamEntry) {
    const raw = fields[fields.indexOf('event') + 1];
    let event: WebhookEvent;
    try {
      event = JSON.parse(raw);
    } catch {
      await this.redis.multi().xack(keys.webhooks, GROUP, id).xdel(keys.webhooks, id).exec();
      return;
    }
    const state = await this.redis.hget(keys.webhookAttempts, id);
    const { attempts = 0, nextAt = 0 } = state ? JSON.parse(state) : {};
    const room = `${event.tenant}/${event.room}`;
    const queue = this.queues.get(room) ?? [];
    if (queue.some((e) => e.ref === id)) return;
    queue.push({ ref: id, event, attempts, nextAt });
    queue.sort((a, b) => compareIds(a.ref, b.ref));
    this.queues.set(room, queue);
  }

  /** New entries are read once per round, whichever tenant asks first. */
  private reading?: { at: number; done: Promise<boolean> };

  async due(tenant: string, now: number, limit: number): Promise<OutboxEntry[]> {
    if (!this.reading || this.reading.at !== now) this.reading = { at: now, done: this.read() };
    if (!(await this.reading.done)) return [];
    const heads: OutboxEntry[] = [];
    for (const queue of this.queues.values()) if (queue[0] && queue[0].event.tenant === tenant && queue[0].nextAt <= now) heads.push(queue[0]);
    return heads.sort((a, b) => a.nextAt - b.nextAt).slice(0, limit);
  }

  private async read() {
    if (!(await this.lead())) return false;
    const fresh = (await this.redis.xreadgroup('GROUP', GROUP, this.nodeId, 'COUNT', 500, 'STREAMS', keys.webhooks, '>')) as Array<[string, StreamEntry[]]> | null;
    for (const entry of fresh?.[0]?.[1] ?? []) await this.enqueue(entry);
    return true;
  }

  private settle(entry: OutboxEntry) {
    const room = `${entry.event.tenant}/${entry.event.room}`;
    const queue = this.queues.get(room);
    if (!queue) return;
    const rest = queue.filter((e) => e.ref !== entry.ref);
    if (rest.length) this.queues.set(room, rest);
    else this.queues.delete(room);
  }

  async delivered(entry: OutboxEntry) {
    const { event } = entry;
    const delivery: Delivery = { eventId: event.id, type: event.type, room: event.room, attempts: entry.attempts + 1, deliveredAt: new Date().toISOString() };
    await this.redis.multi().xack(keys.webhooks, GROUP, entry.ref).xdel(keys.webhooks, entry.ref).hdel(keys.webhookAttempts, entry.ref)
      .hincrby(keys.webhooksPending, event.tenant, -1)
      .lpush(keys.webhookDeliveries(event.tenant), JSON.stringify(delivery))
      .ltrim(keys.webhookDeliveries(event.tenant), 0, MAX_DELIVERIES - 1)
      .exec();
    this.settle(entry);
  }

  async deliveries(tenant: string, limit: number): Promise<Delivery[]> {
    return (await this.redis.lrange(keys.webhookDeliveries(tenant), 0, limit - 1)).map((raw) => JSON.parse(raw));
  }

  async resend(tenant: string, eventId: string, maxPending: number): Promise<Resent> {
    const raw = (await this.redis.lrange(keys.webhookFailures(tenant), 0, MAX_FAILURES - 1)).find((r) => (JSON.parse(r) as FailedDelivery).event.id === eventId);
    // LREM removes it once: of two nodes resending it at once, one gets 0 and queues nothing.
    if (!raw || (await this.redis.lrem(keys.webhookFailures(tenant), 1, raw)) !== 1) return 'missing';
    return (await this.add((JSON.parse(raw) as FailedDelivery).event, maxPending)) ? 'queued' : 'full';
  }

  async retry(entry: OutboxEntry, nextAt: number, error: string) {
    entry.attempts++;
    entry.nextAt = nextAt;
    await this.redis.hset(keys.webhookAttempts, entry.ref, JSON.stringify({ attempts: entry.attempts, nextAt, error: error.slice(0, 500) }));
  }

  async fail(entry: OutboxEntry, error: string) {
    const failed: FailedDelivery = { event: entry.event, attempts: entry.attempts + 1, lastError: error.slice(0, 500), failedAt: new Date().toISOString() };
    await this.redis.multi()
      .lpush(keys.webhookFailures(entry.event.tenant), JSON.stringify(failed))
      .ltrim(keys.webhookFailures(entry.event.tenant), 0, MAX_FAILURES - 1)
      .xack(keys.webhooks, GROUP, entry.ref)
      .xdel(keys.webhooks, entry.ref)
      .hdel(keys.webhookAttempts, entry.ref)
      .hincrby(keys.webhooksPending, entry.event.tenant, -1)
      .exec();
    this.settle(entry);
  }

  async failures(tenant: string, limit: number): Promise<FailedDelivery[]> {
    return (await this.redis.lrange(keys.webhookFailures(tenant), 0, limit - 1)).map((raw) => JSON.parse(raw));
  }

  async pending(): Promise<Record<string, number>> {
    const counts = await this.redis.hgetall(keys.webhooksPending).catch(() => ({}) as Record<string, string>);
    return Object.fromEntries(Object.entries(counts).map(([t, n]) => [t, Math.max(0, Number(n))]).filter(([, n]) => (n as number) > 0));
  }

  /** Lets the lease go (a node shutting down), so another node takes over at once. */
  async release() {
    if (!this.leading) return;
    this.leading = false;
    this.queues.clear();
    const holder = await this.redis.get(keys.webhookLeader).catch(() => null);
    if (holder === this.nodeId) await this.redis.del(keys.webhookLeader).catch(() => undefined);
  }
}

/** Stream ids are "<ms>-<seq>". */
function compareIds(a: string, b: string) {
  const [am, as] = a.split('-').map(Number);
  const [bm, bs] = b.split('-').map(Number);
  return am - bm || as - bs;
}
