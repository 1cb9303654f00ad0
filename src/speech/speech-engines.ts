import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/schema.js';
import { primary, sameLanguage } from '../common/languages.js';
import type { Tenant } from '../tenants/tenants.js';
import { Apertium } from './engines/apertium.js';
import { Espeak } from './engines/espeak.js';
import { Flite } from './engines/flite.js';
import { OpenAiSpeechToText, OpenAiTextToSpeech, OpenAiTranslator, type OpenAiService } from './engines/openai.js';
import { Pocketsphinx } from './engines/pocketsphinx.js';
import type { SpeechToText, TextToSpeech, Translator } from './types.js';

/** A relative helper path is the project's (build/ is where npm start builds it), wherever the node is started from. */
const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** An engine for the job, or why there is none. */
export type Choice<T> = { engine: T } | { reason: string };

/** Text in the room's other languages, and, for those no engine translates into, why. */
export interface Translated {
  translations: Record<string, string>;
  untranslated: Record<string, string>;
  /** Characters sent to translation engines (usage). */
  characters: number;
}

interface TenantEngines { stt?: SpeechToText; translator?: Translator; tts?: TextToSpeech }

/**
 * Which engine does what for whom: for each tenant and language, the offline engines that ship
 * in Debian's packages (pocketsphinx for English, Apertium for its pairs, espeak-ng for a hundred
 * voices), and the tenant's OpenAI-compatible service for everything else; `speech.prefer`
 * decides where both could. Chosen per request, so a tenant's configuration is all it takes.
 */
export class SpeechEngines {
  readonly pocketsphinx: Pocketsphinx;
  readonly apertium: Apertium;
  readonly espeak: Espeak;
  readonly flite: Flite;
  private readonly remote = new Map<string, TenantEngines>();

  constructor(private readonly config: Config['speech']) {
    this.pocketsphinx = new Pocketsphinx({ binary: path.resolve(PROJECT_ROOT, config.pocketsphinxBinary), modelDir: config.pocketsphinxModel });
    this.apertium = new Apertium(config.apertiumModes);
    this.espeak = new Espeak(config.espeakPath);
    this.flite = new Flite(config.flitePath);
  }

  private remoteFor(tenant: Tenant): TenantEngines {
    let engines = this.remote.get(tenant.id);
    if (!engines) {
      const o = tenant.speech.openai;
      const service: OpenAiService | undefined = o && { ...o, timeoutMs: this.config.requestTimeoutMs };
      engines = service ? { stt: new OpenAiSpeechToText(service), translator: new OpenAiTranslator(service), tts: new OpenAiTextToSpeech(service) } : {};
      this.remote.set(tenant.id, engines);
    }
    return engines;
  }

  /** In the tenant's order of preference. */
  private ordered<T>(tenant: Tenant, offline: T | undefined, remote: T | undefined): T[] {
    const both = tenant.speech.prefer === 'openai' ? [remote, offline] : [offline, remote];
    return both.filter((e): e is T => e !== undefined);
  }

  speechToText(tenant: Tenant, language: string): Choice<SpeechToText> {
    const reasons: string[] = [];
    for (const engine of this.ordered<SpeechToText>(tenant, this.pocketsphinx, this.remoteFor(tenant).stt)) {
      const ok = engine.supports(language);
      if (ok === true) return { engine };
      reasons.push(ok);
    }
    if (!tenant.speech.openai) reasons.push('the tenant has no OpenAI-compatible service (speech.openai)');
    return { reason: `no engine recognises ${language}: ${reasons.join('; ')}` };
  }

  translator(tenant: Tenant, from: string, to: string): Choice<Translator> {
    for (const engine of this.ordered<Translator>(tenant, this.apertium, this.remoteFor(tenant).translator)) if (engine.supports(from, to)) return { engine };
    return { reason: `no engine translates ${primary(from)} to ${primary(to)} (offline: ${this.apertium.pairs.join(', ') || 'none'}${tenant.speech.openai ? '' : '; the tenant has no OpenAI-compatible service'})` };
  }

  /** A voice for `language`: the one named first (`voice`: espeak-ng, flite or openai) if it speaks it, else any that does. */
  textToSpeech(tenant: Tenant, language: string, voice?: string): Choice<TextToSpeech> {
    const all = this.ordered<TextToSpeech>(tenant, this.espeak, this.remoteFor(tenant).tts);
    all.splice(1, 0, this.flite);
    const named = all.find((e) => e.id === voice || (voice === 'openai' && e.id === 'openai-speech'));
    for (const engine of named ? [named, ...all.filter((e) => e !== named)] : all) if (engine.supports(language)) return { engine };
    return { reason: `no voice speaks ${language}` };
  }

  /**
   * `text` in each of `languages` other than its own (by primary subtag), each with the engine
   * that covers the pair; for one none covers, or whose engine fails, the reason instead.
   */
  async translate(tenant: Tenant, text: string, from: string, languages: Iterable<string>): Promise<Translated> {
    const targets = [...new Set([...languages].map(primary))].filter((to) => !sameLanguage(to, from));
    const out: Translated = { translations: {}, untranslated: {}, characters: 0 };
    await Promise.all(targets.map(async (to) => {
      const choice = this.translator(tenant, from, to);
      if ('reason' in choice) return void (out.untranslated[to] = choice.reason);
      try {
        out.translations[to] = await choice.engine.translate(text, from, to);
        out.characters += text.length;
      } catch (err) {
        out.untranslated[to] = `${choice.engine.id} failed: ${(err as Error).message}`;
      }
    }));
    return out;
  }

  close() {
    this.apertium.close();
  }
}
