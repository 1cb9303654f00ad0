import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { codeBlocks } from '../helpers/doc-runner.js';

/** docs/operations.md's commands, run as an operator runs them on the node's machine (as root). */
describe('docs/operations.md', () => {
  const blocks = codeBlocks(fs.readFileSync('docs/operations.md', 'utf8')).filter((b) => b.lang === 'sh');
  const run = (code: string) => execFileSync('bash', ['-euo', 'pipefail', '-c', code], { encoding: 'utf8', timeout: 60_000 });

  it('has only the blocks this test knows how to check', () => {
    expect(blocks.map((b) => b.code.split(' ')[0] + ' ' + b.code.split(' ')[1])).toEqual(['npm run', 'sysctl -w']);
  });

  it('mints tokens with the CLI, with the claims it was given', () => {
    const tokens = run(blocks[0].code).split('\n').filter((l) => /^[\w-]+\.[\w-]+\.[\w-]+$/.test(l));
    expect(tokens).toHaveLength(2);
    const secret = loadConfig({}).auth.hs256Secret!;
    expect(jwt.verify(tokens[0], secret)).toMatchObject({ room: 'ticket-42', sub: 'buyer-7', role: 'buyer', name: 'Ana' });
    expect(jwt.verify(tokens[1], secret)).toMatchObject({ room: 'ticket-42', sub: 'support-1', role: 'agent', grants: { admin: true } });
  });

  it('raises the kernel\'s socket buffer caps to what the node asks for by default', () => {
    run(blocks[1].code);
    const media = loadConfig({}).media;
    expect(Number(fs.readFileSync('/proc/sys/net/core/wmem_max', 'utf8'))).toBeGreaterThanOrEqual(media.socketSendBufferBytes);
    expect(Number(fs.readFileSync('/proc/sys/net/core/rmem_max', 'utf8'))).toBeGreaterThanOrEqual(media.socketRecvBufferBytes);
  });
});
