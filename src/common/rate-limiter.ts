/**
 * Token buckets per key (a client address): `perMinute` tokens of burst, refilled evenly.
 * At most `maxKeys` buckets are kept; the least recently used goes first, so a flood of
 * addresses cannot grow memory. perMinute 0 means no limit.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly perMinute: number, private readonly maxKeys = 10_000) {}

  take(key: string, now = Date.now()): boolean {
    if (this.perMinute === 0) return true;
    const bucket = this.buckets.get(key) ?? { tokens: this.perMinute, at: now };
    this.buckets.delete(key); // re-inserted last: Map order is recency
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + ((now - bucket.at) * this.perMinute) / 60_000);
    bucket.at = now;
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    return allowed;
  }

  get size() {
    return this.buckets.size;
  }
}
