import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { waitFor, WeriftPeer } from '../helpers/werift-peer.js';

const KEY = 'shop-key-triage-0123456789abcdef';

/** Runs examples/triage-bot/bot.ts as its own process, as a platform would. */
function runBot(t: TestNode, room: string, env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/triage-bot/bot.ts', '--url', t.http, '--room', room], {
    env: { ...process.env, SFU_API_KEY: KEY, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<{ code: number | null; out: string; err: string }>((resolve) => child.on('close', (code) => resolve({ code, out, err })));
  return { child, exited };
}

/**
 * A buyer, scripted: it joins with video (the evidence) and a chat channel, waits for the bot
 * to finish each turn, answers with the next line, and reads what the bot said.
 */
async function converse(t: TestNode, room: string, metadata: Record<string, string>, lines: string[], env?: NodeJS.ProcessEnv) {
  const res = await fetch(`${t.http}/v1/rooms`, {
    method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ room, metadata, participants: [{ identity: 'buyer', name: 'Ana', role: 'buyer' }] }),
  });
  const { tokens } = await res.json();
  const bot = runBot(t, room, env);
  const buyer = await WeriftPeer.connect(t.ws, tokens[0].token);
  const said = () => buyer.messages.map((m) => JSON.parse(m).text as string);
  try {
    await buyer.publish({ audio: false, video: true, data: true });
    await buyer.subscribe({ consumers: 0, dataConsumers: 1 });
    /** The bot's turn is over once it has said something new and then nothing for a moment. */
    const turn = async (before: number) => {
      await waitFor(() => buyer.messages.length > before, 'the bot to answer', 20_000);
      for (let n = buyer.messages.length; ; n = buyer.messages.length) {
        await new Promise((r) => setTimeout(r, 400));
        if (buyer.messages.length === n) return;
      }
    };
    await turn(0);
    for (const line of lines) {
      const before = buyer.messages.length;
      buyer.sendMessage(JSON.stringify({ type: 'chat', text: line, at: Date.now() }));
      if (line !== lines.at(-1)) await turn(before);
    }
    const { code, out, err } = await bot.exited;
    expect(code, err).toBe(0);
    const outcome = JSON.parse(out.trim().split('\n').at(-1)!);
    await waitFor(() => buyer.messages.length > 0, 'last words');
    // The note is in the call's record once the call ends.
    await fetch(`${t.http}/v1/rooms/${room}`, { method: 'DELETE', headers: { authorization: `Bearer ${KEY}` } });
    let record: any;
    await waitFor(async () => {
      record = (await (await fetch(`${t.http}/v1/calls?metadata.ticketId=${metadata.ticketId}`, { headers: { authorization: `Bearer ${KEY}` } })).json()).calls[0];
      return Boolean(record);
    }, 'the call record');
    return { outcome, said: said(), record };
  } finally {
    bot.child.kill();
    await buyer.close();
  }
}

describe('the reference triage bot (examples/triage-bot)', () => {
  let t: TestNode;
  beforeAll(async () => {
    t = await startTestNode({ tenants: [{ id: 'shop', apiKeys: [KEY] }] });
  });
  afterAll(() => t?.close());

  it.each([
    ['damaged_in_transit', 'partial_refund', ['My lamp arrived with a cracked base', 'ready', 'yes'], true],
    ['defective', 'replacement_part', ['It does not turn on at all', 'ready', 'yes please'], true],
    ['wrong_item_or_size', 'return', ['They sent the wrong size, it is too small', 'ready', 'ok'], true],
    ['how_to_use', 'usage_guide', ['How do I set it up? I cannot figure out the instructions', 'yes'], false],
    ['changed_mind', 'return', ['I changed my mind, I do not need it anymore', 'yes'], false],
  ] as const)('reaches %s, proposes %s, and writes the summary into the record', async (category, remedy, lines, evidence) => {
    const ticketId = `T-${category}`;
    const { outcome, said, record } = await converse(t, `triage-${category.replace(/_/g, '-')}`, { orderId: 'A-1001', ticketId }, [...lines]);
    expect(said[0]).toMatch(/^Hi Ana, I'm the after-sales assistant for order A-1001/);
    expect(outcome).toMatchObject({ category, remedy, accepted: true, handover: false, orderId: 'A-1001' });
    const note = record.notes.find((n: { kind: string }) => n.kind === 'triage');
    expect(note).toMatchObject({ author: 'triage-bot', data: { category, remedy, accepted: true, handover: false, orderId: 'A-1001' } });
    expect(note.text).toContain(`Proposed: ${remedy.replace('_', ' ')}, accepted by the buyer`);
    if (evidence) {
      expect(said.some((s) => /hold the item up to your camera/.test(s))).toBe(true);
      expect(note.data.snapshotId).toBe(record.snapshots[0].snapshotId);
      expect(record.snapshots[0]).toMatchObject({ identity: 'buyer', takenBy: 'triage-bot', width: 320, height: 240 });
    } else {
      expect(note.data.snapshotId).toBeNull();
      expect(record.snapshots).toEqual([]);
    }
  }, 90_000);

  it('asks for the order number when the ticket has none', async () => {
    const { outcome, said } = await converse(t, 'triage-no-order', { ticketId: 'T-no-order' }, ['How do I install it?', 'It is order B-2002', 'yes']);
    expect(said.some((s) => /order number/.test(s))).toBe(true);
    expect(outcome).toMatchObject({ category: 'how_to_use', orderId: 'B-2002', accepted: true });
  }, 90_000);

  it('hands over to a seller when asked, and when it cannot tell the problem', async () => {
    const asked = await converse(t, 'triage-human', { orderId: 'A-1', ticketId: 'T-human' }, ['I want to talk to a human']);
    expect(asked.outcome).toMatchObject({ handover: true, category: null });
    expect(asked.said.at(-1)).toMatch(/handing you over to a seller/);
    expect(asked.record.notes[0].data).toMatchObject({ handover: true });
    const unclear = await converse(t, 'triage-unclear', { orderId: 'A-2', ticketId: 'T-unclear' }, ['hmm', 'well, whatever']);
    expect(unclear.outcome).toMatchObject({ handover: true, category: null });
    expect(unclear.record.notes[0].text).toMatch(/could not be sorted/);
  }, 120_000);

  describe('with the OpenAI-compatible engine, against a local stub of the chat completions API', () => {
    let stub: http.Server;
    let baseUrl: string;
    const requests: any[] = [];
    let broken = false;

    beforeAll(async () => {
      // Answers like a model would for this one conversation, keyed on the buyer's last words.
      stub = http.createServer((req, res) => {
        let body = '';
        req.on('data', (d) => (body += d));
        req.on('end', () => {
          const parsed = JSON.parse(body);
          requests.push({ url: req.url, auth: req.headers.authorization, body: parsed });
          const last = [...parsed.messages].reverse().find((m: { role: string }) => m.role === 'user')?.content ?? '';
          const answer = (a: object) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ choices: [{ message: { role: 'assistant', content: broken ? 'not json' : JSON.stringify(a) } }] }));
          const base = { category: null, snapshot: false, done: false, accepted: false, handover: false, orderId: 'A-1001', summary: null };
          if (!last) return answer({ ...base, say: 'Hello Ana, what happened to your order?' });
          if (/cracked/.test(last)) return answer({ ...base, category: 'damaged_in_transit', snapshot: true, say: 'Sorry! Please show me the crack on camera, then say ready.' });
          if (/ready/.test(last)) return answer({ ...base, category: 'damaged_in_transit', say: 'Thanks for the photo. We can refund part of the price and you keep it. OK?' });
          return answer({ ...base, category: 'damaged_in_transit', done: true, accepted: true, say: 'Done!', summary: 'Cracked base in transit; photo taken; partial refund accepted.' });
        });
      });
      await new Promise<void>((r) => stub.listen(0, '127.0.0.1', r));
      baseUrl = `http://127.0.0.1:${(stub.address() as AddressInfo).port}/v1`;
    });
    afterAll(() => new Promise((r) => stub.close(r)));

    it('holds the conversation through the model, with the evidence, and records its summary', async () => {
      const env = { TRIAGE_ENGINE: 'openai', OPENAI_BASE_URL: baseUrl, OPENAI_API_KEY: 'test-model-key', OPENAI_MODEL: 'triage-small' };
      const { outcome, said, record } = await converse(t, 'triage-llm', { orderId: 'A-1001', ticketId: 'T-llm' }, ['the base is cracked', 'ready', 'yes'], env);
      expect(said).toEqual(['Hello Ana, what happened to your order?', 'Sorry! Please show me the crack on camera, then say ready.', 'Thanks for the photo. We can refund part of the price and you keep it. OK?', 'Done!']);
      expect(outcome).toMatchObject({ category: 'damaged_in_transit', remedy: 'partial_refund', accepted: true, summary: 'Cracked base in transit; photo taken; partial refund accepted.' });
      expect(record.snapshots).toHaveLength(1);
      expect(record.notes[0].data).toMatchObject({ category: 'damaged_in_transit', snapshotId: record.snapshots[0].snapshotId });
      expect(requests.every((r) => r.url === '/v1/chat/completions' && r.auth === 'Bearer test-model-key' && r.body.model === 'triage-small')).toBe(true);
      expect(requests[0].body.messages[0]).toMatchObject({ role: 'system', content: expect.stringContaining('damaged_in_transit') });
      expect(requests.at(-1).body.messages.filter((m: { role: string }) => m.role === 'user').map((m: { content: string }) => m.content)).toEqual(['the base is cracked', 'ready', 'yes']);
    }, 90_000);

    it('a model that answers nonsense hands the buyer to a person instead of guessing', async () => {
      broken = true;
      const env = { TRIAGE_ENGINE: 'openai', OPENAI_BASE_URL: baseUrl, OPENAI_API_KEY: 'test-model-key', OPENAI_MODEL: 'triage-small' };
      const { outcome, said } = await converse(t, 'triage-llm-broken', { orderId: 'A-1001', ticketId: 'T-llm-broken' }, [], env);
      broken = false;
      expect(outcome).toMatchObject({ handover: true, summary: expect.stringContaining('could not continue') });
      expect(said).toEqual(['I am handing you over to a seller, who will join this call shortly.']);
    }, 60_000);
  });
});
