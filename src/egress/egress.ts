import { createHmac, randomBytes } from 'node:crypto';
import type { Registry } from 'prom-client';
import type { NodeRef } from '../cluster/allocator.js';
import type { Cluster } from '../cluster/cluster.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logging/logger.js';
import { createEgressMetrics } from '../metrics/egress-metrics.js';
import type { PlatformStore } from '../platform/store.js';
import type { WebhookEvent } from '../platform/webhook-events.js';
import type { Room } from '../rooms/room.js';
import { Ffmpeg } from './ffmpeg.js';
import { EvidenceFiles } from './files.js';
import { Forwarder } from './forwards.js';
import { Recorder } from './recorder.js';
import { Snapshotter } from './snapshots.js';

/**
 * Media out of the node: recordings, snapshots and RTP forwards, with the files they leave and
 * their metrics. Every room part gets observed; a room's record waits on `settled`.
 */
export function createEgress({ config, store, emit, self, cluster, registry, log }: {
  config: Config; store: PlatformStore; emit(event: WebhookEvent): void; self: NodeRef; cluster?: Cluster; registry: Registry; log: Logger;
}) {
  const egressLog = log.child({ component: 'egress' });
  const { recording } = config;
  const ffmpeg = new Ffmpeg(recording.ffmpegPath, recording.ffprobePath);
  if (!ffmpeg.available) egressLog.warn({ ffmpeg: recording.ffmpegPath }, 'ffmpeg is not installed: recordings and snapshots will be refused (FFMPEG_MISSING); calls are unaffected');
  // Links must verify on every node of a cluster; a single node can keep its key to itself.
  const linkKey = cluster ? createHmac('sha256', config.cluster.secret).update('file-links').digest() : randomBytes(32);
  const files = new EvidenceFiles(recording.dir, recording.minFreeMegabytes * 1048576, store, linkKey, recording.linkTtlSeconds);
  let recordings = 0;
  const metrics = createEgressMetrics(registry, () => ({ recordings, forwards: forwarder.count }));
  const recorder = new Recorder({
    tracks: { ffmpeg, files, node: self.id, maxRestarts: recording.maxRestarts, log: egressLog, fileDone: (f) => metrics.fileDone(f.info.status) },
    store, emit, maxPerRoom: config.limits.recordingsPerRoom,
    publish: async (room) => void (await cluster?.publishSettings(room)),
    clustered: Boolean(cluster),
    failed: metrics.failed,
    running: (n) => (recordings += n),
  });
  const snapshotter = new Snapshotter({ ffmpeg, files, store, node: self.id, maxPerCall: config.limits.snapshotsPerCall, log: egressLog, outcome: metrics.snapshot });
  const forwarder = new Forwarder(config.forwarding.allowedTargets, config.media.listenIp, config.limits.forwardsPerRoom, egressLog);
  return {
    ffmpeg, files, recorder, snapshotter, forwarder,
    observe(room: Room) {
      recorder.observe(room);
      forwarder.observe(room);
    },
    settled: (room: Room) => recorder.settled(room),
    /** Node shutdown: every recording finishes its files. */
    stop: () => recorder.stopAll(),
  };
}

export type Egress = ReturnType<typeof createEgress>;
