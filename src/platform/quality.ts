import type { QualityReport, QualitySummary } from '../contracts/records.js';

/** A report is poor quality past any of these. */
export const POOR = { rttMs: 400, lossRate: 0.05, frozenRatio: 0.1, concealedRatio: 0.05 };
/** Poor this long without a break is worth telling the platform (quality.degraded). */
export const DEGRADED_AFTER_MS = 10_000;
/** RTT samples kept for the percentiles: about an hour of reports every 5 s. */
const MAX_SAMPLES = 720;

export const isPoor = (r: QualityReport) =>
  (r.rttMs ?? 0) > POOR.rttMs || (r.lossRate ?? 0) > POOR.lossRate || (r.frozenRatio ?? 0) > POOR.frozenRatio || (r.concealedRatio ?? 0) > POOR.concealedRatio;

/** Time-weighted average of one measure over the reports that carried it. */
class Weighted {
  private sum = 0;
  private weight = 0;
  add(value: number | undefined, ms: number) {
    if (value === undefined) return;
    this.sum += value * ms;
    this.weight += ms;
  }
  get value() {
    return this.weight > 0 ? this.sum / this.weight : null;
  }
}

function percentile(sorted: number[], p: number) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[i];
}

/**
 * One participant's quality over its session, from its client's reports: RTT percentiles,
 * time-weighted loss, bitrate, frozen and concealed shares, and the time spent in poor
 * quality. Memory is bounded whatever the client sends.
 */
export class QualityTracker {
  private readonly rtt: number[] = [];
  private readonly loss = new Weighted();
  private readonly bitrate = new Weighted();
  private readonly frozen = new Weighted();
  private readonly concealed = new Weighted();
  private poorMs = 0;
  private reportedMs = 0;
  /** When the current run of poor reports began (undefined: the last report was fine). */
  private poorSince?: number;
  private degradedReported = false;
  latest?: QualityReport;

  /**
   * Adds a report received at `now`. Returns true when the participant has just been in poor
   * quality for longer than DEGRADED_AFTER_MS (once per run of poor reports).
   */
  add(report: QualityReport, now = Date.now()): boolean {
    const ms = report.intervalMs;
    this.latest = report;
    this.reportedMs += ms;
    if (report.rttMs !== undefined) {
      this.rtt.push(report.rttMs);
      if (this.rtt.length > MAX_SAMPLES) this.rtt.splice(0, this.rtt.length - MAX_SAMPLES);
    }
    this.loss.add(report.lossRate, ms);
    this.bitrate.add(report.bitrateBps, ms);
    this.frozen.add(report.frozenRatio, ms);
    this.concealed.add(report.concealedRatio, ms);
    if (!isPoor(report)) {
      this.poorSince = undefined;
      this.degradedReported = false;
      return false;
    }
    this.poorMs += ms;
    this.poorSince ??= now - ms;
    if (!this.degradedReported && now - this.poorSince > DEGRADED_AFTER_MS) {
      this.degradedReported = true;
      return true;
    }
    return false;
  }

  /** Whether the last report was poor. */
  get poor() {
    return this.poorSince !== undefined;
  }

  summary(): QualitySummary {
    const sorted = [...this.rtt].sort((a, b) => a - b);
    const round = (v: number | null, digits = 4) => (v === null ? null : Number(v.toFixed(digits)));
    return {
      rttMsP50: percentile(sorted, 0.5),
      rttMsP95: percentile(sorted, 0.95),
      lossRate: round(this.loss.value),
      bitrateBps: round(this.bitrate.value, 0),
      poorSeconds: this.poorMs / 1000,
      frozenRatio: round(this.frozen.value),
      concealedRatio: round(this.concealed.value),
      reportedSeconds: this.reportedMs / 1000,
    };
  }
}
