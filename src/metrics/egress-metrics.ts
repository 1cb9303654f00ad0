import { Counter, Gauge, type Registry } from 'prom-client';

/** Recording, snapshot and forwarding metrics; labels are fixed sets (status, reason, outcome). */
export function createEgressMetrics(registry: Registry, counts: () => { recordings: number; forwards: number }) {
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
