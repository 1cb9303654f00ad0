import { CATEGORY_NAMES as NAMES, REMEDY_NAMES as REMEDIES } from '../contracts/records.js';

/**
 * The after-sales policy the assistant applies: the categories a problem falls into, whether a
 * category needs a photo as evidence, and its standard remedy. Change them here; the phrases
 * (phrases.ts) say them in each language.
 */
export const CATEGORIES = {
  damaged_in_transit: { label: 'damaged in transit', remedy: 'partial_refund', evidence: true },
  defective: { label: 'defective', remedy: 'replacement_part', evidence: true },
  wrong_item_or_size: { label: 'wrong item or size', remedy: 'return', evidence: true },
  how_to_use: { label: 'does not know how to use it', remedy: 'usage_guide', evidence: false },
  changed_mind: { label: 'changed their mind', remedy: 'return', evidence: false },
} as const satisfies Record<Category, { label: string; remedy: Remedy; evidence: boolean }>;

export type Category = (typeof NAMES)[number];
export type Remedy = (typeof REMEDIES)[number];
export const CATEGORY_NAMES: readonly Category[] = NAMES;
export const REMEDY_NAMES: readonly Remedy[] = REMEDIES;
