/**
 * npm run bench [-- <scenario>...] [--smoke] [--out <file>] [--profile <callq profile>...]
 *
 * Runs the node and a bare mediasoup baseline side by side in one run, on this machine, on
 * loopback, and prints what each scenario measured with the ratio between them. --smoke runs
 * tiny versions (the test suite checks that the benchmark works, not how fast). Results go to
 * --out (default bench/results/latest.json); docs/benchmarks.md keeps a full run's.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fanoutBench } from './fanout.js';
import { callqBench } from './callq.js';
import { clusterBench } from './cluster.js';
import { pipeBench } from './pipe.js';
import { recordingBench } from './recording.js';
import { printAssistant, printCallq, printCluster, printFanout, printPipe, printRecording, printSignaling, printSpeech } from './report.js';
import { assistantBench } from './assistant.js';
import { speechBench } from './speech.js';
import { signalingBench } from './signaling.js';

interface Options { smoke: boolean; profile?: string[] }
const SCENARIOS: Record<string, (o: Options) => Promise<unknown>> = {
  signaling: async (o) => printed(await signalingBench(o), printSignaling),
  fanout: async (o) => printed(await fanoutBench(o), printFanout),
  pipe: async (o) => printed(await pipeBench(o), printPipe),
  cluster: async (o) => printed(await clusterBench(o), printCluster),
  callq: async (o) => printed(await callqBench(o), printCallq),
  recording: async (o) => printed(await recordingBench(o), printRecording),
  speech: async (o) => printed(await speechBench(o), printSpeech),
  assistant: async (o) => printed(await assistantBench(o), printAssistant),
};
function printed<T>(result: T, print: (r: T) => void) {
  print(result);
  return result;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { smoke: { type: 'boolean', default: false }, out: { type: 'string' }, profile: { type: 'string', multiple: true } },
});
const chosen = positionals.length ? positionals : Object.keys(SCENARIOS);
for (const s of chosen) if (!(s in SCENARIOS)) {
  console.error(`unknown scenario ${s}: ${Object.keys(SCENARIOS).join(', ')}`);
  process.exit(64);
}

const machine = {
  cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGB: Math.round(os.totalmem() / 2 ** 30), kernel: os.release(),
  node: process.version, date: new Date().toISOString(),
};
console.log(`${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGB} GB, Linux ${machine.kernel}, Node ${machine.node}${values.smoke ? ' (smoke)' : ''}`);
const results: Record<string, unknown> = { machine, smoke: values.smoke };
for (const scenario of chosen) results[scenario] = await SCENARIOS[scenario]({ smoke: values.smoke, profile: values.profile });

const out = values.out ?? path.resolve('bench/results/latest.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nwrote ${out}`);
process.exit(0);
