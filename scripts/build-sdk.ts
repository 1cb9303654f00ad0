// Writes the browser SDK bundle to dist/client/sfu-client.js, for apps that host it themselves.
// (The node also serves the same bundle at /sdk/sfu-client.js.)
import fs from 'node:fs';
import { buildSdkBundle } from '../src/http/sdk-bundle.js';

const out = new URL('../dist/client/sfu-client.js', import.meta.url);
fs.mkdirSync(new URL('.', out), { recursive: true });
fs.writeFileSync(out, await buildSdkBundle());
console.log(`wrote ${out.pathname}`);
