import type { types } from 'mediasoup-client';
import type { CHAT_LABEL as PROTOCOL_CHAT_LABEL, ChatMessage, NotificationData } from '../contracts/protocol.js';
import { SfuError } from './errors.js';
import type { Emit } from './events.js';
import type { NodeConnection } from './node-connection.js';

/** The protocol's chat label; typed from it, so the two cannot differ, without bundling the protocol's schemas. */
export const CHAT_LABEL: typeof PROTOCOL_CHAT_LABEL = 'chat';
const OPEN_TIMEOUT_MS = 10_000;

const isTextMap = (v: unknown): v is Record<string, string> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((t) => typeof t === 'string');

/** Chat and app messages over the SFU's data channels: one outgoing channel, one incoming per sender. */
export class Messaging {
  private producer?: types.DataProducer;
  private readonly consumers = new Map<string, types.DataConsumer>();

  constructor(private readonly connection: () => NodeConnection | undefined, private readonly emit: Emit) {}

  /** Opens the outgoing channel now: a message sent before the others consume it would be lost. */
  async ensureProducer() {
    if (this.producer && !this.producer.closed) return this.producer;
    const connection = this.connection();
    if (!connection?.open) throw new SfuError('NOT_CONNECTED', 'the call is not connected');
    const transport = await connection.ensureSendTransport();
    this.producer = await transport.produceData({ ordered: true, label: CHAT_LABEL, protocol: 'json' });
    return this.producer;
  }

  async send(message: string) {
    const producer = await this.ensureProducer();
    if (producer.readyState !== 'open') {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new SfuError('NOT_CONNECTED', 'the data channel did not open')), OPEN_TIMEOUT_MS);
        producer.once('open', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    producer.send(message);
  }

  async newDataConsumer(d: NotificationData<'newDataConsumer'>) {
    const connection = this.connection();
    if (!connection?.recvTransport) return;
    const dc = await connection.recvTransport.consumeData({
      id: d.dataConsumerId, dataProducerId: d.dataProducerId, sctpStreamParameters: d.sctpStreamParameters,
      label: d.label, protocol: d.protocol,
    });
    this.consumers.set(dc.id, dc);
    dc.on('message', (raw) => {
      const message = typeof raw === 'string' ? raw : new TextDecoder().decode(raw as ArrayBuffer);
      this.emit('data', { participantId: d.peerId, label: d.label, message });
      if (d.label !== CHAT_LABEL) return;
      try {
        const parsed = JSON.parse(message) as Partial<ChatMessage>;
        if (parsed?.type === 'chat' && typeof parsed.text === 'string') {
          const { language, translations, untranslated } = parsed;
          this.emit('chat', {
            participantId: d.peerId, text: parsed.text, at: Number(parsed.at) || Date.now(),
            ...(typeof language === 'string' ? { language } : {}), ...(isTextMap(translations) ? { translations } : {}), ...(isTextMap(untranslated) ? { untranslated } : {}),
          });
        }
      } catch {
        // not a chat message
      }
    });
  }

  /** After a resume: keep what the server still has, open what we never heard of, drop the rest. */
  async reconcile(dataProducerIds: string[], dataConsumers: NotificationData<'newDataConsumer'>[]) {
    if (this.producer && !dataProducerIds.includes(this.producer.id)) {
      this.producer.close();
      this.producer = undefined;
    }
    const kept = new Set(dataConsumers.map((d) => d.dataConsumerId));
    for (const id of [...this.consumers.keys()]) if (!kept.has(id)) this.dataConsumerClosed(id);
    await Promise.all(dataConsumers.filter((d) => !this.consumers.has(d.dataConsumerId)).map((d) => this.newDataConsumer(d)));
  }

  dataConsumerClosed(dataConsumerId: string) {
    this.consumers.get(dataConsumerId)?.close();
    this.consumers.delete(dataConsumerId);
  }

  clear() {
    for (const dc of this.consumers.values()) dc.close();
    this.consumers.clear();
    this.producer = undefined;
  }
}
