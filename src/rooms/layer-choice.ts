import type { types } from 'mediasoup';

/** Above any stream's layer count: mediasoup takes the highest layer the stream has. */
const HIGHEST = 255;

export interface LayerWish { spatialLayer: number; temporalLayer?: number }

/** What the parts of a consumer this module uses need; a mediasoup consumer is one. */
export type LayeredConsumer = Pick<types.Consumer, 'id' | 'producerId' | 'type' | 'currentLayers' | 'closed' | 'paused' | 'producerPaused' | 'setPreferredLayers'> & {
  observer: Pick<types.Consumer['observer'], 'on' | 'off' | 'once'>;
};

/**
 * Which simulcast or SVC layer each video consumer in a room is asked for: the lower of what
 * its receiver chose (setConsumerPreferredLayers) and the ceiling its sender set before turning
 * its higher layers off (setMaxSpatialLayer). One owner for both, so that neither undoes the
 * other: a receiver's choice comes back when the sender lifts its ceiling.
 */
export class LayerChoice {
  private readonly wishes = new Map<string, LayerWish>(); // by consumer id
  private readonly ceilings = new Map<string, number>(); // by producer id

  /** A new consumer: under its sender's ceiling, if there is one. */
  async track(consumer: LayeredConsumer) {
    if (!layered(consumer)) return;
    consumer.observer.once('close', () => this.wishes.delete(consumer.id));
    if (this.ceilings.has(consumer.producerId)) await this.apply(consumer);
  }

  /** The receiver's own choice. */
  async choose(consumer: LayeredConsumer, wish: LayerWish) {
    this.wishes.set(consumer.id, wish);
    await this.apply(consumer);
  }

  /**
   * The sender's ceiling for `producerId` (undefined: none). Answers once every consumer that was
   * above it receives a layer at or under it (mediasoup switches on a key frame of the new
   * layer), or after `waitMs`: the sender turns its higher layers off only then, so that no
   * receiver is left on a layer that stops.
   */
  async limit(producerId: string, spatialLayer: number | undefined, consumers: LayeredConsumer[], waitMs: number) {
    if (spatialLayer === undefined) this.ceilings.delete(producerId);
    else this.ceilings.set(producerId, spatialLayer);
    const ours = consumers.filter((c) => layered(c) && c.producerId === producerId && !c.closed);
    await Promise.all(ours.map((c) => this.apply(c)));
    if (spatialLayer === undefined) return { receivers: ours.length, switched: ours.length };
    const switched = await Promise.all(ours.map((c) => atOrUnder(c, spatialLayer, waitMs)));
    return { receivers: ours.length, switched: switched.filter(Boolean).length };
  }

  /** The producer is gone: its ceiling with it. */
  forget(producerId: string) {
    this.ceilings.delete(producerId);
  }

  private async apply(consumer: LayeredConsumer) {
    const wish = this.wishes.get(consumer.id);
    const ceiling = this.ceilings.get(consumer.producerId) ?? HIGHEST;
    const spatialLayer = Math.min(wish?.spatialLayer ?? HIGHEST, ceiling);
    if (consumer.closed) return;
    await consumer.setPreferredLayers({ spatialLayer, temporalLayer: wish?.temporalLayer });
  }
}

const layered = (c: LayeredConsumer) => c.type === 'simulcast' || c.type === 'svc';

/** Resolves true once `consumer` receives spatial layer `ceiling` or lower (or nothing to switch), false after `waitMs`. */
function atOrUnder(consumer: LayeredConsumer, ceiling: number, waitMs: number): Promise<boolean> {
  const done = () => consumer.closed || consumer.paused || consumer.producerPaused || (consumer.currentLayers?.spatialLayer ?? -1) <= ceiling;
  if (done()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const check = () => {
      if (!done()) return;
      finish(true);
    };
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      consumer.observer.off('layerschange', check);
      consumer.observer.off('close', check);
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), waitMs);
    consumer.observer.on('layerschange', check);
    consumer.observer.on('close', check);
  });
}
