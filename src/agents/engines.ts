import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Tenant } from '../tenants/tenants.js';
import type { CreateEngine, DialogueEngine } from './dialogue.js';
import { ChatEngine } from './openai-engine.js';
import { RulesEngine } from './rules-engine.js';

/**
 * The dialogue engine a tenant's assistant uses (assistant.engine): rules, offline; openai,
 * chat completions with tools on the tenant's speech.openai service; or module:<path>, a module
 * of the platform's own that exports createEngine (relative paths are from the working folder).
 */
export async function engineFor(tenant: Tenant, language: string): Promise<DialogueEngine> {
  const kind = tenant.assistant.engine;
  if (kind === 'rules') return new RulesEngine();
  const openai = tenant.speech.openai;
  if (kind === 'openai') {
    if (!openai) throw new Error(`tenant ${tenant.id}'s assistant.engine is openai, but it has no speech.openai service`);
    return new ChatEngine({ baseUrl: openai.baseUrl, apiKey: openai.apiKey, model: openai.chatModel });
  }
  const file = kind.slice('module:'.length);
  const mod = (await import(pathToFileURL(path.resolve(file)).href)) as { createEngine?: CreateEngine };
  if (typeof mod.createEngine !== 'function') throw new Error(`${file} exports no createEngine`);
  return mod.createEngine({ tenant: tenant.id, language, ...(openai ? { openai: { baseUrl: openai.baseUrl, apiKey: openai.apiKey, chatModel: openai.chatModel } } : {}) });
}
