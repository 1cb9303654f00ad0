import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './redis-server.js';

/**
 * Runs a document's code blocks the way a reader would: in order, in one terminal session
 * (exported variables carry over), files saved where the reader saves them, long-running
 * commands in a terminal of their own.
 *
 * A block's info string says how it is used, after its language:
 *   ```sh                      run it (in the `backend` directory unless dir= says otherwise)
 *   ```sh background wait=8080 start it and leave it running; go on once the port answers
 *   ```js file=receiver.mjs    save it under that name
 *   ```sh id=create-room       name it, so a test can stop there and read its output
 *   ```sh dir=sfu              run it in the SFU checkout
 * Blocks in other languages (ts types, json answers, text) are for reading.
 *
 * The only change made to the text is the ports: the reader's 8080 becomes a free port here.
 */
export interface Block {
  lang: string;
  code: string;
  line: number;
  attrs: Record<string, string>;
  flags: Set<string>;
}

export interface DocRunnerOptions {
  /** The reader's port → the port used here. */
  ports: Record<number, number>;
  /** Named directories (`dir=` values); `backend` is the default. */
  dirs: Record<string, string>;
  /** The machine's environment (what is not in the document: free media ports, a temp store). */
  env: NodeJS.ProcessEnv;
  /** Longest a foreground block may run. */
  timeoutMs?: number;
}

const RUNNABLE = new Set(['sh', 'bash']);

export function codeBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\w+)(.*)$/.exec(lines[i]);
    if (!open) continue;
    const indent = open[1].length;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j]); j++) body.push(lines[j].slice(indent));
    const attrs: Record<string, string> = {};
    const flags = new Set<string>();
    for (const word of open[3].trim().split(/\s+/).filter(Boolean)) {
      const eq = word.indexOf('=');
      if (eq > 0) attrs[word.slice(0, eq)] = word.slice(eq + 1);
      else flags.add(word);
    }
    blocks.push({ lang: open[2], code: body.join('\n'), line: i + 1, attrs, flags });
    i = j;
  }
  return blocks;
}

export interface Background {
  block: Block;
  child: ChildProcess;
  output(): string;
}

export class DocRunner {
  readonly blocks: Block[];
  private next = 0;
  private env: NodeJS.ProcessEnv;
  private readonly outputs = new Map<Block, string>();
  readonly background: Background[] = [];

  constructor(readonly file: string, private readonly opts: DocRunnerOptions) {
    this.blocks = codeBlocks(fs.readFileSync(file, 'utf8')).filter((b) => RUNNABLE.has(b.lang) || b.attrs.file);
    // A reader's shell, not the test runner's: no NODE_ENV=test, no vitest variables.
    const shell = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_ENV' && !k.startsWith('VITEST')));
    this.env = { ...shell, ...opts.env };
  }

  private localize(text: string) {
    let out = text;
    for (const [from, to] of Object.entries(this.opts.ports)) out = out.replace(new RegExp(`\\b${from}\\b`, 'g'), String(to));
    return out;
  }

  private dir(block: Block) {
    const name = block.attrs.dir ?? 'backend';
    const dir = this.opts.dirs[name];
    if (!dir) throw new Error(`${this.file}:${block.line}: no directory ${name}`);
    return dir;
  }

  /** Runs the blocks not run yet, up to and including the one named `id` (all, without it). */
  async runUntil(id?: string): Promise<string> {
    if (id && !this.blocks.some((b) => b.attrs.id === id)) throw new Error(`${this.file} has no block id=${id}`);
    let last = '';
    while (this.next < this.blocks.length) {
      const block = this.blocks[this.next++];
      last = await this.runBlock(block);
      if (id && block.attrs.id === id) break;
    }
    return last;
  }

  output(id: string) {
    const block = this.blocks.find((b) => b.attrs.id === id);
    if (!block || !this.outputs.has(block)) throw new Error(`block id=${id} has not run`);
    return this.outputs.get(block)!;
  }

  /** Blocks still to run (a test that ends with some left has not run the whole document). */
  pending() {
    return this.blocks.slice(this.next).map((b) => `${this.file}:${b.line}`);
  }

  private async runBlock(block: Block): Promise<string> {
    const where = `${this.file}:${block.line}`;
    if (block.attrs.file) {
      fs.writeFileSync(path.join(this.dir(block), block.attrs.file), `${this.localize(block.code)}\n`);
      return '';
    }
    const code = this.localize(block.code);
    if (block.flags.has('background')) return this.startBackground(block, code, where);
    const envFile = path.join(os.tmpdir(), `doc-env-${process.pid}-${block.line}`);
    // allexport: a variable the block sets is there for the next block, as in one terminal.
    const { status, output } = await this.exec(block, `set -aeo pipefail\n${code}\nenv -0 > '${envFile}'`, where);
    if (status !== 0) throw new Error(`${where} exited with ${status}:\n${code}\n--- output ---\n${output}`);
    // Variables the block set stay for the next, as in a terminal.
    this.env = Object.fromEntries(fs.readFileSync(envFile, 'utf8').split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
    fs.rmSync(envFile, { force: true });
    this.outputs.set(block, output);
    return output;
  }

  private exec(block: Block, script: string, where: string): Promise<{ status: number | null; output: string }> {
    return new Promise((resolve) => {
      const child = spawn('bash', ['-c', script], { cwd: this.dir(block), env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
      const timer = setTimeout(() => {
        output += `\n[${where} killed after ${this.opts.timeoutMs ?? 60_000} ms]`;
        child.kill('SIGKILL');
      }, this.opts.timeoutMs ?? 60_000);
      child.on('close', (status) => {
        clearTimeout(timer);
        resolve({ status, output });
      });
    });
  }

  private async startBackground(block: Block, code: string, where: string): Promise<string> {
    // Its own process group, so close() can signal everything it started, as Ctrl-C would.
    const child = spawn('bash', ['-c', code], { cwd: this.dir(block), env: this.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const bg: Background = { block, child, output: () => output };
    this.background.push(bg);
    const port = block.attrs.wait ? Number(this.localize(block.attrs.wait)) : undefined;
    if (port) {
      const deadline = Date.now() + (this.opts.timeoutMs ?? 60_000);
      while (!(await portAnswers(port))) {
        if (child.exitCode !== null) throw new Error(`${where} exited with ${child.exitCode}:\n${output}`);
        if (Date.now() > deadline) throw new Error(`${where}: port ${port} did not answer:\n${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    this.outputs.set(block, '');
    return '';
  }

  /** Stops what the document left running, as the reader's Ctrl-C would. */
  async close() {
    await Promise.all(this.background.map(({ child }) => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const kill = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      process.kill(-child.pid!, 'SIGINT');
    })));
  }
}

const portAnswers = (port: number) => new Promise<boolean>((resolve) => {
  const socket = net.connect(port, '127.0.0.1');
  socket.once('connect', () => {
    socket.destroy();
    resolve(true);
  });
  socket.once('error', () => resolve(false));
});

/**
 * A document that starts a node with `npm start` in the SFU checkout and works against it from
 * a reader's backend directory: this machine's part is the node's port (the reader's 8080),
 * loopback media, and a temp store and recording folder. `close()` stops what the document
 * left running and removes the folders.
 */
export async function nodeDocument(file: string, { ports = {}, timeoutMs = 180_000 }: { ports?: Record<number, number>; timeoutMs?: number } = {}) {
  const backend = fs.mkdtempSync(path.join(os.tmpdir(), 'doc-backend-'));
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'doc-data-'));
  const nodePort = await freePort();
  const doc = new DocRunner(file, {
    ports: { 8080: nodePort, ...ports },
    dirs: { sfu: process.cwd(), backend },
    env: {
      PORT: String(nodePort), HOST: '127.0.0.1', STORE_PATH: path.join(data, 'sfu.sqlite'), RECORDING_DIR: path.join(data, 'recordings'),
      MEDIA_NUM_WORKERS: '1', MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WEBRTC_PORT_BASE: '0', LOG_LEVEL: 'warn',
    },
    timeoutMs,
  });
  return {
    doc, backend, nodePort,
    base: `http://127.0.0.1:${nodePort}`,
    ws: `ws://127.0.0.1:${nodePort}/v1/rtc`,
    async close() {
      await doc.close();
      fs.rmSync(backend, { recursive: true, force: true });
      fs.rmSync(data, { recursive: true, force: true });
    },
  };
}

