import http from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Webhook } from 'standardwebhooks';
import { WebhookBody, webhookEvents, type WebhookEventType } from '../../src/contracts/webhook-events.js';

const envelope = TypeCompiler.Compile(WebhookBody);
const dataOf = Object.fromEntries(Object.entries(webhookEvents).map(([type, e]) => [type, TypeCompiler.Compile(e.data)]));

export interface Received {
  id: string;
  type: string;
  timestamp: string;
  data: Record<string, any>;
}

function schemaProblem(payload: unknown): string | undefined {
  const first = envelope.Errors(payload).First();
  if (first) return `${first.path} ${first.message}`;
  const data = dataOf[(payload as Received).type as WebhookEventType];
  const error = data.Errors((payload as Received).data).First();
  return error && `data${error.path} ${error.message}`;
}

export const newWebhookSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

/**
 * A platform's webhook endpoint, on loopback: it verifies every delivery's Standard Webhooks
 * signature with the shared secret (as any Standard Webhooks library does), and records what
 * it accepted. It can be stopped and started on the same port, and told to fail or to hang.
 */
export class WebhookReceiver {
  readonly events: Received[] = [];
  badSignatures = 0;
  /** Events that do not match their documented schema (docs/api.md): "type: first error". */
  readonly invalid: string[] = [];
  mode: 'ok' | 'fail' | 'hang' = 'ok';
  /** Deliveries being held open now (mode hang): how many a node has in flight to this receiver. */
  connections = 0;
  private server?: http.Server;
  private readonly verifier: Webhook;

  constructor(readonly secret: string, public port = 0) {
    this.verifier = new Webhook(secret);
  }

  get url() {
    return `http://127.0.0.1:${this.port}/hooks/sfu`;
  }

  /** A free port, reserved for later start() calls (the node is told the URL before the receiver runs). */
  static async reservePort() {
    const probe = http.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const { port } = probe.address() as AddressInfo;
    await new Promise((r) => probe.close(r));
    return port;
  }

  async start() {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        if (this.mode === 'hang') {
          // never answers
          this.connections++;
          req.socket.once('close', () => this.connections--);
          return;
        }
        if (this.mode === 'fail') return res.writeHead(500).end();
        try {
          const payload = this.verifier.verify(body, req.headers as Record<string, string>) as Omit<Received, 'id'>;
          this.events.push({ id: String(req.headers['webhook-id']), ...payload });
          const problem = schemaProblem(payload);
          if (problem) this.invalid.push(`${payload.type}: ${problem}`);
          res.writeHead(204).end();
        } catch {
          this.badSignatures++;
          res.writeHead(400).end();
        }
      });
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop() {
    this.server?.closeAllConnections();
    await new Promise((r) => (this.server ? this.server.close(r) : r(undefined)));
    this.server = undefined;
  }

  /** Every distinct event (deliveries are at least once: duplicates count once). */
  unique(): Received[] {
    const seen = new Set<string>();
    return this.events.filter((e) => !seen.has(e.id) && seen.add(e.id));
  }

  /** The distinct events of one room, in the order they arrived. */
  ofRoom(room: string) {
    return this.unique().filter((e) => e.data.room === room);
  }

  /** Waits (bounded) for a distinct event of `type` that `match` accepts. */
  async waitFor(type: string, match: (e: Received) => boolean = () => true, timeoutMs = 10_000): Promise<Received> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.unique().find((e) => e.type === type && match(e));
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no ${type} webhook within ${timeoutMs} ms; got ${this.unique().map((e) => e.type).join(', ')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
