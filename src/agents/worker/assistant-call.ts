import { SignalingConnection } from '../../client/signaling-connection.js';
import type { SfuError } from '../../client/errors.js';
import { primary, sameLanguage } from '../../common/languages.js';
import type { NotificationData, NotificationMethod, ResponseData } from '../../contracts/protocol.js';
import type { TriageOutcome } from '../../contracts/records.js';
import { signalingUrl } from '../../contracts/url.js';
import type { Logger } from '../../logging/logger.js';
import type { SpeechEngines } from '../../speech/speech-engines.js';
import type { Tenant } from '../../tenants/tenants.js';
import type { Conversation, DialogueEngine, Outcome, Turn } from '../dialogue.js';
import type { AgentJob } from '../jobs.js';
import { phrasesFor } from '../phrases.js';
import { Voice } from './voice.js';

const SELLERS = new Set(['seller', 'agent']);
const REDIRECTS = 3;

export interface AssistantCallDeps {
  tenant: Tenant;
  engines: SpeechEngines;
  /** A fresh dialogue engine for this call (assistant.engine). */
  engine(language: string): Promise<DialogueEngine>;
  log: Logger;
}

type Joined = ResponseData<'join'>;
interface Person { id: string; name: string; language: string }

/**
 * The assistant in one call, run by an agent worker: a protocol client with the assist grant.
 * It hears the buyer through the room's captions (and the chat), answers aloud (its voice,
 * a plain-RTP audio track) and in the chat, in the buyer's language; it stops talking when the
 * buyer talks over it. Its dialogue engine decides each turn; the node keeps the conversation,
 * so another worker can go on from it. It hands over to a seller, briefs the seller in the
 * seller's language, and, when no seller comes, records an evidence clip and ends the call.
 */
export class AssistantCall {
  /** Resolves when the assistant has left the call. */
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private signaling?: SignalingConnection;
  private voice?: Voice;
  private joined?: Joined;
  private engine?: DialogueEngine;
  private conversation?: Conversation;
  private buyer?: Person;
  private chatLanguage?: string;
  private awaitingEvidence = false;
  private outcome: TriageOutcome | null = null;
  private handedOverAt: number | null = null;
  private briefed = false;
  private silent = false;
  private over = false;
  private noSellerTimer?: NodeJS.Timeout;
  private chain: Promise<void> = Promise.resolve();
  /** The turn being spoken was talked over: its other lines are written, not said. */
  private interrupted = false;

  constructor(readonly job: AgentJob, private readonly deps: AssistantCallDeps) {
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  private get settings() {
    return this.deps.tenant.assistant;
  }

  async run() {
    try {
      await this.join(this.job.url, REDIRECTS);
      await this.openVoice();
      await this.request('subscribeChat', {});
      const buyer = this.joined!.peers.find((p) => p.role === 'buyer');
      if (buyer) this.meet(buyer);
      for (const p of this.joined!.peers) if (SELLERS.has(p.role)) this.sellerArrived(p);
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message, jobId: this.job.jobId }, 'the assistant could not join its call');
      await this.leave();
    }
    return this.done;
  }

  private async join(url: string, redirects: number): Promise<void> {
    this.signaling = await SignalingConnection.open(signalingUrl(url), (m, d) => this.onNotification(m, d), () => void this.leave());
    try {
      this.joined = await this.signaling.request('join', { token: this.job.token, autoSubscribe: false });
    } catch (err) {
      const redirect = (err as SfuError).redirect;
      this.signaling.close();
      if ((err as SfuError).code === 'REDIRECT' && redirect && redirects > 0) return this.join(redirect.url, redirects - 1);
      throw err;
    }
    this.chatLanguage = this.joined.captions?.language;
    this.deps.log.info({ jobId: this.job.jobId, room: this.job.room, dispatches: this.joined.assistant?.dispatches }, 'the assistant joined its call');
  }

  private async openVoice() {
    const caps = this.joined!.routerRtpCapabilities;
    const opus = caps.codecs?.find((c) => c.mimeType.toLowerCase() === 'audio/opus');
    if (!opus?.preferredPayloadType) return;
    const plain = await this.request('createPlainTransport', { rtcpMux: true });
    const voice = new Voice({ ip: plain.ip, port: plain.port }, opus.preferredPayloadType);
    await this.request('produce', {
      transportId: plain.transportId, kind: 'audio', appData: { source: 'assistant' },
      rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: opus.preferredPayloadType, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: voice.ssrcValue }] },
    });
    this.voice = voice;
  }

  private request<M extends Parameters<SignalingConnection['request']>[0]>(method: M, data: Parameters<SignalingConnection['request']>[1] & object) {
    return this.signaling!.request(method, data as never);
  }

  private onNotification<M extends NotificationMethod>(method: M, data: NotificationData<M>) {
    if (this.over) return;
    if (method === 'peerJoined') {
      const p = data as NotificationData<'peerJoined'>;
      if (p.role === 'buyer' && !this.buyer) this.meet(p);
      else if (SELLERS.has(p.role)) this.sellerArrived(p);
    } else if (method === 'peerLeft') {
      const { peerId } = data as NotificationData<'peerLeft'>;
      // The buyer is gone for good (a replaced connection arrives first): nothing left to do here.
      if (peerId === this.buyer?.id) this.enqueue(async () => this.leave());
    } else if (method === 'caption') {
      const c = data as NotificationData<'caption'>;
      if (c.peerId !== this.buyer?.id) return;
      // The buyer talks: whatever the assistant is saying stops now (barge-in).
      if (!c.final && this.voice?.isSpeaking) {
        this.interrupted = true;
        this.voice.stop();
      }
      if (c.final && c.text.trim()) this.enqueue(() => this.heard(c.text));
    } else if (method === 'chat') {
      const m = data as NotificationData<'chat'>;
      if (m.peerId === this.buyer?.id) this.enqueue(() => this.heard(m.text));
    } else if (method === 'disconnected') {
      void this.leave();
    }
  }

  private enqueue(work: () => Promise<void>) {
    this.chain = this.chain.then(work).catch((err) => {
      this.deps.log.warn({ err: (err as Error).message, jobId: this.job.jobId }, 'the assistant failed a step');
    });
  }

  /** The buyer is here: the conversation starts, or goes on from where another worker left it. */
  private meet(p: { id: string; name: string; language?: string }) {
    const language = p.language ?? this.deps.tenant.language;
    this.buyer = { id: p.id, name: p.name, language };
    const kept = this.joined?.assistant;
    this.enqueue(async () => {
      this.engine = await this.deps.engine(language);
      this.conversation = {
        buyerName: p.name, language, metadata: this.joined?.metadata ?? {},
        transcript: (kept?.turns ?? []).map((t) => ({ from: t.from, text: t.text })),
      };
      if (kept?.state) this.engine.restore(kept.state);
      this.outcome = kept?.outcome ?? null;
      this.handedOverAt = kept?.handedOverAt ?? null;
      if (this.outcome?.accepted) return this.leave();
      if (this.handedOverAt) return this.waitForSeller();
      const last = this.conversation.transcript.at(-1);
      if (!last) return this.act(await this.engine.greet(this.conversation));
      // The worker before died with the buyer's words unanswered: answer them.
      if (last.from === 'buyer') return this.act(await this.engine.reply(this.conversation, false));
    });
  }

  private async heard(text: string) {
    if (this.over || this.silent || !this.engine || this.outcome) return;
    this.conversation!.transcript.push({ from: 'buyer', text });
    await this.keep([{ from: 'buyer', text, language: this.buyer!.language, at: Date.now() }]);
    let snapshotTaken = false;
    if (this.awaitingEvidence) {
      this.awaitingEvidence = false;
      snapshotTaken = await this.request('takeSnapshot', { peerId: this.buyer!.id }).then(() => true, () => false);
    }
    await this.act(await this.engine.reply(this.conversation!, snapshotTaken));
  }

  private async act(turn: Turn) {
    this.interrupted = false;
    for (const line of turn.say) {
      this.conversation!.transcript.push({ from: 'assistant', text: line });
      await this.keep([{ from: 'assistant', text: line, language: this.buyer!.language, at: Date.now() }]);
      await this.say(line, this.buyer!.language);
    }
    this.awaitingEvidence = Boolean(turn.snapshot);
    if (turn.outcome) await this.decided(turn.outcome);
  }

  private async decided(o: Outcome) {
    this.outcome = { category: o.category, remedy: o.remedy, accepted: o.accepted, handover: o.handover, orderId: o.orderId, summary: o.summary };
    await this.request('assistantSave', { outcome: this.outcome, state: this.engine!.save() });
    if (!o.handover) return this.leave();
    await this.request('handOver', { outcome: this.outcome });
    this.handedOverAt = Date.now();
    await this.waitForSeller();
  }

  /** After a hand-over: a seller joins (briefed, then the assistant goes), or the clip when none came in time. */
  private async waitForSeller() {
    if (this.briefed) return;
    const left = this.handedOverAt! + this.settings.sellerWaitSeconds * 1000 - Date.now();
    clearTimeout(this.noSellerTimer);
    this.noSellerTimer = setTimeout(() => this.enqueue(() => this.recordEvidence()), Math.max(0, left));
  }

  private sellerArrived(seller: { id: string; name: string; language?: string }) {
    if (this.briefed || !this.conversation) return;
    this.briefed = true;
    clearTimeout(this.noSellerTimer);
    this.enqueue(() => this.brief({ id: seller.id, name: seller.name, language: seller.language ?? this.deps.tenant.language }));
  }

  /** What the buyer told the assistant, to the seller, in the seller's language. */
  private async brief(seller: Person) {
    const { phrases, language } = phrasesFor(seller.language);
    const orderId = this.outcome?.orderId ?? (typeof this.joined?.metadata?.orderId === 'string' ? this.joined.metadata.orderId : null);
    let summary = this.outcome?.summary ?? `The buyer said: ${this.conversation!.transcript.filter((t) => t.from === 'buyer').map((t) => t.text).join(' / ') || 'nothing yet'}.`;
    // The order id is said apart: a translation engine reads "A-1001" as words.
    if (orderId) summary = summary.split(`Order ${orderId}.`).join('').replace('No order number.', '').trim();
    let text = summary;
    let spokenIn = 'en';
    if (!sameLanguage(seller.language, 'en')) {
      const t = await this.deps.engines.translate(this.deps.tenant, summary, 'en', [seller.language]);
      const translated = t.translations[primary(seller.language)];
      if (translated) [text, spokenIn] = [translated, seller.language];
    }
    const lines = [phrases.summaryFor(seller.name), ...(orderId ? [phrases.order(orderId)] : []), text];
    for (const [i, line] of lines.entries()) {
      // The greeting and the order are the seller's phrases (or English); the summary as translated.
      const lang = i < lines.length - 1 ? language : spokenIn;
      await this.keep([{ from: 'assistant', text: line, language: lang, at: Date.now() }]);
      await this.say(line, lang);
    }
    if (this.settings.afterHandover === 'leave') await this.leave();
    else this.silent = true;
  }

  /** No seller came: a clip of the problem for the seller hours later, then the end of the call. */
  private async recordEvidence() {
    if (this.over || this.briefed || !this.buyer) return;
    const { phrases } = phrasesFor(this.buyer.language);
    const seconds = this.settings.evidenceSeconds;
    await this.say(phrases.noSeller(seconds), this.buyer.language);
    const { evidenceId } = await this.request('startEvidence', { peerId: this.buyer.id });
    await new Promise((r) => setTimeout(r, seconds * 1000));
    if (this.over) return;
    await this.request('finishEvidence', { evidenceId });
    await this.say(phrases.clipDone, this.buyer.language);
    await this.say(phrases.goodbye, this.buyer.language);
    await this.request('endCall', {}).catch(() => undefined);
    await this.leave();
  }

  /** One line: in the chat (translated by the node for the others) and aloud. */
  private async say(text: string, language: string) {
    if (this.over) return;
    if (this.chatLanguage !== language) {
      await this.request('setLanguage', { language });
      this.chatLanguage = language;
    }
    await this.request('sendChat', { text });
    if (!this.voice || this.interrupted) return;
    const choice = this.deps.engines.textToSpeech(this.deps.tenant, language, this.settings.voice);
    if ('reason' in choice) return;
    try {
      const speech = await choice.engine.synthesize(text, language);
      if (!this.interrupted && !this.over) await this.voice.say(speech);
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message }, 'the assistant could not speak a line (it is in the chat)');
    }
  }

  private keep(turns: Array<{ from: 'buyer' | 'assistant'; text: string; language: string; at: number }>) {
    return this.request('assistantSave', { turns, ...(this.engine ? { state: this.engine.save() } : {}) }).then(() => undefined);
  }

  /** Leaves the call (done, cancelled, or the call ended). */
  async leave() {
    if (this.over) return;
    this.over = true;
    clearTimeout(this.noSellerTimer);
    this.voice?.close();
    if (this.signaling?.open) await this.signaling.request('leave', {}).catch(() => undefined);
    this.signaling?.close();
    this.deps.log.info({ jobId: this.job.jobId }, 'the assistant left its call');
    this.resolveDone();
  }
}
