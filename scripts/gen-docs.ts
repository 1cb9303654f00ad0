// Regenerates the documents that are derived from code: `npm run docs`.
import fs from 'node:fs';
import { renderApiDoc } from '../src/docs/api-doc.js';
import { renderConfigDoc } from '../src/docs/config-doc.js';
import { renderProtocolDoc } from '../src/docs/protocol-doc.js';

export const GENERATED_DOCS = { 'docs/protocol.md': renderProtocolDoc, 'docs/configuration.md': renderConfigDoc, 'docs/api.md': renderApiDoc };

for (const [file, render] of Object.entries(GENERATED_DOCS)) {
  fs.writeFileSync(new URL(`../${file}`, import.meta.url), render());
  console.log(`wrote ${file}`);
}
