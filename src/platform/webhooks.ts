import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logging/logger.js';
import type { DeliveryOutcome } from '../metrics/platform-metrics.js';
import type { Tenants } from '../tenants/tenants.js';
import { webhookBody, type WebhookData, type WebhookEvent, type WebhookEventType } from '../contracts/webhook-events.js';
import type { Outbox, OutboxEntry } from './store.js';

const POLL_MS = 200;


/** Builds an event for the outbox: a fresh id (the webhook-id receivers deduplicate on). */
export const webhookEvent = <T extends WebhookEventType>(tenant: string, room: string, type: T, data: WebhookData<T>): WebhookEvent =>
  ({ id: `evt_${randomUUID().replace(/-/g, '')}`, tenant, room, type, timestamp: new Date().toISOString(), data });

/**
 * Delivers the outbox to each tenant's webhook URL, signed the Standard Webhooks way
 * (webhook-id, webhook-timestamp, webhook-signature over the raw body). At least once: an
 * event leaves the outbox only after a 2xx, or after the last retry of webhooks.retryDelaysMs
 * (then it is kept as a failure the API lists). A room's events go one at a time, in order.
 *
 * Tenants do not wait on each other: each has its own share of deliveries in flight
 * (webhooks.concurrencyPerTenant, within webhooks.concurrency for the node), a poll starts
 * what is due and never waits for the attempts it started, so a receiver that never answers
 * holds only its own tenant's share, for webhooks.timeoutMs at a time.
 */
export class WebhookDeliverer {
  private timer?: NodeJS.Timeout;
  private polling?: Promise<void>;
  private stopped = false;
  private readonly signers = new Map<string, Webhook>();
  /** Events being written to the outbox: stop() waits for them. */
  private readonly adding = new Set<Promise<void>>();
  /** Attempts in flight, by tenant, and the rooms they are for (a room's next event waits for its last). */
  private readonly inFlight = new Map<string, Set<string>>();
  private readonly attempts = new Set<Promise<void>>();
  /** Tenants served first in the next poll, in turn. */
  private turn = 0;
  /** Cuts the attempts in flight short when the node stops (they are not retried now, but after the next start). */
  private stopping = new AbortController();

  constructor(
    private readonly outbox: Outbox,
    private readonly tenants: Tenants,
    private readonly config: Config['webhooks'],
    private readonly log: Logger,
    private readonly observe: (tenant: string, outcome: DeliveryOutcome) => void = () => undefined,
  ) {
    for (const t of tenants.all()) if (t.webhook) this.signers.set(t.id, new Webhook(t.webhook.secret));
  }

  /** Whether the tenant has a webhook: events of one that has none are not even built. */
  delivers(tenant: string) {
    return this.signers.has(tenant);
  }

  /** Queues an event, if its tenant has a webhook. Never throws: a failure is logged. */
  emit(event: WebhookEvent) {
    if (!this.delivers(event.tenant)) return;
    const adding = this.outbox.add(event, this.config.maxPendingPerTenant).then(
      (queued) => {
        if (!queued) {
          this.observe(event.tenant, 'failed');
          this.log.warn({ tenant: event.tenant, event: event.id, type: event.type }, 'webhook backlog full: the event is listed as failed, not queued');
        }
        this.kick();
      },
      (err) => this.log.error({ err: (err as Error).message, event: event.id, type: event.type }, 'could not queue a webhook event'),
    );
    this.adding.add(adding);
    void adding.finally(() => this.adding.delete(adding));
  }

  start() {
    this.stopped = false;
    if (this.stopping.signal.aborted) this.stopping = new AbortController();
    this.timer = setInterval(() => this.kick(), POLL_MS);
    this.timer.unref();
  }

  /** Polls now (after an emit, or an attempt settled), unless a poll is running. */
  kick() {
    if (this.stopped) return;
    this.polling ??= this.poll().catch((err) => this.log.warn({ err: (err as Error).message }, 'webhook poll failed; will retry')).finally(() => (this.polling = undefined));
  }

  async stop() {
    this.stopped = true;
    clearInterval(this.timer);
    await Promise.all(this.adding);
    await this.polling;
    this.stopping.abort();
    await Promise.all(this.attempts);
  }

  /** Starts what is due, tenant by tenant in turn, within each tenant's share and the node's. */
  private async poll() {
    const tenants = [...this.signers.keys()];
    if (tenants.length === 0) return;
    this.turn = (this.turn + 1) % tenants.length;
    const now = Date.now();
    for (let i = 0; i < tenants.length; i++) {
      const tenant = tenants[(this.turn + i) % tenants.length];
      const rooms = this.inFlight.get(tenant) ?? new Set<string>();
      const free = Math.min(this.config.concurrencyPerTenant - rooms.size, this.config.concurrency - this.running());
      if (free <= 0) continue;
      // Rooms in flight have their head in the answer too: ask for as many more.
      const due = await this.outbox.due(tenant, now, free + rooms.size);
      for (const entry of due.filter((e) => !rooms.has(e.event.room)).slice(0, free)) this.launch(entry);
    }
  }

  private running() {
    let n = 0;
    for (const rooms of this.inFlight.values()) n += rooms.size;
    return n;
  }

  private launch(entry: OutboxEntry) {
    const { tenant, room } = entry.event;
    const rooms = this.inFlight.get(tenant) ?? new Set<string>();
    this.inFlight.set(tenant, rooms);
    rooms.add(room);
    const attempt = this.attempt(entry)
      .catch((err) => this.log.warn({ err: (err as Error).message, event: entry.event.id }, 'webhook attempt failed; will retry'))
      .finally(() => {
        rooms.delete(room);
        if (rooms.size === 0) this.inFlight.delete(tenant);
        this.attempts.delete(attempt);
        this.kick();
      });
    this.attempts.add(attempt);
  }

  private async attempt(entry: OutboxEntry) {
    const { event } = entry;
    const tenant = this.tenants.get(event.tenant);
    const signer = this.signers.get(event.tenant);
    if (!tenant?.webhook || !signer) {
      // The tenant lost its webhook (config changed): nothing to deliver to.
      await this.outbox.fail(entry, 'the tenant has no webhook configured');
      this.observe(event.tenant, 'failed');
      return;
    }
    const body = webhookBody(event);
    const sentAt = new Date();
    let error: string;
    try {
      const res = await fetch(tenant.webhook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': event.id,
          'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
          'webhook-signature': signer.sign(event.id, sentAt, body),
          'user-agent': 'crossborder-sfu-webhooks/1',
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(this.config.timeoutMs), this.stopping.signal]),
      });
      await res.body?.cancel().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) {
        await this.outbox.delivered(entry);
        this.observe(event.tenant, 'delivered');
        return;
      }
      error = `HTTP ${res.status}`;
    } catch (err) {
      // The node is stopping: the event stays in the outbox as it was, for the next start.
      if (this.stopping.signal.aborted) return;
      error = (err as Error).name === 'TimeoutError' ? `no answer within ${this.config.timeoutMs} ms` : ((err as Error & { cause?: Error }).cause?.message ?? (err as Error).message);
    }
    const delays = this.config.retryDelaysMs;
    if (entry.attempts >= delays.length) {
      this.log.warn({ tenant: event.tenant, event: event.id, type: event.type, attempts: entry.attempts + 1, error }, 'webhook delivery failed for good');
      await this.outbox.fail(entry, error);
      this.observe(event.tenant, 'failed');
      return;
    }
    await this.outbox.retry(entry, Date.now() + delays[entry.attempts], error);
    this.observe(event.tenant, 'retried');
  }
}
