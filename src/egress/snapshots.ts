import fs from 'node:fs';
import path from 'node:path';
import type { types } from 'mediasoup';
import type { Logger } from '../logging/logger.js';
import type { PlatformStore, StoredFile } from '../platform/store.js';
import { newId, type RoomSettings } from '../rooms/room-settings.js';
import type { Ffmpeg } from './ffmpeg.js';
import type { EvidenceFiles } from './files.js';
import { RtpEgress } from './rtp-egress.js';
import { rtpSdp } from './sdp.js';
import { udpPortBound } from './udp.js';
import { CodedError } from '../common/errors.js';

/** A frame must arrive within this, or the snapshot fails (the track is paused or sends nothing). */
const SNAPSHOT_TIMEOUT_MS = 8000;
/** Key frames are asked for this often until ffmpeg has decoded one. */
const KEYFRAME_EVERY_MS = 400;

export type SnapshotFile = StoredFile & { kind: 'snapshot' };

export interface SnapshotterDeps {
  ffmpeg: Ffmpeg;
  files: EvidenceFiles;
  store: PlatformStore;
  node: string;
  maxPerCall: number;
  log: Logger;
  outcome(outcome: 'taken' | 'failed'): void;
}

const safeName = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64);

/**
 * Evidence stills: one frame of a participant's video, decoded by ffmpeg from a key frame
 * asked for at once, stored as a JPEG next to the call's recordings.
 */
export class Snapshotter {
  constructor(private readonly deps: SnapshotterDeps) {}

  async take(settings: RoomSettings, subject: { peerId: string; producer: types.Producer; router: types.Router }, takenBy: string): Promise<SnapshotFile> {
    try {
      const file = await this.capture(settings, subject, takenBy);
      this.deps.outcome('taken');
      return file;
    } catch (err) {
      this.deps.outcome('failed');
      throw err;
    }
  }

  private async capture(settings: RoomSettings, subject: { peerId: string; producer: types.Producer; router: types.Router }, takenBy: string): Promise<SnapshotFile> {
    const { deps } = this;
    if (subject.producer.kind !== 'video') throw new CodedError('NOT_FOUND', 'a snapshot needs a video track');
    deps.ffmpeg.check();
    await deps.files.ensureSpace();
    // One of the call's places, taken before anything is awaited, so concurrent requests cannot all pass.
    const giveBack = await deps.store.reserveSnapshot(settings.tenant, settings.callId, deps.maxPerCall);
    if (!giveBack) throw new CodedError('LIMIT_REACHED', `this call has ${deps.maxPerCall} snapshots already (limits.snapshotsPerCall)`);
    try {
      return await this.captureReserved(settings, subject, takenBy);
    } catch (err) {
      await giveBack().catch(() => undefined);
      throw err;
    }
  }

  private async captureReserved(settings: RoomSettings, subject: { peerId: string; producer: types.Producer; router: types.Router }, takenBy: string): Promise<SnapshotFile> {
    const { deps } = this;
    const id = newId('snap');
    const file = path.join(deps.files.dirFor(settings), `${safeName(subject.peerId)}-${id}.jpg`);
    const port = await deps.ffmpeg.freePortPair();
    const egress = await RtpEgress.open(subject.router, subject.producer.id, { ip: '127.0.0.1', port }, { listenIp: '127.0.0.1', appData: { snapshotId: id } });
    let job;
    try {
      // It waits a few seconds in line for a process when the node runs as many as it may.
      job = await deps.ffmpeg.start('snapshot', [
        '-protocol_whitelist', 'pipe,udp,rtp', '-analyzeduration', '0', '-f', 'sdp', '-i', 'pipe:0',
        '-frames:v', '1', '-q:v', '3', '-update', '1', '-y', file,
      ], { input: rtpSdp('127.0.0.1', [egress.sdpStream()]) });
    } catch (err) {
      egress.close();
      throw err;
    }
    const keyframes = setInterval(() => void egress.requestKeyFrame(), KEYFRAME_EVERY_MS);
    const timeout = setTimeout(() => void job.stop(1000), SNAPSHOT_TIMEOUT_MS);
    try {
      while (job.running && !udpPortBound(port)) await new Promise((r) => setTimeout(r, 20));
      if (job.running) await egress.start();
      const exit = await job.exited;
      const bytes = await fs.promises.stat(file).then((s) => s.size, () => 0);
      if (exit.stopped || exit.code !== 0 || bytes === 0) {
        await fs.promises.rm(file, { force: true });
        const why = exit.stopped ? `no frame arrived within ${SNAPSHOT_TIMEOUT_MS / 1000} s (is the track paused?)` : `ffmpeg: ${exit.error?.message ?? exit.stderr.trim().split('\n').at(-1) ?? `exit ${exit.code}`}`;
        throw new CodedError('SNAPSHOT_FAILED', `no snapshot of ${subject.peerId}: ${why}`);
      }
      const probe = await deps.ffmpeg.probe(file);
      const video = probe.streams.find((s) => s.kind === 'video');
      const snapshot: SnapshotFile = {
        id, kind: 'snapshot', tenant: settings.tenant, callId: settings.callId, room: settings.name, node: deps.node, path: file, contentType: 'image/jpeg',
        info: {
          snapshotId: id, identity: subject.peerId, trackId: subject.producer.id, takenBy, takenAt: new Date().toISOString(),
          width: video?.width ?? 0, height: video?.height ?? 0, bytes, node: deps.node,
        },
      };
      await deps.files.put(snapshot);
      deps.log.info({ snapshotId: id, peerId: subject.peerId, takenBy, bytes }, 'snapshot taken');
      return snapshot;
    } finally {
      clearInterval(keyframes);
      clearTimeout(timeout);
      egress.close();
      if (job.running) await job.stop(500);
    }
  }
}
