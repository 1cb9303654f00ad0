import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderApiDoc } from '../../src/docs/api-doc.js';
import { renderConfigDoc } from '../../src/docs/config-doc.js';
import { renderProtocolDoc } from '../../src/docs/protocol-doc.js';
import { notifications, requests } from '../../src/contracts/protocol.js';
import { apiRoutes } from '../../src/http/api-routes.js';
import { WEBHOOK_EVENTS } from '../../src/contracts/webhook-events.js';
import { codesOn } from '../../src/common/errors.js';

describe('generated documents', () => {
  it.each([
    ['docs/protocol.md', renderProtocolDoc],
    ['docs/configuration.md', renderConfigDoc],
    ['docs/api.md', renderApiDoc],
  ])('%s is up to date (run `npm run docs`)', (file, render) => {
    expect(fs.readFileSync(file, 'utf8')).toBe(render());
  });

  it('documents every API route, error code and webhook event', () => {
    const doc = renderApiDoc();
    for (const r of apiRoutes) expect(doc).toContain(`### ${r.method} ${r.url}\n`);
    for (const code of codesOn('api')) expect(doc).toContain(`| \`${code}\` |`);
    for (const type of WEBHOOK_EVENTS) expect(doc).toContain(`### ${type}\n`);
  });

  it('documents every request and notification', () => {
    const doc = renderProtocolDoc();
    for (const m of [...Object.keys(requests), ...Object.keys(notifications)]) expect(doc).toContain(`### ${m}\n`);
  });
});
