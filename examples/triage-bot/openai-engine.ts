import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { CATEGORIES, REMEDIES, type Category, type Conversation, type DialogueEngine, type Turn } from './engine.js';

/** What the model must answer each turn (JSON), checked before it is used. */
const Answer = Type.Object({
  say: Type.String({ minLength: 1, maxLength: 2000 }),
  category: Type.Union([...Object.keys(CATEGORIES).map((c) => Type.Literal(c)), Type.Null()]),
  snapshot: Type.Boolean(),
  done: Type.Boolean(),
  accepted: Type.Boolean(),
  handover: Type.Boolean(),
  orderId: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
  summary: Type.Union([Type.String({ maxLength: 2000 }), Type.Null()]),
});
type Answer = Static<typeof Answer>;
const check = TypeCompiler.Compile(Answer);

const SYSTEM = `You are the after-sales triage assistant of an online shop, in a live video call with a buyer.
Sort the buyer's problem into one category: ${Object.entries(CATEGORIES).map(([k, v]) => `${k} (${v.label})`).join(', ')}.
Ask for the order number if you do not have it. For ${Object.entries(CATEGORIES).filter(([, v]) => v.evidence).map(([k]) => k).join(', ')}, ask the buyer to hold the item up to the camera and set "snapshot" to true: a photo is taken when they answer.
Then propose the category's standard remedy: ${Object.entries(CATEGORIES).map(([k, v]) => `${k}: ${REMEDIES[v.remedy]}`).join(' ')}
Hand over to a human seller ("handover": true, "done": true) when the buyer asks for a person, refuses the remedy, or the problem fits no category.
When the buyer accepts the remedy, answer with "done": true, "accepted": true and a one-paragraph "summary" for the ticket.
Answer with one JSON object only: {"say": string, "category": string|null, "snapshot": boolean, "done": boolean, "accepted": boolean, "handover": boolean, "orderId": string|null, "summary": string|null}.`;

export interface ChatCompletionsOptions {
  /** The API's base URL, up to and including /v1 (OpenAI, or any compatible server). */
  baseUrl: string;
  apiKey: string;
  model: string;
  timeoutMs?: number;
}

/**
 * A dialogue engine on any OpenAI-compatible chat completions endpoint: the model holds the
 * conversation; its answers are checked against a schema, and anything it gets wrong hands
 * the buyer to a person instead of guessing.
 */
export class ChatCompletionsEngine implements DialogueEngine {
  constructor(private readonly options: ChatCompletionsOptions) {}

  greet(c: Conversation) {
    return this.turn(c, false);
  }

  reply(c: Conversation, snapshotTaken: boolean) {
    return this.turn(c, snapshotTaken);
  }

  private async turn(c: Conversation, snapshotTaken: boolean): Promise<Turn> {
    let answer: Answer;
    try {
      answer = await this.ask(c, snapshotTaken);
    } catch (err) {
      return {
        say: ['I am handing you over to a seller, who will join this call shortly.'],
        outcome: { category: null, remedy: null, accepted: false, handover: true, orderId: null, summary: `The assistant could not continue: ${(err as Error).message}` },
      };
    }
    const category = answer.category as Category | null;
    return {
      say: [answer.say],
      snapshot: answer.snapshot,
      outcome: answer.done ? {
        category, remedy: category ? CATEGORIES[category].remedy : null, accepted: answer.accepted, handover: answer.handover,
        orderId: answer.orderId, summary: answer.summary ?? answer.say,
      } : undefined,
    };
  }

  private async ask(c: Conversation, snapshotTaken: boolean): Promise<Answer> {
    const { baseUrl, apiKey, model, timeoutMs = 20_000 } = this.options;
    const facts = `The ticket: ${JSON.stringify(c.metadata)}. The buyer's name: ${c.buyerName || 'unknown'}.${snapshotTaken ? ' A photo of the item was just taken.' : ''}`;
    const res = await fetch(`${baseUrl.replace(/\/$/, '')}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model,
        response_format: { type: 'json_object' },
        messages: [
          { role: 'system', content: SYSTEM },
          { role: 'system', content: facts },
          ...c.transcript.map((m) => ({ role: m.from === 'buyer' ? 'user' : 'assistant', content: m.text })),
        ],
      }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) throw new Error(`the model answered HTTP ${res.status}`);
    const body = (await res.json()) as { choices?: Array<{ message?: { content?: string } }> };
    const content = body.choices?.[0]?.message?.content;
    if (!content) throw new Error('the model gave no answer');
    const parsed: unknown = JSON.parse(content);
    if (!check.Check(parsed)) throw new Error(`the model's answer does not fit the schema (${check.Errors(parsed).First()?.message})`);
    return parsed;
  }
}
