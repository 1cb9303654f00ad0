import { pino, type Logger } from 'pino';
import type { Config } from '../config/schema.js';

export type { Logger };

/**
 * Root logger; modules take children carrying { roomId, peerId } so every line has its context.
 * Lines are written to stdout in batches of a few KB, or after at most FLUSH_MS (a write per
 * line cost a system call each, a measurable share of a join at level info); flushLogs()
 * writes what is left, before exit.
 */
export function createLogger(config: Config): Logger {
  const destination = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  const logger = pino({ level: config.log.level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, destination);
  loggers.add(destination);
  const timer = setInterval(() => {
    try {
      destination.flush();
    } catch {
      // not ready yet: the next tick writes it
    }
  }, FLUSH_MS);
  timer.unref();
  return logger;
}

/** A line waits at most this long in the buffer. */
const FLUSH_MS = 200;

const loggers = new Set<ReturnType<typeof pino.destination>>();

/** Writes every logger's buffered lines now (before the process exits). */
export function flushLogs() {
  for (const destination of loggers) {
    try {
      destination.flushSync();
    } catch {
      // not ready yet, or stdout is gone: nothing more can be written
    }
  }
}

// Whatever ends the process, the last lines reach stdout.
process.once('exit', flushLogs);
