import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import { createNode, type MediaNode } from '../../src/app.js';
import { mintToken, type MintRequest } from '../../src/auth/tokens.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { createLogger } from '../../src/logging/logger.js';
import { SIGNALING_PATH } from '../../src/contracts/protocol.js';

export interface TestNode {
  node: MediaNode;
  config: Config;
  http: string;
  ws: string;
  token(req: Partial<MintRequest> & { room: string; identity: string }): string;
  close(): Promise<void>;
}

/** A node in this process, on loopback, free ports, quiet logs. */
export type ConfigOverrides = { [K in keyof Config]?: Partial<Config[K]> };

export async function startTestNode(overrides: ConfigOverrides = {}): Promise<TestNode> {
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' }, {
    ...overrides,
    // Each test node its own store and recordings, unless the test names them (to restart on them).
    store: { path: path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sfu-store-')), 'sfu.sqlite'), ...overrides.store },
    recording: { dir: fs.mkdtempSync(path.join(os.tmpdir(), 'sfu-recordings-')), ...overrides.recording },
    server: { ...overrides.server, host: '127.0.0.1', port: 0 },
    media: { numWorkers: 1, listenIp: '127.0.0.1', webRtcServerBasePort: 0, ...overrides.media },
  });
  const node = await createNode(config, createLogger(config));
  const port = await node.listen();
  return {
    node,
    config,
    http: `http://127.0.0.1:${port}`,
    ws: `ws://127.0.0.1:${port}${SIGNALING_PATH}`,
    token: (req) => mintToken(config.auth, req).token,
    close: () => node.close(),
  };
}

/** Signs arbitrary claims (for forged, expired and malformed tokens). */
export const signRaw = (claims: object, secret: string, options: jwt.SignOptions = { algorithm: 'HS256' }) => jwt.sign(claims, secret, options);
