import { CATEGORIES, CATEGORY_NAMES, REMEDY_NAMES, type Category, type Remedy } from './policy.js';
import type { Conversation, DialogueEngine, Outcome, Turn } from './dialogue.js';
import { phrasesFor } from './phrases.js';

export interface ChatEngineOptions {
  /** Up to and with /v1 (OpenAI, or any compatible server). */
  baseUrl: string;
  apiKey: string;
  model: string;
  timeoutMs?: number;
}

/** The tools the model may call, as chat completions declares them. */
const TOOLS = [
  { type: 'function', function: { name: 'take_snapshot', description: 'Take a photo of the buyer\'s camera when they answer: the evidence a damaged, defective or wrong item needs.', parameters: { type: 'object', properties: {}, additionalProperties: false } } },
  {
    type: 'function', function: {
      name: 'propose_remedy', description: 'Record the category of the problem and the remedy you are proposing in your message.',
      parameters: { type: 'object', properties: { category: { type: 'string', enum: CATEGORY_NAMES }, remedy: { type: 'string', enum: REMEDY_NAMES }, orderId: { type: 'string' } }, required: ['category', 'remedy'], additionalProperties: false },
    },
  },
  {
    type: 'function', function: {
      name: 'hand_over', description: 'A human seller takes over: the buyer asks for a person, refuses the remedy, or the problem fits no category.',
      parameters: { type: 'object', properties: { reason: { type: 'string' }, summary: { type: 'string', description: 'One paragraph for the seller, in English.' } }, required: ['reason', 'summary'], additionalProperties: false },
    },
  },
  {
    type: 'function', function: {
      name: 'end', description: 'The buyer accepted the remedy: the triage is over.',
      parameters: { type: 'object', properties: { summary: { type: 'string', description: 'One paragraph for the ticket, in English.' } }, required: ['summary'], additionalProperties: false },
    },
  },
];

const SYSTEM = (language: string) => `You are the after-sales assistant of an online shop, speaking with a buyer in a live video call. Your words are spoken aloud: keep each answer to one or two short sentences, in the buyer's language (${language}).
Sort the problem into one category: ${Object.entries(CATEGORIES).map(([k, v]) => `${k} (${v.label}, remedy ${v.remedy}${v.evidence ? ', needs a photo' : ''})`).join('; ')}.
Ask for the order number if you do not have it. When the category needs a photo, ask the buyer to hold the item up to the camera and call take_snapshot. Propose the category's remedy and call propose_remedy.
Call hand_over when the buyer asks for a person, refuses the remedy, or the problem fits no category; call end when the buyer accepts.`;

interface State { category: Category | null; remedy: Remedy | null; orderId: string | null; photo: boolean }
interface ToolCall { function?: { name?: string; arguments?: string } }

/**
 * A dialogue engine on any OpenAI-compatible chat completions endpoint, with tools: the model
 * holds the conversation, and its tool calls take the photo, record the remedy, hand over or
 * end. A failing or confused model hands the buyer to a person rather than guessing.
 */
export class ChatEngine implements DialogueEngine {
  private state: State = { category: null, remedy: null, orderId: null, photo: false };

  constructor(private readonly options: ChatEngineOptions) {}

  save(): State {
    return { ...this.state };
  }

  restore(state: unknown) {
    if (state && typeof state === 'object') this.state = { ...this.state, ...(state as Partial<State>) };
  }

  greet(c: Conversation) {
    return this.turn(c, false);
  }

  reply(c: Conversation, snapshotTaken: boolean) {
    if (snapshotTaken) this.state.photo = true;
    return this.turn(c, snapshotTaken);
  }

  private async turn(c: Conversation, snapshotTaken: boolean): Promise<Turn> {
    let message: { content?: string | null; tool_calls?: ToolCall[] };
    try {
      message = await this.ask(c, snapshotTaken);
    } catch (err) {
      return this.handOver(c, `The assistant could not go on: ${(err as Error).message}`);
    }
    const turn: Turn = { say: message.content?.trim() ? [message.content.trim()] : [] };
    for (const call of message.tool_calls ?? []) {
      let args: Record<string, unknown> = {};
      try {
        args = JSON.parse(call.function?.arguments || '{}');
      } catch {
        return this.handOver(c, `The model's call to ${call.function?.name} had arguments that are not JSON.`);
      }
      const name = call.function?.name;
      if (name === 'take_snapshot') turn.snapshot = true;
      else if (name === 'propose_remedy') {
        if (CATEGORY_NAMES.includes(args.category as Category)) this.state.category = args.category as Category;
        if (REMEDY_NAMES.includes(args.remedy as Remedy)) this.state.remedy = args.remedy as Remedy;
        if (typeof args.orderId === 'string') this.state.orderId = args.orderId;
      } else if (name === 'hand_over') turn.outcome = this.outcome(true, false, String(args.summary ?? args.reason ?? ''));
      else if (name === 'end') turn.outcome = this.outcome(false, true, String(args.summary ?? ''));
      else return this.handOver(c, `The model called a tool that does not exist (${name}).`);
    }
    if (turn.say.length === 0 && !turn.outcome && !turn.snapshot) return this.handOver(c, 'The model gave no answer.');
    return turn;
  }

  private handOver(c: Conversation, why: string): Turn {
    return { say: [phrasesFor(c.language).phrases.handingOver], outcome: this.outcome(true, false, why) };
  }

  private outcome(handover: boolean, accepted: boolean, summary: string): Outcome {
    const { category, remedy, orderId } = this.state;
    return { category, remedy, accepted, handover, orderId, summary: summary || (category ? `Category: ${CATEGORIES[category].label}.` : 'Category: not determined.') };
  }

  private async ask(c: Conversation, snapshotTaken: boolean) {
    const { baseUrl, apiKey, model, timeoutMs = 20_000 } = this.options;
    const facts = `The ticket: ${JSON.stringify(c.metadata)}. The buyer's name: ${c.buyerName || 'unknown'}.${this.state.orderId ? ` Order: ${this.state.orderId}.` : ''}${snapshotTaken ? ' A photo of the item was just taken.' : ''}`;
    const res = await fetch(`${baseUrl.replace(/\/$/, '')}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model,
        tools: TOOLS,
        messages: [
          { role: 'system', content: SYSTEM(c.language) },
          { role: 'system', content: facts },
          ...c.transcript.map((m) => ({ role: m.from === 'buyer' ? 'user' : 'assistant', content: m.text })),
        ],
      }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) throw new Error(`the model answered HTTP ${res.status}`);
    const body = (await res.json()) as { choices?: Array<{ message?: { content?: string | null; tool_calls?: ToolCall[] } }> };
    const message = body.choices?.[0]?.message;
    if (!message) throw new Error('the model gave no message');
    return message;
  }
}
