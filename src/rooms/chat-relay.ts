import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { types } from 'mediasoup';
import { CodedError } from '../common/errors.js';
import { CHAT_LABEL, ChatMessage } from '../contracts/protocol.js';
import type { Consumable } from './catalogue.js';
import type { Peer } from './peer.js';

const isChat = TypeCompiler.Compile(ChatMessage);
/** A recipient has had its channel this long before a message is sent on it (a client opens it on newDataConsumer). */
const CHANNEL_OPEN_MS = 500;
/** ...but a message waits at most this long for recipients whose channel is not open yet. */
const MAX_WAIT_MS = 3000;
const WAIT_STEP_MS = 50;
/** Messages one sender may have waiting; more are refused, so a flood cannot grow memory. */
const MAX_PENDING = 32;

/**
 * Chat for clients without data channels (bots), bridged to the "chat" data channel label that
 * SDK clients use. A sender's messages leave on a data producer of a DirectTransport in the node;
 * a peer that subscribes gets everyone's chat as notifications. The peer owns what this creates.
 */
export class ChatRelay {
  private readonly relaying = new WeakSet<Peer>();
  private readonly directs = new WeakMap<Peer, Promise<types.DirectTransport>>();
  private readonly outgoing = new WeakMap<Peer, Promise<types.DataProducer>>();
  /** Each sender's messages go out in order, after the recipients' channels are open (not in its request queue). */
  private readonly senders = new WeakMap<Peer, { chain: Promise<void>; pending: number; hurry: boolean }>();
  /** Recipients a message waited for in vain (they never opened a channel): not waited for again. */
  private readonly waitedFor = new WeakSet<Peer>();

  /**
   * `recipients()`: the peers of the room here. `translate`: the message in the room's other
   * languages, when the room has captions (undefined otherwise).
   */
  constructor(
    private readonly recipients: () => Iterable<Peer>,
    private readonly translate: (from: Peer, text: string) => Promise<Partial<Pick<ChatMessage, 'language' | 'translations' | 'untranslated'>> | undefined>,
  ) {}

  /** It takes the room's chat as notifications (subscribeChat). */
  relays(peer: Peer) {
    return this.relaying.has(peer);
  }

  subscribe(peer: Peer) {
    this.relaying.add(peer);
  }

  isChat(item: Consumable) {
    return item.kind === 'dataProducer' && item.info.label === CHAT_LABEL;
  }

  /** Someone's chat (a data producer on `peer`'s router), relayed to `peer` as chat notifications. */
  async relay(peer: Peer, dataProducer: types.DataProducer, fromPeerId: string) {
    const dataConsumer = await (await this.direct(peer)).consumeData({ dataProducerId: dataProducer.id, appData: { peerId: fromPeerId, producerAppData: dataProducer.appData } });
    if (peer.closed) {
      dataConsumer.close();
      return;
    }
    peer.adoptDataConsumer(dataConsumer);
    dataConsumer.on('message', (message) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(message.toString('utf8'));
      } catch {
        return; // not chat
      }
      if (isChat.Check(parsed)) {
        const { text, at, language, translations, untranslated } = parsed;
        peer.notify('chat', { peerId: fromPeerId, text, at, ...(language ? { language } : {}), ...(translations ? { translations } : {}), ...(untranslated ? { untranslated } : {}) });
      }
    });
  }

  /**
   * Sends `text` from `peer`. It answers once the message is queued; the message leaves when
   * everyone here who will take chat has had its channel for it a moment (a message sent on a
   * channel the client has not opened yet would be lost), or after MAX_WAIT_MS.
   */
  async send(peer: Peer, text: string) {
    const sender = this.senders.get(peer) ?? { chain: Promise.resolve(), pending: 0, hurry: false };
    this.senders.set(peer, sender);
    if (sender.pending >= MAX_PENDING) throw new CodedError('TOO_MANY_REQUESTS', `${MAX_PENDING} chat messages are waiting to be sent; wait a moment`);
    const dataProducer = await this.open(peer);
    const at = Date.now();
    sender.pending++;
    let message: ChatMessage;
    try {
      message = { type: 'chat', text, at, ...(await this.translate(peer, text)) };
    } catch (err) {
      sender.pending--;
      throw err;
    }
    sender.chain = sender.chain.then(async () => {
      await this.channelsOpen(peer, dataProducer.id, () => sender.hurry);
      if (!dataProducer.closed) dataProducer.send(JSON.stringify(message));
    }).finally(() => sender.pending--);
  }

  /** The peer is leaving: what it sent goes out now, to whoever can read it, before its chat closes. */
  async flush(peer: Peer) {
    const sender = this.senders.get(peer);
    if (!sender) return;
    sender.hurry = true;
    await sender.chain;
  }

  /** The peer's outgoing chat: a data producer labelled like the SDK's, so every client reads it as this peer's chat. */
  private open(peer: Peer): Promise<types.DataProducer> {
    let out = this.outgoing.get(peer);
    if (!out) {
      out = (async () => {
        const dataProducer = await (await this.direct(peer)).produceData({ label: CHAT_LABEL, protocol: 'json', appData: { peerId: peer.id } });
        peer.keepUnlessClosed(dataProducer, 'opening its chat');
        peer.addDataProducer(dataProducer);
        return dataProducer;
      })();
      out.catch(() => this.outgoing.delete(peer));
      this.outgoing.set(peer, out);
    }
    return out;
  }

  private direct(peer: Peer): Promise<types.DirectTransport> {
    let direct = this.directs.get(peer);
    if (!direct) {
      direct = peer.router.createDirectTransport({ maxSendMessageSize: 16384, maxReceiveMessageSize: 16384 }).then((t) => {
        peer.keepUnlessClosed(t, 'opening its chat');
        peer.adopt('directTransport', t);
        return t;
      });
      direct.catch(() => this.directs.delete(peer));
      this.directs.set(peer, direct);
    }
    return direct;
  }

  /** Whether `peer` receives chat, or will once ready: relayed, or on a data channel it auto-subscribes to. */
  private takesChat(peer: Peer) {
    return this.relays(peer) || (peer.autoSubscribe && peer.claims.grants.subscribe && !peer.suspended);
  }

  private async channelsOpen(from: Peer, dataProducerId: string, hurry: () => boolean) {
    const open = (p: Peer) => {
      const dc = p.dataConsumerOf(dataProducerId);
      return Boolean(dc && (dc.type === 'direct' || Date.now() - Number(dc.appData.createdAt ?? 0) >= CHANNEL_OPEN_MS));
    };
    const waiting = () => [...this.recipients()].filter((p) => p !== from && !p.closed && this.takesChat(p) && !open(p) && !this.waitedFor.has(p));
    const deadline = Date.now() + MAX_WAIT_MS;
    while (!hurry() && waiting().length && Date.now() < deadline) await new Promise((r) => setTimeout(r, WAIT_STEP_MS));
    for (const p of waiting()) this.waitedFor.add(p);
  }
}
