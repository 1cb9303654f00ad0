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
 * stays bounded; metrics.tenantLabels off keeps tenant ids off /metrics altogether.
 */
export function createPlatformMetrics(registry: Registry, pendingWebhooks: () => Promise<Record<string, number>>, { tenantLabels }: { tenantLabels: boolean }) {
  // Without tenant labels (metrics.tenantLabels off), the same series are the node's totals.
  const by = (...labels: string[]) => (tenantLabels ? ['tenant', ...labels] : labels);
  const t = (tenant: string) => (tenantLabels ? { tenant } : {});
  const seconds = new Counter({
    name: 'sfu_tenant_participant_seconds_total', help: 'Participant time by tenant (when metrics.tenantLabels is on) and role, counted when a participant leaves.',
    labelNames: by('role'), registers: [registry],
  });
  const media = new Counter({
    name: 'sfu_tenant_media_seconds_total', help: 'Published track time by tenant (when metrics.tenantLabels is on) and media kind, counted when the participant leaves.',
    labelNames: by('kind'), registers: [registry],
  });
  const bytes = new Counter({
    name: 'sfu_tenant_transport_bytes_total', help: 'Bytes moved by participants\' transports, by tenant (when metrics.tenantLabels is on) and direction (in: from participants).',
    labelNames: by('direction'), registers: [registry],
  });
  // The node's totals, from the same bounded sampling as the tenants' (UsageMeter): a scrape
  // reads counters, and costs the same with 10 peers or 10,000.
  const nodeBytes = {
    in: new Counter({ name: 'sfu_transport_received_bytes_total', help: 'Bytes received by participants\' transports (sampled a few participants a second).', registers: [registry] }),
    out: new Counter({ name: 'sfu_transport_sent_bytes_total', help: 'Bytes sent by participants\' transports (sampled a few participants a second).', registers: [registry] }),
  };
  const deliveries = new Counter({
    name: 'sfu_webhook_deliveries_total', help: 'Webhook delivery attempts by tenant (when metrics.tenantLabels is on) and outcome: delivered, retried, failed (for good, or not queued past webhooks.maxPendingPerTenant).',
    labelNames: by('outcome'), registers: [registry],
  });
  new Gauge({
    name: 'sfu_webhooks_pending', help: 'Webhook events not delivered yet, by tenant when metrics.tenantLabels is on (each within webhooks.maxPendingPerTenant).', labelNames: by(), registers: [registry],
    async collect() {
      const pending = await pendingWebhooks().catch(() => ({}));
      this.reset();
      if (!tenantLabels) return void this.set(Object.values(pending).reduce((a, b) => a + b, 0));
      for (const [tenant, n] of Object.entries(pending)) this.set({ tenant }, n);
    },
  });
  const usage: UsageCounters = {
    seconds: (tenant, role, s) => seconds.inc({ ...t(tenant), role }, s),
    media: (tenant, kind, s) => media.inc({ ...t(tenant), kind }, s),
    bytes: (tenant, direction, n) => {
      bytes.inc({ ...t(tenant), direction }, n);
      nodeBytes[direction].inc(n);
    },
  };
  return { usage, delivered: (tenant: string, outcome: DeliveryOutcome) => deliveries.inc({ ...t(tenant), outcome }) };
}
