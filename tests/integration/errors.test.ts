import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, signRaw, type TestNode } from '../helpers/node.js';
import { RequestFailed, SignalingClient } from '../helpers/signaling-client.js';
import { startCall, waitFor, type WeriftPeer } from '../helpers/werift-peer.js';

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

/**
 * Every error path answers with its stable code, while a real call on the same node
 * keeps flowing: the buyer's packet counters must keep rising through all of it.
 */
describe('errors', () => {
  let t: TestNode;
  let seller: WeriftPeer;
  let buyer: WeriftPeer;
  const clients: SignalingClient[] = [];

  const client = async () => {
    const c = await SignalingClient.connect(t.ws);
    clients.push(c);
    return c;
  };
  const joined = async (identity: string, role: 'buyer' | 'observer' | 'bot' = 'buyer', room = 'errors') => {
    const c = await client();
    await c.request('join', { token: t.token({ room, identity, role }) });
    return c;
  };
  const failure = async (p: Promise<unknown>) => {
    const err = await p.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(RequestFailed);
    return (err as RequestFailed).code;
  };

  beforeAll(async () => {
    t = await startTestNode();
    ({ seller, buyer } = await startCall(t.ws, 'call', (identity, role) => t.token({ room: 'call', identity, role })));
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await seller.close();
    await buyer.close();
    await t.close();
  });

  it('BAD_JSON for frames that are not JSON objects, with id null', async () => {
    const c = await client();
    expect(await c.raw('{nope')).toMatchObject({ type: 'response', id: null, ok: false, error: { code: 'BAD_JSON' } });
    expect((await c.raw('[1,2,3]')).error.code).toBe('BAD_JSON');
    expect((await c.raw(Buffer.from([0xff, 0x00]))).error.code).toBe('BAD_JSON');
  });

  it('UNKNOWN_METHOD and BAD_REQUEST carry the request id', async () => {
    const c = await client();
    expect(await c.raw(JSON.stringify({ type: 'request', id: 7, method: 'teleport', data: {} }))).toMatchObject({ id: 7, error: { code: 'UNKNOWN_METHOD' } });
    expect(await c.raw(JSON.stringify({ type: 'request', id: 8, method: 'join', data: { token: 42 } }))).toMatchObject({ id: 8, error: { code: 'BAD_REQUEST' } });
    expect(await c.raw(JSON.stringify({ type: 'request', id: 9, method: 'join', data: { token: 'x', admin: true } }))).toMatchObject({ id: 9, error: { code: 'BAD_REQUEST' } });
    expect(await c.raw(JSON.stringify({ id: 10, method: 'join' }))).toMatchObject({ id: 10, error: { code: 'BAD_REQUEST' } });
    const bad = await c.raw(JSON.stringify({ type: 'request', id: 11, method: 'join', data: { token: 'x', autoSubscribe: 'yes' } }));
    expect(bad.error.message).toContain('/autoSubscribe');
  });

  it('calls in the wrong order: NOT_JOINED, ALREADY_JOINED, INVALID_STATE', async () => {
    const c = await client();
    expect(await failure(c.request('createTransport', { direction: 'send' }))).toBe('NOT_JOINED');
    expect(await failure(c.request('leave', {}))).toBe('NOT_JOINED');
    await c.request('join', { token: t.token({ room: 'errors', identity: 'order' }) });
    expect(await failure(c.request('join', { token: t.token({ room: 'errors', identity: 'order' }) }))).toBe('ALREADY_JOINED');

    const recv = await c.request('createTransport', { direction: 'recv' });
    const rtpParameters = { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: 1111 }] };
    expect(await failure(c.request('produce', { transportId: recv.transportId, kind: 'audio', rtpParameters }))).toBe('INVALID_STATE');
    const send = await c.request('createTransport', { direction: 'send' });
    const dtlsParameters = { role: 'client' as const, fingerprints: [{ algorithm: 'sha-256' as const, value: 'AB:'.repeat(31) + 'AB' }] };
    await c.request('connectTransport', { transportId: send.transportId, dtlsParameters });
    expect(await failure(c.request('connectTransport', { transportId: send.transportId, dtlsParameters }))).toBe('INVALID_STATE');
    const noData = await c.request('createTransport', { direction: 'send', enableSctp: false });
    expect(noData.sctpParameters).toBeUndefined();
    expect(await failure(c.request('produceData', { transportId: noData.transportId, sctpStreamParameters: { streamId: 1 } }))).toBe('INVALID_STATE');
    expect(await failure(c.request('consume', { producerId: 'nope' }))).toBe('NOT_FOUND');
    expect(await failure(c.request('produce', {
      transportId: send.transportId, kind: 'video', rtpParameters: { codecs: [{ mimeType: 'video/H265X', payloadType: 120, clockRate: 90000 }], encodings: [{ ssrc: 2 }] },
    }))).toBe('INVALID_PARAMETERS');
    await c.request('leave', {});
    expect(await failure(c.request('getStats', { target: 'transport', id: send.transportId }))).toBe('NOT_JOINED');
  });

  it("ids that belong to another peer are NOT_FOUND, and nothing of theirs changes", async () => {
    const intruder = await joined('intruder', 'buyer', 'call');
    const consumerId = buyer.client.notificationsOf('newConsumer')[0].consumerId;
    expect(await failure(intruder.request('pauseConsumer', { consumerId }))).toBe('NOT_FOUND');
    expect(await failure(intruder.request('closeProducer', { producerId: seller.producers.video }))).toBe('NOT_FOUND');
    expect(await failure(intruder.request('getStats', { target: 'producer', id: seller.producers.audio }))).toBe('NOT_FOUND');
    expect(await failure(intruder.request('connectTransport', {
      transportId: seller.sendTransportId!, dtlsParameters: { fingerprints: [{ algorithm: 'sha-256', value: '00' }] },
    }))).toBe('NOT_FOUND');
    const { stats } = await seller.client.request('getStats', { target: 'producer', id: seller.producers.video });
    expect(stats.length).toBeGreaterThan(0);
  });

  it('forged, expired, alg none and malformed tokens are refused', async () => {
    const c = await client();
    const claims = { room: 'errors', sub: 'mallory', role: 'buyer', exp: Math.floor(Date.now() / 1000) + 600 };
    const join = (token: string) => failure(c.request('join', { token }));
    expect(await join(signRaw(claims, 'not-the-secret'))).toBe('TOKEN_INVALID');
    expect(await join(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`)).toBe('TOKEN_INVALID');
    expect(await join(signRaw({ ...claims, exp: Math.floor(Date.now() / 1000) - 60 }, t.config.auth.hs256Secret))).toBe('TOKEN_EXPIRED');
    expect(await join(signRaw({ room: 'errors', sub: 'x', role: 'buyer' }, t.config.auth.hs256Secret))).toBe('TOKEN_INVALID'); // no exp
    expect(await join(signRaw({ ...claims, role: 'emperor' }, t.config.auth.hs256Secret))).toBe('TOKEN_INVALID');
    expect(await join(signRaw(claims, t.config.auth.hs256Secret, { algorithm: 'HS512' }))).toBe('TOKEN_INVALID');
    expect(await join('not.a.jwt')).toBe('TOKEN_INVALID');
  });

  it('a missing grant is PERMISSION_DENIED', async () => {
    const observer = await joined('watcher', 'observer');
    expect(await failure(observer.request('createTransport', { direction: 'send' }))).toBe('PERMISSION_DENIED');
    expect(await failure(observer.request('kickPeer', { peerId: 'order' }))).toBe('PERMISSION_DENIED');
    const bot = await joined('triage-bot', 'bot');
    const send = await bot.request('createTransport', { direction: 'send' });
    const video = { codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 }], encodings: [{ ssrc: 3 }] };
    expect(await failure(bot.request('produce', { transportId: send.transportId, kind: 'video', rtpParameters: video }))).toBe('PERMISSION_DENIED');
    const noSubscribe = await client();
    await noSubscribe.request('join', { token: t.token({ room: 'errors', identity: 'mute', grants: { subscribe: false } }) });
    expect(await failure(noSubscribe.request('createTransport', { direction: 'recv' }))).toBe('PERMISSION_DENIED');
  });

  it('a request flood gets TOO_MANY_REQUESTS beyond the queue bound; every request is answered', async () => {
    const c = await joined('flooder');
    const { transportId } = await c.request('createTransport', { direction: 'recv' });
    const before = c.rawResponses.length;
    const frame = (id: number) => JSON.stringify({ type: 'request', id, method: 'getStats', data: { target: 'transport', id: transportId } });
    for (let i = 0; i < 500; i++) c.ws.send(frame(1000 + i));
    await c.until(() => c.rawResponses.length >= before + 500, 'all answers');
    const answers = c.rawResponses.slice(before);
    expect(new Set(answers.map((r) => r.id)).size).toBe(500);
    expect(answers.filter((r) => r.ok).length).toBeGreaterThanOrEqual(64);
    expect(answers.filter((r) => r.error?.code === 'TOO_MANY_REQUESTS').length).toBeGreaterThan(0);
    expect(await c.request('getStats', { target: 'transport', id: transportId })).toBeTruthy();
  });

  it('a frame over the size limit closes only that socket, with 1009', async () => {
    const c = await joined('bigmouth');
    c.ws.send('x'.repeat(t.config.signaling.maxMessageBytes + 1));
    await c.until(() => c.closeCode !== undefined, 'close');
    expect(c.closeCode).toBe(1009);
  });

  it('a socket that never joins is closed with 4408', async () => {
    const slow = await startTestNode({ signaling: { joinTimeoutMs: 300 } });
    try {
      const idle = await SignalingClient.connect(slow.ws);
      const joined = await SignalingClient.connect(slow.ws);
      await joined.request('join', { token: slow.token({ room: 'r', identity: 'quick' }) });
      await idle.until(() => idle.closeCode !== undefined, 'close', 5000);
      expect(idle.closeCode).toBe(4408);
      await new Promise((r) => setTimeout(r, 400));
      expect(joined.closeCode).toBeUndefined();
      joined.close();
    } finally {
      await slow.close();
    }
  });

  it('the call kept flowing and errors were counted by code', async () => {
    const before = buyer.received.video.packets;
    await waitFor(() => buyer.received.video.packets > before + 20, 'more video');
    const metrics = await (await fetch(`${t.http}/metrics`)).text();
    expect(metrics).toMatch(/sfu_signaling_errors_total\{method="invalid",code="BAD_JSON"\} 3/);
    // A name the protocol does not have is `unknown`, not `invalid` (that is for frames that do not parse).
    expect(metrics).toMatch(/sfu_signaling_errors_total\{method="unknown",code="UNKNOWN_METHOD"\} \d+/);
    expect(metrics).not.toMatch(/method="invalid",code="UNKNOWN_METHOD"/);
    expect(metrics).toMatch(/sfu_signaling_errors_total\{method="join",code="TOKEN_EXPIRED"\} 1/);
  });
});
