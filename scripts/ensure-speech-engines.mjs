#!/usr/bin/env node
// The offline speech and language engines, from Debian's packages: pocketsphinx with its US
// English model (speech to text, through a small streaming helper built here against
// libpocketsphinx), Apertium with the English-Spanish pair (translation), and espeak-ng and flite (text to
// speech). `npm start` and `npm test` run this: as root it installs what is missing; otherwise
// it says how, and the node starts anyway (captions then use the OpenAI-compatible engines a
// tenant configures, or say that no engine covers the language). With --required (npm test),
// a failure fails: the tests run the engines for real.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDebianPackages } from './lib/debian.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const source = path.join(root, 'src/speech/engines/pocketsphinx-stream.c');
const binary = path.join(root, 'build/pocketsphinx-stream');
const log = (msg) => process.stderr.write(`[speech-engines] ${msg}\n`);

try {
  ensureDebianPackages(['pocketsphinx', 'pocketsphinx-en-us', 'libpocketsphinx-dev', 'libsphinxbase-dev', 'gcc', 'pkg-config', 'apertium', 'apertium-eng-spa', 'espeak-ng', 'flite'], log);
  const fresh = fs.existsSync(binary) && fs.statSync(binary).mtimeMs >= fs.statSync(source).mtimeMs;
  if (!fresh) {
    fs.mkdirSync(path.dirname(binary), { recursive: true });
    const flags = execFileSync('pkg-config', ['--cflags', '--libs', 'pocketsphinx', 'sphinxbase'], { encoding: 'utf8' }).trim().split(/\s+/);
    execFileSync('gcc', ['-O2', '-o', binary, source, ...flags], { stdio: 'inherit' });
    log(`built ${path.relative(root, binary)}`);
  }
} catch (err) {
  if (process.argv.includes('--required')) {
    log(err.message);
    process.exit(1);
  }
  log(`${err.message}; offline captions stay off until it is done`);
}
