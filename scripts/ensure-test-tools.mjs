#!/usr/bin/env node
// What the tests need from Debian: Chromium for the browser end-to-end tests (never a
// downloaded browser build), iptables to drop UDP to a node in the TCP-fallback test,
// redis-server, which the cluster tests start privately on a free loopback port, ffmpeg,
// which records and captures snapshots and which the tests use to check what was written,
// GStreamer, whose receive commands docs/recording-and-ai.md gives and a test runs, and jq,
// which the documents' shell commands use to pick fields out of JSON answers; coturn, the TURN
// server the TURN tests start privately; gcc and libnetfilter-queue-dev, to build the NFQUEUE
// delay-and-loss tool (tests/tools/nfq-netem.c) the network-impairment tests use;
// pocketsphinx-testdata, whose clips with known transcripts the caption tests speak.
import { ensureDebianPackages } from './lib/debian.mjs';

try {
  ensureDebianPackages(
    ['chromium', 'iptables', 'redis-server', 'ffmpeg', 'gstreamer1.0-tools', 'gstreamer1.0-plugins-base', 'gstreamer1.0-plugins-good', 'jq', 'coturn', 'gcc', 'libnetfilter-queue-dev', 'pocketsphinx-testdata'],
    (msg) => process.stderr.write(`[test-tools] ${msg}\n`),
  );
} catch (err) {
  process.stderr.write(`[test-tools] ${err.message}\n`);
  process.exit(1);
}
