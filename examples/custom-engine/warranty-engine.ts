/**
 * A dialogue engine of a platform's own, for the node's voice assistant: a warranty desk. It
 * reads the purchase date from the room's metadata (purchasedAt, set by POST /v1/rooms), offers
 * a free repair within the warranty, and hands everything else to a person. Turn it on for a
 * tenant with
 *
 *   "assistant": { "join": "buyer-joined", "engine": "module:examples/custom-engine/warranty-engine.ts" }
 *
 * The module exports createEngine; the agent worker calls it once per call with the tenant, the
 * buyer's language and the tenant's OpenAI-compatible service, if any. save() and restore() let
 * another worker go on from the same conversation.
 */
import type { Conversation, CreateEngine, DialogueEngine, Turn } from '../../src/agents/dialogue.js';

const WARRANTY_DAYS = 365;
const DAY_MS = 86_400_000;

class WarrantyEngine implements DialogueEngine {
  private asked = false;

  async greet(c: Conversation): Promise<Turn> {
    return { say: [`Hello ${c.buyerName}, this is the warranty desk. What is wrong with your item?`] };
  }

  async reply(c: Conversation): Promise<Turn> {
    const bought = Date.parse(String(c.metadata.purchasedAt ?? ''));
    const orderId = typeof c.metadata.orderId === 'string' ? c.metadata.orderId : null;
    const inWarranty = Number.isFinite(bought) && Date.now() - bought < WARRANTY_DAYS * DAY_MS;
    const problem = c.transcript.filter((t) => t.from === 'buyer').map((t) => t.text).join(' / ');
    if (!inWarranty) {
      return {
        say: ['This item is out of warranty. I am calling a seller for you.'],
        outcome: { category: 'defective', remedy: null, accepted: false, handover: true, orderId, summary: `Out of warranty. The buyer said: ${problem}.` },
      };
    }
    if (!this.asked) {
      this.asked = true;
      return { say: ['Your item is under warranty: we repair it for free. Shall I send you a prepaid label?'] };
    }
    const yes = /\b(yes|ok|sure|please)\b/i.test(c.transcript.at(-1)?.text ?? '');
    return {
      say: [yes ? 'Done: the label is on its way by email.' : 'I am calling a seller for you.'],
      outcome: { category: 'defective', remedy: yes ? 'replacement_part' : null, accepted: yes, handover: !yes, orderId, summary: `Under warranty; free repair ${yes ? 'accepted' : 'declined'}. The buyer said: ${problem}.` },
    };
  }

  save() {
    return { asked: this.asked };
  }

  restore(state: unknown) {
    this.asked = Boolean((state as { asked?: boolean } | null)?.asked);
  }
}

export const createEngine: CreateEngine = () => new WarrantyEngine();
