import type { WebSocket } from 'ws';
import type { Logger } from '../logging/logger.js';
import type { Peer, PeerSession } from '../rooms/peer.js';
import type { Room } from '../rooms/room.js';
import { hasGrant, type Handler, type JoinedContext, type SessionContext, type SignalingDeps } from './handler.js';
import { handlers } from './handlers/index.js';
import type { ClientRequest, NotificationData, NotificationMethod, RequestMethod, ServerResponse } from '../contracts/protocol.js';
import { parseRequest, RequestError } from './validation.js';
import { CODES, CodedError, type ErrorCode, type Redirect } from '../common/errors.js';
import { CLOSE_RESUMED_ELSEWHERE, CLOSE_SLOW_READER } from './close-codes.js';

/** Requests a socket may have waiting; beyond that they are refused at once, so a flood cannot grow memory. */
export const MAX_QUEUED_REQUESTS = 64;
/** A socket told to close is cut off this long after, whether or not its client reads the close frame. */
const TERMINATE_AFTER_MS = 1000;

/**
 * One WebSocket connection. Its work runs one job at a time, in order: the client's requests,
 * and what the room schedules for its peer. So a client's connectTransport is always done
 * before its produce, and a newConsumer never overtakes the createTransport response before it.
 */
export class SignalingSession implements SessionContext, PeerSession {
  peer?: Peer;
  room?: Room;
  everJoined = false;
  /** The socket has closed (or is closing): nothing more is sent, and no peer may enter. */
  closed = false;
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;

  constructor(private readonly socket: WebSocket, readonly deps: SignalingDeps, readonly log: Logger, readonly ip: string) {}

  get session(): PeerSession {
    return this;
  }

  readonly notify = <M extends NotificationMethod>(method: M, data: NotificationData<M>) => {
    this.send({ type: 'notification', method, data });
  };

  schedule(job: () => Promise<unknown>) {
    this.queue = this.queue.then(async () => {
      try {
        await job();
      } catch (err) {
        this.log.warn({ err }, 'scheduled work failed');
      }
    });
  }

  removed(peer: Peer, code: string, message: string, rejoin: boolean) {
    if (this.peer !== peer) return;
    this.leave();
    this.notify('disconnected', { code, message, rejoin });
  }

  superseded(peer: Peer) {
    if (this.peer !== peer) return;
    this.leave();
    this.close(CLOSE_RESUMED_ELSEWHERE, 'resumed on another socket');
  }

  enter(peer: Peer, room: Room) {
    if (this.closed) return false;
    this.peer = peer;
    this.room = room;
    this.everJoined = true;
    return true;
  }

  leave() {
    this.peer = undefined;
    this.room = undefined;
  }

  onMessage(text: string) {
    if (this.queued >= MAX_QUEUED_REQUESTS) {
      this.refuse(text);
      return;
    }
    this.queued++;
    this.queue = this.queue.then(() => this.handle(text)).finally(() => this.queued--);
  }

  private refuse(text: string) {
    let id: number | null = null;
    let label = 'invalid';
    try {
      const request = parseRequest(text);
      id = request.id;
      label = request.method;
    } catch (err) {
      if (err instanceof RequestError) id = err.requestId;
      if (err instanceof RequestError && err.code === 'UNKNOWN_METHOD') label = 'unknown';
    }
    this.deps.metrics.error(label, 'TOO_MANY_REQUESTS');
    this.send({ type: 'response', id, ok: false, error: { code: 'TOO_MANY_REQUESTS', message: CODES.TOO_MANY_REQUESTS.meaning } });
  }

  /**
   * The socket closed without a leave: the peer stays for the reconnect grace period (its
   * client may resume), then leaves. A peer that resumed elsewhere is not this session's now.
   */
  onClose() {
    this.closed = true;
    const { peer, room } = this;
    this.leave();
    if (!peer || !room || !peer.speaksFor(this)) return;
    const grace = this.deps.config.signaling.reconnectGraceMs;
    if (grace > 0) room.suspend(peer, grace);
    else room.remove(peer);
  }

  /** Closes the socket with `code`, and cuts it off shortly after if the client does not read. */
  close(code: number, reason: string) {
    if (this.closed) return;
    this.closed = true;
    this.socket.close(code, reason);
    setTimeout(() => this.socket.terminate(), TERMINATE_AFTER_MS).unref();
  }

  private async handle(text: string) {
    let request: ClientRequest | undefined;
    try {
      request = parseRequest(text);
      this.deps.metrics.request(request.method);
      const data = await this.withTimeout(this.dispatch(request));
      this.send({ type: 'response', id: request.id, ok: true, data });
    } catch (err) {
      const error = this.toProtocolError(err, request?.method);
      // Metric labels stay bounded: a method of the protocol, `unknown` for any other name, `invalid` for frames that do not parse.
      this.deps.metrics.error(request?.method ?? (error.code === 'UNKNOWN_METHOD' ? 'unknown' : 'invalid'), error.code);
      const id = request?.id ?? (err instanceof RequestError ? err.requestId : null);
      this.send({ type: 'response', id, ok: false, error });
    }
  }

  private async dispatch(request: ClientRequest): Promise<unknown> {
    const handler = handlers[request.method] as Handler<RequestMethod>;
    if (request.method === 'join') {
      if (this.peer) throw new CodedError('ALREADY_JOINED');
      return handler.run(this as never, request.data as never);
    }
    const { peer, room } = this;
    if (!peer || !room) throw new CodedError('NOT_JOINED');
    const ctx: JoinedContext = {
      deps: this.deps,
      log: peer.log,
      ip: this.ip,
      session: this,
      enter: (p, r) => this.enter(p, r),
      leave: () => this.leave(),
      peer,
      room,
    };
    const grant = typeof handler.grant === 'function' ? handler.grant(request.data as never, ctx) : handler.grant;
    if (!hasGrant(peer.claims.grants, grant)) {
      throw new CodedError('PERMISSION_DENIED', `${request.method} needs the ${grant} grant`);
    }
    return handler.run(ctx as never, request.data as never);
  }

  private withTimeout<T>(work: Promise<T>): Promise<T> {
    const ms = this.deps.config.signaling.requestTimeoutMs;
    let timer: NodeJS.Timeout;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CodedError('REQUEST_TIMEOUT', `no result within ${ms} ms`)), ms);
    });
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }

  /** A refusal answers with its code; anything else is a bug of the node, logged, and INTERNAL_ERROR to the client. */
  private toProtocolError(err: unknown, method?: string): { code: ErrorCode; message: string; redirect?: Redirect } {
    if (err instanceof CodedError && CODES[err.code].on.includes('signaling')) {
      return { code: err.code, message: err.message, ...(err.redirect ? { redirect: err.redirect } : {}) };
    }
    this.log.error({ err, method }, 'request failed unexpectedly');
    return { code: 'INTERNAL_ERROR', message: 'internal error' };
  }

  private send(message: ServerResponse | { type: 'notification'; method: string; data: unknown }) {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return;
    this.socket.send(JSON.stringify(message));
    // A client that stops reading would make the node hold everything sent to it.
    if (this.socket.bufferedAmount > this.deps.config.signaling.maxBufferedBytes) {
      this.deps.metrics.slowReader();
      this.deps.rejects.warn('slow-reader', { ip: this.ip, buffered: this.socket.bufferedAmount }, 'closing a socket whose client stopped reading');
      this.close(CLOSE_SLOW_READER, 'not reading');
    }
  }
}
