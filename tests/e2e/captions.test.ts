import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Apertium } from '../../src/speech/engines/apertium.js';
import { joinDemo, launchBrowser } from '../helpers/browser.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { clipWav, GOFORWARD_TEXT } from '../helpers/speech-clips.js';

/** Waits on the page for `from`'s next final caption, then what `look` sees of the page just after it is shown. */
async function nextFinal<T>(page: Page, from: string, look: (from: string) => T): Promise<{ caption: any; shown: T }> {
  return page.evaluate(([id, lookSource]) => new Promise<any>((resolve) => {
    const call = (window as any).demo.call;
    const seen = (c: any) => {
      if (!c.final || c.participantId !== id) return;
      call.off('caption', seen);
      // After the demo's own listener has drawn it.
      setTimeout(() => resolve({ caption: c, shown: (0, eval)(lookSource)(id) }), 50);
    };
    call.on('caption', seen);
  }), [from, look.toString()] as const);
}

/**
 * The demo with captions, in two Chromium browsers: the buyer's microphone plays Debian's clip
 * with a known transcript (in a loop), the seller reads Spanish. The seller's page shows the
 * buyer's words on the buyer's tile, and the Spanish under them; chat crosses translated.
 */
describe('captions and translation in the demo', () => {
  let t: TestNode;
  let apertium: Apertium;
  const browsers: Browser[] = [];
  let buyer: Page;
  let seller: Page;
  let buyerId: string;

  beforeAll(async () => {
    t = await startTestNode({ demo: { devTokens: 'on' } });
    apertium = new Apertium();
    const speaking = await launchBrowser([`--use-file-for-fake-audio-capture=${clipWav()}`]);
    const listening = await launchBrowser();
    browsers.push(speaking, listening);
    seller = await (await listening.newContext()).newPage();
    buyer = await (await speaking.newContext()).newPage();
    // The seller opens the call with captions (the demo's checkbox, on by default); the buyer joins it.
    await joinDemo(seller, t.http, { room: 'ticket-captions', name: 'Seller', role: 'seller', language: 'es', captions: true });
    buyerId = await joinDemo(buyer, t.http, { room: 'ticket-captions', name: 'Buyer', role: 'buyer', language: 'en', captions: true });
  });
  afterAll(async () => {
    for (const b of browsers) await b.close();
    await t?.close();
    apertium?.close();
  });

  it('both pages say captions are on', async () => {
    for (const page of [buyer, seller]) expect(await page.locator('#captions-notice').isVisible()).toBe(true);
    expect(await seller.evaluate(() => (window as any).demo.call.captions)).toEqual({ enabled: true, language: 'es' });
  });

  it('the seller sees the buyer\'s words on the buyer\'s tile, in English and in Spanish', async () => {
    const caption = seller.locator(`#tiles figure[data-participant="${buyerId}"] .caption:not(.interim)`);
    await caption.locator('.original', { hasText: GOFORWARD_TEXT }).waitFor({ timeout: 40_000 });
    expect(await caption.locator('.translated').textContent()).toBe(await apertium.translate(GOFORWARD_TEXT, 'en', 'es'));
    // The buyer reads English: its own words are shown without a translation.
    const own = buyer.locator(`#tiles figure[data-participant="${buyerId}"] .caption`);
    await own.locator('.original', { hasText: GOFORWARD_TEXT }).waitFor({ timeout: 40_000 });
    expect(await own.locator('.translated').textContent()).toBe('');
  });

  it('chat crosses in both languages, the original beside the translation', async () => {
    await seller.fill('#chat-input', '¿Dónde está la caja?');
    await seller.click('#chat-form button');
    const toBuyer = buyer.locator('#chat-log li', { hasText: '¿Dónde está la caja?' });
    await toBuyer.waitFor({ timeout: 10_000 });
    expect(await toBuyer.locator('.translation').textContent()).toBe(await apertium.translate('¿Dónde está la caja?', 'es', 'en'));
    await buyer.fill('#chat-input', 'The lid is cracked');
    await buyer.click('#chat-form button');
    const toSeller = seller.locator('#chat-log li', { hasText: 'The lid is cracked' });
    await toSeller.waitFor({ timeout: 10_000 });
    expect(await toSeller.locator('.translation').textContent()).toBe(await apertium.translate('The lid is cracked', 'en', 'es'));
  });

  it('the captions toggle hides them; the language picker changes what the seller reads', async () => {
    const tile = seller.locator(`#tiles figure[data-participant="${buyerId}"] .caption`);
    await seller.click('#toggle-captions');
    expect(await seller.locator('#toggle-captions').textContent()).toBe('Show captions');
    const shownWhileHidden = await nextFinal(seller, buyerId, (id) => !document.querySelector<HTMLElement>(`#tiles figure[data-participant="${id}"] .caption`)!.hidden);
    expect(shownWhileHidden.shown).toBe(false);
    await seller.click('#toggle-captions');
    // The seller switches to English: the next caption comes without a Spanish line.
    await seller.selectOption('#language', 'en');
    await buyer.waitForFunction(() => [...(window as any).demo.call.participants.values()].some((p: any) => p.language === 'en' && p.role === 'seller'), undefined, { timeout: 10_000 });
    const next = await nextFinal(seller, buyerId, (id) => document.querySelector(`#tiles figure[data-participant="${id}"] .caption .translated`)!.textContent);
    expect(next.caption.translations).toEqual({});
    expect(next.shown).toBe('');
    expect(await tile.isVisible()).toBe(true);
  });
});
