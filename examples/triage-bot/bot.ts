/**
 * The reference triage bot, as a program: it joins one room, triages the buyer, writes its
 * summary into the call record, prints the outcome as JSON and leaves.
 *
 *   SFU_API_KEY=<tenant key> node --import tsx examples/triage-bot/bot.ts --url http://localhost:8080 --room ticket-T-5531
 *
 * TRIAGE_ENGINE=rules (the default, offline) or openai, with OPENAI_BASE_URL (…/v1),
 * OPENAI_API_KEY and OPENAI_MODEL for any OpenAI-compatible chat completions endpoint.
 */
import { parseArgs } from 'node:util';
import type { DialogueEngine } from './engine.js';
import { ChatCompletionsEngine } from './openai-engine.js';
import { RulesEngine } from './rules-engine.js';
import { TriageBot } from './triage-bot.js';

const { values } = parseArgs({ options: { url: { type: 'string' }, room: { type: 'string' }, identity: { type: 'string' } } });
const apiKey = process.env.SFU_API_KEY;
if (!values.url || !values.room || !apiKey) {
  console.error('usage: SFU_API_KEY=<key> node --import tsx examples/triage-bot/bot.ts --url <node url> --room <room> [--identity triage-bot]');
  process.exit(64);
}

function engine(): () => DialogueEngine {
  const kind = process.env.TRIAGE_ENGINE ?? 'rules';
  if (kind === 'rules') return () => new RulesEngine();
  if (kind === 'openai') {
    const { OPENAI_BASE_URL: baseUrl, OPENAI_API_KEY: key, OPENAI_MODEL: model } = process.env;
    if (!baseUrl || !key || !model) {
      console.error('TRIAGE_ENGINE=openai needs OPENAI_BASE_URL, OPENAI_API_KEY and OPENAI_MODEL');
      process.exit(64);
    }
    return () => new ChatCompletionsEngine({ baseUrl, apiKey: key, model });
  }
  console.error(`unknown TRIAGE_ENGINE ${kind}: rules or openai`);
  process.exit(64);
}

const bot = await TriageBot.start({ url: values.url, apiKey, room: values.room, identity: values.identity, engine: engine(), log: (l) => console.error(`[triage-bot] ${l}`) });
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void bot.stop().then(() => process.exit(130)));
try {
  console.log(JSON.stringify(await bot.done));
  await bot.stop();
  process.exit(0);
} catch (err) {
  console.error(`[triage-bot] ${(err as Error).message}`);
  await bot.stop();
  process.exit(1);
}
