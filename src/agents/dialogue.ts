import type { Category, Remedy } from './policy.js';

/**
 * The dialogue engine's side of the assistant: what it knows of the call, and what each turn
 * decides. An engine is plugged in per tenant (assistant.engine): the rules engine offline, a
 * chat model with tools, or a module of the platform's own (examples/custom-engine).
 */

/** What the engine knows of the call (the room's metadata) and of the conversation so far. */
export interface Conversation {
  buyerName: string;
  /** The buyer's language (BCP-47): the engine answers in it where it can. */
  language: string;
  metadata: Record<string, unknown>;
  /** Everything said, oldest first, as heard (speech recognised) or typed. */
  transcript: Array<{ from: 'buyer' | 'assistant'; text: string }>;
}

/** One turn of the assistant: what it says (in the buyer's language), and what it needs done. */
export interface Turn {
  say: string[];
  /** Take a still of the buyer's camera when they answer (the evidence the category needs). */
  snapshot?: boolean;
  /** The triage is over: settled with a remedy, or handed to a person. */
  outcome?: Outcome;
}

export interface Outcome {
  category: Category | null;
  remedy: Remedy | null;
  /** The buyer accepted the remedy. */
  accepted: boolean;
  /** A person takes over (the buyer asked, the problem fits no category, or the remedy needs one). */
  handover: boolean;
  orderId: string | null;
  /** One paragraph for the ticket and for the seller, in English (translated for a seller who reads another language). */
  summary: string;
}

export interface DialogueEngine {
  greet(c: Conversation): Promise<Turn>;
  /** The buyer said something (the last entry of the transcript); `snapshotTaken` if a photo was taken for it. */
  reply(c: Conversation, snapshotTaken: boolean): Promise<Turn>;
  /** What it must remember to go on in another worker (JSON, at most 32 KB). */
  save(): unknown;
  /** Goes on from what `save` gave (the conversation so far comes with each call). */
  restore(state: unknown): void;
}

/** What a custom engine's module is given (assistant.engine: "module:<path>" exports createEngine). */
export interface EngineContext {
  tenant: string;
  language: string;
  /** The tenant's OpenAI-compatible service, if it has one. */
  openai?: { baseUrl: string; apiKey: string; chatModel: string };
}
export type CreateEngine = (context: EngineContext) => DialogueEngine;
