import { timingSafeEqual } from 'node:crypto';
import type { Config } from '../config/schema.js';

export const DEFAULT_TENANT = 'default';

/** One platform or shop system: its keys, where its events go, and what it may use. */
export interface Tenant {
  id: string;
  apiKeys: string[];
  webhook?: { url: string; secret: string };
  limits: { rooms: number; participantsPerRoom: number };
  /** Every room of this tenant is recorded from its start. */
  autoRecord: boolean;
  /** Its participants' media only through TURN. */
  forceRelay: boolean;
  /** The language of its participants whose token names none. */
  language: string;
  /** Captions: none, rooms created with captions on, or every room. */
  captions: 'off' | 'request' | 'all';
  /** Its speech engines beyond the offline ones. */
  speech: { openai?: Required<NonNullable<NonNullable<TenantEntry['speech']>['openai']>>; prefer: 'offline' | 'openai' };
  /** Its voice assistant (join: off when it has none). */
  assistant: Required<NonNullable<TenantEntry['assistant']>>;
  /** Its rate card, if it has one (usage is then priced). */
  rates?: Rates;
}

export type Rates = Required<NonNullable<TenantEntry['rates']>>;

type TenantEntry = Config['tenants'][number];

const sameSecret = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * The tenants of this node, from config: auth.apiKeys form the tenant "default" (merged with a
 * configured entry of that id), so a single node works with no tenant config at all.
 */
export class Tenants {
  private readonly byId = new Map<string, Tenant>();

  constructor(config: Pick<Config, 'tenants' | 'auth' | 'limits'>) {
    const entries = config.tenants.some((t) => t.id === DEFAULT_TENANT) ? config.tenants : [{ id: DEFAULT_TENANT }, ...config.tenants];
    for (const entry of entries) {
      const isDefault = entry.id === DEFAULT_TENANT;
      this.byId.set(entry.id, {
        id: entry.id,
        apiKeys: [...(isDefault ? config.auth.apiKeys : []), ...(entry.apiKeys ?? [])],
        webhook: entry.webhook,
        autoRecord: entry.recording?.auto ?? false,
        forceRelay: entry.forceRelay ?? false,
        language: entry.language ?? 'en',
        captions: entry.captions ?? 'request',
        speech: {
          prefer: entry.speech?.prefer ?? 'offline',
          ...(entry.speech?.openai ? {
            openai: { transcriptionModel: 'whisper-1', chatModel: 'gpt-4o-mini', speechModel: 'tts-1', voice: 'alloy', ...entry.speech.openai },
          } : {}),
        },
        assistant: {
          join: 'off', waitSeconds: 20, sellerWaitSeconds: 90, evidenceSeconds: 20, engine: 'rules', voice: 'espeak-ng', name: 'After-sales assistant', afterHandover: 'leave',
          ...entry.assistant,
        },
        ...(entry.rates ? {
          rates: { participantMinute: 0, recordingMinute: 0, egressGigabyte: 0, speechMinute: 0, agentMinute: 0, translationThousandCharacters: 0, ...entry.rates },
        } : {}),
        limits: {
          rooms: entry.limits?.rooms ?? config.limits.roomsPerTenant,
          participantsPerRoom: Math.min(entry.limits?.participantsPerRoom ?? config.limits.peersPerRoom, config.limits.peersPerRoom),
        },
      });
    }
  }

  get(id: string): Tenant | undefined {
    return this.byId.get(id);
  }

  all(): Tenant[] {
    return [...this.byId.values()];
  }

  /** The tenant an API key belongs to. Every key is compared in constant time. */
  byApiKey(key: string): Tenant | undefined {
    let found: Tenant | undefined;
    for (const tenant of this.byId.values()) for (const k of tenant.apiKeys) if (sameSecret(k, key)) found ??= tenant;
    return found;
  }
}
