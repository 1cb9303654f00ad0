import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { keepKbit, SendLayerPolicy } from '../../src/client/send-layers.js';
import { LayerChoice, type LayeredConsumer } from '../../src/rooms/layer-choice.js';

describe('the sender side: when to cap receivers below a layer, and when to lift the cap', () => {
  // The SDK's camera layers: 150, 500 and 1,500 kbit/s at most.
  const keep = keepKbit([150_000, 500_000, 1_500_000]);

  it('needs 85% of what a layer and the layers under it may send', () => {
    expect(keep).toEqual([128, 553, 1828]);
  });

  it('caps at once when the estimate falls under a layer, to the highest layer it still keeps', () => {
    const p = new SendLayerPolicy(keep);
    expect(p.sample(2000, 0)).toBeUndefined();
    expect(p.sample(1000, 1)).toBe(1);
    expect(p.sample(300, 2)).toBe(0);
    expect(p.sample(200, 3)).toBeUndefined(); // layer 0 is never capped away
  });

  it('leaves alone a layer the browser does not send yet: capping it would only slow the climb to it', () => {
    const p = new SendLayerPolicy(keep);
    expect(p.sample(1000, 0, 1)).toBeUndefined(); // the start of a call: the top layer is not on yet
    expect(p.sample(1900, 1, 1)).toBeUndefined();
    expect(p.sample(1000, 2, 2)).toBe(1); // now it is, and the estimate falls under it
    expect(p.sample(300, 3, 0)).toBeUndefined(); // the browser turned the ½ layer off before we could
    expect(p.ceiling).toBe(1);
  });

  it('leaves alone a layer the browser turned on below its need while the estimate climbs, and caps it once the estimate falls under where it came on', () => {
    const p = new SendLayerPolicy(keep);
    // As measured on loopback: Chromium turned its top layer on at 1,473 kbit/s, under the 1,828 it needs here.
    expect(p.sample(1374, 0, 1)).toBeUndefined();
    expect(p.sample(1473, 0.5, 2)).toBeUndefined();
    for (const [t, estimate] of [[1, 1624], [1.5, 1742], [2, 1867], [2.5, 1700], [3, 1473]]) expect(p.sample(estimate, t, 2)).toBeUndefined();
    expect(p.ceiling).toBe(2);
    // Under both where it came on and its need: the browser may turn it off now.
    expect(p.sample(1400, 3.5, 2)).toBe(1);
  });

  it('a layer that came on between two samples counts as on at the higher of their estimates', () => {
    const p = new SendLayerPolicy(keep);
    expect(p.sample(1700, 0, 1)).toBeUndefined();
    expect(p.sample(1600, 0.5, 2)).toBe(1); // it came on at 1,600 to 1,700, and the estimate is under its need
  });

  it('lifts only after the estimate stays at the next layer\'s need for the hold, one layer at a time', () => {
    const p = new SendLayerPolicy(keep);
    expect(p.sample(300, 0)).toBe(0);
    expect(p.sample(540, 1)).toBeUndefined(); // under 553
    const lifts: Array<[number, number | undefined]> = [];
    for (let t = 2; t <= 8; t++) lifts.push([t, p.sample(650, t)]);
    // At 553 or more from t = 2; the 4 s hold ends at t = 6.
    expect(lifts.filter(([, v]) => v !== undefined)).toEqual([[6, 1]]);
  });

  it('a dip restarts the hold', () => {
    const p = new SendLayerPolicy(keep);
    p.sample(300, 0);
    p.sample(650, 1);
    p.sample(650, 3);
    expect(p.sample(540, 4)).toBeUndefined(); // under 553: the run above it is broken
    expect(p.sample(650, 5)).toBeUndefined();
    expect(p.sample(650, 8)).toBeUndefined();
    expect(p.sample(650, 9)).toBe(1);
  });

  it('waits twice as long after each lift that did not last, up to the most', () => {
    const p = new SendLayerPolicy(keep);
    const holds: number[] = [];
    let t = 0;
    p.sample(300, t);
    for (let round = 0; round < 6; round++) {
      const from = ++t;
      while (p.sample(650, t) === undefined) t++;
      holds.push(t - from);
      expect(p.sample(300, ++t)).toBe(0); // the lift did not last
    }
    expect(holds).toEqual([4, 8, 16, 32, 32, 32]);
  });

  it('a lift that lasted does not lengthen the next hold', () => {
    const p = new SendLayerPolicy(keep);
    p.sample(300, 0);
    for (let t = 1; t <= 5; t++) p.sample(650, t);
    expect(p.ceiling).toBe(1);
    expect(p.sample(300, 100)).toBe(0); // 95 s later
    let t = 101;
    while (p.sample(650, t) === undefined) t++;
    expect(t - 101).toBe(4);
  });
});

/** A consumer as mediasoup's: preferred layers in, current layers out when the switch happens. */
class FakeConsumer {
  readonly observer = new EventEmitter();
  closed = false;
  paused = false;
  producerPaused = false;
  currentLayers: { spatialLayer: number; temporalLayer: number } | undefined = { spatialLayer: 2, temporalLayer: 2 };
  readonly asked: Array<{ spatialLayer: number; temporalLayer?: number }> = [];
  constructor(readonly id: string, readonly producerId: string, readonly type: 'simulcast' | 'simple' = 'simulcast') {}
  async setPreferredLayers(layers: { spatialLayer: number; temporalLayer?: number }) {
    this.asked.push(layers);
  }
  switchTo(spatialLayer: number) {
    this.currentLayers = { spatialLayer, temporalLayer: 2 };
    this.observer.emit('layerschange', this.currentLayers);
  }
}
const fake = (c: FakeConsumer) => c as unknown as LayeredConsumer;

describe('the node side: a receiver\'s choice under its sender\'s cap', () => {
  it('asks each consumer for the lower of the two, and gives the receiver its choice back when the cap lifts', async () => {
    const layers = new LayerChoice();
    const c = new FakeConsumer('c1', 'p1');
    await layers.track(fake(c));
    expect(c.asked).toEqual([]); // no cap, no choice: mediasoup's default stands
    await layers.choose(fake(c), { spatialLayer: 2, temporalLayer: 1 });
    const capped = layers.limit('p1', 0, [fake(c)], 1000);
    c.switchTo(0);
    expect(await capped).toEqual({ receivers: 1, switched: 1 });
    await layers.choose(fake(c), { spatialLayer: 1 }); // the receiver changes its mind under the cap
    await layers.limit('p1', undefined, [fake(c)], 1000);
    expect(c.asked.map((l) => l.spatialLayer)).toEqual([2, 0, 0, 1]);
    expect(c.asked[1].temporalLayer).toBe(1); // the receiver's temporal choice stays under the cap
  });

  it('answers once the receivers have switched, or after the wait with those that did not counted', async () => {
    const layers = new LayerChoice();
    const fast = new FakeConsumer('c1', 'p1');
    const stuck = new FakeConsumer('c2', 'p1');
    const already = new FakeConsumer('c3', 'p1');
    already.currentLayers = { spatialLayer: 0, temporalLayer: 2 };
    const paused = new FakeConsumer('c4', 'p1');
    paused.paused = true;
    const other = new FakeConsumer('c5', 'p2');
    const all = [fast, stuck, already, paused, other].map(fake);
    for (const c of all) await layers.track(c);
    const answer = layers.limit('p1', 0, all, 50);
    fast.switchTo(1); // not low enough yet
    fast.switchTo(0);
    expect(await answer).toEqual({ receivers: 4, switched: 3 });
    expect(other.asked).toEqual([]);
    expect(stuck.observer.listenerCount('layerschange')).toBe(0); // nothing left behind
  });

  it('a consumer made under a cap starts under it; a closed one is forgotten; a simple one is left alone', async () => {
    const layers = new LayerChoice();
    await layers.limit('p1', 1, [], 10);
    const late = new FakeConsumer('c1', 'p1');
    await layers.track(fake(late));
    expect(late.asked).toEqual([{ spatialLayer: 1, temporalLayer: undefined }]);
    const simple = new FakeConsumer('c2', 'p1', 'simple');
    await layers.track(fake(simple));
    expect(simple.asked).toEqual([]);
    layers.forget('p1');
    const after = new FakeConsumer('c3', 'p1');
    await layers.track(fake(after));
    expect(after.asked).toEqual([]);
  });
});
