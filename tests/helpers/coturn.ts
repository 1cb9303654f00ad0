import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NetNs } from './netns.js';

export interface CoturnOptions {
  secret: string;
  /** Where it listens for clients (plain UDP/TCP on `port`, TLS on `tlsPort`). */
  listenIp: string;
  port: number;
  tlsPort: number;
  /** The address its relayed traffic comes from. */
  relayIp: string;
  /** Run inside this namespace. */
  ns?: NetNs;
}

/**
 * A private coturn (Debian's package), as in production: TURN REST credentials (use-auth-secret),
 * UDP and TCP, and TLS with a self-signed certificate made for the test. Loopback peers are
 * allowed, since the node it relays to is on loopback here.
 */
export class Coturn {
  private constructor(private readonly proc: ChildProcess, readonly options: CoturnOptions, readonly certFile: string, private log: () => string) {}

  static async start(options: CoturnOptions): Promise<Coturn> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coturn-'));
    const [cert, key] = [path.join(dir, 'cert.pem'), path.join(dir, 'key.pem')];
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=turn.sfu.test', '-addext', `subjectAltName=IP:${options.listenIp}`], { stdio: 'ignore' });
    const args = [
      '-n', '--log-file=stdout', '--no-cli', '--fingerprint', '--realm=sfu.test',
      `--listening-ip=${options.listenIp}`, `--listening-port=${options.port}`, `--tls-listening-port=${options.tlsPort}`,
      `--relay-ip=${options.relayIp}`, '--min-port=49200', '--max-port=49400',
      '--use-auth-secret', `--static-auth-secret=${options.secret}`, `--cert=${cert}`, `--pkey=${key}`,
      '--allow-loopback-peers', '--no-dtls',
      // Its own files, not the system's.
      `--userdb=${path.join(dir, 'turndb')}`, `--pidfile=${path.join(dir, 'turnserver.pid')}`,
    ];
    const proc = options.ns ? options.ns.spawn('turnserver', args, { stdio: ['ignore', 'pipe', 'pipe'] }) : spawn('turnserver', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    proc.stdout!.on('data', (d) => (log = (log + d).slice(-20_000)));
    proc.stderr!.on('data', (d) => (log = (log + d).slice(-20_000)));
    const deadline = Date.now() + 10_000;
    while (!/Total General servers/.test(log)) {
      if (proc.exitCode !== null) throw new Error(`turnserver exited: ${log}`);
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`turnserver did not start: ${log}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return new Coturn(proc, options, cert, () => log);
  }

  /** The certificate's SPKI hash, for Chromium's --ignore-certificate-errors-spki-list (the test's way of trusting it). */
  get spkiHash() {
    const spki = new X509Certificate(fs.readFileSync(this.certFile)).publicKey.export({ type: 'spki', format: 'der' });
    return createHash('sha256').update(spki).digest('base64');
  }

  get output() {
    return this.log();
  }

  stop() {
    this.proc.kill('SIGKILL');
  }
}
