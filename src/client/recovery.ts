import type { types } from 'mediasoup-client';
import { SfuError } from './errors.js';
import type { ConnectionState, Emit } from './events.js';
import type { NodeConnection } from './node-connection.js';

const DISCONNECTED_GRACE_MS = 2000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface RecoveryOptions {
  /** How long an ICE restart may take before the call rejoins from scratch (ms). */
  iceRestartTimeoutMs: number;
  /** Full rejoin attempts after a drop before giving up. */
  maxRejoinAttempts: number;
  /** After a dropped socket, how long to keep trying to resume before rejoining from scratch (ms). */
  resumeWindowMs: number;
}

export interface RecoveryHooks {
  connection(): NodeConnection | undefined;
  left(): boolean;
  setState(state: ConnectionState): void;
  emit: Emit;
  /** Drops the current connection's state (kept: local tracks). */
  teardown(): void;
  /** A fresh connection, joined, with everything republished. */
  rejoin(): Promise<void>;
  /** The same participant on a new socket (or, if the server let it go, a fresh connection). */
  resume(): Promise<void>;
}

const FATAL = ['TOKEN_INVALID', 'TOKEN_EXPIRED', 'PERMISSION_DENIED', 'REDIRECT_REFUSED'];

/**
 * Keeps a call up through network trouble: a brief ICE 'disconnected' is waited out, then
 * ICE is restarted; if that does not reconnect, the call rejoins from scratch with backoff.
 * When only the signaling socket dropped, the call first resumes: the server keeps the
 * participant for its reconnect grace period, so the others see no leave and the media
 * objects stay.
 */
export class Recovery {
  private readonly iceTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private rejoining?: Promise<void>;

  constructor(private readonly options: RecoveryOptions, private readonly hooks: RecoveryHooks) {}

  transportState(transport: types.Transport, state: string) {
    clearTimeout(this.iceTimers.get(transport.id));
    if (state === 'connected' || state === 'new' || state === 'connecting' || this.hooks.left()) return;
    if (state === 'disconnected' || state === 'failed') {
      const delay = state === 'failed' ? 0 : DISCONNECTED_GRACE_MS;
      this.iceTimers.set(transport.id, setTimeout(() => void this.restartIce(transport), delay));
    }
  }

  private async restartIce(transport: types.Transport) {
    if (transport.closed || transport.connectionState === 'connected') return;
    this.hooks.setState('reconnecting');
    try {
      const connection = this.hooks.connection();
      if (!connection?.open) throw new SfuError('NOT_CONNECTED', 'signaling is down');
      const { iceParameters } = await connection.signaling.request('restartIce', { transportId: transport.id });
      await transport.restartIce({ iceParameters });
      const deadline = Date.now() + this.options.iceRestartTimeoutMs;
      // connectionState changes behind TypeScript's back while we sleep.
      const connected = () => (transport.connectionState as string) === 'connected';
      while (!connected() && Date.now() < deadline && !transport.closed) await sleep(200);
      if (connected()) {
        this.hooks.setState('connected');
        return;
      }
    } catch {
      // fall through to a full rejoin
    }
    await this.recover('ICE restart did not reconnect');
  }

  /** Signaling dropped: resume on a new socket while the server keeps us, else rejoin. */
  signalingDropped(): Promise<void> {
    return this.recover('signaling dropped', true);
  }

  private async tryResume(): Promise<boolean> {
    const deadline = Date.now() + this.options.resumeWindowMs;
    for (let attempt = 0; Date.now() < deadline && !this.hooks.left(); attempt++) {
      if (attempt > 0) await sleep(Math.min(250 * 2 ** attempt, 2000));
      try {
        await this.hooks.resume();
        return true;
      } catch (err) {
        if (err instanceof SfuError && FATAL.includes(err.code)) throw err;
      }
    }
    return false;
  }

  /** Full rejoin with backoff (first a resume, when `resumable`): local tracks republished. */
  recover(reason: string, resumable = false): Promise<void> {
    if (this.hooks.left()) return Promise.resolve();
    this.rejoining ??= (async () => {
      this.hooks.setState('reconnecting');
      try {
        if (resumable && this.options.resumeWindowMs > 0 && (await this.tryResume())) {
          this.hooks.setState('connected');
          return;
        }
      } catch (err) {
        this.hooks.emit('error', err as SfuError);
        this.hooks.teardown();
        this.hooks.setState('disconnected');
        return;
      }
      this.hooks.teardown();
      for (let attempt = 0; attempt < this.options.maxRejoinAttempts && !this.hooks.left(); attempt++) {
        await sleep(Math.min(250 * 2 ** attempt, 5000));
        try {
          await this.hooks.rejoin();
          this.hooks.setState('connected');
          return;
        } catch (err) {
          if (err instanceof SfuError && FATAL.includes(err.code)) {
            this.hooks.emit('error', err);
            break;
          }
        }
      }
      this.hooks.emit('error', new SfuError('CONNECTION_FAILED', `could not rejoin after: ${reason}`));
      this.hooks.setState('disconnected');
    })().finally(() => (this.rejoining = undefined));
    return this.rejoining;
  }

  stop() {
    for (const timer of this.iceTimers.values()) clearTimeout(timer);
    this.iceTimers.clear();
  }
}
