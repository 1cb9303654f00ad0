import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Conversation } from '../../src/agents/dialogue.js';
import { ChatEngine } from '../../src/agents/openai-engine.js';
import { findOrderId, RulesEngine } from '../../src/agents/rules-engine.js';
import { OpenAiStub } from '../helpers/openai-stub.js';

const conversation = (language: string, metadata: Record<string, unknown> = {}): Conversation => ({ buyerName: 'Ana', language, metadata, transcript: [] });
/** The buyer says `text`; the engine's answer. */
const say = async (engine: RulesEngine | ChatEngine, c: Conversation, text: string, snapshotTaken = false) => {
  c.transcript.push({ from: 'buyer', text });
  const turn = await engine.reply(c, snapshotTaken);
  for (const line of turn.say) c.transcript.push({ from: 'assistant', text: line });
  return turn;
};

describe('the rules engine', () => {
  it('sorts a problem into each category, in English, Spanish and Chinese', async () => {
    const cases: Array<[string, string, string]> = [
      ['en', 'it arrived broken', 'damaged_in_transit'], ['en', 'it does not work', 'defective'], ['en', 'it is the wrong size', 'wrong_item_or_size'],
      ['en', 'how do i set it up', 'how_to_use'], ['en', 'i change my mind', 'changed_mind'],
      ['es', 'llegó roto', 'damaged_in_transit'], ['es', 'no funciona', 'defective'], ['es', 'la talla es equivocada', 'wrong_item_or_size'],
      ['es', 'no sé cómo se instala', 'how_to_use'], ['es', 'cambié de opinión', 'changed_mind'],
      ['zh', '收到时已经裂了', 'damaged_in_transit'], ['zh', '开不了机', 'defective'], ['zh', '尺码太小了', 'wrong_item_or_size'],
      ['zh', '怎么安装', 'how_to_use'], ['zh', '我不想要了', 'changed_mind'],
    ];
    for (const [language, text, category] of cases) {
      const engine = new RulesEngine();
      const c = conversation(language, { orderId: 'A-1' });
      await engine.greet(c);
      await say(engine, c, text);
      expect((engine.save() as { category: string }).category, `${language}: ${text}`).toBe(category);
    }
  });

  it('asks in the buyer\'s language, takes a spoken order number, the photo, the yes; and hands over when asked', async () => {
    const engine = new RulesEngine();
    const c = conversation('es');
    expect((await engine.greet(c)).say[0]).toMatch(/^Hola Ana, soy el asistente de posventa/);
    expect((await say(engine, c, 'llegó roto')).say).toEqual(['¿De qué pedido se trata? Dígame el número de pedido, por favor.']);
    const photo = await say(engine, c, 'es el uno dos tres cuatro cinco');
    expect(photo).toMatchObject({ snapshot: true });
    expect((await say(engine, c, 'listo', true)).say[0]).toBe('Gracias, la foto está en su caso.');
    const done = await say(engine, c, 'sí');
    expect(done.outcome).toMatchObject({ category: 'damaged_in_transit', remedy: 'partial_refund', accepted: true, handover: false, orderId: '12345' });
    expect(done.outcome!.summary).toBe('Order 12345. Category: damaged in transit. A photo of the item is attached. Proposed: partial refund, accepted by the buyer.');

    const other = new RulesEngine();
    const c2 = conversation('zh', { orderId: 'A-9' });
    await other.greet(c2);
    const handover = await say(other, c2, '我要找人工客服');
    expect(handover).toMatchObject({ say: ['我正在为您呼叫卖家，请不要挂断。'], outcome: { handover: true, category: null } });
  });

  it('goes on from what it saved (another worker, the same conversation)', async () => {
    const first = new RulesEngine();
    const c = conversation('en', { orderId: 'A-1' });
    await first.greet(c);
    await say(first, c, 'it does not work');
    const second = new RulesEngine();
    second.restore(JSON.parse(JSON.stringify(first.save())));
    expect((await say(second, c, 'ready', true)).say).toEqual(['Thank you, the photo is in your ticket.', 'We can send you a replacement part at no cost, and you keep the item.', 'Does that work for you?']);
  });

  it('reads order numbers typed or spoken, and nothing else', () => {
    const en = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
    expect(findOrderId('it is A-1001', en)).toBe('A-1001');
    expect(findOrderId('my order number is one two three four five', en)).toBe('12345');
    expect(findOrderId('one two', en)).toBeNull();
    expect(findOrderId('订单一二三四五六', ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'])).toBe('123456');
  });
});

describe('the chat engine, with tools (against a stub that checks its requests)', () => {
  let stub: OpenAiStub;
  beforeAll(async () => {
    stub = await OpenAiStub.start();
  });
  afterAll(() => stub.close());
  const engine = () => new ChatEngine({ baseUrl: stub.baseUrl, apiKey: stub.apiKey, model: 'gpt-4o-mini' });
  const call = (name: string, args: object) => ({ id: `call_${name}`, type: 'function' as const, function: { name, arguments: JSON.stringify(args) } });

  it('says what the model says, and its tool calls take the photo, record the remedy and hand over', async () => {
    const e = engine();
    const c = conversation('es', { orderId: 'A-1' });
    stub.reply = () => ({ content: 'Hola, ¿qué pasó?' });
    expect(await e.greet(c)).toEqual({ say: ['Hola, ¿qué pasó?'] });
    stub.reply = () => ({ content: 'Muéstreme el artículo, por favor.', tool_calls: [call('take_snapshot', {})] });
    expect(await say(e, c, 'llegó roto')).toEqual({ say: ['Muéstreme el artículo, por favor.'], snapshot: true });
    stub.reply = () => ({ content: 'Le devolvemos parte del precio. ¿Le parece bien?', tool_calls: [call('propose_remedy', { category: 'damaged_in_transit', remedy: 'partial_refund', orderId: 'A-1' })] });
    await say(e, c, 'listo', true);
    stub.reply = () => ({ content: 'Le paso con un vendedor.', tool_calls: [call('hand_over', { reason: 'asked', summary: 'Damaged lid; the buyer wants a person.' })] });
    const turn = await say(e, c, 'quiero hablar con una persona');
    expect(turn.outcome).toEqual({ category: 'damaged_in_transit', remedy: 'partial_refund', accepted: false, handover: true, orderId: 'A-1', summary: 'Damaged lid; the buyer wants a person.' });
    // What the engine sent: the tools, the buyer's language, the conversation.
    const last = stub.requests.at(-1)!.json;
    expect(last.tools.map((t: any) => t.function.name)).toEqual(['take_snapshot', 'propose_remedy', 'hand_over', 'end']);
    expect(last.messages[0].content).toMatch(/in the buyer's language \(es\)/);
    expect(last.messages.at(-1)).toEqual({ role: 'user', content: 'quiero hablar con una persona' });
    expect(stub.problems).toEqual([]);
  });

  it('a failing or confused model hands the buyer to a person, in the buyer\'s language', async () => {
    const c = conversation('zh');
    stub.reply = () => ({ content: null, tool_calls: [call('refund_everything', {})] });
    expect((await engine().greet(c)).outcome).toMatchObject({ handover: true, summary: expect.stringMatching(/a tool that does not exist \(refund_everything\)/) });
    stub.reply = undefined;
    stub.failWith = 503;
    const turn = await engine().greet(c);
    stub.failWith = undefined;
    expect(turn).toMatchObject({ say: ['我正在为您呼叫卖家，请不要挂断。'], outcome: { handover: true, summary: expect.stringMatching(/HTTP 503/) } });
  });
});

describe('a tenant\'s own engine (assistant.engine: module:<path>)', () => {
  it('is loaded from its module and runs: examples/custom-engine', async () => {
    const { engineFor } = await import('../../src/agents/engines.js');
    const { Tenants } = await import('../../src/tenants/tenants.js');
    const { loadConfig } = await import('../../src/config/load.js');
    const tenants = new Tenants({ ...loadConfig({}), tenants: [{ id: 'shop', assistant: { join: 'buyer-joined', engine: 'module:examples/custom-engine/warranty-engine.ts' } }] });
    const engine = await engineFor(tenants.get('shop')!, 'en');
    const c = conversation('en', { orderId: 'A-1', purchasedAt: new Date(Date.now() - 30 * 86_400_000).toISOString() });
    expect((await engine.greet(c)).say[0]).toMatch(/warranty desk/);
    expect((await say(engine as RulesEngine, c, 'it stopped working')).say[0]).toMatch(/under warranty/);
    expect((await say(engine as RulesEngine, c, 'yes please')).outcome).toMatchObject({ accepted: true, remedy: 'replacement_part', orderId: 'A-1' });
    const broken = new Tenants({ ...loadConfig({}), tenants: [{ id: 'x', assistant: { join: 'request', engine: 'module:src/agents/policy.ts' } }] });
    await expect(engineFor(broken.get('x')!, 'en')).rejects.toThrow(/exports no createEngine/);
  });
});
