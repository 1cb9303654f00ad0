// Runs mediasoup's own shipped Node test suite (node_modules/mediasoup/node/lib/test) against
// the worker this project installed, so a broken offline build fails `npm test`.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { vi } from 'vitest';

// The suite is written for jest; vitest's `vi.fn` is jest.fn.
(globalThis as { jest?: typeof vi }).jest = vi;

// test-Worker.js loads a DTLS certificate from test/data, which the npm package leaves out.
const data = path.resolve('node_modules/mediasoup/node/lib/test/data');
if (!fs.existsSync(path.join(data, 'dtls-cert.pem'))) {
  fs.mkdirSync(data, { recursive: true });
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '30',
    '-subj', '/CN=mediasoup-test', '-keyout', path.join(data, 'dtls-key.pem'), '-out', path.join(data, 'dtls-cert.pem'),
  ], { stdio: 'ignore' });
}
