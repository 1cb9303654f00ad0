import { Type } from '@sinclair/typebox';

/** A BCP-47 language tag, as tokens and the API take it: "en", "es-MX", "zh-Hans-CN"; `description` says whose. */
export const languageTag = (description = 'A BCP-47 language tag: en, es-MX, pt-BR, zh-CN.') =>
  Type.String({ minLength: 2, maxLength: 35, pattern: '^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$', description });
export const Language = languageTag();

/** The primary language subtag, lower case: "es-MX" → "es". */
export const primary = (tag: string) => tag.split('-')[0].toLowerCase();

/** Whether two tags name the same language (for whom a translation is needed). */
export const sameLanguage = (a: string, b: string) => primary(a) === primary(b);

/** ISO 639-3 codes (Apertium's pair names) to 639-1, for the pairs Debian ships. */
const THREE_TO_TWO: Record<string, string> = {
  eng: 'en', spa: 'es', cat: 'ca', por: 'pt', fra: 'fr', glg: 'gl', epo: 'eo', eus: 'eu', isl: 'is', mkd: 'mk',
  ita: 'it', deu: 'de', nld: 'nl', ron: 'ro', oci: 'oc', arg: 'an', ast: 'ast', bel: 'be', rus: 'ru', ukr: 'uk',
  hbs: 'sh', srp: 'sr', hrv: 'hr', bos: 'bs', slv: 'sl', swe: 'sv', dan: 'da', nob: 'nb', nno: 'nn', afr: 'af',
};

export const fromIso3 = (code: string) => THREE_TO_TWO[code] ?? code;
