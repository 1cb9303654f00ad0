import type { Logger } from '../logging/logger.js';

/**
 * Logs rejected input at most `perInterval` times per interval for each kind, then once more
 * with how many it left out: junk sent on purpose cannot fill the disk with log lines.
 */
export class LogLimiter {
  private readonly windows = new Map<string, { start: number; logged: number; suppressed: number }>();

  constructor(private readonly log: Logger, private readonly perInterval = 10, private readonly intervalMs = 60_000) {}

  warn(kind: string, fields: object, message: string, now = Date.now()) {
    let w = this.windows.get(kind);
    if (!w || now - w.start >= this.intervalMs) {
      if (w?.suppressed) this.log.warn({ kind, suppressed: w.suppressed }, `left out ${w.suppressed} more "${message}" lines`);
      w = { start: now, logged: 0, suppressed: 0 };
      this.windows.set(kind, w);
    }
    if (w.logged < this.perInterval) {
      w.logged++;
      this.log.warn({ ...fields, kind }, message);
    } else {
      w.suppressed++;
    }
  }
}
