import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { primary } from '../../common/languages.js';
import type { SpeechEvent, SpeechStream, SpeechToText } from '../types.js';

export interface PocketsphinxOptions {
  /** The streaming helper (src/speech/engines/pocketsphinx-stream.c, built by scripts/ensure-speech-engines.mjs). */
  binary: string;
  /** The acoustic model, language model and dictionary's folder (Debian's pocketsphinx-en-us). */
  modelDir: string;
}

/** Audio waiting for a helper that is slower than real time: past this (10 s), the oldest is dropped. */
const MAX_BUFFERED_BYTES = 16_000 * 2 * 10;

/**
 * Offline English speech to text: one pocketsphinx process per stream (about 110 MB and a fifth
 * to a third of a core each), fed PCM on its stdin, answering JSON lines on its stdout.
 */
export class Pocketsphinx implements SpeechToText {
  readonly id = 'pocketsphinx';
  readonly interimResults = true;
  private readonly model: { hmm: string; lm: string; dict: string };

  constructor(private readonly options: PocketsphinxOptions) {
    const dir = options.modelDir;
    this.model = { hmm: path.join(dir, 'en-us'), lm: path.join(dir, 'en-us.lm.bin'), dict: path.join(dir, 'cmudict-en-us.dict') };
  }

  /** Whether the helper and the model are installed (else why not). */
  available(): true | string {
    if (!fs.existsSync(this.options.binary)) return `the pocketsphinx helper ${this.options.binary} is not built (scripts/ensure-speech-engines.mjs)`;
    if (!fs.existsSync(this.model.hmm) || !fs.existsSync(this.model.lm)) return `no pocketsphinx model in ${this.options.modelDir} (Debian's pocketsphinx-en-us)`;
    return true;
  }

  supports(language: string): true | string {
    if (primary(language) !== 'en') return `pocketsphinx recognises English only, not ${language}`;
    return this.available();
  }

  stream(): SpeechStream {
    return new PocketsphinxStream(spawn(this.options.binary, [this.model.hmm, this.model.lm, this.model.dict], { stdio: ['pipe', 'pipe', 'pipe'] }));
  }
}

class PocketsphinxStream extends EventEmitter<{ event: [SpeechEvent] }> implements SpeechStream {
  private ended = false;
  /** Its input is closed: the exit that follows is the stream's end, not a failure. */
  private ending = false;
  private stderr = '';

  constructor(private readonly child: ChildProcess) {
    super();
    child.stdin!.on('error', () => undefined); // a dead helper is reported by its exit
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => (this.stderr = (this.stderr + d).slice(-2000)));
    readline.createInterface({ input: child.stdout! }).on('line', (line) => this.line(line));
    child.once('error', (err) => this.fail(`pocketsphinx could not run: ${err.message}`));
    child.once('exit', (code, signal) => {
      if (!this.ending) this.fail(`pocketsphinx exited (${signal ?? `code ${code}`})${this.stderr.trim() ? `: ${this.stderr.trim().split('\n').at(-1)}` : ''}`);
    });
  }

  private line(line: string) {
    let m: { t: string; ms?: number; text?: string; startMs?: number; endMs?: number };
    try {
      m = JSON.parse(line);
    } catch {
      return;
    }
    if (m.t === 'start') this.emit('event', { type: 'start', ms: m.ms ?? 0 });
    else if (m.t === 'partial' && m.text) this.emit('event', { type: 'interim', text: m.text, ms: m.ms ?? 0 });
    else if (m.t === 'final') this.emit('event', { type: 'final', text: m.text ?? '', startMs: m.startMs ?? 0, endMs: m.endMs ?? 0 });
  }

  private fail(message: string) {
    if (this.ended) return;
    this.ended = true;
    this.emit('event', { type: 'error', message });
  }

  push(pcm: Buffer) {
    if (this.ended || this.ending) return;
    const stdin = this.child.stdin!;
    // A helper that cannot keep up must not make the node hold everything it was sent.
    if (stdin.writableLength > MAX_BUFFERED_BYTES) return;
    stdin.write(pcm);
  }

  end() {
    if (this.ended || this.ending) return;
    this.ending = true;
    this.child.stdin!.end();
  }

  close() {
    this.ended = true;
    this.ending = true;
    this.child.kill('SIGKILL');
  }
}
