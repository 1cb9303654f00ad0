import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../logging/logger.js';
import { keys } from './keys.js';

const MAX_SKEW_MS = 30_000;

type Handler = (type: string, data: any, from: string) => void;
type RpcHandler = (data: any, from: string) => Promise<unknown>;
interface Envelope { from: string; ts: number; type: string; data: unknown; id?: string; replyTo?: string; error?: string }

/**
 * Node-to-node messages over Redis pub/sub. Every message is signed with HMAC-SHA256 over
 * the shared cluster secret and carries a timestamp; unsigned, forged or stale messages are
 * dropped. Requests to one node (RPC) are answered on the caller's own channel.
 */
export class ClusterBus {
  private readonly handlers = new Map<string, Handler>();
  private readonly rpcHandlers = new Map<string, RpcHandler>();
  private readonly pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  rejected = 0;

  constructor(
    private readonly pub: Redis,
    private readonly sub: Redis,
    readonly nodeId: string,
    private readonly secret: string,
    private readonly log: Logger,
  ) {
    sub.on('message', (channel: string, raw: string) => this.receive(channel, raw));
  }

  async start() {
    await this.sub.subscribe(keys.nodeRpc(this.nodeId));
  }

  async subscribe(channel: string, handler: Handler) {
    this.handlers.set(channel, handler);
    await this.sub.subscribe(channel);
  }

  async unsubscribe(channel: string) {
    this.handlers.delete(channel);
    await this.sub.unsubscribe(channel).catch(() => undefined);
  }

  async publish(channel: string, type: string, data: unknown) {
    await this.pub.publish(channel, this.sign({ from: this.nodeId, ts: Date.now(), type, data }));
  }

  onRpc(method: string, handler: RpcHandler) {
    this.rpcHandlers.set(method, handler);
  }

  /** Calls `method` on another node and waits for its answer. */
  rpc<T>(nodeId: string, method: string, data: unknown, timeoutMs = 5000): Promise<T> {
    const id = randomUUID();
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`node ${nodeId} did not answer ${method}`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      const msg = this.sign({ from: this.nodeId, ts: Date.now(), type: method, data, id, replyTo: keys.nodeRpc(this.nodeId) });
      this.pub.publish(keys.nodeRpc(nodeId), msg).catch((err) => {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(err);
      });
    });
  }

  close() {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error('cluster bus closed'));
    }
    this.pending.clear();
  }

  private sign(envelope: Envelope) {
    const body = JSON.stringify(envelope);
    return JSON.stringify({ body, sig: this.mac(body) });
  }

  private mac(body: string) {
    return createHmac('sha256', this.secret).update(body).digest('base64url');
  }

  private verify(raw: string): Envelope | undefined {
    try {
      const { body, sig } = JSON.parse(raw);
      const expected = Buffer.from(this.mac(String(body)));
      const given = Buffer.from(String(sig));
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
      const envelope = JSON.parse(body) as Envelope;
      if (Math.abs(Date.now() - envelope.ts) > MAX_SKEW_MS) return undefined;
      return envelope;
    } catch {
      return undefined;
    }
  }

  private receive(channel: string, raw: string) {
    const msg = this.verify(raw);
    if (!msg) {
      this.rejected++;
      this.log.warn({ channel }, 'dropped an unauthenticated or stale cluster message');
      return;
    }
    if (msg.from === this.nodeId) return;
    if (channel !== keys.nodeRpc(this.nodeId)) {
      this.handlers.get(channel)?.(msg.type, msg.data, msg.from);
      return;
    }
    if (msg.type === 'reply' && msg.id) {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.error) p.reject(new Error(msg.error));
      else p.resolve(msg.data);
      return;
    }
    void this.answer(msg);
  }

  private async answer(msg: Envelope) {
    const handler = this.rpcHandlers.get(msg.type);
    let reply: Envelope;
    try {
      if (!handler) throw new Error(`no cluster method ${msg.type}`);
      reply = { from: this.nodeId, ts: Date.now(), type: 'reply', id: msg.id, data: await handler(msg.data, msg.from) };
    } catch (err) {
      reply = { from: this.nodeId, ts: Date.now(), type: 'reply', id: msg.id, data: null, error: (err as Error).message };
    }
    if (msg.replyTo) await this.pub.publish(msg.replyTo, this.sign(reply)).catch(() => undefined);
  }
}
