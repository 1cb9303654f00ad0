import { afterAll, describe, expect, it } from 'vitest';
import { nodeDocument } from '../helpers/doc-runner.js';
import { clipOpusFrames, GOFORWARD_TEXT } from '../helpers/speech-clips.js';
import { WeriftPeer } from '../helpers/werift-peer.js';

/**
 * docs/captions-and-translation.md, every command in order: the node started with npm start, a
 * room created with captions and tokens with languages, the buyer (werift, Opus of Debian's
 * clip) speaking English to a seller who reads Spanish, the platform's message, the end of the
 * call, its transcript and its usage.
 */
describe('docs/captions-and-translation.md, every command in order', () => {
  let document: Awaited<ReturnType<typeof nodeDocument>>;
  const peers: WeriftPeer[] = [];
  afterAll(async () => {
    for (const p of peers) await p.close();
    await document?.close();
  });

  it('creates a room with captions, carries the buyer\'s words to the seller in Spanish, and keeps the transcript', async () => {
    document = await nodeDocument('docs/captions-and-translation.md');
    const { doc, ws } = document;
    await doc.runUntil('env');
    const tokens = Object.fromEntries((await doc.runUntil('create')).trim().split('\n').map((l) => l.split(' ')));
    const seller = await WeriftPeer.connect(ws, tokens['seller-3']);
    const buyer = await WeriftPeer.connect(ws, tokens['buyer-7']);
    peers.push(seller, buyer);
    expect(seller.join.captions).toEqual({ enabled: true, language: 'es' });
    await buyer.publish({ video: false, data: false, audioFrames: clipOpusFrames() });
    const caption = await seller.client.notification('caption', (c) => c.final && c.peerId === 'buyer-7', 40_000);
    expect(caption).toMatchObject({ text: GOFORWARD_TEXT, language: 'en', translations: { es: 'Va de frente diez metros' }, untranslated: {} });

    expect(JSON.parse(await doc.runUntil('message'))).toEqual({ delivered: 2 });
    expect(await seller.client.notification('systemMessage')).toMatchObject({ text: 'Refund approved', from: 'after-sales', translations: { es: 'El reembolso aprobó' } });

    const segment = JSON.parse((await doc.runUntil('end')).trim().split('\n').at(-1)!);
    expect(segment).toEqual({ identity: 'buyer-7', language: 'en', text: GOFORWARD_TEXT, translations: { es: 'Va de frente diez metros' } });
    const usage = JSON.parse((await doc.runUntil('usage')).trim());
    expect(usage.speechSeconds).toBeGreaterThan(1);
    expect(usage.translatedCharacters).toBeGreaterThanOrEqual(GOFORWARD_TEXT.length + 'Refund approved'.length);
  });
});
