import { pino, type Logger } from 'pino';
import type { Config } from '../config/schema.js';

export type { Logger };

/** Root logger; modules take children carrying { roomId, peerId } so every line has its context. */
export function createLogger(config: Config): Logger {
  return pino({ level: config.log.level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
}
