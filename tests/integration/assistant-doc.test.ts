import { afterAll, describe, expect, it } from 'vitest';
import { nodeDocument } from '../helpers/doc-runner.js';
import { freePort } from '../helpers/redis-server.js';
import { spokenFrames } from '../helpers/speech-clips.js';
import { WeriftPeer } from '../helpers/werift-peer.js';

const chatFrom = (p: WeriftPeer) => p.client.notificationsOf('chat').filter((m) => m.peerId === 'assistant').map((m) => m.text);

/**
 * docs/assistant.md, every command in order: the node started with the tenant's assistant on, a
 * room for the ticket, a buyer (werift, speaking Flite's voice) who tells the assistant what went
 * wrong, the assistant seen, stopped and sent in again, the record; then a Redis, a node in
 * cluster mode without workers, and a worker of its own with npm run agent, which takes the job.
 */
describe('docs/assistant.md, every command in order', () => {
  let document: Awaited<ReturnType<typeof nodeDocument>>;
  const peers: WeriftPeer[] = [];
  afterAll(async () => {
    for (const p of peers) await p.close().catch(() => undefined);
    await document?.close();
  });

  it('turns the assistant on, talks with the buyer, stops it, sends it in again, and runs a worker apart', async () => {
    const [clusterPort, redisPort] = [await freePort(), await freePort()];
    document = await nodeDocument('docs/assistant.md', { ports: { 8081: clusterPort, 6390: redisPort } });
    const { doc, ws } = document;
    await doc.runUntil('env');
    const buyerToken = (await doc.runUntil('create')).trim();
    const buyer = await WeriftPeer.connect(ws, buyerToken);
    peers.push(buyer);
    await buyer.client.request('subscribeChat', {});
    await buyer.publish({ video: true, data: false });
    await buyer.client.until(() => chatFrom(buyer).some((l) => /for order A-1001\. What went wrong/.test(l)), 'the greeting', 40_000);
    expect(JSON.parse(await doc.runUntil('agent'))).toEqual({ state: 'in-call', reason: 'buyer-joined' });
    // Once the greeting is said, the buyer speaks.
    await new Promise((r) => setTimeout(r, 6000));
    buyer.say(spokenFrames('it arrived broken'));
    await buyer.client.until(() => chatFrom(buyer).some((l) => /hold the item up to your camera/.test(l)), 'the photo request', 40_000);

    const [status, again] = (await doc.runUntil('stop')).trim().split('\n');
    expect(status).toBe('204');
    expect(JSON.parse(again)).toMatchObject({ reason: 'request' });
    await buyer.client.until(() => buyer.client.notificationsOf('peerJoined').filter((p) => p.id === 'assistant').length >= 2, 'the assistant back', 40_000);
    expect(JSON.parse((await doc.runUntil('record')).trim().split('\n').at(-1)!)).toEqual({ dispatches: 2, said: ['it arrived broken'] });

    // Workers apart: the cluster node has none of its own; the worker started apart takes its job.
    await doc.runUntil('worker');
    const far = await WeriftPeer.connect(`ws://127.0.0.1:${clusterPort}/v1/rtc`, (await (await fetch(`http://127.0.0.1:${clusterPort}/v1/tokens`, {
      method: 'POST', headers: { authorization: 'Bearer dev-only-api-key-change-me', 'content-type': 'application/json' },
      body: JSON.stringify({ room: 'ticket-99', identity: 'buyer-8', role: 'buyer', language: 'en' }),
    })).json()).token);
    peers.push(far);
    await far.client.request('subscribeChat', {});
    await far.publish({ video: false, data: false });
    await far.client.until(() => chatFrom(far).some((l) => /What went wrong/.test(l)), 'the greeting from the worker apart', 60_000);
    expect(doc.pending()).toEqual([]);
  }, 300_000);
});
