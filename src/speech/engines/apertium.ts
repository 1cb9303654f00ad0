import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fromIso3, primary } from '../../common/languages.js';
import type { Translator } from '../types.js';

/** Apertium's special characters, escaped with a backslash on the way in. */
const SPECIAL = /[\\^$@/<>{}[\]*]/g;
/** A sentence longer than this is cut (a caption or a chat message is never this long). */
const MAX_CHARS = 4000;
/** Sentences waiting in one pipeline; more are refused (the original text then stands), so a flood cannot grow memory. */
const MAX_PENDING = 256;
/** One translation may take this long before its pipeline is restarted. */
const TIMEOUT_MS = 10_000;
/** Pipeline stages that take -z (flush on NUL); the others pass NULs through. */
const FLUSHING = /^(lt-proc|apertium-tagger|apertium-pretransfer|apertium-transfer|lrx-proc|apertium-interchunk|apertium-postchunk|cg-proc|apertium-lex-tools)\b/;

interface Pending { resolve: (text: string) => void; reject: (err: Error) => void; timer: NodeJS.Timeout }

/**
 * One language pair's pipeline, kept running: the stages of the pair's mode file, each in flush
 * mode (-z), so a sentence ended by a NUL comes out ended by a NUL (2 to 4 ms a sentence, against
 * half a second for a fresh `apertium` process). Node's pipes are sockets, which the `apertium`
 * wrapper cannot use in flush mode, so the stages run under sh as the mode file spells them.
 */
class Pipeline {
  private child?: ChildProcess;
  private readonly pending: Pending[] = [];
  private out = '';

  constructor(private readonly command: string) {}

  private start() {
    const child = spawn('sh', ['-c', this.command], { stdio: ['pipe', 'pipe', 'ignore'] });
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => this.read(d));
    child.stdin!.on('error', () => undefined);
    child.once('exit', () => {
      if (this.child === child) this.child = undefined;
      for (const p of this.pending.splice(0)) {
        clearTimeout(p.timer);
        p.reject(new Error('the Apertium pipeline exited'));
      }
      this.out = '';
    });
    this.child = child;
    return child;
  }

  private read(data: string) {
    this.out += data;
    for (let i = this.out.indexOf('\0'); i >= 0; i = this.out.indexOf('\0')) {
      const text = this.out.slice(0, i);
      this.out = this.out.slice(i + 1);
      const p = this.pending.shift();
      if (!p) continue;
      clearTimeout(p.timer);
      p.resolve(text.replace(/\\(.)/g, '$1').trim());
    }
  }

  translate(text: string): Promise<string> {
    if (this.pending.length >= MAX_PENDING) return Promise.reject(new Error(`${MAX_PENDING} sentences wait for this pair already`));
    const child = this.child ?? this.start();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no translation within ${TIMEOUT_MS} ms`));
        child.kill('SIGKILL'); // its answers would come out of order now
      }, TIMEOUT_MS);
      this.pending.push({ resolve, reject, timer });
      // The newline is a blank after the last word: lt-proc -b flushes on a NUL only after one.
      child.stdin!.write(`${text.slice(0, MAX_CHARS).replace(/[\0\n]/g, ' ').replace(SPECIAL, '\\$&')}\n\0`);
    });
  }

  close() {
    this.child?.kill();
  }
}

/**
 * Offline translation with Apertium, for the pairs installed under `modesDir` (Debian's
 * apertium-eng-spa gives English↔Spanish; other apertium-* packages add their pairs).
 */
export class Apertium implements Translator {
  readonly id = 'apertium';
  private readonly modes = new Map<string, string>();
  private readonly pipelines = new Map<string, Pipeline>();

  constructor(modesDir = '/usr/share/apertium/modes') {
    let files: string[] = [];
    try {
      files = fs.readdirSync(modesDir).filter((f) => /^[a-z]{2,3}-[a-z]{2,3}\.mode$/.test(f));
    } catch {
      // Apertium is not installed: no pair
    }
    for (const file of files) {
      const [from, to] = file.replace('.mode', '').split('-').map(fromIso3);
      this.modes.set(`${from}>${to}`, fs.readFileSync(path.join(modesDir, file), 'utf8').trim());
    }
  }

  /** The pairs it has, as "en>es". */
  get pairs() {
    return [...this.modes.keys()];
  }

  supports(from: string, to: string) {
    return this.modes.has(`${primary(from)}>${primary(to)}`);
  }

  translate(text: string, from: string, to: string): Promise<string> {
    const key = `${primary(from)}>${primary(to)}`;
    const mode = this.modes.get(key);
    if (!mode) return Promise.reject(new Error(`Apertium has no ${key} pair`));
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      // The mode file's generator takes $1 (-g, or -n without unknown-word marks) and the tagger $2.
      const command = mode.replace(/\$1/g, '-n').replace(/\$2/g, '').split('|').map((stage) => {
        const s = stage.trim();
        return FLUSHING.test(s) ? s.replace(/^(\S+)/, '$1 -z') : s;
      }).join(' | ');
      this.pipelines.set(key, (pipeline = new Pipeline(command)));
    }
    return pipeline.translate(text);
  }

  close() {
    for (const p of this.pipelines.values()) p.close();
    this.pipelines.clear();
  }
}
