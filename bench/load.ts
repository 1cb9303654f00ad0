import jwt from 'jsonwebtoken';
import WebSocket from 'ws';

export const SECRET = 'dev-only-secret-change-me';

/** A token for the node's development secret (the baseline checks the same one). */
export function token(room: string, identity: string, role = 'buyer', claims: object = {}) {
  return jwt.sign({ room, sub: identity, role, exp: Math.floor(Date.now() / 1000) + 3600, ...claims }, SECRET);
}

/** Tokens made ahead, so that signing them is not part of what is measured. */
export function tokens(count: number, prefix: string, rooms: number): string[] {
  return Array.from({ length: count }, (_, i) => token(`${prefix}-${i % rooms}`, `${prefix}-p${i}`));
}

export interface Client {
  ws: WebSocket;
  request(method: string, data?: unknown): Promise<any>;
  close(): void;
  /** Leaves as a client that hangs up does (the node would otherwise keep it for its reconnect grace). */
  leave(): Promise<void>;
}

/** A protocol client: the framing both the node and the bare baseline speak. `notified` hears the server's notifications. */
export function connect(url: string, notified?: (method: string, data: any) => void): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/rtc`, { perMessageDeflate: false });
    let next = 1;
    const pending = new Map<number, { resolve: (d: unknown) => void; reject: (e: Error) => void }>();
    ws.on('message', (raw) => {
      const msg = JSON.parse(String(raw));
      if (msg.type === 'notification') notified?.(msg.method, msg.data);
      if (msg.type !== 'response') return;
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.ok) p?.resolve(msg.data);
      else p?.reject(new Error(msg.error.code));
    });
    ws.once('error', reject);
    const client: Client = {
      ws,
      request: (method, data = {}) => new Promise((res, rej) => {
        const id = next++;
        pending.set(id, { resolve: res, reject: rej });
        ws.send(JSON.stringify({ type: 'request', id, method, data }));
      }),
      close: () => ws.close(),
      async leave() {
        await client.request('leave').catch(() => undefined);
        ws.close();
      },
    };
    ws.once('open', () => resolve(client));
  });
}

/** One join as the benchmark counts it: connect, join (token check), a send and a recv transport. */
export async function join(url: string, token: string): Promise<Client> {
  const c = await connect(url);
  await c.request('join', { token });
  await Promise.all([c.request('createTransport', { direction: 'send' }), c.request('createTransport', { direction: 'recv' })]);
  return c;
}

export const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] : NaN);

/** Joins back to back from `concurrency` clients for `seconds`: joins per second and latencies. */
export async function closedLoop(url: string, toks: string[], concurrency: number, seconds: number) {
  let n = 0;
  const latencies: number[] = [];
  const end = Date.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < end && n < toks.length) {
      const t = performance.now();
      const c = await join(url, toks[n++]);
      latencies.push(performance.now() - t);
      await c.leave();
    }
  }));
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return { joins: latencies.length, joinsPerSecond: latencies.length / elapsed, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) };
}

/**
 * Joins started at a fixed rate whatever the server's pace (open loop), for `seconds`: the
 * latency counts from when each join was due, so a server that falls behind shows it.
 */
export async function openLoop(url: string, toks: string[], rate: number, seconds: number) {
  const latencies: number[] = [];
  let failed = 0;
  const total = Math.min(toks.length, Math.round(rate * seconds));
  const start = performance.now();
  const running: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    running.push(join(url, toks[i]).then((c) => {
      latencies.push(performance.now() - due);
      return c.leave();
    }, () => void failed++));
  }
  await Promise.all(running);
  latencies.sort((a, b) => a - b);
  return { rate, joins: latencies.length, failed, p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95), p99: percentile(latencies, 0.99) };
}

/**
 * Calls of two as browsers make them (the independent load generator's workload): both
 * participants of a new room join it (media-only clients: transports without SCTP), then close
 * their sockets without a leave. With the node's reconnect grace at 0 they leave at once. The
 * latency is per join; a server whose join waits on a write the participant does not need shows
 * it at one pair at a time.
 */
export async function pairsLoop(url: string, concurrency: number, seconds: number, prefix: string) {
  let n = 0;
  const latencies: number[] = [];
  const end = Date.now() + seconds * 1000;
  const start = performance.now();
  const joinLean = async (tok: string) => {
    const t = performance.now();
    const c = await connect(url);
    await c.request('join', { token: tok });
    await Promise.all([c.request('createTransport', { direction: 'send', enableSctp: false }), c.request('createTransport', { direction: 'recv', enableSctp: false })]);
    latencies.push(performance.now() - t);
    return c;
  };
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < end) {
      const room = `${prefix}-${n++}`;
      const pair = await Promise.all([joinLean(token(room, `${room}-buyer`)), joinLean(token(room, `${room}-seller`, 'seller'))]);
      for (const c of pair) c.close();
      await Promise.all(pair.map((c) => new Promise((r) => (c.ws.readyState === WebSocket.CLOSED ? r(null) : c.ws.once('close', r)))));
    }
  }));
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return { concurrency, joins: latencies.length, joinsPerSecond: latencies.length / elapsed, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) };
}
