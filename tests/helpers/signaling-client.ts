import WebSocket from 'ws';
import type { NotificationData, NotificationMethod, RequestData, RequestMethod, ResponseData } from '../../src/contracts/protocol.js';

export class RequestFailed extends Error {
  constructor(readonly code: string, message: string) {
    super(`${code}: ${message}`);
  }
}

type AnyNotification = { method: string; data: any };

/** A protocol v1 client for tests: typed requests, recorded notifications, raw frames. */
export class SignalingClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  readonly notifications: AnyNotification[] = [];
  readonly rawResponses: any[] = [];
  private waiters: Array<() => void> = [];
  closeCode?: number;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const msg = JSON.parse(raw.toString());
      if (msg.type === 'response') {
        this.rawResponses.push(msg);
        const p = this.pending.get(msg.id);
        if (p) {
          this.pending.delete(msg.id);
          if (msg.ok) p.resolve(msg.data);
          else p.reject(new RequestFailed(msg.error.code, msg.error.message));
        }
      } else if (msg.type === 'notification') {
        this.notifications.push(msg);
      }
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      for (const p of this.pending.values()) p.reject(new RequestFailed('SOCKET_CLOSED', `closed with ${code}`));
      this.pending.clear();
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static connect(url: string): Promise<SignalingClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const client = new SignalingClient(ws);
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
    });
  }

  request<M extends RequestMethod>(method: M, data: RequestData<M>): Promise<ResponseData<M>> {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ type: 'request', id, method, data }));
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }

  /** Sends any frame and waits for the next response frame. */
  async raw(frame: string | Buffer): Promise<any> {
    const before = this.rawResponses.length;
    this.ws.send(frame);
    await this.until(() => this.rawResponses.length > before, 'a response');
    return this.rawResponses[before];
  }

  /** Waits (bounded) until `check` holds, re-checking on every frame. */
  async until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async notification<M extends NotificationMethod>(method: M, match: (d: NotificationData<M>) => boolean = () => true, timeoutMs?: number): Promise<NotificationData<M>> {
    const find = () => this.notifications.find((n) => n.method === method && match(n.data));
    await this.until(() => Boolean(find()), `notification ${method}`, timeoutMs);
    return find()!.data;
  }

  notificationsOf<M extends NotificationMethod>(method: M): NotificationData<M>[] {
    return this.notifications.filter((n) => n.method === method).map((n) => n.data);
  }

  close() {
    this.ws.close();
  }
}
