import os from 'node:os';
import { EventEmitter } from 'node:events';
import { inUse, startupStep } from '../common/startup-error.js';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logging/logger.js';
import { MEDIA_CODECS } from './codecs.js';
import { socketBuffers, warnIfKernelCaps } from './socket-buffers.js';

/** One mediasoup worker and its WebRtcServer (one UDP and one TCP port). */
export interface WorkerSlot {
  readonly index: number;
  worker: types.Worker;
  webRtcServer: types.WebRtcServer;
  /** Peers whose router lives on this worker: the load measure for placing rooms. */
  peers: number;
  alive: boolean;
}

export interface WorkerPoolEvents {
  workerDied: [slot: WorkerSlot, error: Error];
  workerReplaced: [slot: WorkerSlot];
}

const RESPAWN_DELAYS_MS = [0, 250, 1000, 2000, 5000];

const firstExternalIpv4 = () => Object.values(os.networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal)?.address;

/** The address clients should dial: configured, else the listen IP, else the first external IPv4. */
export function announcedAddress(media: Config['media']): string | undefined {
  if (media.announcedAddress) return media.announcedAddress;
  if (media.listenIp !== '0.0.0.0' && media.listenIp !== '::') return undefined;
  return firstExternalIpv4() ?? '127.0.0.1';
}

/**
 * The address other nodes dial for this node's pipes: configured; "auto", this machine's first
 * external IPv4 (in a container, its own address on the containers' network, which is known
 * only once it runs); empty, the address clients dial.
 */
export function pipeAddress(media: Config['media']): string | undefined {
  if (media.pipeAnnouncedAddress === 'auto') return firstExternalIpv4() ?? '127.0.0.1';
  return media.pipeAnnouncedAddress || announcedAddress(media);
}

/**
 * Header extensions the node does not offer clients. With abs-capture-time negotiated on a
 * simulcast producer (mediasoup-client 3.18 negotiates it, later versions do not), its
 * consumers never switched down to layer 0 when asked: tests/e2e/protocol-layers.test.ts.
 */
const WITHHELD_EXTENSIONS = new Set(['http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time']);

/** The routers' capabilities as clients get them (the join answer): without WITHHELD_EXTENSIONS. */
export const offeredCapabilities = (caps: types.RtpCapabilities): types.RtpCapabilities =>
  ({ ...caps, headerExtensions: (caps.headerExtensions ?? []).filter((h) => !WITHHELD_EXTENSIONS.has(h.uri)) });

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * Runs `create` and takes off the SIGINT/SIGTERM listeners it added. mediasoup's Worker closes
 * its process on the first SIGINT or SIGTERM; the node's answer to those is a drain, during
 * which the calls go on, on their workers. Found when `podman stop` ended every call at once.
 */
export async function withoutSignalHandlers<T>(create: () => Promise<T>): Promise<T> {
  const before = new Map(SIGNALS.map((s) => [s, new Set(process.listeners(s))]));
  try {
    return await create();
  } finally {
    for (const s of SIGNALS) for (const l of process.listeners(s)) if (!before.get(s)!.has(l)) process.removeListener(s, l as never);
  }
}

/** Why worker `index` could not start, naming what to change. */
function explainSpawnFailure(err: Error & { code?: string }, media: Config['media'], index: number): string {
  if (inUse(err)) {
    return `media.webRtcServerBasePort (MEDIA_WEBRTC_PORT_BASE): port ${media.webRtcServerBasePort + index} (UDP/TCP, worker ${index}) is in use, perhaps by another node on this host; give each node its own base port, at least ${media.numWorkers || os.availableParallelism()} (its worker count) apart`;
  }
  if (err.code === 'ENOENT' || /ENOENT|spawn/i.test(err.message)) {
    return `the mediasoup worker binary cannot be run (${mediasoup.workerBin}): ${err.message}; run npm install (it builds or fetches the worker, see docs/mediasoup-worker.md) or set MEDIASOUP_WORKER_BIN`;
  }
  return `media worker ${index} could not start (media.listenIp ${media.listenIp}, MEDIA_LISTEN_IP): ${err.message}`;
}

/** Empty routers kept per worker for new rooms: enough for a burst of short calls, few enough to cost nothing. */
const SPARE_ROUTERS = 16;

/**
 * One worker per core (or media.numWorkers). A worker that dies is replaced in the same slot,
 * so its WebRtcServer port comes back; routers on the dead worker close on their own and
 * their rooms tell their peers to rejoin.
 */
export class WorkerPool extends EventEmitter<WorkerPoolEvents> {
  readonly slots: WorkerSlot[] = [];
  private closed = false;
  private capabilities?: types.RtpCapabilities;
  /** Empty routers of closed rooms, by worker, for the next rooms there (recycle()). */
  private readonly spare = new Map<types.Worker, types.Router[]>();

  private constructor(private readonly media: Config['media'], private readonly log: Logger) {
    super();
  }

  static async create(media: Config['media'], log: Logger): Promise<WorkerPool> {
    const workersLog = log.child({ component: 'workers' });
    warnIfKernelCaps(media, workersLog);
    const pool = new WorkerPool(media, workersLog);
    const count = media.numWorkers || os.availableParallelism();
    try {
      for (let index = 0; index < count; index++) {
        const slot: WorkerSlot = { index, ...(await startupStep(() => pool.spawn(index), (err) => explainSpawnFailure(err, media, index))), peers: 0, alive: true };
        pool.watch(slot);
        pool.slots.push(slot);
      }
    } catch (err) {
      pool.close();
      throw err;
    }
    return pool;
  }

  /** A router on `slot`'s worker, with the media codecs every router of this node has: a spare one if there is. */
  takeRouter(slot: WorkerSlot): Promise<types.Router> {
    const spare = this.spare.get(slot.worker);
    for (let router = spare?.pop(); router; router = spare?.pop()) if (!router.closed) return Promise.resolve(router);
    return slot.worker.createRouter({ mediaCodecs: MEDIA_CODECS });
  }

  /**
   * Takes back a closed room's router. mediasoup computes a router's RTP capabilities in
   * JavaScript on every createRouter (clone-heavy: about 10% of the node's CPU in a benchmark
   * of short calls), so a router left empty serves the next room on its worker instead. Only a
   * router the worker itself reports empty (no transport, no observer: nothing that could carry
   * one room's media into the next) is kept, up to SPARE_ROUTERS per worker; any other is closed.
   */
  async recycle(worker: types.Worker, router: types.Router) {
    const spare = this.spare.get(worker) ?? [];
    const live = this.slots.some((s) => s.worker === worker && s.alive);
    if (this.closed || !live || router.closed || spare.length >= SPARE_ROUTERS) return router.close();
    // The room's own listener; mediasoup's internal ones ('@close') stay.
    router.removeAllListeners('workerclose');
    const dump = await router.dump().catch(() => undefined);
    if (!dump || dump.transportIds.length > 0 || dump.rtpObserverIds.length > 0 || router.closed || spare.length >= SPARE_ROUTERS || this.closed) {
      return router.close();
    }
    spare.push(router);
    this.spare.set(worker, spare);
  }

  /**
   * The routers' RTP capabilities, read once: every router is made from MEDIA_CODECS, so they
   * are the same for all, and mediasoup's getter deep-clones them on every read (each join
   * answers them, and in a benchmark of short calls that clone was 5% of the node's CPU).
   */
  routerCapabilities(router: types.Router): types.RtpCapabilities {
    return (this.capabilities ??= offeredCapabilities(router.rtpCapabilities));
  }

  get aliveCount(): number {
    return this.slots.filter((s) => s.alive).length;
  }

  /** The UDP and TCP ports the workers' WebRtcServers listen on now (what no forward may aim at). */
  async listeningPorts(): Promise<number[]> {
    const dumps = await Promise.all(this.slots.filter((s) => s.alive).map((s) => s.webRtcServer.dump().catch(() => undefined)));
    return dumps.flatMap((d) => (d ? [...d.udpSockets, ...d.tcpServers].map((x) => x.port) : []));
  }

  /** Least-loaded live worker, optionally avoiding some. */
  leastLoaded(exclude: ReadonlySet<number> = new Set()): WorkerSlot | undefined {
    const candidates = this.slots.filter((s) => s.alive && !exclude.has(s.index));
    return candidates.sort((a, b) => a.peers - b.peers || a.index - b.index)[0];
  }

  /** A worker and its WebRtcServer for slot `index` (the slot's ports, when configured). */
  private async spawn(index: number): Promise<Pick<WorkerSlot, 'worker' | 'webRtcServer'>> {
    const worker = await withoutSignalHandlers(() => mediasoup.createWorker({
      logLevel: this.media.workerLogLevel,
      rtcMinPort: this.media.rtcMinPort,
      rtcMaxPort: this.media.rtcMaxPort,
      appData: { index },
    }));
    const port = this.media.webRtcServerBasePort ? this.media.webRtcServerBasePort + index : undefined;
    const listen = { ip: this.media.listenIp, announcedAddress: announcedAddress(this.media), port, ...socketBuffers(this.media) };
    let webRtcServer: types.WebRtcServer;
    try {
      webRtcServer = await worker.createWebRtcServer({
        listenInfos: [{ protocol: 'udp', ...listen }, { protocol: 'tcp', ...listen }],
      });
    } catch (err) {
      worker.close();
      throw err;
    }
    this.log.info({ worker: index, workerPid: worker.pid, ip: listen.ip, announcedAddress: listen.announcedAddress, port: port ?? 'auto' }, 'media worker ready');
    return { worker, webRtcServer };
  }

  private watch(slot: WorkerSlot) {
    slot.worker.on('died', (error) => void this.onDied(slot, error));
  }

  private async onDied(slot: WorkerSlot, error: Error) {
    slot.alive = false;
    this.spare.delete(slot.worker); // closed with their worker
    slot.peers = 0;
    this.log.error({ worker: slot.index, workerPid: slot.worker.pid, err: error }, 'media worker died; replacing it');
    this.emit('workerDied', slot, error);
    for (const delay of RESPAWN_DELAYS_MS) {
      if (this.closed) return;
      await new Promise((r) => setTimeout(r, delay));
      try {
        const fresh = await this.spawn(slot.index);
        if (this.closed) {
          fresh.worker.close();
          return;
        }
        Object.assign(slot, fresh, { alive: true });
        this.watch(slot);
        this.emit('workerReplaced', slot);
        return;
      } catch (err) {
        this.log.error({ worker: slot.index, err }, 'could not replace media worker');
      }
    }
  }

  close() {
    this.closed = true;
    for (const slot of this.slots) slot.worker.close();
  }
}
