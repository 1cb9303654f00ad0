import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requests, notifications } from '../../src/contracts/protocol.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { RequestFailed, SignalingClient } from '../helpers/signaling-client.js';
import { receiveCapabilities, waitFor, WeriftPeer } from '../helpers/werift-peer.js';
import { clipOpusFrames } from '../helpers/speech-clips.js';
import { roomKey } from '../../src/rooms/room-key.js';

/**
 * Walks every request of protocol v1 and waits for every notification, in one room:
 * seller publishes (simulcast video, audio, data), buyer auto-subscribes, an agent
 * subscribes by hand, an admin kicks.
 */
describe('protocol v1, request by request', () => {
  let t: TestNode;
  let seller: WeriftPeer;
  let buyer: WeriftPeer;
  let agent: SignalingClient;
  const used = new Set<string>();
  const seen = (c: SignalingClient) => c.notifications.forEach((n) => used.add(`notification:${n.method}`));
  const code = (p: Promise<unknown>) => p.then(() => 'ok', (e: RequestFailed) => e.code);
  const room = 'ticket-42';

  beforeAll(async () => {
    t = await startTestNode();
  });
  afterAll(async () => {
    await seller?.close();
    await buyer?.close();
    agent?.close();
    await t.close();
  });

  const track = (c: SignalingClient) => {
    const request = c.request.bind(c);
    c.request = ((method: string, data: never) => {
      used.add(`request:${method}`);
      return request(method as never, data);
    }) as typeof c.request;
    return c;
  };

  it('join, setRtpCapabilities, peerJoined', async () => {
    const sellerClient = track(await SignalingClient.connect(t.ws));
    used.add('request:join').add('request:setRtpCapabilities');
    seller = await WeriftPeer.connect(t.ws, t.token({ room, identity: 'seller', role: 'seller', name: 'Shenzhen Parts Co.' }));
    sellerClient.close();
    track(seller.client);
    expect(seller.join).toMatchObject({ peerId: 'seller', roomId: room, role: 'seller', peers: [] });
    expect(seller.join.routerRtpCapabilities.codecs!.map((c) => c.mimeType)).toEqual(expect.arrayContaining(['audio/opus', 'video/VP8', 'video/VP9', 'video/H264']));
    buyer = await WeriftPeer.connect(t.ws, t.token({ room, identity: 'buyer', role: 'buyer' }));
    track(buyer.client);
    expect(buyer.join.peers).toEqual([expect.objectContaining({ id: 'seller', name: 'Shenzhen Parts Co.', role: 'seller' })]);
    expect(await seller.client.notification('peerJoined')).toMatchObject({ id: 'buyer', role: 'buyer' });
  });

  it('createTransport, connectTransport, produce, produceData, newConsumer, newDataConsumer', async () => {
    await seller.publish({ simulcast: true });
    await buyer.publish({ audio: false, video: false, data: true });
    const consumers = await buyer.subscribe({ consumers: 2, dataConsumers: 1 });
    expect(consumers.find((c) => c.kind === 'video')!.type).toBe('simulcast');
    expect(await buyer.client.notification('producerAdded', (d) => d.producer.kind === 'video')).toMatchObject({ peerId: 'seller' });
    await waitFor(() => buyer.received.video.packets > 20 && buyer.received.audio.packets > 20, 'media');
  });

  it('SCTP is on by default; the pre-3.20 sctpCapabilities field is still accepted (deprecated), with the legacy sctpParameters fields', async () => {
    const legacy = await SignalingClient.connect(t.ws);
    await legacy.request('join', { token: t.token({ room: 'legacy-sctp', identity: 'old-client' }) });
    const numStreams = { OS: 1024, MIS: 1024 };
    await legacy.request('setRtpCapabilities', { rtpCapabilities: receiveCapabilities(seller.join.routerRtpCapabilities), sctpCapabilities: { numStreams } });
    const withField = await legacy.request('createTransport', { direction: 'recv', sctpCapabilities: { numStreams } });
    const byDefault = await legacy.request('createTransport', { direction: 'send' });
    for (const t of [withField, byDefault]) {
      expect(t.sctpParameters).toMatchObject({ OS: 1024, MIS: 1024, maxMessageSize: t.sctpParameters!.maxSendMessageSize });
      expect(t.sctpParameters!.maxReceiveMessageSize).toBeGreaterThan(0);
    }
    legacy.close();
  });

  it('join can bring the transports, a round trip each saved: those the grants allow, usable at once', async () => {
    const early = await SignalingClient.connect(t.ws);
    const joined = await early.request('join', { token: t.token({ room: 'one-trip', identity: 'buyer-1', role: 'buyer' }), transports: ['recv', 'send'] });
    expect(joined.transports!.map((x) => x.direction)).toEqual(['recv', 'send']);
    for (const x of joined.transports!) expect(x).toMatchObject({ transportId: expect.any(String), iceCandidates: expect.any(Array), sctpParameters: expect.any(Object) });
    await early.request('setRtpCapabilities', { rtpCapabilities: receiveCapabilities(joined.routerRtpCapabilities) });
    // The send transport takes a producer like one from createTransport.
    const send = joined.transports!.find((x) => x.direction === 'send')!;
    await early.request('connectTransport', { transportId: send.transportId, dtlsParameters: { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: 'AB:CD' }] } });
    expect(await early.request('produceData', { transportId: send.transportId, sctpStreamParameters: { streamId: 0, ordered: true }, label: 'chat' })).toMatchObject({ dataProducerId: expect.any(String) });
    early.close();

    // A participant that may only watch gets its recv transport, and no send transport.
    const viewer = await SignalingClient.connect(t.ws);
    const watched = await viewer.request('join', {
      token: t.token({ room: 'one-trip', identity: 'viewer-1', role: 'buyer', grants: { publishAudio: false, publishVideo: false, publishData: false } }),
      transports: ['send', 'recv'],
    });
    expect(watched.transports!.map((x) => x.direction)).toEqual(['recv']);
    // Twice the same direction is not a request the schema accepts.
    const twice = await SignalingClient.connect(t.ws);
    expect(await code(twice.request('join', { token: t.token({ room: 'one-trip', identity: 'twice' }), transports: ['recv', 'recv'] }))).toBe('BAD_REQUEST');
    viewer.close();
    twice.close();
  });

  it('ICE offers UDP and TCP unless forceTcp', async () => {
    const any = await buyer.client.request('createTransport', { direction: 'recv' });
    expect(new Set(any.iceCandidates.map((c) => c.protocol))).toEqual(new Set(['udp', 'tcp']));
    const tcp = await buyer.client.request('createTransport', { direction: 'recv', forceTcp: true });
    expect(tcp.iceCandidates.map((c) => c.protocol)).toEqual(['tcp']);
    await buyer.client.request('closeTransport', { transportId: any.transportId });
    await buyer.client.request('closeTransport', { transportId: tcp.transportId });
  });

  it('scores, layers and the active speaker are notified', async () => {
    const video = buyer.client.notificationsOf('newConsumer').find((c) => c.kind === 'video')!;
    await seller.client.notification('producerScore');
    await buyer.client.notification('consumerScore', (d) => d.consumerId === video.consumerId);
    expect(await buyer.client.notification('consumerLayersChanged', (d) => d.consumerId === video.consumerId && d.layers !== null))
      .toMatchObject({ layers: { spatialLayer: 0 } });
    expect(await buyer.client.notification('activeSpeaker')).toEqual({ peerId: 'seller', producerId: seller.producers.audio });
  });

  it('setConsumerPreferredLayers and requestKeyFrame apply to video consumers only', async () => {
    const [video, audio] = ['video', 'audio'].map((k) => buyer.client.notificationsOf('newConsumer').find((c) => c.kind === k)!);
    expect(await code(buyer.client.request('setConsumerPreferredLayers', { consumerId: video.consumerId, spatialLayer: 2, temporalLayer: 0 }))).toBe('ok');
    expect(await code(buyer.client.request('setConsumerPreferredLayers', { consumerId: audio.consumerId, spatialLayer: 0 }))).toBe('INVALID_STATE');
    expect(await code(buyer.client.request('requestKeyFrame', { consumerId: video.consumerId }))).toBe('ok');
    expect(await code(buyer.client.request('requestKeyFrame', { consumerId: audio.consumerId }))).toBe('INVALID_STATE');
    const { stats } = await buyer.client.request('getStats', { target: 'consumer', id: video.consumerId });
    expect(stats.find((s) => s.type === 'outbound-rtp')).toMatchObject({ kind: 'video' });
  });

  it('setMaxSpatialLayer caps the receivers of a layered producer of your own, and answers how many switched', async () => {
    expect(await seller.client.request('setMaxSpatialLayer', { producerId: seller.producers.video, spatialLayer: 0 })).toEqual({ receivers: 1, switched: 1 });
    // The buyer's own choice is kept under the cap, and comes back when it lifts.
    const video = buyer.client.notificationsOf('newConsumer').find((c) => c.kind === 'video')!;
    expect(await code(buyer.client.request('setConsumerPreferredLayers', { consumerId: video.consumerId, spatialLayer: 1 }))).toBe('ok');
    expect(await seller.client.request('setMaxSpatialLayer', { producerId: seller.producers.video })).toEqual({ receivers: 1, switched: 1 });
    expect(await code(seller.client.request('setMaxSpatialLayer', { producerId: seller.producers.audio, spatialLayer: 0 }))).toBe('INVALID_STATE');
    expect(await code(buyer.client.request('setMaxSpatialLayer', { producerId: seller.producers.video, spatialLayer: 0 }))).toBe('NOT_FOUND');
    expect(await code(seller.client.request('setMaxSpatialLayer', { producerId: seller.producers.video, spatialLayer: -1 }))).toBe('BAD_REQUEST');
  });

  it('pauseProducer / resumeProducer reach subscribers as consumerPaused / consumerResumed', async () => {
    const video = buyer.client.notificationsOf('newConsumer').find((c) => c.kind === 'video')!;
    await seller.client.request('pauseProducer', { producerId: seller.producers.video });
    await buyer.client.notification('consumerPaused', (d) => d.consumerId === video.consumerId);
    await seller.client.request('resumeProducer', { producerId: seller.producers.video });
    await buyer.client.notification('consumerResumed', (d) => d.consumerId === video.consumerId);
  });

  it('pauseConsumer stops forwarding to that subscriber, resumeConsumer restarts it', async () => {
    const audio = buyer.client.notificationsOf('newConsumer').find((c) => c.kind === 'audio')!;
    await buyer.client.request('pauseConsumer', { consumerId: audio.consumerId });
    await new Promise((r) => setTimeout(r, 150));
    const paused = buyer.received.audio.packets;
    await new Promise((r) => setTimeout(r, 400));
    expect(buyer.received.audio.packets).toBe(paused);
    await buyer.client.request('resumeConsumer', { consumerId: audio.consumerId });
    await waitFor(() => buyer.received.audio.packets > paused + 5, 'audio again');
  });

  it('reportQuality feeds the participant\'s quality; the platform\'s messages and mutes arrive as systemMessage and producerMuted', async () => {
    await buyer.client.request('reportQuality', { intervalMs: 1000, rttMs: 80, lossRate: 0.01, frozenRatio: 0, concealedRatio: 0 });
    const api = (path: string, body: object) => fetch(`${t.http}${path}`, {
      method: 'POST', headers: { authorization: `Bearer ${t.config.auth.apiKeys[0]}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    const described = await (await fetch(`${t.http}/v1/rooms/${room}`, { headers: { authorization: `Bearer ${t.config.auth.apiKeys[0]}` } })).json();
    expect(described.participants.find((p: { identity: string }) => p.identity === 'buyer').quality.latest).toMatchObject({ rttMs: 80 });
    expect((await api(`/v1/rooms/${room}/messages`, { text: 'refund approved' })).status).toBe(202);
    expect(await buyer.client.notification('systemMessage')).toMatchObject({ text: 'refund approved', from: 'system' });
    expect((await api(`/v1/rooms/${room}/participants/seller/mute`, { trackId: seller.producers.audio })).status).toBe(200);
    expect(await seller.client.notification('producerMuted')).toEqual({ producerId: seller.producers.audio, muted: true });
    expect(await buyer.client.notification('consumerPaused')).toBeTruthy();
    expect((await api(`/v1/rooms/${room}/participants/seller/mute`, { trackId: seller.producers.audio, muted: false })).status).toBe(200);
    used.add('request:reportQuality');
  });

  it('restartIce returns fresh ICE credentials', async () => {
    const { iceParameters } = await buyer.client.request('restartIce', { transportId: buyer.recvTransportId! });
    expect(iceParameters.usernameFragment).toBeTruthy();
    expect(iceParameters.password).toBeTruthy();
  });

  it('getStats covers transports, producers, consumers, data producers and data consumers', async () => {
    const dataConsumer = buyer.client.notificationsOf('newDataConsumer')[0];
    for (const [c, target, id] of [
      [seller.client, 'transport', seller.sendTransportId!],
      [seller.client, 'producer', seller.producers.video],
      [seller.client, 'dataProducer', seller.producers.data],
      [buyer.client, 'consumer', buyer.client.notificationsOf('newConsumer')[0].consumerId],
      [buyer.client, 'dataConsumer', dataConsumer.dataConsumerId],
    ] as const) {
      const { stats } = await c.request('getStats', { target, id });
      expect(stats.length, target).toBeGreaterThan(0);
    }
  });

  it('consume by hand for a peer that joined with autoSubscribe false', async () => {
    agent = track(await SignalingClient.connect(t.ws));
    const joined = await agent.request('join', { token: t.token({ room, identity: 'agent', role: 'agent' }), autoSubscribe: false });
    const sellerInfo = joined.peers.find((p) => p.id === 'seller')!;
    expect(sellerInfo.producers.map((p) => p.kind).sort()).toEqual(['audio', 'video']);
    await agent.request('setRtpCapabilities', { rtpCapabilities: receiveCapabilities(joined.routerRtpCapabilities) });
    expect(await code(agent.request('consume', { producerId: seller.producers.audio }))).toBe('CANNOT_CONSUME');
    await agent.request('createTransport', { direction: 'recv' });
    await new Promise((r) => setTimeout(r, 200));
    expect(agent.notificationsOf('newConsumer')).toEqual([]);
    const params = await agent.request('consume', { producerId: seller.producers.audio });
    expect(params).toMatchObject({ producerId: seller.producers.audio, peerId: 'seller', kind: 'audio', appData: { source: 'microphone' } });
    expect(await agent.notification('newConsumer')).toEqual(params);
    expect(await code(agent.request('consume', { producerId: 'no-such-producer' }))).toBe('NOT_FOUND');
    await agent.request('closeConsumer', { consumerId: params.consumerId });
    expect(await code(agent.request('getStats', { target: 'consumer', id: params.consumerId }))).toBe('NOT_FOUND');
  });

  it('takeSnapshot (snapshotTaken to everyone); a bot\'s createPlainTransport, subscribeChat, sendChat and chat', async () => {
    const snap = await agent.request('takeSnapshot', { peerId: 'seller' });
    expect(snap).toMatchObject({ identity: 'seller', takenBy: 'agent', url: expect.stringContaining(`/v1/files/${snap.snapshotId}?`) });
    expect(await seller.client.notification('snapshotTaken')).toMatchObject({ snapshotId: snap.snapshotId, peerId: 'seller', takenBy: 'agent' });
    expect(await code(buyer.client.request('takeSnapshot', { peerId: 'seller' }))).toBe('PERMISSION_DENIED');

    const bot = track(await SignalingClient.connect(t.ws));
    await bot.request('join', { token: t.token({ room, identity: 'triage-bot', role: 'bot' }) });
    expect(await bot.request('createPlainTransport', {})).toMatchObject({ ip: '127.0.0.1', port: expect.any(Number) });
    await bot.request('subscribeChat', {});
    buyer.sendMessage(JSON.stringify({ type: 'chat', text: 'hello bot', at: 1 }));
    expect(await bot.notification('chat')).toEqual({ peerId: 'buyer', text: 'hello bot', at: 1 });
    await bot.request('sendChat', { text: 'hello buyer' });
    seen(bot);
    bot.close();
  });

  it('closeDataProducer and closeProducer end the subscribers’ consumers', async () => {
    const dataConsumer = buyer.client.notificationsOf('newDataConsumer')[0];
    await seller.client.request('closeDataProducer', { dataProducerId: seller.producers.data });
    expect(await buyer.client.notification('dataConsumerClosed')).toMatchObject({ dataConsumerId: dataConsumer.dataConsumerId });
    const audio = buyer.client.notificationsOf('newConsumer').find((c) => c.kind === 'audio')!;
    await seller.client.request('closeProducer', { producerId: seller.producers.audio });
    expect(await buyer.client.notification('consumerClosed', (d) => d.consumerId === audio.consumerId)).toMatchObject({ reason: 'producer closed' });
  });

  it('closeTransport ends its producers: producerClosed to the owner, consumerClosed to subscribers', async () => {
    const video = buyer.client.notificationsOf('newConsumer').find((c) => c.kind === 'video')!;
    await seller.client.request('closeTransport', { transportId: seller.sendTransportId! });
    expect(await seller.client.notification('producerClosed')).toEqual({ producerId: seller.producers.video, reason: 'transport closed' });
    await buyer.client.notification('consumerClosed', (d) => d.consumerId === video.consumerId);
  });

  it('kickPeer needs admin; the kicked session is told why and can join again', async () => {
    const admin = track(await SignalingClient.connect(t.ws));
    await admin.request('join', { token: t.token({ room, identity: 'supervisor', role: 'agent', grants: { admin: true } }) });
    expect(await code(admin.request('kickPeer', { peerId: 'ghost' }))).toBe('NOT_FOUND');
    await admin.request('kickPeer', { peerId: 'agent' });
    expect(await agent.notification('disconnected')).toMatchObject({ code: 'KICKED', rejoin: false });
    expect(await buyer.client.notification('peerLeft', (d) => d.peerId === 'agent')).toBeTruthy();
    expect(await code(agent.request('createTransport', { direction: 'recv' }))).toBe('NOT_JOINED');
    await agent.request('join', { token: t.token({ room, identity: 'agent', role: 'agent' }) });
    seen(admin);
    admin.close();
  });

  it('leave, peerLeft; the same identity joining elsewhere replaces the old session', async () => {
    await buyer.client.request('leave', {});
    expect(await seller.client.notification('peerLeft', (d) => d.peerId === 'buyer')).toBeTruthy();
    const again = track(await SignalingClient.connect(t.ws));
    await again.request('join', { token: t.token({ room, identity: 'seller', role: 'seller' }) });
    expect(await seller.client.notification('disconnected')).toMatchObject({ code: 'DUPLICATE_IDENTITY' });
    seen(again);
    again.close();
  });

  it('in a room with captions: caption, captionStatus, setLanguage, peerUpdated', async () => {
    const created = await fetch(`${t.http}/v1/rooms`, {
      method: 'POST', headers: { authorization: `Bearer ${t.config.auth.apiKeys[0]}`, 'content-type': 'application/json' }, body: JSON.stringify({ room: 'captioned', captions: true }),
    });
    expect(created.status).toBe(201);
    const speaker = await WeriftPeer.connect(t.ws, t.token({ room: 'captioned', identity: 'speaker', role: 'buyer', language: 'en' }));
    const reader = await WeriftPeer.connect(t.ws, t.token({ room: 'captioned', identity: 'reader', role: 'seller', language: 'es' }));
    for (const p of [speaker, reader]) track(p.client);
    await speaker.publish({ video: false, data: false, audioFrames: clipOpusFrames() });
    expect(await reader.client.notification('captionStatus', (s) => s.peerId === 'speaker')).toMatchObject({ state: 'on' });
    expect((await reader.client.notification('caption', (c) => c.final, 40_000)).translations?.es).toBeTruthy();
    expect(await code(reader.client.request('setLanguage', { language: 'pt-BR' }))).toBe('ok');
    expect(await speaker.client.notification('peerUpdated')).toMatchObject({ id: 'reader', language: 'pt-BR' });
    for (const p of [speaker, reader]) {
      seen(p.client);
      await p.close();
    }
  });

  it('an assistant (the assist grant): assistantSave, handOver, startEvidence, finishEvidence, endCall, captionsChanged', async () => {
    const room2 = 'assisted';
    const speaker = await WeriftPeer.connect(t.ws, t.token({ room: room2, identity: 'buyer-9', role: 'buyer', language: 'en' }));
    track(speaker.client);
    await speaker.publish({ video: true, data: false });
    const bot = track(await SignalingClient.connect(t.ws));
    const joined = await bot.request('join', { token: t.token({ room: room2, identity: 'helper', role: 'bot', grants: { assist: true } }) });
    expect(joined.assistant).toEqual({ turns: [], state: null, outcome: null, handedOverAt: null, dispatches: 1 });
    // Without the grant, none of it.
    expect(await code(speaker.client.request('endCall', {}))).toBe('PERMISSION_DENIED');
    const outcome = { category: 'defective' as const, remedy: 'replacement_part' as const, accepted: false, handover: true, orderId: 'A-1', summary: 'It does not turn on.' };
    expect(await code(bot.request('assistantSave', { turns: [{ from: 'buyer', text: 'it does not work', language: 'en', at: Date.now() }], state: { step: 'evidence' } }))).toBe('ok');
    expect(await code(bot.request('assistantSave', { state: { big: 'x'.repeat(40_000) } }))).toBe('BAD_REQUEST');
    expect(await code(bot.request('handOver', { outcome }))).toBe('ok');
    const { evidenceId } = await bot.request('startEvidence', { peerId: 'buyer-9' });
    expect(await code(bot.request('startEvidence', { peerId: 'nobody' }))).toBe('NOT_FOUND');
    await new Promise((r) => setTimeout(r, 1500));
    const { evidence } = await bot.request('finishEvidence', { evidenceId });
    expect(evidence).toMatchObject({ evidenceId, identity: 'buyer-9', summary: 'It does not turn on.' });
    expect(evidence.files.length).toBeGreaterThan(0);
    expect(await code(bot.request('finishEvidence', { evidenceId }))).toBe('NOT_FOUND');
    // A room without captions gets them when a node dispatches its assistant: here, the platform turns them on.
    t.node.rooms.get(roomKey('default', room2))!.enableCaptions();
    await speaker.client.notification('captionsChanged');
    expect(await code(bot.request('endCall', {}))).toBe('ok');
    expect((await speaker.client.notification('disconnected')).code).toBe('ROOM_ENDED');
    seen(speaker.client);
    seen(bot);
    bot.close();
    await speaker.close();
  });

  it('every request and notification of the protocol was exercised', () => {
    for (const c of [seller.client, buyer.client, agent]) seen(c);
    const all = [...Object.keys(requests).map((m) => `request:${m}`), ...Object.keys(notifications).map((m) => `notification:${m}`)];
    expect(all.filter((m) => !used.has(m))).toEqual([]);
  });
});
