import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken, type MintRequest } from '../../src/auth/tokens.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { decodeOpus, recognise, spoken, spokenFrames } from '../helpers/speech-clips.js';
import { newWebhookSecret, WebhookReceiver } from '../helpers/webhook-receiver.js';
import { WeriftPeer } from '../helpers/werift-peer.js';
import { wordErrors } from '../../bench/speech.js';

const chatFrom = (p: WeriftPeer, from = 'assistant') => p.client.notificationsOf('chat').filter((m) => m.peerId === from).map((m) => m.text);

/** The agent worker processes this test process's node started. */
function workerPids(): number[] {
  return fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((p) => {
    try {
      return Number(fs.readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ')[1]) === process.pid
        && fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('agents/worker/main.ts');
    } catch {
      return false;
    }
  });
}

/**
 * The voice assistant, with its offline engines for real: the node dispatches it to its agent
 * worker process; buyers (werift) speak Flite's voice as Opus, which the node captions
 * (pocketsphinx); the assistant answers in the chat and aloud (Flite, Opus from the worker),
 * and what the buyer's side received is run through speech to text again.
 */
describe('the voice assistant', () => {
  let t: TestNode;
  let hooks: WebhookReceiver;
  const peers: WeriftPeer[] = [];
  const token = (req: Partial<MintRequest> & { room: string; identity: string }, tenant = 'default') => mintToken(t.config.auth, req as MintRequest, tenant).token;
  const api = (method: string, path: string, body?: unknown, key = t.config.auth.apiKeys[0]) => fetch(`${t.http}${path}`, {
    method, headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined,
  });

  /** A buyer in `room` who publishes a camera and a microphone it speaks into, and hears the assistant. */
  async function buyerIn(room: string, { tenant = 'default', language = 'en', identity = 'buyer', name = 'Ana' } = {}) {
    const buyer = await WeriftPeer.connect(t.ws, token({ room, identity, name, role: 'buyer', language }, tenant));
    peers.push(buyer);
    await buyer.client.request('subscribeChat', {});
    await buyer.publish({ video: true, data: false });
    const heard: Buffer[] = [];
    const added = await buyer.client.notification('producerAdded', (d) => d.peerId === 'assistant', 30_000);
    buyer.onRtp = (kind, payload) => void (kind === 'audio' && heard.push(Buffer.from(payload)));
    await buyer.subscribeByHand([added.producer.id]);
    return { buyer, heard };
  }
  /** Waits for the assistant's next chat line (after the `seen` it had) that matches. */
  const next = async (p: WeriftPeer, re: RegExp, seen = 0) => {
    await p.client.until(() => chatFrom(p).slice(seen).some((l) => re.test(l)), `the assistant to say ${re}`, 40_000);
    return chatFrom(p).slice(seen).find((l) => re.test(l))!;
  };
  /** Waits until the assistant has spoken and stopped (its audio quiet between two looks). */
  const quiet = async (p: WeriftPeer, heard: Buffer[]) => {
    let last = -1;
    await p.client.until(() => {
      const still = heard.length === last;
      last = heard.length;
      return still && heard.length > 0;
    }, 'the assistant to stop speaking', 30_000);
  };
  /** Says `text` once the assistant has finished speaking. */
  const sayAfterSilence = async (p: WeriftPeer, heard: Buffer[], text: string) => {
    await quiet(p, heard);
    p.say(spokenFrames(text));
  };

  beforeAll(async () => {
    hooks = new WebhookReceiver(newWebhookSecret());
    await hooks.start();
    t = await startTestNode({
      tenants: [
        { id: 'default', webhook: { url: hooks.url, secret: hooks.secret }, assistant: { join: 'buyer-joined', voice: 'flite', sellerWaitSeconds: 3, evidenceSeconds: 4 } },
        { id: 'ondemand', apiKeys: ['ondemand-api-key-0123456789'], assistant: { join: 'request' } },
        { id: 'waiting', apiKeys: ['waiting-api-key-01234567890'], assistant: { join: 'seller-wait', waitSeconds: 1 } },
      ] as never,
      agents: { workers: 1 },
    });
  });
  afterAll(async () => {
    for (const p of peers) await p.close().catch(() => undefined);
    await t?.close();
    await hooks?.stop();
  });

  it('greets the buyer, hears the problem, and answers aloud: the buyer\'s side hears that answer', async () => {
    await api('POST', '/v1/rooms', { room: 'ticket-1', metadata: { orderId: 'A-1001' } });
    const { buyer, heard } = await buyerIn('ticket-1');
    // Captions came on with the assistant, and the buyer was told (in the join answer, or just after it).
    expect(buyer.join.captions?.enabled || buyer.client.notificationsOf('captionsChanged').length === 1).toBe(true);
    expect(await next(buyer, /after-sales assistant for order A-1001/)).toMatch(/^Hello Ana/);
    await sayAfterSilence(buyer, heard, 'it arrived broken');
    heard.length = 0;
    const answer = await next(buyer, /hold the item up to your camera/, 1);
    await quiet(buyer, heard);
    const received = recognise(await decodeOpus(heard));
    // What the buyer's side received is that answer: close to its words, far from another line's.
    expect(wordErrors(answer, received).errors / wordErrors(answer, received).words).toBeLessThan(0.35);
    expect(wordErrors('Which order is it about? Please tell me the order number.', received).errors).toBeGreaterThan(6);
  });

  it('reaches each category by voice, and settles one: the photo, the remedy, the buyer\'s yes, the record', { timeout: 240_000 }, async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['cat-defective', 'it does not work', /hold the item up to your camera/],
      ['cat-wrong', 'it is the wrong size', /hold the item up to your camera/],
      ['cat-howto', 'how do i set it up', /setup guide/],
      ['cat-mind', 'i changed my mind', /return the item/],
    ];
    for (const [room, problem, expected] of cases) {
      await api('POST', '/v1/rooms', { room, metadata: { orderId: 'A-2002' } });
      const { buyer, heard } = await buyerIn(room);
      await next(buyer, /What went wrong/);
      await sayAfterSilence(buyer, heard, problem);
      await next(buyer, expected, 1);
      await buyer.client.request('leave', {});
    }
    // damaged in transit, to the end.
    await api('POST', '/v1/rooms', { room: 'cat-damaged', metadata: { orderId: 'A-3003' } });
    const { buyer, heard } = await buyerIn('cat-damaged');
    await next(buyer, /What went wrong/);
    await sayAfterSilence(buyer, heard, 'the box arrived broken');
    await next(buyer, /hold the item up to your camera/, 1);
    await sayAfterSilence(buyer, heard, 'ready');
    await next(buyer, /refund part of the price/, 2);
    expect(chatFrom(buyer)).toContain('Thank you, the photo is in your ticket.');
    await sayAfterSilence(buyer, heard, 'yes');
    await next(buyer, /it is arranged/, 3);
    await buyer.client.notification('peerLeft', (d) => d.peerId === 'assistant', 20_000);
    const { callId } = await (await api('GET', '/v1/rooms/cat-damaged')).json();
    await api('DELETE', '/v1/rooms/cat-damaged');
    const record = (await hooks.waitFor('call.record', (e) => e.data.callId === callId, 20_000)).data;
    expect(record.assistant.outcome).toMatchObject({ category: 'damaged_in_transit', remedy: 'partial_refund', accepted: true, handover: false, orderId: 'A-3003' });
    expect(record.snapshots).toHaveLength(1);
    expect(record.assistant.turns.filter((x: { from: string }) => x.from === 'buyer').map((x: { text: string }) => x.text)).toEqual(['the box arrived broken', 'ready', 'yes']);
    expect(record.assistant.dispatches).toBe(1);
    expect(hooks.invalid).toEqual([]);
  });

  it('stops talking when the buyer talks over it (barge-in), and answers what the buyer said', async () => {
    await api('POST', '/v1/rooms', { room: 'barge-in' });
    const { buyer, heard } = await buyerIn('barge-in');
    // The greeting is long; the buyer starts speaking as soon as it begins.
    await buyer.client.until(() => heard.length > 10, 'the greeting to begin', 30_000);
    buyer.say(spokenFrames('it does not work'));
    await next(buyer, /order number/, 1);
    const greeting = spoken('Hello Ana, I am the after-sales assistant. What went wrong with your item?');
    const fullGreetingPackets = Math.ceil(greeting.length / 2 / 16_000 / 0.02);
    // What came of the greeting before the answer: cut well short of all of it.
    const greetingPackets = heard.length;
    expect(greetingPackets).toBeLessThan(fullGreetingPackets * 0.8);
  });

  it('hands over: agent.handover with the triage, the seller who joins gets the summary in Spanish, and the assistant leaves', async () => {
    await api('POST', '/v1/rooms', { room: 'handover', metadata: { orderId: 'A-4004' } });
    const { buyer, heard } = await buyerIn('handover');
    await next(buyer, /What went wrong/);
    await sayAfterSilence(buyer, heard, 'i want to talk to a person');
    await next(buyer, /calling a seller/, 1);
    const handover = await hooks.waitFor('agent.handover', (e) => e.data.room === 'handover', 20_000);
    expect(handover.data).toMatchObject({ buyer: 'buyer', language: 'en', outcome: { handover: true, orderId: 'A-4004' } });
    expect(handover.data.transcript.map((x: { from: string; text: string }) => `${x.from}: ${x.text}`)).toContain('buyer: i want to talk to a person');
    const seller = await WeriftPeer.connect(t.ws, token({ room: 'handover', identity: 'seller', name: 'Luis', role: 'seller', language: 'es' }));
    peers.push(seller);
    await seller.client.request('subscribeChat', {});
    await seller.client.until(() => chatFrom(seller).length >= 3, 'the summary', 30_000);
    const [hello, order, summary] = chatFrom(seller);
    expect(hello).toBe('Hola Luis, esto es lo que me ha contado el comprador.');
    expect(order).toBe('Pedido A-4004.');
    expect(summary).toMatch(/vendedor/); // in Spanish (Apertium's)
    expect(summary).not.toMatch(/seller/);
    await seller.client.notification('peerLeft', (d) => d.peerId === 'assistant', 30_000);
  });

  it('when no seller comes: an evidence clip with its transcript, evidence.ready, the end of the call, all in the record', async () => {
    await api('POST', '/v1/rooms', { room: 'night', metadata: { orderId: 'A-5005' } });
    const { buyer, heard } = await buyerIn('night');
    await next(buyer, /What went wrong/);
    await sayAfterSilence(buyer, heard, 'i want to talk to a person');
    await next(buyer, /calling a seller/, 1);
    await next(buyer, /No seller is available right now/, 2);
    await sayAfterSilence(buyer, heard, 'the box arrived broken');
    const ready = await hooks.waitFor('evidence.ready', (e) => e.data.room === 'night', 40_000);
    const clip = ready.data.evidence;
    expect(clip.identity).toBe('buyer');
    expect(clip.files.map((f: { kind: string }) => f.kind).sort()).toEqual(['audio', 'video']);
    expect(clip.transcript.map((s: { text: string }) => s.text)).toContain('the box arrived broken');
    expect(clip.summary).toMatch(/Handed over to a seller/);
    expect((await buyer.client.notification('disconnected', undefined, 30_000)).code).toBe('ROOM_ENDED');
    expect(chatFrom(buyer)).toContain('Thank you. The seller will see your video and contact you by email within one day.');
    const record = (await hooks.waitFor('call.record', (e) => e.data.room === 'night', 20_000)).data;
    expect(record.assistant.evidence).toEqual([clip]);
    expect(record.assistant.handedOverAt).not.toBeNull();
    // The seller finds the clip: it downloads.
    const file = await api('GET', `/v1/files/${clip.files[0].fileId}`);
    expect(file.status).toBe(200);
    expect((await file.arrayBuffer()).byteLength).toBeGreaterThan(1000);
  });

  it('a worker killed mid-call is replaced, and the assistant goes on from the conversation so far', async () => {
    await api('POST', '/v1/rooms', { room: 'killed', metadata: { orderId: 'A-6006' } });
    const { buyer, heard } = await buyerIn('killed');
    await next(buyer, /What went wrong/);
    await sayAfterSilence(buyer, heard, 'it does not work');
    await next(buyer, /hold the item up to your camera/, 1);
    const [pid] = workerPids();
    process.kill(pid, 'SIGKILL');
    // The node starts another worker; the job goes to it; the new assistant replaces the one that died.
    await buyer.client.until(() => workerPids().some((p) => p !== pid), 'a new worker', 30_000);
    await buyer.client.until(() => buyer.client.notificationsOf('peerJoined').filter((p) => p.id === 'assistant').length >= 2, 'the assistant back', 30_000);
    buyer.say(spokenFrames('ready'));
    await next(buyer, /send you a replacement part/, 2);
    // It went on: no second greeting.
    expect(chatFrom(buyer).filter((l) => /What went wrong/.test(l))).toHaveLength(1);
    const { callId } = await (await api('GET', '/v1/rooms/killed')).json();
    await api('DELETE', '/v1/rooms/killed');
    const record = (await hooks.waitFor('call.record', (e) => e.data.callId === callId, 20_000)).data;
    expect(record.assistant.dispatches).toBe(2);
  });

  it('on request: POST, GET and DELETE /v1/rooms/:room/agents; captions start mid-call and everyone is told; agent time in usage', async () => {
    const key = 'ondemand-api-key-0123456789';
    await api('POST', '/v1/rooms', { room: 'asked' }, key);
    const buyer = await WeriftPeer.connect(t.ws, token({ room: 'asked', identity: 'buyer', role: 'buyer', language: 'en' }, 'ondemand'));
    peers.push(buyer);
    expect(buyer.join.captions?.enabled).toBe(false);
    await buyer.client.request('subscribeChat', {});
    expect((await (await api('GET', '/v1/rooms/asked/agents', undefined, key)).json()).agent).toBeNull();
    const first = await api('POST', '/v1/rooms/asked/agents', undefined, key);
    expect(first.status).toBe(201);
    const again = await api('POST', '/v1/rooms/asked/agents', undefined, key);
    expect(again.status).toBe(200);
    expect((await again.json()).agent.jobId).toBe((await first.json()).agent.jobId);
    expect(await buyer.client.notification('captionsChanged')).toEqual({ enabled: true });
    await next(buyer, /What went wrong/);
    expect((await (await api('GET', '/v1/rooms/asked/agents', undefined, key)).json()).agent.state).toBe('in-call');
    expect((await api('DELETE', '/v1/rooms/asked/agents', undefined, key)).status).toBe(204);
    await buyer.client.notification('peerLeft', (d) => d.peerId === 'assistant', 20_000);
    expect((await (await api('GET', '/v1/rooms/asked/agents', undefined, key)).json()).agent.state).toBe('ended');
    const usage = await (await api('GET', `/v1/usage?from=${new Date(Date.now() - 600_000).toISOString()}`, undefined, key)).json();
    expect(usage.total.agentSeconds).toBeGreaterThan(0);
    // Another tenant's key finds no such room.
    expect((await api('POST', '/v1/rooms/asked/agents', undefined, 'waiting-api-key-01234567890')).status).toBe(404);
  });

  it('seller-wait: a buyer alone gets the assistant; a buyer with a seller does not', async () => {
    const withSeller = await WeriftPeer.connect(t.ws, token({ room: 'staffed', identity: 'seller', role: 'seller' }, 'waiting'));
    const buyer2 = await WeriftPeer.connect(t.ws, token({ room: 'staffed', identity: 'buyer', role: 'buyer' }, 'waiting'));
    const alone = await WeriftPeer.connect(t.ws, token({ room: 'unstaffed', identity: 'buyer', role: 'buyer' }, 'waiting'));
    peers.push(withSeller, buyer2, alone);
    await alone.client.notification('peerJoined', (p) => p.id === 'assistant', 30_000);
    // By then the staffed room's wait (the same) has long passed: no assistant there.
    const key = 'waiting-api-key-01234567890';
    expect((await (await api('GET', '/v1/rooms/staffed/agents', undefined, key)).json()).agent).toBeNull();
    expect(buyer2.client.notificationsOf('peerJoined').some((p) => p.id === 'assistant')).toBe(false);
  });

  it('speaks the buyer\'s language: Spanish and Chinese buyers who type', async () => {
    for (const [room, language, problem, expected] of [
      ['es-chat', 'es', 'El producto llegó roto', /Muestre el artículo a la cámara/],
      ['zh-chat', 'zh', '收到的时候就坏了', /请把商品对准摄像头/],
    ] as const) {
      await api('POST', '/v1/rooms', { room, metadata: { orderId: 'A-7007' } });
      const buyer = await WeriftPeer.connect(t.ws, token({ room, identity: 'buyer', role: 'buyer', language }));
      peers.push(buyer);
      await buyer.client.request('subscribeChat', {});
      await buyer.client.until(() => chatFrom(buyer).length > 0, 'the greeting', 30_000);
      await buyer.client.request('sendChat', { text: problem });
      await next(buyer, expected, 1);
      await buyer.client.request('leave', {});
    }
  });
});
