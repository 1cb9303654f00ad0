import type { Cost, Usage } from '../contracts/records.js';
import type { Rates } from '../tenants/tenants.js';

/** Money is kept to a millionth of the unit: a short call costs fractions of a cent, and the lines must add up. */
const money = (v: number) => Math.round(v * 1e6) / 1e6;
const quantity = (v: number) => Math.round(v * 1e6) / 1e6;

/** The line items of a rate card: what each counts in `Usage`, in the unit it is priced in. */
export const COST_LINES = [
  { item: 'participantMinutes', unit: 'minute', rate: 'participantMinute', of: (u: Usage) => Object.values(u.participantSeconds).reduce((a, b) => a + b, 0) / 60 },
  { item: 'recordingMinutes', unit: 'minute', rate: 'recordingMinute', of: (u: Usage) => u.recordingSeconds / 60 },
  { item: 'egressGigabytes', unit: 'GB', rate: 'egressGigabyte', of: (u: Usage) => u.bytesOut / 1e9 },
  { item: 'speechMinutes', unit: 'minute', rate: 'speechMinute', of: (u: Usage) => u.speechSeconds / 60 },
  { item: 'agentMinutes', unit: 'minute', rate: 'agentMinute', of: (u: Usage) => u.agentSeconds / 60 },
  { item: 'translationThousandCharacters', unit: '1000 characters', rate: 'translationThousandCharacters', of: (u: Usage) => u.translatedCharacters / 1000 },
] as const;

/** What each line of a rate card counts in `usage`, in its unit. */
export const quantities = (usage: Usage) => COST_LINES.map((l) => ({ item: l.item, unit: l.unit, rate: l.rate, quantity: quantity(l.of(usage)) }));

/** Usage priced with a tenant's rate card: each line's quantity, price and amount, and the total (null without a card). */
export function costOf(usage: Usage, rates: Rates | undefined): Cost | null {
  if (!rates) return null;
  const lines = quantities(usage).map(({ item, unit, rate, quantity: q }) => ({ item, unit, quantity: q, unitPrice: rates[rate], amount: money(q * rates[rate]) }));
  return { currency: rates.currency, lines, total: money(lines.reduce((a, l) => a + l.amount, 0)) };
}
