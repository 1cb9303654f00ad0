import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderConfigDoc } from '../../src/docs/config-doc.js';
import { renderProtocolDoc } from '../../src/docs/protocol-doc.js';
import { notifications, requests } from '../../src/signaling/protocol.js';

describe('generated documents', () => {
  it.each([
    ['docs/protocol.md', renderProtocolDoc],
    ['docs/configuration.md', renderConfigDoc],
  ])('%s is up to date (run `npm run docs`)', (file, render) => {
    expect(fs.readFileSync(file, 'utf8')).toBe(render());
  });

  it('documents every request and notification', () => {
    const doc = renderProtocolDoc();
    for (const m of [...Object.keys(requests), ...Object.keys(notifications)]) expect(doc).toContain(`### ${m}\n`);
  });
});
