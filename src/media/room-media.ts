import type { types } from 'mediasoup';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logging/logger.js';
import type { WorkerPool, WorkerSlot } from './worker-pool.js';

/** A room's router on one worker, and how many of the room's peers it holds. */
export interface RouterEntry {
  readonly slot: WorkerSlot;
  readonly worker: types.Worker;
  readonly router: types.Router;
  peers: number;
}

/**
 * The media side of one room. It starts with one router on the least-loaded worker; when
 * every router holds media.maxPeersPerRouter peers, the next peer gets a router on another
 * worker, and producers spread (pipeToRouter) to the routers whose peers consume them.
 * Audio spreads to the first router too, where one ActiveSpeakerObserver hears everyone.
 */
export class RoomMedia {
  private readonly entries: RouterEntry[] = [];
  /** `${producerId}>${routerId}`: producers spread (pipeToRouter) to other routers of the room. */
  private readonly spread = new Map<string, Promise<void>>();
  /** Made with the room's first audio producer: a room without audio needs none. */
  private speakerObserver?: Promise<types.ActiveSpeakerObserver>;
  private readonly speakerListeners: Array<(producer: types.Producer) => void> = [];
  private closed = false;

  private constructor(
    private readonly pool: WorkerPool,
    private readonly media: Config['media'],
    private readonly log: Logger,
    private readonly onRouterLost: (reason: string) => void,
  ) {}

  static async create(pool: WorkerPool, media: Config['media'], log: Logger, onRouterLost: (reason: string) => void) {
    const roomMedia = new RoomMedia(pool, media, log, onRouterLost);
    const slot = pool.leastLoaded();
    if (!slot) throw new Error('no live media worker');
    await roomMedia.addRouter(slot);
    return roomMedia;
  }

  get rtpCapabilities(): types.RtpCapabilities {
    return this.pool.routerCapabilities(this.entries[0].router);
  }

  get routers(): readonly RouterEntry[] {
    return this.entries;
  }

  onDominantSpeaker(listener: (producer: types.Producer) => void) {
    this.speakerListeners.push(listener);
  }

  private async addRouter(slot: WorkerSlot): Promise<RouterEntry> {
    const router = await this.pool.takeRouter(slot);
    const entry: RouterEntry = { slot, worker: slot.worker, router, peers: 0 };
    this.entries.push(entry);
    router.on('workerclose', () => {
      if (!this.closed) this.onRouterLost(`media worker ${slot.index} died`);
    });
    this.log.debug({ worker: slot.index, routerId: router.id }, 'room router created');
    return entry;
  }

  /** The router a new peer should use. */
  async assignRouter(): Promise<RouterEntry> {
    let entry = this.entries.find((e) => e.peers < this.media.maxPeersPerRouter && !e.router.closed);
    if (!entry) {
      const slot = this.pool.leastLoaded(new Set(this.entries.map((e) => e.slot.index)));
      entry = slot
        ? await this.addRouter(slot)
        // Every worker already hosts part of this room: overfill the emptiest router.
        : this.entries.filter((e) => !e.router.closed).sort((a, b) => a.peers - b.peers)[0];
      if (!entry) throw new Error('room has no live router');
      if (slot) this.log.info({ worker: slot.index, routers: this.entries.length }, 'room spread to another worker');
    }
    entry.peers++;
    entry.slot.peers++;
    return entry;
  }

  releaseRouter(entry: RouterEntry) {
    entry.peers--;
    // After a worker death the slot holds a new worker whose count is not ours.
    if (entry.slot.worker === entry.worker) entry.slot.peers--;
  }

  /** Make a producer (or data producer) of `from` available on `to`. Idempotent and concurrency-safe. */
  async ensureOn(kind: 'producer' | 'dataProducer', id: string, from: RouterEntry, to: RouterEntry): Promise<void> {
    if (from === to) return;
    const key = `${id}>${to.router.id}`;
    let spreading = this.spread.get(key);
    if (!spreading) {
      spreading = from.router
        .pipeToRouter(kind === 'producer' ? { producerId: id, router: to.router } : { dataProducerId: id, router: to.router })
        .then(() => undefined);
      spreading.catch(() => this.spread.delete(key));
      this.spread.set(key, spreading);
    }
    await spreading;
  }

  /** Feed an audio producer to the room's active-speaker observer (made on the first). */
  async observeAudio(producer: types.Producer, from: RouterEntry) {
    if (!this.speakerObserver) {
      this.speakerObserver = this.entries[0].router.createActiveSpeakerObserver({ interval: 300 });
      this.speakerObserver.then((observer) => {
        observer.on('dominantspeaker', ({ producer: dominant }) => {
          for (const listener of this.speakerListeners) listener(dominant);
        });
        if (this.closed) observer.close();
      }, () => undefined);
    }
    const observer = await this.speakerObserver;
    await this.ensureOn('producer', producer.id, from, this.entries[0]);
    if (!observer.closed) await observer.addProducer({ producerId: producer.id });
  }

  forget(id: string) {
    for (const key of this.spread.keys()) if (key.startsWith(`${id}>`)) this.spread.delete(key);
  }

  close() {
    this.closed = true;
    // Closed first so that an emptied router can go back to the pool (which checks it is empty).
    const recycle = () => {
      for (const entry of this.entries) void this.pool.recycle(entry.worker, entry.router);
    };
    if (!this.speakerObserver) return recycle();
    void this.speakerObserver.then((observer) => observer.close(), () => undefined).then(recycle);
  }
}
