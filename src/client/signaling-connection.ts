import type { NotificationData, NotificationMethod, RequestData, RequestMethod, ResponseData } from '../contracts/protocol.js';
import { SfuError } from './errors.js';

type Pending = { resolve: (data: any) => void; reject: (err: SfuError) => void; timer: ReturnType<typeof setTimeout> };
export type NotificationHandler = <M extends NotificationMethod>(method: M, data: NotificationData<M>) => void;

/** One WebSocket to the node, speaking protocol v1: typed requests and notifications. */
export class SignalingConnection {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closedByUs = false;

  private constructor(
    private readonly ws: WebSocket,
    private readonly onNotification: NotificationHandler,
    onDrop: (code: number) => void,
    private readonly timeoutMs: number,
  ) {
    ws.addEventListener('message', (ev) => this.onMessage(String(ev.data)));
    ws.addEventListener('close', (ev) => {
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(new SfuError('SOCKET_CLOSED', `signaling closed (${ev.code})`));
      }
      this.pending.clear();
      if (!this.closedByUs) onDrop(ev.code);
    });
  }

  static open(url: string, onNotification: NotificationHandler, onDrop: (code: number) => void, timeoutMs = 15_000): Promise<SignalingConnection> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const fail = () => reject(new SfuError('CONNECTION_FAILED', `cannot open ${url}`));
      ws.addEventListener('error', fail, { once: true });
      ws.addEventListener('open', () => {
        ws.removeEventListener('error', fail);
        resolve(new SignalingConnection(ws, onNotification, onDrop, timeoutMs));
      }, { once: true });
    });
  }

  get open() {
    return this.ws.readyState === WebSocket.OPEN;
  }

  request<M extends RequestMethod>(method: M, data: RequestData<M>): Promise<ResponseData<M>> {
    if (!this.open) return Promise.reject(new SfuError('NOT_CONNECTED', `cannot send ${method}: signaling is not open`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new SfuError('REQUEST_TIMEOUT', `${method} got no response`));
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.ws.send(JSON.stringify({ type: 'request', id, method, data }));
    });
  }

  close() {
    this.closedByUs = true;
    this.ws.close(1000);
  }

  private onMessage(text: string) {
    let msg: any;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (msg.type === 'notification') {
      this.onNotification(msg.method, msg.data);
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.ok) p.resolve(msg.data);
    else p.reject(new SfuError(msg.error.code, msg.error.message, msg.error.redirect));
  }
}
