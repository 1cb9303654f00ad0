import { describe, expect, it } from 'vitest';
import { QualityTracker } from '../../src/platform/quality.js';

describe('quality aggregation', () => {
  it('gives RTT percentiles, time-weighted loss, bitrate, frozen and concealed shares, and poor time, from known reports', () => {
    const q = new QualityTracker();
    let now = 0;
    const report = (r: Parameters<QualityTracker['add']>[0]) => q.add(r, (now += r.intervalMs));
    // 10 reports of 5 s: RTT 100..1000 ms; the last four are poor (RTT over 400 ms... from 500 on: 6 reports).
    for (let i = 1; i <= 10; i++) report({ intervalMs: 5000, rttMs: i * 100, lossRate: 0.01, bitrateBps: 1_000_000, frozenRatio: 0, concealedRatio: 0 });
    // 10 s without video stats, with heavy loss: poor, and loss weighs by time.
    report({ intervalMs: 10_000, lossRate: 0.31, concealedRatio: 0.2 });
    const s = q.summary();
    expect(s.rttMsP50).toBe(500);
    expect(s.rttMsP95).toBe(1000);
    // (50 s × 1 % + 10 s × 31 %) / 60 s = 6 %.
    expect(s.lossRate).toBeCloseTo(0.06, 6);
    expect(s.bitrateBps).toBe(1_000_000);
    // Frozen only over the 50 s that reported it; concealed over 60 s: 10 s × 20 % / 60 s.
    expect(s.frozenRatio).toBe(0);
    expect(s.concealedRatio).toBeCloseTo(0.0333, 4);
    // Poor: the reports with RTT 500..1000 (6 × 5 s) and the lossy one (10 s).
    expect(s.poorSeconds).toBe(40);
    expect(s.reportedSeconds).toBe(60);
  });

  it('says "degraded" once per run of poor reports longer than 10 s', () => {
    const q = new QualityTracker();
    let now = 0;
    const poor = () => q.add({ intervalMs: 4000, frozenRatio: 0.5 }, (now += 4000));
    const fine = () => q.add({ intervalMs: 4000, frozenRatio: 0 }, (now += 4000));
    expect([poor(), poor(), poor(), poor()]).toEqual([false, false, true, false]);
    expect(fine()).toBe(false);
    expect([poor(), poor(), poor()]).toEqual([false, false, true]);
  });

  it('keeps a bounded number of RTT samples', () => {
    const q = new QualityTracker();
    for (let i = 0; i < 10_000; i++) q.add({ intervalMs: 100, rttMs: i < 9000 ? 10 : 20 });
    // Only the latest 720 samples count: all 20 ms.
    expect(q.summary().rttMsP50).toBe(20);
  });
});
