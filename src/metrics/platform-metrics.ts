import { Counter, Gauge, type Registry } from 'prom-client';

/** What usage metering counts per tenant. */
export interface UsageCounters {
  seconds(tenant: string, role: string, seconds: number): void;
  media(tenant: string, kind: 'audio' | 'video', seconds: number): void;
  bytes(tenant: string, direction: 'in' | 'out', bytes: number): void;
}

export type DeliveryOutcome = 'delivered' | 'retried' | 'failed';

/**
 * Per-tenant usage and webhook delivery counters. Tenants come from config, so the label
 * stays bounded.
 */
export function createPlatformMetrics(registry: Registry, pendingWebhooks: () => number | Promise<number>) {
  const seconds = new Counter({
    name: 'sfu_tenant_participant_seconds_total', help: 'Participant time by tenant and role (counted when a participant leaves).',
    labelNames: ['tenant', 'role'], registers: [registry],
  });
  const media = new Counter({
    name: 'sfu_tenant_media_seconds_total', help: 'Published track time by tenant and media kind (counted when the participant leaves).',
    labelNames: ['tenant', 'kind'], registers: [registry],
  });
  const bytes = new Counter({
    name: 'sfu_tenant_transport_bytes_total', help: 'Bytes moved by participants\' transports, by tenant and direction (in: from participants).',
    labelNames: ['tenant', 'direction'], registers: [registry],
  });
  // The node's totals, from the same bounded sampling as the tenants' (UsageMeter): a scrape
  // reads counters, and costs the same with 10 peers or 10,000.
  const nodeBytes = {
    in: new Counter({ name: 'sfu_transport_received_bytes_total', help: 'Bytes received by participants\' transports (sampled a few participants a second).', registers: [registry] }),
    out: new Counter({ name: 'sfu_transport_sent_bytes_total', help: 'Bytes sent by participants\' transports (sampled a few participants a second).', registers: [registry] }),
  };
  const deliveries = new Counter({
    name: 'sfu_webhook_deliveries_total', help: 'Webhook delivery attempts by tenant and outcome: delivered, retried, failed (for good).',
    labelNames: ['tenant', 'outcome'], registers: [registry],
  });
  new Gauge({
    name: 'sfu_webhooks_pending', help: 'Webhook events waiting in this node\'s outbox.', registers: [registry],
    async collect() { this.set(await pendingWebhooks()); },
  });
  const usage: UsageCounters = {
    seconds: (tenant, role, s) => seconds.inc({ tenant, role }, s),
    media: (tenant, kind, s) => media.inc({ tenant, kind }, s),
    bytes: (tenant, direction, n) => {
      bytes.inc({ tenant, direction }, n);
      nodeBytes[direction].inc(n);
    },
  };
  return { usage, delivered: (tenant: string, outcome: DeliveryOutcome) => deliveries.inc({ tenant, outcome }) };
}
