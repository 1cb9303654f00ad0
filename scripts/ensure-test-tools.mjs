#!/usr/bin/env node
// What the tests need from Debian: Chromium for the browser end-to-end tests (never a
// downloaded browser build), iptables to drop UDP to a node in the TCP-fallback test, and
// redis-server, which the cluster tests start privately on a free loopback port.
import { ensureDebianPackages } from './lib/debian.mjs';

try {
  ensureDebianPackages(['chromium', 'iptables', 'redis-server'], (msg) => process.stderr.write(`[test-tools] ${msg}\n`));
} catch (err) {
  process.stderr.write(`[test-tools] ${err.message}\n`);
  process.exit(1);
}
