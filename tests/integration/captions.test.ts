import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Apertium } from '../../src/speech/engines/apertium.js';
import { OpenAiTextToSpeech } from '../../src/speech/engines/openai.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { OpenAiStub } from '../helpers/openai-stub.js';
import { SignalingClient } from '../helpers/signaling-client.js';
import { clipOpusFrames, GOFORWARD_TEXT } from '../helpers/speech-clips.js';
import { newWebhookSecret, WebhookReceiver } from '../helpers/webhook-receiver.js';
import { WeriftPeer } from '../helpers/werift-peer.js';

type Caption = { segmentId: string; peerId: string; language: string; text: string; final: boolean; startMs: number; endMs: number; translations?: Record<string, string>; untranslated?: Record<string, string> };
const captionsOf = (p: WeriftPeer | SignalingClient) => ('client' in p ? p.client : p).notificationsOf('caption') as Caption[];
const finalsOf = (p: WeriftPeer | SignalingClient, from: string) => captionsOf(p).filter((c) => c.final && c.peerId === from);
const statusOf = (p: WeriftPeer, of: string) => p.client.notificationsOf('captionStatus').filter((s) => s.peerId === of);
/** The recogniser processes this test process started (the node runs in it). */
const recognisers = () => {
  try {
    return execFileSync('pgrep', ['-P', String(process.pid), '-f', 'pocketsphinx-stream'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
};

/**
 * Live captions with the offline engines, run for real: werift peers publish Opus made by
 * libopus from Debian's clip with a known transcript; the node decodes it (ffmpeg), recognises
 * it (pocketsphinx) and translates it (Apertium) for everyone in the room.
 */
describe('captions and translation with the offline engines', () => {
  let t: TestNode;
  let hooks: WebhookReceiver;
  let apertium: Apertium;
  const peers: WeriftPeer[] = [];
  const clients: SignalingClient[] = [];
  const frames = clipOpusFrames();
  const api = (method: string, path: string, body?: unknown) => fetch(`${t.http}${path}`, {
    method, headers: { authorization: `Bearer ${t.config.auth.apiKeys[0]}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined,
  });
  let seller: WeriftPeer;
  let buyer: WeriftPeer;
  let observer: SignalingClient;

  beforeAll(async () => {
    hooks = new WebhookReceiver(newWebhookSecret());
    await hooks.start();
    t = await startTestNode({
      tenants: [{ id: 'default', captions: 'request', webhook: { url: hooks.url, secret: hooks.secret } }] as never,
      captions: { maxParticipantsPerNode: 2 },
    });
    apertium = new Apertium();
    const created = await api('POST', '/v1/rooms', { room: 'cap-1', captions: true });
    expect(created.status).toBe(201);
    seller = await WeriftPeer.connect(t.ws, t.token({ room: 'cap-1', identity: 'seller', role: 'seller', language: 'es' }));
    buyer = await WeriftPeer.connect(t.ws, t.token({ room: 'cap-1', identity: 'buyer', role: 'buyer', language: 'en-US' }));
    // A watcher who reads Chinese: no offline engine translates into it.
    observer = await SignalingClient.connect(t.ws);
    await observer.request('join', { token: t.token({ room: 'cap-1', identity: 'watcher', role: 'observer', language: 'zh' }) });
    peers.push(seller, buyer);
    clients.push(observer);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    for (const p of peers) await p.close().catch(() => undefined);
    await t?.close();
    await hooks?.stop();
    apertium?.close();
  });

  it('everyone is told captions are on when they join; a room created without them has none', async () => {
    expect(seller.join.captions).toEqual({ enabled: true, language: 'es' });
    expect(buyer.join.captions).toEqual({ enabled: true, language: 'en-US' });
    await api('POST', '/v1/rooms', { room: 'no-captions' });
    const other = await WeriftPeer.connect(t.ws, t.token({ room: 'no-captions', identity: 'buyer', language: 'es' }));
    peers.push(other);
    expect(other.join.captions).toEqual({ enabled: false, language: 'es' });
  });

  it('the buyer\'s speech reaches the seller as interim captions, then the final one in English and Spanish; a language no engine covers gets the reason', async () => {
    await buyer.publish({ video: false, data: false, audioFrames: frames });
    await seller.client.until(() => finalsOf(seller, 'buyer').length > 0, 'a final caption', 40_000);
    const final = finalsOf(seller, 'buyer')[0];
    expect(final).toMatchObject({ text: GOFORWARD_TEXT, language: 'en-US', final: true });
    expect(final.translations).toEqual({ es: await apertium.translate(GOFORWARD_TEXT, 'en', 'es') });
    expect(final.untranslated?.zh).toMatch(/no engine translates en to zh/);
    expect(final.endMs).toBeGreaterThan(final.startMs);
    // Interim results of the same segment came first, without translations.
    const interims = captionsOf(seller).filter((c) => !c.final && c.segmentId === final.segmentId);
    expect(interims.length).toBeGreaterThan(0);
    expect(interims.every((c) => c.translations === undefined)).toBe(true);
    // Everyone in the room gets the same caption, the speaker too.
    await observer.until(() => finalsOf(observer, 'buyer').length > 0, 'the watcher\'s caption');
    expect(finalsOf(observer, 'buyer')[0]).toEqual(final);
    await buyer.client.until(() => finalsOf(buyer, 'buyer').length > 0, 'the speaker\'s own caption');
    expect(statusOf(seller, 'buyer')[0]).toMatchObject({ state: 'on' });
  });

  it('a participant whose language no engine recognises is told why, and its audio still flows', async () => {
    const french = await WeriftPeer.connect(t.ws, t.token({ room: 'cap-1', identity: 'french-agent', role: 'agent', language: 'fr' }));
    peers.push(french);
    await french.publish({ video: false, data: false, audioFrames: frames });
    const status = await seller.client.notification('captionStatus', (s) => s.peerId === 'french-agent' && s.state === 'unavailable', 30_000);
    expect(status.code).toBe('NO_ENGINE');
    expect(status.message).toMatch(/no engine recognises fr.*pocketsphinx recognises English only.*no OpenAI-compatible service/);
    // Others still hear the agent.
    const listener = await WeriftPeer.connect(t.ws, t.token({ room: 'cap-1', identity: 'listener', role: 'observer', language: 'es' }), false);
    peers.push(listener);
    await listener.subscribeByHand([french.producers.audio]);
    await listener.client.until(() => listener.received.audio.packets > 50, 'the agent\'s audio');
    expect(finalsOf(seller, 'french-agent')).toEqual([]);
    // Gone at once (a closed socket would stay in the room for the reconnect grace).
    for (const p of [french, listener]) {
      await p.client.request('leave', {});
      await p.close();
    }
  });

  it('chat and the platform\'s messages carry their translations, beside the original', async () => {
    for (const c of [seller.client, buyer.client, observer]) await c.request('subscribeChat', {});
    await seller.client.request('sendChat', { text: '¿Dónde está la caja?' });
    const toBuyer = await buyer.client.notification('chat', (m) => m.peerId === 'seller');
    expect(toBuyer).toMatchObject({ text: '¿Dónde está la caja?', language: 'es', translations: { en: await apertium.translate('¿Dónde está la caja?', 'es', 'en') } });
    expect((await observer.notification('chat', (m) => m.peerId === 'seller')).untranslated?.zh).toMatch(/no engine translates es to zh/);
    await buyer.client.request('sendChat', { text: 'The lid is cracked' });
    expect((await seller.client.notification('chat', (m) => m.peerId === 'buyer')).translations).toEqual({ es: await apertium.translate('The lid is cracked', 'en', 'es') });
    const sent = await api('POST', '/v1/rooms/cap-1/messages', { text: 'Refund approved', from: 'after-sales', language: 'en' });
    expect(sent.status).toBe(202);
    const system = await seller.client.notification('systemMessage');
    expect(system).toMatchObject({ text: 'Refund approved', from: 'after-sales', language: 'en', translations: { es: await apertium.translate('Refund approved', 'en', 'es') } });
  });

  it('a participant who changes language is seen so by the others, and captions follow it', async () => {
    await seller.client.request('setLanguage', { language: 'en-GB' });
    expect(await buyer.client.notification('peerUpdated', (p) => p.id === 'seller')).toMatchObject({ language: 'en-GB' });
    const before = finalsOf(seller, 'buyer').length;
    await seller.client.until(() => finalsOf(seller, 'buyer').length > before, 'a caption after the change', 40_000);
    // Nobody reads Spanish now: the caption carries no Spanish.
    expect(finalsOf(seller, 'buyer').at(-1)!.translations).toEqual({});
    await seller.client.request('setLanguage', { language: 'es' });
    const refused = await seller.client.request('setLanguage', { language: 'not a language!' }).catch((e) => e);
    expect(refused.code).toBe('BAD_REQUEST');
  });

  it('a recogniser that dies is restarted, everyone is told, and captions go on', async () => {
    const pids = recognisers();
    expect(pids.length).toBe(1);
    const before = finalsOf(seller, 'buyer').length;
    process.kill(pids[0], 'SIGKILL');
    await seller.client.notification('captionStatus', (s) => s.peerId === 'buyer' && s.state === 'restarting', 20_000);
    const states = () => statusOf(seller, 'buyer').map((s) => s.state);
    await seller.client.until(() => states().lastIndexOf('on') > states().lastIndexOf('restarting'), 'captions on again');
    await seller.client.until(() => finalsOf(seller, 'buyer').length > before, 'a caption after the restart', 40_000);
    expect(recognisers()).not.toContain(pids[0]);
  });

  it('past captions.maxParticipantsPerNode a participant is told CAPTIONS_FULL and counted, its audio flows, and it gets the next free place', async () => {
    const agent = await WeriftPeer.connect(t.ws, t.token({ room: 'cap-1', identity: 'agent-1', role: 'agent', language: 'en' }));
    const late = await WeriftPeer.connect(t.ws, t.token({ room: 'cap-1', identity: 'agent-2', role: 'agent', language: 'en' }));
    peers.push(agent, late);
    await agent.publish({ video: false, data: false, audioFrames: frames });
    await seller.client.notification('captionStatus', (s) => s.peerId === 'agent-1' && s.state === 'on', 20_000);
    await late.publish({ video: false, data: false, audioFrames: frames });
    const full = await seller.client.notification('captionStatus', (s) => s.peerId === 'agent-2' && s.state === 'unavailable', 20_000);
    expect(full.code).toBe('CAPTIONS_FULL');
    const metrics = await (await fetch(`${t.http}/metrics`)).text();
    expect(metrics).toMatch(/^sfu_captions_refused_total 1$/m);
    expect(metrics).toMatch(/^sfu_captioned_participants 2$/m);
    // The call is not harmed: the others hear the late agent.
    const listener = await WeriftPeer.connect(t.ws, t.token({ room: 'cap-1', identity: 'listener-2', role: 'observer', language: 'en' }), false);
    peers.push(listener);
    await listener.subscribeByHand([late.producers.audio]);
    await listener.client.until(() => listener.received.audio.packets > 50, 'the late agent\'s audio');
    await listener.close();
    // A place frees: the late agent is captioned.
    await agent.client.request('leave', {});
    await agent.close();
    await seller.client.notification('captionStatus', (s) => s.peerId === 'agent-2' && s.state === 'on', 20_000);
    await seller.client.until(() => finalsOf(seller, 'agent-2').length > 0, 'the late agent\'s caption', 40_000);
    expect(finalsOf(seller, 'agent-2')[0].text).toBe(GOFORWARD_TEXT);
    await late.close();
  });

  it('the transcript goes in the call record and a transcript.ready webhook; usage counts speech seconds and translated characters', async () => {
    const from = new Date(Date.now() - 3600_000).toISOString();
    const room = await (await api('GET', '/v1/rooms/cap-1')).json();
    expect((await api('DELETE', '/v1/rooms/cap-1')).status).toBe(204);
    const ready = await hooks.waitFor('transcript.ready', (e) => e.data.callId === room.callId, 20_000);
    const spoken = ready.data.transcript.filter((s: any) => s.identity === 'buyer');
    expect(spoken.length).toBeGreaterThan(1);
    expect(spoken[0]).toMatchObject({ language: 'en-US', text: GOFORWARD_TEXT, translations: { es: await apertium.translate(GOFORWARD_TEXT, 'en', 'es') } });
    expect(spoken[0].untranslated.zh).toBeTruthy();
    expect(Date.parse(spoken[0].endedAt)).toBeGreaterThan(Date.parse(spoken[0].startedAt));
    expect(ready.data.languages).toEqual(['en']);
    expect(hooks.invalid).toEqual([]);
    const record = await (await api('GET', `/v1/calls/${room.callId}`)).json();
    expect(record.transcript).toEqual(ready.data.transcript);
    const usage = await (await api('GET', `/v1/usage?from=${from}`)).json();
    const cap = usage.rooms.find((r: any) => r.room === 'cap-1').usage;
    expect(cap.speechSeconds).toBeGreaterThan(5);
    expect(cap.translatedCharacters).toBeGreaterThan(GOFORWARD_TEXT.length);
  });
});

/**
 * Languages the offline engines do not cover go to the tenant's OpenAI-compatible service: here
 * a local stub (the real one cannot be reached from this machine) that checks every request's
 * format, multipart audio upload, chat messages, speech parameters, and answers.
 */
describe('captions and translation through an OpenAI-compatible service', () => {
  let t: TestNode;
  let stub: OpenAiStub;
  const peers: WeriftPeer[] = [];
  const frames = clipOpusFrames();

  beforeAll(async () => {
    stub = await OpenAiStub.start();
    stub.transcribe = (language) => (language === 'zh' ? '往前走十米' : 'unexpected language');
    stub.translate = (text, system) => (/from zh(-[A-Za-z]+)? to en/.test(system) && text === '往前走十米' ? 'go forward ten meters' : /to es/.test(system) ? `es: ${text}` : `?? ${text}`);
    t = await startTestNode({
      tenants: [{ id: 'default', captions: 'all', speech: { openai: { baseUrl: stub.baseUrl, apiKey: stub.apiKey } } }] as never,
    });
  });
  afterAll(async () => {
    for (const p of peers) await p.close().catch(() => undefined);
    await t?.close();
    await stub?.close();
  });

  it('Chinese speech is transcribed by /audio/transcriptions and translated by /chat/completions; English to Spanish stays offline', async () => {
    const listener = await WeriftPeer.connect(t.ws, t.token({ room: 'zh-1', identity: 'seller', role: 'seller', language: 'en' }));
    const spanish = await WeriftPeer.connect(t.ws, t.token({ room: 'zh-1', identity: 'agent', role: 'agent', language: 'es' }));
    const speaker = await WeriftPeer.connect(t.ws, t.token({ room: 'zh-1', identity: 'buyer', role: 'buyer', language: 'zh-CN' }));
    peers.push(listener, spanish, speaker);
    await speaker.publish({ video: false, data: false, audioFrames: frames });
    await listener.client.until(() => finalsOf(listener, 'buyer').length > 0, 'a caption from the service', 40_000);
    const caption = finalsOf(listener, 'buyer')[0];
    expect(caption).toMatchObject({ text: '往前走十米', language: 'zh-CN', translations: { en: 'go forward ten meters', es: 'es: 往前走十米' }, untranslated: {} });
    const uploads = stub.requests.filter((r) => r.path === '/v1/audio/transcriptions');
    expect(uploads[0].fields).toMatchObject({ model: 'whisper-1', language: 'zh', response_format: 'json' });
    // One utterance of the clip, cut by the node's voice-activity detector (the clip's speech is 2.5 s).
    expect(uploads[0].audioSeconds).toBeGreaterThan(1.5);
    expect(uploads[0].audioSeconds).toBeLessThan(5);
    const chats = stub.requests.filter((r) => r.path === '/v1/chat/completions');
    expect(chats.map((c) => c.json.model)).toEqual(['gpt-4o-mini', 'gpt-4o-mini']);
    expect(chats[0].json.messages.at(-1)).toEqual({ role: 'user', content: '往前走十米' });
    // English to Spanish: Apertium, offline; the service is not asked.
    await listener.client.request('sendChat', { text: 'The lid is cracked' });
    await spanish.client.request('subscribeChat', {});
    await listener.client.request('sendChat', { text: 'Thank you' });
    const chat = await spanish.client.notification('chat', (m) => m.text === 'Thank you');
    expect(chat.translations?.es).toBe('Gracias');
    const asked = stub.requests.filter((r) => r.path === '/v1/chat/completions').map((r) => r.json.messages[0].content as string);
    expect(asked.some((system) => /from en to es/.test(system))).toBe(false);
    // English to Chinese (the buyer) is the service's.
    expect(asked.filter((system) => /from en to zh/.test(system)).length).toBe(2);
    expect(stub.problems).toEqual([]);
  });

  it('/audio/speech gives PCM for text to speech', async () => {
    const tts = new OpenAiTextToSpeech({ baseUrl: stub.baseUrl, apiKey: stub.apiKey, transcriptionModel: 'whisper-1', chatModel: 'gpt-4o-mini', speechModel: 'tts-1', voice: 'alloy', timeoutMs: 5000 });
    const speech = await tts.synthesize('Hola', 'es');
    expect(speech.sampleRate).toBe(24_000);
    expect(speech.pcm.length).toBe(Math.round(24_000 * 0.08 * 4) * 2);
    expect(stub.requests.at(-1)!.json).toEqual({ model: 'tts-1', input: 'Hola', voice: 'alloy', response_format: 'wav' });
    expect(stub.problems).toEqual([]);
  });

  it('a service that fails: the original text stands, with the reason', async () => {
    const a = await WeriftPeer.connect(t.ws, t.token({ room: 'zh-2', identity: 'buyer', role: 'buyer', language: 'zh' }));
    const b = await WeriftPeer.connect(t.ws, t.token({ room: 'zh-2', identity: 'seller', role: 'seller', language: 'en' }));
    peers.push(a, b);
    await b.client.request('subscribeChat', {});
    stub.failWith = 500;
    try {
      await a.client.request('sendChat', { text: '盖子裂了' });
      const chat = await b.client.notification('chat', (m) => m.peerId === 'buyer');
      expect(chat.text).toBe('盖子裂了');
      expect(chat.translations).toEqual({});
      expect(chat.untranslated?.en).toMatch(/openai-chat failed: \/chat\/completions answered 500/);
    } finally {
      stub.failWith = undefined;
    }
  });
});
