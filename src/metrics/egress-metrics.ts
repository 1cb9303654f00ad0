import { Counter, Gauge, type Registry } from 'prom-client';

/** Recording, snapshot and forwarding metrics; labels are fixed sets (status, reason, outcome). */
export function createEgressMetrics(registry: Registry, counts: () => { recordings: number; forwards: number }, processes: () => { processes: number; megabytes: number; queued: number }) {
  new Gauge({
    name: 'sfu_media_processes', help: 'Media processes (ffmpeg of recordings, snapshots and captions) running now, within media.maxProcesses.', registers: [registry],
    collect() { this.set(processes().processes); },
  });
  new Gauge({
    name: 'sfu_media_process_memory_bytes', help: 'Private memory of those processes together (beyond the libraries they share), within media.maxProcessMegabytes.', registers: [registry],
    collect() { this.set(processes().megabytes * 1048576); },
  });
  new Gauge({
    name: 'sfu_media_processes_waiting', help: 'Tracks and snapshots waiting in line for a media process.', registers: [registry],
    collect() { this.set(processes().queued); },
  });
  new Gauge({
    name: 'sfu_recordings_active', help: 'Recordings running on this node (per room part).', registers: [registry],
    collect() { this.set(counts().recordings); },
  });
  new Gauge({
    name: 'sfu_forwards_active', help: 'RTP forwards running on this node.', registers: [registry],
    collect() { this.set(counts().forwards); },
  });
  const files = new Counter({
    name: 'sfu_recording_files_total', help: 'Recording files finished, by status (complete, failed).', labelNames: ['status'], registers: [registry],
  });
  const failures = new Counter({
    name: 'sfu_recording_failures_total', help: 'Recordings that failed, by reason: disk_full, ffmpeg_exit (too many restarts), start_failed.', labelNames: ['reason'], registers: [registry],
  });
  const snapshots = new Counter({
    name: 'sfu_snapshots_total', help: 'Snapshots asked for, by outcome (taken, failed).', labelNames: ['outcome'], registers: [registry],
  });
  return {
    fileDone: (status: string) => files.inc({ status }),
    failed: (reason: 'disk_full' | 'ffmpeg_exit' | 'start_failed') => failures.inc({ reason }),
    snapshot: (outcome: 'taken' | 'failed') => snapshots.inc({ outcome }),
  };
}
