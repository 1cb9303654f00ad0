import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { primary } from '../../common/languages.js';
import type { Speech, TextToSpeech } from '../types.js';
import { fromWav } from '../wav.js';

const MAX_CHARS = 2000;

/**
 * Offline English text to speech with Flite (Debian's package), clearer than espeak-ng's
 * English (pocketsphinx recognises its "rms" voice almost word for word), at about a fiftieth
 * of real time. English only; one short-lived process per utterance.
 */
export class Flite implements TextToSpeech {
  readonly id = 'flite';
  private readonly installed: boolean;

  constructor(private readonly binary = 'flite', private readonly voice = 'rms') {
    try {
      execFileSync(binary, ['-lv'], { encoding: 'utf8', timeout: 5000 });
      this.installed = true;
    } catch {
      this.installed = false;
    }
  }

  supports(language: string) {
    return this.installed && primary(language) === 'en';
  }

  synthesize(text: string, language: string, voice?: string): Promise<Speech> {
    if (!this.supports(language)) return Promise.reject(new Error(`flite speaks English only, not ${language}`));
    // Flite opens its output by name, and Node's pipes are sockets that /dev/stdout cannot open: a file it is.
    const file = path.join(os.tmpdir(), `flite-${randomUUID()}.wav`);
    return new Promise((resolve, reject) => {
      // The text is an argument, never a shell word.
      execFile(this.binary, ['-voice', voice ?? this.voice, '-t', text.slice(0, MAX_CHARS), '-o', file], { timeout: 15_000 }, (err) => {
        try {
          if (err) throw new Error(`flite: ${err.message}`);
          resolve(fromWav(fs.readFileSync(file)));
        } catch (e) {
          reject(e as Error);
        } finally {
          fs.rmSync(file, { force: true });
        }
      });
    });
  }
}
