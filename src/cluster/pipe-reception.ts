import type { types } from 'mediasoup';
import type { PipeReceptionTotals } from '../rooms/directory.js';

/** Producers read per tick, a tick a second: the cost is the same with 10 piped streams or 10,000. */
const SAMPLES_PER_TICK = 8;
const TICK_MS = 1000;

type Counts = PipeReceptionTotals;
const zero = (): Counts => ({ packets: 0, lost: 0, repaired: 0, nacked: 0 });

/**
 * The reception of the producers piped in from other nodes, read from mediasoup a few at a
 * time, round robin, and summed into counters that only grow: what crosses the link between
 * regions, and how much of it had to be asked for again. A producer's counts are
 * kept as of its last read when it closes. The timer runs only while something is piped in.
 */
export class PipeReception {
  private readonly last = new Map<types.Producer, Counts>();
  private readonly sum = zero();
  private cursor = 0;
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;

  add(producer: types.Producer) {
    if (producer.closed || this.last.has(producer)) return;
    this.last.set(producer, zero());
    producer.observer.once('close', () => {
      this.last.delete(producer);
      if (this.last.size > 0) return;
      clearInterval(this.timer);
      this.timer = undefined;
    });
    this.timer ??= setInterval(() => {
      this.ticking ??= this.tick().finally(() => (this.ticking = undefined));
    }, TICK_MS).unref();
  }

  totals(): PipeReceptionTotals {
    return { ...this.sum };
  }

  /** Reads the next few producers. */
  private async tick() {
    const producers = [...this.last.keys()];
    if (producers.length === 0) return;
    const batch = Array.from({ length: Math.min(SAMPLES_PER_TICK, producers.length) }, (_, i) => producers[(this.cursor + i) % producers.length]);
    this.cursor = (this.cursor + batch.length) % producers.length;
    await Promise.all(batch.map((p) => this.read(p)));
  }

  private async read(producer: types.Producer) {
    const stats = await producer.getStats().catch(() => undefined);
    const before = this.last.get(producer);
    if (!stats || !before) return;
    // One entry per stream (a simulcast producer has one per layer).
    const now = zero();
    for (const s of stats) {
      now.packets += s.packetCount;
      now.lost += s.packetsLost;
      now.repaired += s.packetsRepaired;
      now.nacked += s.nackPacketCount;
    }
    // packetsLost falls when a late packet arrives after all: count each producer's highest.
    for (const k of Object.keys(now) as Array<keyof Counts>) {
      if (now[k] > before[k]) {
        this.sum[k] += now[k] - before[k];
        before[k] = now[k];
      }
    }
  }
}
