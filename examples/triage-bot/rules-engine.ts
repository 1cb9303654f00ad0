import { CATEGORIES, REMEDIES, type Category, type Conversation, type DialogueEngine, type Outcome, type Turn } from './engine.js';

/** Words that sort a problem into a category, checked in this order. */
const KEYWORDS: Array<[Category, RegExp]> = [
  ['changed_mind', /changed my mind|don'?t (want|need) it|no longer (want|need)|not needed anymore/i],
  ['how_to_use', /how (do|can|to) |set ?up|install|instructions|manual|can'?t figure|does not know|don'?t know how/i],
  ['wrong_item_or_size', /wrong|size|too (small|big|large|tight|loose)|different (colou?r|model|item)|not what i ordered/i],
  ['damaged_in_transit', /crack|broken|smash|dent|scratch|damaged|arrived (broken|damaged)|shipping|in transit|torn/i],
  ['defective', /does ?n[o']t (work|turn on|charge|start)|not working|stopped working|won'?t (turn on|start|charge)|faulty|defect|dead|no power/i],
];
const HUMAN = /human|real person|agent|seller|somebody|someone|speak to|talk to/i;
const YES = /^(y|yes|yeah|yep|ok|okay|sure|sounds good|fine|please|accept)\b/i;
const NO = /^(n|no|nope|not really|i don'?t|decline)\b/i;
const ORDER_ID = /\b([A-Z]{1,4}-?\d{3,}|\d{5,})\b/i;

type Step = 'problem' | 'order' | 'evidence' | 'proposal' | 'done';

/**
 * The offline engine: keywords sort the problem, then it asks for the order number if the
 * ticket lacks one, asks the buyer to show the item where the category needs evidence,
 * proposes the category's remedy, and hands over to a seller when asked or when it cannot tell.
 */
export class RulesEngine implements DialogueEngine {
  private step: Step = 'problem';
  private category: Category | null = null;
  private orderId: string | null = null;
  private misses = 0;
  private evidence = false;

  async greet(c: Conversation): Promise<Turn> {
    const order = typeof c.metadata.orderId === 'string' ? c.metadata.orderId : null;
    this.orderId = order;
    const name = c.buyerName ? ` ${c.buyerName}` : '';
    return { say: [`Hi${name}, I'm the after-sales assistant${order ? ` for order ${order}` : ''}. What went wrong with your item?`] };
  }

  async reply(c: Conversation, snapshotTaken: boolean): Promise<Turn> {
    const text = c.transcript.at(-1)?.text.trim() ?? '';
    if (this.step !== 'done' && HUMAN.test(text) && !(this.step === 'proposal' && YES.test(text))) return this.handover('The buyer asked for a person.');
    switch (this.step) {
      case 'problem': {
        this.category = KEYWORDS.find(([, re]) => re.test(text))?.[0] ?? null;
        if (!this.category) {
          this.misses++;
          if (this.misses >= 2) return this.handover('The problem could not be sorted into a category.');
          return { say: ['Could you tell me a little more? Is the item damaged, not working, the wrong item or size, or are you unsure how to use it?'] };
        }
        return this.next();
      }
      case 'order': {
        const found = ORDER_ID.exec(text)?.[1];
        if (!found) return { say: ['I need the order number to go on: it is in your order confirmation, for example A-1001.'] };
        this.orderId = found.toUpperCase();
        return this.next();
      }
      case 'evidence':
        this.evidence = snapshotTaken;
        return this.next(snapshotTaken ? ['Thank you, I have added the photo to your ticket.'] : ['I could not capture a photo; a seller may ask you for one later.']);
      case 'proposal': {
        if (YES.test(text)) return this.finish(true, ['Great, it is arranged. You will get a confirmation by email. Anything else, just write here.']);
        if (NO.test(text)) return this.handover('The buyer did not accept the proposed remedy.');
        return { say: ['Does that work for you? Please answer yes or no.'] };
      }
      default:
        return { say: [] };
    }
  }

  /** The next question, in order: the order number, the evidence, then the proposal. */
  private next(prefix: string[] = []): Turn {
    const category = this.category!;
    if (!this.orderId) {
      this.step = 'order';
      return { say: [...prefix, 'Which order is it about? Please give me the order number.'] };
    }
    if (CATEGORIES[category].evidence && this.step !== 'evidence') {
      this.step = 'evidence';
      return { say: [...prefix, 'Please hold the item up to your camera so that I can take a photo of it, then write "ready".'], snapshot: true };
    }
    this.step = 'proposal';
    return { say: [...prefix, REMEDIES[CATEGORIES[category].remedy], 'Does that work for you?'] };
  }

  private finish(accepted: boolean, say: string[]): Turn {
    this.step = 'done';
    const category = this.category!;
    const remedy = CATEGORIES[category].remedy;
    return { say, outcome: this.outcome({ category, remedy, accepted, handover: false }) };
  }

  private handover(why: string): Turn {
    this.step = 'done';
    return {
      say: ['I am handing you over to a seller, who will join this call shortly.'],
      outcome: this.outcome({ category: this.category, remedy: this.category ? CATEGORIES[this.category].remedy : null, accepted: false, handover: true }, why),
    };
  }

  private outcome(o: Omit<Outcome, 'orderId' | 'summary'>, why?: string): Outcome {
    const parts = [
      o.category ? `Category: ${CATEGORIES[o.category].label}.` : 'Category: not determined.',
      this.evidence ? 'A photo of the item is attached.' : '',
      o.remedy ? `Proposed: ${o.remedy.replace('_', ' ')}${o.accepted ? ', accepted by the buyer' : ''}.` : '',
      o.handover ? `Handed over to a seller: ${why}` : '',
    ];
    return { ...o, orderId: this.orderId, summary: parts.filter(Boolean).join(' ') };
  }
}
