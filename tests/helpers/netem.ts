import { createHash } from 'node:crypto';
import { execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NetNs } from './netns.js';

const SOURCE = path.resolve('tests/tools/nfq-netem.c');

/** The NFQUEUE delay-and-loss tool, built once per source version (gcc, libnetfilter-queue). */
export function netemBinary(): string {
  const out = path.join(os.tmpdir(), `nfq-netem-${createHash('sha256').update(fs.readFileSync(SOURCE)).digest('hex').slice(0, 12)}`);
  if (!fs.existsSync(out)) execFileSync('gcc', ['-O2', '-o', out, SOURCE, '-lnetfilter_queue', '-lnfnetlink']);
  return out;
}

export interface Impairment {
  /** One-way delay added, ms. */
  delayMs: number;
  lossPercent?: number;
  /** Mean length of lost runs: > 1 makes the loss bursty (Gilbert model). */
  burst?: number;
  /** Put the rule first: it takes the packets from rules already there (an NFQUEUE verdict ends the chain). */
  first?: boolean;
}

let nextQueue = 1;

/**
 * Impairs the packets an iptables match selects, inside a test namespace: they go to an
 * NFQUEUE that nfq-netem holds for the delay and drops from at random. `match` is the part of
 * an iptables-legacy rule after the chain, e.g. ['-d', '127.0.0.11', '-p', 'tcp', '--dport', '8080'].
 * Prefer INPUT for delays: a packet held in OUTPUT still counts against its sender's socket,
 * which throttles TCP to a few packets per round trip (TCP small queues) and fills UDP send
 * buffers, which a real network never does.
 */
export async function impair(ns: NetNs, chain: 'OUTPUT' | 'INPUT', match: string[], { delayMs, lossPercent = 0, burst = 1, first = false }: Impairment): Promise<ChildProcess> {
  const queue = nextQueue++;
  const tool = ns.spawn(netemBinary(), [String(queue), String(delayMs), String(lossPercent), String(burst)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    tool.stdout!.once('data', () => resolve());
    tool.once('exit', (code) => reject(new Error(`nfq-netem exited with ${code}`)));
  });
  ns.iptables(first ? '-I' : '-A', chain, ...match, '-j', 'NFQUEUE', '--queue-num', String(queue));
  return tool;
}
