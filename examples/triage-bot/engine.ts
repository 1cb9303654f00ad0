/**
 * What a triage conversation decides, and the interface every dialogue engine implements.
 * The categories and remedies are the platform's after-sales policy; change them here.
 */
export const CATEGORIES = {
  damaged_in_transit: { label: 'damaged in transit', remedy: 'partial_refund', evidence: true },
  defective: { label: 'defective', remedy: 'replacement_part', evidence: true },
  wrong_item_or_size: { label: 'wrong item or size', remedy: 'return', evidence: true },
  how_to_use: { label: 'does not know how to use it', remedy: 'usage_guide', evidence: false },
  changed_mind: { label: 'changed their mind', remedy: 'return', evidence: false },
} as const satisfies Record<string, { label: string; remedy: Remedy; evidence: boolean }>;

export type Category = keyof typeof CATEGORIES;
export type Remedy = 'replacement_part' | 'partial_refund' | 'usage_guide' | 'return';

export const REMEDIES: Record<Remedy, string> = {
  replacement_part: 'We can send you a replacement part at no cost, and you keep the item.',
  partial_refund: 'We can refund part of the price right away, and you keep the item: no return shipping.',
  usage_guide: 'Here is the setup guide for your item, step by step; most questions are answered there.',
  return: 'You can return the item; we will send you a prepaid label.',
};

/** What the engine knows of the call (from the room's metadata) and of the conversation so far. */
export interface Conversation {
  buyerName: string;
  metadata: Record<string, unknown>;
  /** Everything said, oldest first. */
  transcript: Array<{ from: 'buyer' | 'bot'; text: string }>;
}

/** One turn of the bot: what it says, and what it needs done. */
export interface Turn {
  say: string[];
  /** Take a still of the buyer's camera when they answer (the evidence the category needs). */
  snapshot?: boolean;
  /** The triage is over: with a category and remedy, or handed to a human. */
  outcome?: Outcome;
}

export interface Outcome {
  category: Category | null;
  remedy: Remedy | null;
  /** The buyer accepted the remedy. */
  accepted: boolean;
  /** A human seller takes over (the buyer asked, or the bot could not classify). */
  handover: boolean;
  orderId: string | null;
  /** One paragraph for the ticket. */
  summary: string;
}

/** A dialogue engine: the rule-based one runs offline; another may call a language model. */
export interface DialogueEngine {
  greet(c: Conversation): Promise<Turn>;
  /** The buyer said something (the last entry of the transcript). */
  reply(c: Conversation, snapshotTaken: boolean): Promise<Turn>;
}
