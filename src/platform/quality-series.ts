import type { QualityPoint } from '../contracts/records.js';

/** Points kept per stay: an hour at one point every 5 s; a longer stay halves its resolution instead of growing. */
export const MAX_POINTS = 720;
/** The width of one point at first, ms (the SDK reports every 5 s). */
export const POINT_MS = 5_000;

type Measure = Exclude<keyof QualityPoint, 'at' | 'seconds'>;
const MEASURES: Measure[] = ['sendBitrateBps', 'recvBitrateBps', 'lossRate', 'rttMs', 'videoLayer', 'frozenRatio', 'concealedRatio'];

/** One bucket being filled: time-weighted sums of each measure over the reports that carried it. */
interface Bucket {
  start: number;
  ms: number;
  sums: Partial<Record<Measure, { sum: number; weight: number }>>;
}

const round = (m: Measure, v: number) => (m === 'lossRate' || m === 'frozenRatio' || m === 'concealedRatio' ? Number(v.toFixed(4)) : Math.round(v * 10) / 10);

/**
 * A participant's quality over time, for the call inspector's charts: one point per POINT_MS of
 * reports, each the time-weighted average of what the reports in it said. Bounded whatever the
 * client sends: past MAX_POINTS, neighbouring points merge two by two and the width doubles.
 */
export class QualitySeries {
  private readonly buckets: Bucket[] = [];
  private width = POINT_MS;

  constructor(private readonly origin: number) {}

  /** A report covering `ms` up to `at`, with what the node measured itself (the layer). */
  add(at: number, ms: number, values: Partial<Record<Measure, number | null | undefined>>) {
    const start = this.origin + Math.floor((at - this.origin) / this.width) * this.width;
    let bucket = this.buckets.at(-1);
    if (!bucket || bucket.start !== start) {
      bucket = { start, ms: 0, sums: {} };
      this.buckets.push(bucket);
      if (this.buckets.length > MAX_POINTS) this.halve();
      bucket = this.buckets.at(-1)!;
    }
    bucket.ms += ms;
    for (const m of MEASURES) {
      const v = values[m];
      if (v === undefined || v === null || !Number.isFinite(v)) continue;
      const s = (bucket.sums[m] ??= { sum: 0, weight: 0 });
      s.sum += v * ms;
      s.weight += ms;
    }
  }

  private halve() {
    this.width *= 2;
    const merged: Bucket[] = [];
    for (const b of this.buckets) {
      const start = this.origin + Math.floor((b.start - this.origin) / this.width) * this.width;
      const last = merged.at(-1);
      if (!last || last.start !== start) {
        merged.push({ start, ms: b.ms, sums: structuredClone(b.sums) });
        continue;
      }
      last.ms += b.ms;
      for (const m of MEASURES) {
        const s = b.sums[m];
        if (!s) continue;
        const into = (last.sums[m] ??= { sum: 0, weight: 0 });
        into.sum += s.sum;
        into.weight += s.weight;
      }
    }
    this.buckets.splice(0, this.buckets.length, ...merged);
  }

  points(): QualityPoint[] {
    return this.buckets.map((b) => {
      const point: QualityPoint = { at: new Date(b.start).toISOString(), seconds: b.ms / 1000, sendBitrateBps: null, recvBitrateBps: null, lossRate: null, rttMs: null, videoLayer: null, frozenRatio: null, concealedRatio: null };
      for (const m of MEASURES) {
        const s = b.sums[m];
        if (s && s.weight > 0) point[m] = round(m, s.sum / s.weight);
      }
      return point;
    });
  }
}
