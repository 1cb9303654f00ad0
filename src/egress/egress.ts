import type { Registry } from 'prom-client';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logging/logger.js';
import { createEgressMetrics } from '../metrics/egress-metrics.js';
import type { PlatformStore, StoredFile } from '../platform/store.js';
import type { WebhookEvent } from '../contracts/webhook-events.js';
import type { RoomDirectory } from '../rooms/directory.js';
import type { Room } from '../rooms/room.js';
import type { Ffmpeg } from './ffmpeg.js';
import { EvidenceFiles } from './files.js';
import { ForwardTargets } from './forward-targets.js';
import { Forwarder } from './forwards.js';
import { Recordings } from './recordings.js';
import { Snapshotter } from './snapshots.js';
import { pipeAddress } from '../media/worker-pool.js';

/**
 * Media out of the node: recordings, snapshots and RTP forwards, with the files they leave and
 * their metrics. Every room part gets observed; a room's record waits on `settled`.
 */
export function createEgress({ config, store, emit, recorded, directory, linkKey, ffmpeg, listeningPorts, registry, log }: {
  config: Config; store: PlatformStore; emit(event: WebhookEvent): void; directory: RoomDirectory;
  /** A recording file finished (its usage). */
  recorded(file: StoredFile & { kind: 'recording' }): void;
  /** Where media processes start, within the node's budget (shared with captions). */
  ffmpeg: Ffmpeg;
  /** The ports this node listens on now, besides its plain/pipe range (HTTP, the WebRtcServers): no forward may aim at them. */
  listeningPorts(): Promise<number[]>;
  /** Signs file links; the same on every node that serves the tenant's files. */
  linkKey: Buffer;
  registry: Registry; log: Logger;
}) {
  const self = directory.self;
  const egressLog = log.child({ component: 'egress' });
  const { recording } = config;
  if (!ffmpeg.available) egressLog.warn({ ffmpeg: recording.ffmpegPath }, 'ffmpeg is not installed: recordings and snapshots will be refused (FFMPEG_MISSING); calls are unaffected');
  const files = new EvidenceFiles(recording.dir, recording.minFreeMegabytes * 1048576, store, linkKey, recording.linkTtlSeconds);
  let running = 0;
  const metrics = createEgressMetrics(registry, () => ({ recordings: running, forwards: forwarder.count }), () => ffmpeg.processes.usage());
  const recordings = new Recordings({
    writers: { ffmpeg, files, node: self.id, maxRestarts: recording.maxRestarts, log: egressLog, fileDone: (f) => {
      metrics.fileDone(f.info.status);
      recorded(f);
    } },
    store, emit, maxPerRoom: config.limits.recordingsPerRoom,
    publish: (room) => directory.publishSettings(room),
    failed: metrics.failed,
    running: (n) => (running += n),
  });
  const snapshotter = new Snapshotter({ ffmpeg, files, store, node: self.id, maxPerCall: config.limits.snapshotsPerCall, log: egressLog, outcome: metrics.snapshot });
  const { forwarding, media } = config;
  const targets = new ForwardTargets({
    allowed: forwarding.allowedTargets,
    loopback: forwarding.allowLoopback === 'on' || (forwarding.allowLoopback === 'auto' && config.env !== 'production'),
    ownAddresses: [media.listenIp, media.announcedAddress, pipeAddress(media)].filter((a): a is string => Boolean(a)),
    ownPorts: async () => ({ ports: await listeningPorts(), range: [media.rtcMinPort, media.rtcMaxPort] }),
  });
  const forwarder = new Forwarder(targets, config.media.listenIp, config.limits.forwardsPerRoom, egressLog);
  return {
    ffmpeg, files, recordings, snapshotter, forwarder,
    observe(room: Room) {
      recordings.observe(room);
      forwarder.observe(room);
    },
    settled: (room: Room) => recordings.settled(room),
    /** Node shutdown: every recording finishes its files. */
    stop: () => recordings.stopAll(),
  };
}

export type Egress = ReturnType<typeof createEgress>;
