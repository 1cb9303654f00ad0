import { CATEGORIES, type Category } from './policy.js';
import type { Conversation, DialogueEngine, Outcome, Turn } from './dialogue.js';
import { phrasesFor, type Phrases } from './phrases.js';

interface Words {
  /** Words that sort a problem into a category, checked in this order. */
  categories: Array<[Category, RegExp]>;
  human: RegExp;
  yes: RegExp;
  no: RegExp;
  /** Spoken digits, in order 0-9 (a recogniser writes "one two three", not "123"). */
  digits: string[];
}

const WORDS: Record<string, Words> = {
  en: {
    categories: [
      ['changed_mind', /chang(e|ed|ing) my mind|don'?t (want|need) it|no longer (want|need)|not needed anymore/i],
      ['how_to_use', /how (do|can|to|should) |set ?(it )?up|install|instructions|manual|can'?t figure|don'?t know how/i],
      ['wrong_item_or_size', /wrong|size|too (small|big|large|tight|loose)|different (colou?r|model|item)|not what i ordered/i],
      ['damaged_in_transit', /crack|broken|smash|dent|scratch|damaged|arrived (broken|damaged)|shipping|in transit|torn/i],
      ['defective', /does ?n[o']t (work|turn on|charge|start)|does not work|not working|stopped working|won'?t (turn on|start|charge)|faulty|defect|dead|no power/i],
    ],
    human: /human|real person|a person|agent|seller|somebody|someone|speak to|talk to/i,
    yes: /^(y|yes|yeah|yep|ok|okay|sure|sounds good|fine|please|accept|ready|that works)\b/i,
    no: /^(n|no|nope|not really|i don'?t|decline)\b/i,
    digits: ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'],
  },
  es: {
    categories: [
      ['changed_mind', /cambi[eé] de (opini[oó]n|idea)|ya no (lo |la )?(quiero|necesito)|no (lo |la )?necesito/i],
      ['how_to_use', /c[oó]mo (se )?(usa|instala|configura|monta|funciona)|instrucciones|manual|no s[eé] c[oó]mo/i],
      ['wrong_item_or_size', /equivocad|incorrect|talla|tamaño|demasiado (pequeñ|grande|corto|largo)|otro (color|modelo)|no es lo que ped/i],
      ['damaged_in_transit', /rot[oa]|rajad|agrietad|da[ñn]ad|golpead|rayad|abollad|lleg[oó] (roto|mal)|transporte/i],
      ['defective', /no funciona|no enciende|no carga|dej[oó] de funcionar|defectuos|averiad/i],
    ],
    human: /humano|una persona|vendedor|agente|hablar con/i,
    // (\b is ASCII-only in JavaScript: "sí" would never end a word.)
    yes: /^(s[ií]|vale|claro|de acuerdo|ok|por favor|acepto|listo|lista)(?!\p{L})/iu,
    no: /^(no|nop|para nada)(?!\p{L})/iu,
    digits: ['cero', 'uno', 'dos', 'tres', 'cuatro', 'cinco', 'seis', 'siete', 'ocho', 'nueve'],
  },
  zh: {
    categories: [
      ['changed_mind', /不想要|不需要了|改变主意|改主意/],
      ['how_to_use', /怎么(用|安装|设置|使用)|说明书|不会用/],
      ['wrong_item_or_size', /发错|错了|不对|尺寸|尺码|太(小|大)|不是我订的/],
      ['defective', /不工作|不能用|用不了|开不了机|不充电|没反应|故障|失灵/],
      ['damaged_in_transit', /破|碎|裂|坏了|损坏|划痕|凹|运输/],
    ],
    human: /人工|真人|卖家|客服|转接/,
    yes: /^(是|好|对|可以|行|同意|嗯)/,
    no: /^(不|没有|不要|不行)/,
    digits: ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'],
  },
};

const ORDER_ID = /\b([A-Z]{1,4}-?\d{3,}|\d{5,})\b/i;

/** An order number typed ("A-1001", "12345") or spoken digit by digit ("one two three four five"). */
export function findOrderId(text: string, digits: string[]): string | null {
  const typed = ORDER_ID.exec(text)?.[1];
  if (typed) return typed.toUpperCase();
  let spoken = '';
  const words = digits[0].length === 1 ? [...text] : text.toLowerCase().split(/[^\p{L}\d]+/u);
  for (const w of words) {
    const d = w === 'oh' ? 0 : digits.indexOf(w);
    if (d >= 0) spoken += d;
    else if (/^\d$/.test(w)) spoken += w;
  }
  return spoken.length >= 5 ? spoken : null;
}

type Step = 'problem' | 'order' | 'evidence' | 'proposal' | 'done';
interface State { step: Step; category: Category | null; orderId: string | null; misses: number; evidence: boolean }

/**
 * The offline engine: words in the buyer's language (English, Spanish or Chinese) sort the
 * problem; then it asks for the order number if the ticket lacks one, asks the buyer to show
 * the item where the category needs evidence, proposes the category's remedy, and hands over
 * to a seller when asked, when it cannot tell, or when the remedy is refused.
 */
export class RulesEngine implements DialogueEngine {
  private state: State = { step: 'problem', category: null, orderId: null, misses: 0, evidence: false };

  save(): State {
    return { ...this.state };
  }

  restore(state: unknown) {
    const s = state as Partial<State> | null;
    if (s && typeof s.step === 'string') this.state = { ...this.state, ...s };
  }

  private words(c: Conversation) {
    return WORDS[phrasesFor(c.language).language] ?? WORDS.en;
  }

  async greet(c: Conversation): Promise<Turn> {
    const order = typeof c.metadata.orderId === 'string' ? c.metadata.orderId : null;
    this.state.orderId ??= order;
    return { say: [phrasesFor(c.language).phrases.greeting(c.buyerName, order)] };
  }

  async reply(c: Conversation, snapshotTaken: boolean): Promise<Turn> {
    const text = c.transcript.at(-1)?.text.trim() ?? '';
    const w = this.words(c);
    const p = phrasesFor(c.language).phrases;
    const s = this.state;
    if (s.step !== 'done' && w.human.test(text) && !(s.step === 'proposal' && w.yes.test(text))) return this.handover(p, 'The buyer asked for a person.');
    switch (s.step) {
      case 'problem': {
        s.category = w.categories.find(([, re]) => re.test(text))?.[0] ?? null;
        if (!s.category) {
          s.misses++;
          if (s.misses >= 2) return this.handover(p, 'The problem could not be sorted into a category.');
          return { say: [p.tellMore] };
        }
        return this.next(p);
      }
      case 'order': {
        const found = findOrderId(text, w.digits);
        if (!found) return { say: [p.orderMissing] };
        s.orderId = found;
        return this.next(p);
      }
      case 'evidence':
        s.evidence = snapshotTaken;
        return this.next(p, [snapshotTaken ? p.photoAdded : p.noPhoto]);
      case 'proposal': {
        if (w.yes.test(text)) return this.finish([p.arranged]);
        if (w.no.test(text)) return this.handover(p, 'The buyer did not accept the proposed remedy.');
        return { say: [p.yesOrNo] };
      }
      default:
        return { say: [] };
    }
  }

  /** The next question, in order: the order number, the evidence, then the proposal. */
  private next(p: Phrases, prefix: string[] = []): Turn {
    const s = this.state;
    const category = s.category!;
    if (!s.orderId) {
      s.step = 'order';
      return { say: [...prefix, p.askOrder] };
    }
    if (CATEGORIES[category].evidence && s.step !== 'evidence') {
      s.step = 'evidence';
      return { say: [...prefix, p.askPhoto], snapshot: true };
    }
    s.step = 'proposal';
    return { say: [...prefix, p.remedy[CATEGORIES[category].remedy], p.doesThatWork] };
  }

  private finish(say: string[]): Turn {
    this.state.step = 'done';
    const category = this.state.category!;
    return { say, outcome: this.outcome({ category, remedy: CATEGORIES[category].remedy, accepted: true, handover: false }) };
  }

  private handover(p: Phrases, why: string): Turn {
    this.state.step = 'done';
    const category = this.state.category;
    return { say: [p.handingOver], outcome: this.outcome({ category, remedy: category ? CATEGORIES[category].remedy : null, accepted: false, handover: true }, why) };
  }

  private outcome(o: Omit<Outcome, 'orderId' | 'summary'>, why?: string): Outcome {
    const s = this.state;
    const parts = [
      s.orderId ? `Order ${s.orderId}.` : 'No order number.',
      o.category ? `Category: ${CATEGORIES[o.category].label}.` : 'Category: not determined.',
      s.evidence ? 'A photo of the item is attached.' : '',
      o.remedy ? `Proposed: ${o.remedy.replace('_', ' ')}${o.accepted ? ', accepted by the buyer' : ''}.` : '',
      o.handover ? `Handed over to a seller: ${why}` : '',
    ];
    return { ...o, orderId: s.orderId, summary: parts.filter(Boolean).join(' ') };
  }
}
