import { SignalingConnection } from '../../src/client/signaling-connection.js';
import { signalingUrl } from '../../src/contracts/url.js';
import type { NotificationData, NotificationMethod } from '../../src/contracts/protocol.js';
import type { Conversation, DialogueEngine, Outcome, Turn } from './engine.js';

export interface TriageBotOptions {
  /** The node's address, as the SDK takes it (http://host:port or https://host). */
  url: string;
  /** The tenant's API key: it mints the bot's token and writes the triage note. */
  apiKey: string;
  room: string;
  /** A fresh engine for the conversation. */
  engine: () => DialogueEngine;
  identity?: string;
  name?: string;
  log?: (line: string) => void;
}

export interface TriageResult extends Outcome {
  snapshotId: string | null;
}

/**
 * The triage bot in one call: it joins the room as a participant with the bot role (the
 * documented protocol, through the SDK's signaling connection), chats with the buyer without
 * WebRTC (subscribeChat, sendChat), takes a snapshot when the engine asks for evidence, and
 * writes its summary into the call record as a note (POST /v1/rooms/:room/notes).
 */
export class TriageBot {
  /** Resolves with the outcome once the note is written. */
  readonly done: Promise<TriageResult>;
  private finish!: (r: TriageResult) => void;
  private fail!: (err: Error) => void;
  private signaling?: SignalingConnection;
  private buyer?: { id: string; name: string };
  private conversation?: Conversation;
  private engine?: DialogueEngine;
  private awaitingEvidence = false;
  private snapshotId: string | null = null;
  private queue: Promise<void> = Promise.resolve();
  private over = false;

  private constructor(private readonly options: TriageBotOptions) {
    this.done = new Promise((resolve, reject) => {
      this.finish = resolve;
      this.fail = reject;
    });
    this.done.catch(() => undefined);
  }

  static async start(options: TriageBotOptions): Promise<TriageBot> {
    const bot = new TriageBot(options);
    await bot.connect();
    return bot;
  }

  private log(line: string) {
    this.options.log?.(line);
  }

  private async api(method: string, path: string, body: unknown) {
    const res = await fetch(`${this.options.url.replace(/\/$/, '')}${path}`, {
      method, headers: { authorization: `Bearer ${this.options.apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    const answer = await res.json();
    if (!res.ok) throw new Error(`${method} ${path}: ${answer.error?.code ?? res.status} ${answer.error?.message ?? ''}`);
    return answer;
  }

  private async connect() {
    const { room, identity = 'triage-bot', name = 'After-sales assistant' } = this.options;
    const { token } = await this.api('POST', '/v1/tokens', { room, identity, name, role: 'bot' });
    this.signaling = await SignalingConnection.open(signalingUrl(this.options.url), (method, data) => this.onNotification(method, data), (code) => {
      if (!this.over) this.fail(new Error(`signaling closed (${code}) before the triage ended`));
    });
    const joined = await this.signaling.request('join', { token });
    await this.signaling.request('subscribeChat', {});
    this.log(`joined ${room} as ${identity}`);
    this.metadata = joined.metadata ?? {};
    const buyer = joined.peers.find((p) => p.role === 'buyer');
    if (buyer) this.meet(buyer.id, buyer.name, this.metadata);
  }

  /** The ticket's data (order id, languages), as the platform gave it when it created the room. */
  private metadata: Record<string, unknown> = {};

  private onNotification<M extends NotificationMethod>(method: M, data: NotificationData<M>) {
    if (method === 'peerJoined') {
      const peer = data as NotificationData<'peerJoined'>;
      if (peer.role === 'buyer' && !this.buyer) this.meet(peer.id, peer.name, this.metadata);
    } else if (method === 'chat') {
      const chat = data as NotificationData<'chat'>;
      if (chat.peerId === this.buyer?.id) this.enqueue(() => this.heard(chat.text));
    }
  }

  /** The buyer is here: the conversation starts with the engine's greeting. */
  private meet(id: string, name: string, metadata: Record<string, unknown>) {
    this.buyer = { id, name };
    this.conversation = { buyerName: name, metadata, transcript: [] };
    this.engine = this.options.engine();
    this.enqueue(async () => this.act(await this.engine!.greet(this.conversation!)));
  }

  private async heard(text: string) {
    if (this.over) return;
    this.conversation!.transcript.push({ from: 'buyer', text });
    let snapshotTaken = false;
    if (this.awaitingEvidence) {
      try {
        const snap = await this.signaling!.request('takeSnapshot', { peerId: this.buyer!.id });
        this.snapshotId = snap.snapshotId;
        snapshotTaken = true;
      } catch (err) {
        this.log(`no snapshot: ${(err as Error).message}`);
      }
    }
    await this.act(await this.engine!.reply(this.conversation!, snapshotTaken));
  }

  private async act(turn: Turn) {
    for (const line of turn.say) {
      this.conversation!.transcript.push({ from: 'bot', text: line });
      await this.signaling!.request('sendChat', { text: line });
    }
    this.awaitingEvidence = Boolean(turn.snapshot);
    if (!turn.outcome) return;
    this.over = true;
    const result: TriageResult = { ...turn.outcome, snapshotId: this.snapshotId };
    await this.api('POST', `/v1/rooms/${encodeURIComponent(this.options.room)}/notes`, {
      author: this.options.identity ?? 'triage-bot',
      kind: 'triage',
      text: result.summary,
      data: {
        category: result.category, remedy: result.remedy, accepted: result.accepted, handover: result.handover,
        orderId: result.orderId, snapshotId: result.snapshotId,
      },
    });
    this.log(`triage done: ${result.summary}`);
    this.finish(result);
  }

  private enqueue(work: () => Promise<void>) {
    this.queue = this.queue.then(work).catch((err: Error) => {
      this.over = true;
      this.fail(err);
    });
  }

  /** Leaves the call (after the triage, or to give up). */
  async stop() {
    this.over = true;
    if (this.signaling?.open) await this.signaling.request('leave', {}).catch(() => undefined);
    this.signaling?.close();
  }
}
