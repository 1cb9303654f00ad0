import { randomUUID } from 'node:crypto';
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { Redis } from 'ioredis';
import { CodedError } from '../common/errors.js';
import type { LogLimiter } from '../common/log-limiter.js';
import {
  Envelope, nodeRequests, roomMessages,
  type NodeMethod, type NodeRequest, type NodeResponse, type RoomMessage, type RoomMessageType,
} from './bus-messages.js';
import { keys } from './keys.js';
import type { NodeLink, RpcHandler } from './node-link.js';
import type { Signer } from './signer.js';

const MAX_SKEW_MS = 30_000;

/** Why a message was dropped; bounded, so it can label a metric. */
export type DropReason = 'unauthenticated' | 'stale' | 'malformed';

const compile = (schema: TSchema) => TypeCompiler.Compile(schema);
const envelopeCheck = compile(Envelope);
const roomChecks = Object.fromEntries(Object.entries(roomMessages).map(([t, s]) => [t, compile(s)])) as Record<RoomMessageType, TypeCheck<TSchema>>;
const requestChecks = Object.fromEntries(Object.entries(nodeRequests).map(([m, d]) => [m, compile(d.request)])) as Record<NodeMethod, TypeCheck<TSchema>>;
const responseChecks = Object.fromEntries(Object.entries(nodeRequests).map(([m, d]) => [m, compile(d.response)])) as Record<NodeMethod, TypeCheck<TSchema>>;
const isNodeMethod = (m: string): m is NodeMethod => Object.hasOwn(nodeRequests, m);
const isRoomMessage = (t: string): t is RoomMessageType => Object.hasOwn(roomMessages, t);

type RoomHandler = (message: RoomMessage, from: string) => void;
interface Pending { method: NodeMethod; resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }

/** How another node's handler failed: its message, and its stable code when the error had one. */
export class RemoteError extends Error {
  constructor(readonly code: string | undefined, message: string) {
    super(message);
  }
}

/**
 * Node-to-node messages over Redis pub/sub (the shapes are in bus-messages.ts). Every message
 * is signed with HMAC-SHA256 over the shared cluster secret *and its channel*, and carries a
 * timestamp; unsigned, forged, replayed-elsewhere, stale or malformed messages are dropped and
 * counted, and logged at a bounded rate. Requests to one node (RPC) are answered on the
 * caller's own channel.
 */
export class ClusterBus implements NodeLink {
  private readonly rooms = new Map<string, RoomHandler>();
  private readonly rpcHandlers = new Map<NodeMethod, RpcHandler<NodeMethod>>();
  private readonly pending = new Map<string, Pending>();
  readonly dropped: Record<DropReason, number> = { unauthenticated: 0, stale: 0, malformed: 0 };

  constructor(
    private readonly pub: Redis,
    private readonly sub: Redis,
    readonly nodeId: string,
    private readonly signer: Signer,
    private readonly rejects: LogLimiter,
  ) {
    sub.on('message', (channel: string, raw: string) => this.receive(channel, raw));
  }

  async start() {
    await this.sub.subscribe(keys.nodeRpc(this.nodeId));
  }

  async subscribe(channel: string, handler: RoomHandler) {
    this.rooms.set(channel, handler);
    await this.sub.subscribe(channel);
  }

  async unsubscribe(channel: string) {
    this.rooms.delete(channel);
    await this.sub.unsubscribe(channel).catch(() => undefined);
  }

  async publish(channel: string, message: RoomMessage) {
    await this.pub.publish(channel, this.sign(channel, { from: this.nodeId, ts: Date.now(), type: message.type, data: message.data }));
  }

  onRpc<M extends NodeMethod>(method: M, handler: RpcHandler<M>) {
    this.rpcHandlers.set(method, handler as unknown as RpcHandler<NodeMethod>);
  }

  /** Calls `method` on another node and waits for its answer; a failed call rejects with RemoteError. */
  rpc<M extends NodeMethod>(nodeId: string, method: M, data: NodeRequest<M>, timeoutMs = 5000): Promise<NodeResponse<M>> {
    const id = randomUUID();
    return new Promise<NodeResponse<M>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`node ${nodeId} did not answer ${method}`));
      }, timeoutMs);
      this.pending.set(id, { method, resolve: resolve as (v: unknown) => void, reject, timer });
      const channel = keys.nodeRpc(nodeId);
      const msg = this.sign(channel, { from: this.nodeId, ts: Date.now(), type: method, data, id, replyTo: keys.nodeRpc(this.nodeId) });
      this.pub.publish(channel, msg).catch((err) => {
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

  private sign(channel: string, envelope: Envelope) {
    const body = JSON.stringify(envelope);
    return JSON.stringify({ body, sig: this.signer.sign(channel, body) });
  }

  private open(channel: string, raw: string): Envelope | DropReason {
    let signed: unknown;
    try {
      signed = JSON.parse(raw);
    } catch {
      return 'unauthenticated';
    }
    const { body, sig } = (signed ?? {}) as { body?: unknown; sig?: unknown };
    if (typeof body !== 'string' || !this.signer.verify(channel, body, sig)) return 'unauthenticated';
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return 'malformed';
    }
    if (!envelopeCheck.Check(parsed)) return 'malformed';
    const envelope = parsed as Envelope;
    if (Math.abs(Date.now() - envelope.ts) > MAX_SKEW_MS) return 'stale';
    return envelope;
  }

  private drop(reason: DropReason, channel: string) {
    this.dropped[reason]++;
    this.rejects.warn(`bus-${reason}`, { channel, reason }, 'dropped a cluster message');
  }

  private receive(channel: string, raw: string) {
    const msg = this.open(channel, raw);
    if (typeof msg === 'string') return this.drop(msg, channel);
    if (msg.from === this.nodeId) return;
    if (channel !== keys.nodeRpc(this.nodeId)) {
      const handler = this.rooms.get(channel);
      if (!handler) return;
      if (!isRoomMessage(msg.type) || !roomChecks[msg.type].Check(msg.data)) return this.drop('malformed', channel);
      handler({ type: msg.type, data: msg.data } as RoomMessage, msg.from);
      return;
    }
    if (msg.type === 'reply') return this.settle(msg, channel);
    if (!isNodeMethod(msg.type) || !requestChecks[msg.type].Check(msg.data) || !msg.id || !msg.replyTo) return this.drop('malformed', channel);
    void this.answer(msg.type, msg);
  }

  private settle(msg: Envelope, channel: string) {
    const p = msg.id ? this.pending.get(msg.id) : undefined;
    if (!p) return;
    this.pending.delete(msg.id!);
    clearTimeout(p.timer);
    if (msg.error !== undefined) return p.reject(new RemoteError(msg.code, msg.error));
    if (!responseChecks[p.method].Check(msg.data)) {
      this.drop('malformed', channel);
      return p.reject(new Error(`node ${msg.from} answered ${p.method} with a malformed reply`));
    }
    p.resolve(msg.data);
  }

  private async answer(method: NodeMethod, msg: Envelope) {
    const handler = this.rpcHandlers.get(method);
    let reply: Envelope;
    try {
      if (!handler) throw new Error(`no cluster method ${method}`);
      reply = { from: this.nodeId, ts: Date.now(), type: 'reply', id: msg.id, data: await handler(msg.data as never, msg.from) };
    } catch (thrown) {
      reply = {
        from: this.nodeId, ts: Date.now(), type: 'reply', id: msg.id, data: null,
        error: String((thrown as Error)?.message ?? thrown).slice(0, 1000), ...(thrown instanceof CodedError ? { code: thrown.code } : {}),
      };
    }
    await this.pub.publish(msg.replyTo!, this.sign(msg.replyTo!, reply)).catch(() => undefined);
  }
}
