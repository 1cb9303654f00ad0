import { execFile, execFileSync } from 'node:child_process';
import { primary } from '../../common/languages.js';
import type { Speech, TextToSpeech } from '../types.js';
import { fromWav } from '../wav.js';

/** espeak-ng's voice for a language where its name differs from the language's code. */
const VOICE_FOR: Record<string, string> = { zh: 'cmn', en: 'en-us', pt: 'pt-br' };
const MAX_CHARS = 2000;

/**
 * Offline text to speech with espeak-ng (Debian's package): robotic, but fast (a hundredth of
 * real time) and with voices for Mandarin, Spanish, Portuguese, Japanese, Arabic and a hundred
 * more. One short-lived process per utterance.
 */
export class Espeak implements TextToSpeech {
  readonly id = 'espeak-ng';
  private readonly voices: Set<string>;

  constructor(private readonly binary = 'espeak-ng') {
    let listing = '';
    try {
      listing = execFileSync(binary, ['--voices'], { encoding: 'utf8', timeout: 5000 });
    } catch {
      // not installed: no voice
    }
    this.voices = new Set(listing.split('\n').slice(1).map((l) => l.trim().split(/\s+/)[1]).filter(Boolean));
  }

  /** The voice it would use for a language tag, if it has one. */
  voiceFor(language: string): string | undefined {
    const tag = language.toLowerCase();
    const base = primary(language);
    for (const v of [tag, VOICE_FOR[tag], VOICE_FOR[base], base]) if (v && this.voices.has(v)) return v;
    return undefined;
  }

  supports(language: string) {
    return this.voiceFor(language) !== undefined;
  }

  synthesize(text: string, language: string, voice?: string): Promise<Speech> {
    const v = voice && this.voices.has(voice) ? voice : this.voiceFor(language);
    if (!v) return Promise.reject(new Error(`espeak-ng has no voice for ${language}`));
    return new Promise((resolve, reject) => {
      // The text is an argument, never a shell word; "--" ends the options.
      execFile(this.binary, ['-v', v, '--stdout', '--', text.slice(0, MAX_CHARS)], { encoding: 'buffer', maxBuffer: 64 << 20, timeout: 15_000 }, (err, stdout) => {
        if (err) return reject(new Error(`espeak-ng: ${err.message}`));
        try {
          resolve(fromWav(stdout));
        } catch (e) {
          reject(e as Error);
        }
      });
    });
  }
}
