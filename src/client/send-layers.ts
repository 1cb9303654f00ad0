import type { types } from 'mediasoup-client';

/**
 * When this sender's uplink gets too weak to keep a simulcast layer, the browser's encoder
 * turns that layer off by itself. A receiver still on it then freezes until the SFU notices the
 * stream stopped and a key frame of a lower layer arrives: 1–3 s on a slow link. So the SDK
 * watches its own uplink estimate and, just before the browser would, asks the node to move the
 * receivers down (setMaxSpatialLayer), which it answers once they are on the lower layer. It
 * lifts that cap only after the estimate has held at the layer's need for a while, and waits
 * longer each time a lift did not last: the hysteresis the browser's own choice lacks.
 *
 * The browser turns a layer on as its estimate climbs, often below that layer's need here, and
 * keeps it while the estimate stays above where it turned it on. So a layer is capped only once
 * the estimate is under both: capping it during the climb would hold the receivers below it
 * until the estimate reached the need and held it there for the lift (about 5 s more to the top
 * layer on loopback).
 */

/**
 * What the estimate must reach to keep each layer, kbit/s: 85% of the layer's bitrate and the
 * bitrates under it. Measured on a shared 1.5 Mbit/s link, Chromium turned its ½ layer off with
 * estimates up to about 480 kbit/s, so the cap must come before that (553 for the SDK's ½ layer).
 */
export function keepKbit(maxBitrates: number[]): number[] {
  return maxBitrates.map((_, i) => Math.round((0.85 * maxBitrates.slice(0, i + 1).reduce((a, b) => a + b, 0)) / 1000));
}

export interface PolicyOptions {
  /**
   * The estimate must reach this many times a layer's need before its cap is lifted. 1: the
   * browser probes little above what all its layers may send, so a margin above the top
   * layer's need is seldom met, and a 10% margin slowed the climb to it at 200 ms RTT; the hold
   * gives the hysteresis.
   */
  liftFactor: number;
  /** How long, in seconds, it must stay there the first time; doubled (up to `maxHoldS`) each time a cap comes back soon after a lift. */
  holdS: number;
  maxHoldS: number;
  /** A cap within this many seconds of a lift counts as a lift that did not last. */
  shortLivedS: number;
}

const DEFAULTS: PolicyOptions = { liftFactor: 1.0, holdS: 4, maxHoldS: 32, shortLivedS: 20 };

/** The decision alone, over samples of the estimate: testable without a browser. */
export class SendLayerPolicy {
  /** The highest spatial layer receivers may get. */
  ceiling: number;
  private hold: number;
  private aboveSince?: number;
  private liftedAt = -Infinity;
  private readonly top: number;
  /** The estimate when the browser turned each layer above the lowest on, kbit/s (by index; undefined while it is off). */
  private readonly onAt: Array<number | undefined> = [];
  private lastEstimate?: number;

  constructor(private readonly keep: number[], private readonly o: PolicyOptions = DEFAULTS) {
    this.top = keep.length - 1;
    this.ceiling = this.top;
    this.hold = o.holdS;
  }

  /**
   * One sample: the uplink estimate (kbit/s) at `nowS`, and the highest layer the browser sends
   * now. Answers the new ceiling, or undefined if it stays.
   */
  sample(estimateKbit: number, nowS: number, highestSent = this.top): number | undefined {
    // A layer came on between the last sample and this one, at an estimate between theirs: the
    // higher, so as not to cap late. One on at the first sample came on where nobody saw (NaN:
    // only its need counts).
    for (let i = 1; i <= this.top; i++) {
      if (i > highestSent) this.onAt[i] = undefined;
      else this.onAt[i] ??= this.lastEstimate === undefined ? NaN : Math.max(estimateKbit, this.lastEstimate);
    }
    this.lastEstimate = estimateKbit;
    const holds = (i: number) => estimateKbit >= this.keep[i] || estimateKbit >= (this.onAt[i] ?? Infinity);
    let fits = 0;
    while (fits < this.top && holds(fits + 1)) fits++;
    // Only a layer the browser sends can stop under a receiver: capping one it has not turned on
    // yet (while its estimate climbs at the start of a call) would only slow the climb to it.
    if (fits < this.ceiling && highestSent > fits) {
      if (nowS - this.liftedAt < this.o.shortLivedS) this.hold = Math.min(this.hold * 2, this.o.maxHoldS);
      this.aboveSince = undefined;
      return (this.ceiling = fits);
    }
    if (this.ceiling === this.top) return undefined;
    if (estimateKbit < this.o.liftFactor * this.keep[this.ceiling + 1]) {
      this.aboveSince = undefined;
      return undefined;
    }
    this.aboveSince ??= nowS;
    if (nowS - this.aboveSince < this.hold) return undefined;
    this.aboveSince = undefined;
    this.liftedAt = nowS;
    return ++this.ceiling;
  }
}

type Request = (method: 'setMaxSpatialLayer', data: { producerId: string; spatialLayer?: number }) => Promise<unknown>;

/** Half a second: the browser turns a layer off within about a second of its estimate falling. */
const SAMPLE_MS = 500;

/** Runs the policy for one simulcast producer, sent as encodings of `maxBitrates` (bit/s), until it closes. */
export function watchSendLayers(producer: types.Producer, maxBitrates: number[], request: Request) {
  const policy = new SendLayerPolicy(keepKbit(maxBitrates));
  const lastBytes = new Map<string, number>();
  let busy = false;
  const timer = setInterval(async () => {
    if (busy || producer.paused) return;
    busy = true;
    try {
      const state = await uplink(producer);
      if (!state) return;
      // A layer is sent when its bytes grew since the last sample (mediasoup-client names them r0, r1…).
      let highestSent = -1;
      for (let i = 0; i < maxBitrates.length; i++) {
        const bytes = state.bytesByRid.get(`r${i}`) ?? 0;
        if (bytes > (lastBytes.get(`r${i}`) ?? 0)) highestSent = i;
        lastBytes.set(`r${i}`, bytes);
      }
      const next = policy.sample(state.estimate / 1000, performance.now() / 1000, highestSent);
      if (next === undefined) return;
      await request('setMaxSpatialLayer', { producerId: producer.id, ...(next < maxBitrates.length - 1 ? { spatialLayer: next } : {}) });
    } catch {
      // The connection is going away; the next sample, or the next producer, starts over.
    } finally {
      busy = false;
    }
  }, SAMPLE_MS);
  producer.observer.once('close', () => clearInterval(timer));
}

/**
 * The browser's estimate of what its send transport may send, bit/s (the selected candidate
 * pair's), and the bytes sent on each of the producer's layers: the sender's own stats, which
 * bring their transport's candidate pair with them.
 */
async function uplink(producer: types.Producer) {
  if (producer.closed) return undefined;
  let estimate: number | undefined;
  const bytesByRid = new Map<string, number>();
  (await producer.getStats()).forEach((s) => {
    if (s.type === 'candidate-pair' && s.nominated && typeof s.availableOutgoingBitrate === 'number') estimate = s.availableOutgoingBitrate;
    if (s.type === 'outbound-rtp' && s.rid) bytesByRid.set(s.rid, s.bytesSent ?? 0);
  });
  return estimate === undefined ? undefined : { estimate, bytesByRid };
}
