import { createNode, type MediaNode } from './app.js';
import { StartupError } from './common/startup-error.js';
import { ConfigError, loadConfig, productionWarnings, usesDevelopmentSecrets } from './config/load.js';
import { createLogger } from './logging/logger.js';
import { SIGNALING_PATH } from './contracts/protocol.js';

let config;
try {
  config = loadConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(78); // EX_CONFIG
}

const log = createLogger(config);
if (usesDevelopmentSecrets(config)) {
  log.warn('using the built-in development token secret and API key: set AUTH_HS256_SECRET and AUTH_API_KEYS before exposing this node');
}
for (const warning of productionWarnings(config)) log.warn(warning);

let node: MediaNode;
let port: number;
try {
  node = await createNode(config, log);
  port = await node.listen();
} catch (err) {
  // One line for the operator: which setting to change (or, for a bug, what failed), no stack.
  process.stderr.write(`the node cannot start: ${(err as Error).message}\n`);
  if (!(err instanceof StartupError)) log.error({ err }, 'start-up failed');
  process.exit(err instanceof StartupError ? 78 : 70); // EX_CONFIG, or EX_SOFTWARE
}
log.info({ port, url: node.self.url, signaling: SIGNALING_PATH, workers: node.pool.slots.length }, 'media node listening');
// A parent process that started this node over IPC (tests, supervisors) learns where it
// listens, and may ask for a memory report (after a full collection when run with --expose-gc).
process.send?.({ type: 'listening', port, url: node.self.url, nodeId: node.self.id });
process.on('message', (m: { type?: string; collect?: boolean }) => {
  if (m?.type !== 'memory') return;
  const gc = (globalThis as { gc?: () => void }).gc;
  if (m.collect && gc) gc();
  process.send?.({ type: 'memory', collected: Boolean(m.collect && gc), memory: process.memoryUsage() });
});
// Listening for those must not keep a node that has closed (after a drain) from exiting.
process.channel?.unref();

// First SIGTERM/SIGINT: drain (no new rooms, calls finish or time out). A second one: stop now.
let signals = 0;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, async () => {
    if (++signals > 1) {
      log.warn({ signal }, 'stopping now');
      await node.close();
      process.exit(0);
    }
    log.info({ signal, rooms: node.rooms.size }, 'draining before exit');
    await node.drain();
    process.exit(0);
  });
}
// A bug in one request must not take every call down with it.
process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));
