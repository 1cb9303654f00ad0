import type { types } from 'mediasoup';

const waits = new WeakMap<types.Producer, Promise<boolean>>();

/**
 * Resolves true once the producer has received RTP (at once if it has), or false if it closes
 * first. mediasoup scores a producer's stream from its first packet on, so a producer with a
 * score has sent something. A process for a track that sends nothing is never started.
 */
export function firstPacket(producer: types.Producer): Promise<boolean> {
  if (producer.closed) return Promise.resolve(false);
  if (producer.score.length > 0) return Promise.resolve(true);
  let wait = waits.get(producer);
  if (!wait) {
    wait = new Promise<boolean>((resolve) => {
      const done = (sent: boolean) => {
        producer.off('score', scored);
        producer.observer.off('close', closed);
        resolve(sent);
      };
      const scored = (score: types.ProducerScore[]) => {
        if (score.length > 0) done(true);
      };
      const closed = () => done(false);
      producer.on('score', scored);
      producer.observer.on('close', closed);
    });
    waits.set(producer, wait);
  }
  return wait;
}
