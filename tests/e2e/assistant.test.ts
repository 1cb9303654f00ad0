import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wordErrors } from '../../bench/speech.js';
import { toWav } from '../../src/speech/wav.js';
import { joinDemo, launchBrowser } from '../helpers/browser.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { padded, recognise, spoken } from '../helpers/speech-clips.js';

/**
 * A buyer on the demo page at night: the node sends in its assistant; the buyer's microphone
 * (Chromium playing a WAV file) says what the problem is; the page shows the assistant's answer
 * in the chat and plays it, and what the page received, recorded there, is the answer's words.
 */
describe('the voice assistant and a Chromium buyer', () => {
  let t: TestNode;
  let browser: Browser;
  let page: Page;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'assistant-e2e-'));

  beforeAll(async () => {
    t = await startTestNode({
      demo: { devTokens: 'on' },
      tenants: [{ id: 'default', assistant: { join: 'buyer-joined', voice: 'flite' } }] as never,
      agents: { workers: 1 },
    });
    // The buyer waits for the greeting, then says it (and again, as a buyer not understood would).
    const wav = path.join(dir, 'buyer.wav');
    fs.writeFileSync(wav, toWav(padded(spoken('it arrived broken'), 9000, 4000), 16_000));
    browser = await launchBrowser([`--use-file-for-fake-audio-capture=${wav}`]);
    page = await (await browser.newContext()).newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('greets, hears the buyer, answers in the chat and aloud', { timeout: 120_000 }, async () => {
    await joinDemo(page, t.http, { room: 'night-1', name: 'Ana', role: 'buyer', captions: true });
    await page.evaluate(() => {
      const w = window as any;
      w.finals = [];
      w.demo.call.on('caption', (c: any) => c.final && w.finals.push(c.text));
    });
    const chat = page.locator('#chat-log li');
    await chat.filter({ hasText: 'What went wrong with your item?' }).waitFor({ timeout: 40_000 });
    expect(await page.locator('#captions-notice').isVisible()).toBe(true);
    const answer = chat.filter({ hasText: 'Please tell me the order number' });
    await answer.waitFor({ timeout: 60_000 }).catch(async (err) => {
      console.log(await page.locator('#chat-log').textContent(), await page.evaluate(() => JSON.stringify((window as any).finals)));
      throw err;
    });
    // What the page plays from the assistant, from now on, for as long as the answer lasts.
    const webm = await page.evaluate(async () => {
      const call = (window as any).demo.call;
      const track = [...call.remoteTracks.values()].find((r: any) => r.participantId === 'assistant' && r.kind === 'audio').track;
      const recorder = new MediaRecorder(new MediaStream([track]), { mimeType: 'audio/webm;codecs=opus' });
      const chunks: Blob[] = [];
      recorder.ondataavailable = (e) => chunks.push(e.data);
      const stopped = new Promise((r) => (recorder.onstop = r));
      recorder.start();
      await new Promise((r) => setTimeout(r, 7000));
      recorder.stop();
      await stopped;
      const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
      let s = '';
      for (const b of bytes) s += String.fromCharCode(b);
      return btoa(s);
    });
    const file = path.join(dir, 'heard.webm');
    fs.writeFileSync(file, Buffer.from(webm, 'base64'));
    const pcm = execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', file, '-ac', '1', '-ar', '16000', '-f', 's16le', 'pipe:1'], { maxBuffer: 64 << 20 });
    const heard = recognise(pcm);
    const said = (await answer.textContent())!.replace(/^After-sales assistant/, '');
    const { errors, words } = wordErrors(said, heard);
    expect(errors / words).toBeLessThan(0.4);
  });
});
