import fs from 'node:fs';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { udpBufferErrors } from '../media/socket-buffers.js';
import type { WorkerPool } from '../media/worker-pool.js';
import type { RoomDirectory } from '../rooms/directory.js';
import type { RoomRegistry } from '../rooms/room-registry.js';
import type { SignalingObserver } from '../signaling/handler.js';

/** Linux: current resident memory of a process, from /proc (ru_maxrss is only the peak). */
function residentBytes(pid: number): number | undefined {
  try {
    const statm = fs.readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ');
    return Number(statm[1]) * 4096;
  } catch {
    return undefined;
  }
}

/**
 * The node's media and signaling metrics, in the node's one registry (nothing global). The
 * platform's (usage, webhooks) and egress's (recordings, snapshots, forwards) live beside them,
 * in platform-metrics.ts and egress-metrics.ts. Labels are bounded: worker index, media kind,
 * protocol method, error code.
 */
export function createMetrics(registry: Registry, pool: WorkerPool, rooms: RoomRegistry, directory: RoomDirectory) {
  collectDefaultMetrics({ register: registry, prefix: 'sfu_process_' });

  // Counted once per scrape (in render), then read by every gauge below.
  const countObjects = () => {
    const counts = { rooms: 0, peers: 0, transports: 0, producers: { audio: 0, video: 0 }, consumers: { audio: 0, video: 0 }, dataProducers: 0, dataConsumers: 0 };
    for (const room of rooms.values()) {
      counts.rooms++;
      for (const peer of room.peers.values()) {
        counts.peers++;
        counts.transports += peer.count('transport');
        for (const p of peer.all('producer')) counts.producers[p.kind]++;
        for (const c of peer.all('consumer')) counts.consumers[c.kind]++;
        counts.dataProducers += peer.count('dataProducer');
        counts.dataConsumers += peer.count('dataConsumer');
      }
    }
    return counts;
  };
  let counts = countObjects();
  const objects = () => counts;
  let udpErrors = udpBufferErrors();

  new Gauge({ name: 'sfu_rooms', help: 'Rooms hosted on this node.', registers: [registry], collect() { this.set(objects().rooms); } });
  new Gauge({ name: 'sfu_peers', help: 'Peers joined on this node.', registers: [registry], collect() { this.set(objects().peers); } });
  new Gauge({ name: 'sfu_transports', help: 'WebRTC transports.', registers: [registry], collect() { this.set(objects().transports); } });
  new Gauge({
    name: 'sfu_producers', help: 'Producers by media kind.', labelNames: ['kind'], registers: [registry],
    collect() { const c = objects().producers; this.set({ kind: 'audio' }, c.audio); this.set({ kind: 'video' }, c.video); },
  });
  new Gauge({
    name: 'sfu_consumers', help: 'Consumers by media kind.', labelNames: ['kind'], registers: [registry],
    collect() { const c = objects().consumers; this.set({ kind: 'audio' }, c.audio); this.set({ kind: 'video' }, c.video); },
  });
  new Gauge({ name: 'sfu_data_producers', help: 'Data producers.', registers: [registry], collect() { this.set(objects().dataProducers); } });
  new Gauge({ name: 'sfu_data_consumers', help: 'Data consumers.', registers: [registry], collect() { this.set(objects().dataConsumers); } });
  new Gauge({ name: 'sfu_workers_alive', help: 'Live mediasoup workers.', registers: [registry], collect() { this.set(pool.aliveCount); } });
  new Gauge({
    name: 'sfu_remote_streams_piped', help: 'Producers and data producers piped here from other nodes (cluster mode): what crosses between regions.',
    registers: [registry], collect() { this.set(directory.stats().pipedStreams); },
  });

  new Gauge({
    name: 'sfu_worker_cpu_seconds', help: 'CPU time (user + system) used by each mediasoup worker process since it started.', labelNames: ['worker'], registers: [registry],
    async collect() {
      await Promise.all(pool.slots.filter((s) => s.alive).map(async (s) => {
        const ru = await s.worker.getResourceUsage();
        this.set({ worker: String(s.index) }, (ru.ru_utime + ru.ru_stime) / 1000);
      }));
    },
  });
  new Gauge({
    name: 'sfu_worker_memory_bytes', help: 'Resident memory of each mediasoup worker process.', labelNames: ['worker'], registers: [registry],
    async collect() {
      await Promise.all(pool.slots.filter((s) => s.alive).map(async (s) => {
        const rss = residentBytes(s.worker.pid) ?? (await s.worker.getResourceUsage()).ru_maxrss * 1024;
        this.set({ worker: String(s.index) }, rss);
      }));
    },
  });

  // The link between nodes: what arrived over it, and mediasoup's own loss, repair and NACK
  // counts for it (docs/call-quality.md, "The cascade", on how they relate).
  const piped = { packets: 0, lost: 0, repaired: 0, nacked: 0 };
  for (const [key, name, help] of [
    ['packets', 'sfu_pipe_received_packets_total', 'RTP packets that arrived on streams piped here from other nodes (cluster mode), retransmissions included.'],
    ['lost', 'sfu_pipe_lost_packets_total', 'RTP packets of piped streams missing at a receiver report (mediasoup\'s packetsLost: expected minus first sends received).'],
    ['repaired', 'sfu_pipe_repaired_packets_total', 'Retransmissions from the other node that mediasoup took in for a missing packet (its packetsRepaired).'],
    ['nacked', 'sfu_pipe_nacked_packets_total', 'RTP packets this node asked the other node to send again (NACK) on piped streams.'],
  ] as const) {
    new Counter({
      name, help: `${help} Sampled a few streams a second.`, registers: [registry],
      collect() {
        const now = directory.stats().pipeReception[key];
        this.inc(now - piped[key]);
        piped[key] = now;
      },
    });
  }

  const dropped = { unauthenticated: 0, stale: 0, malformed: 0 };
  new Counter({
    name: 'sfu_cluster_messages_dropped_total', help: 'Node-to-node messages dropped (cluster mode), by reason: unauthenticated, stale or malformed.',
    labelNames: ['reason'], registers: [registry],
    collect() {
      const now = directory.stats().dropped;
      for (const reason of Object.keys(dropped) as Array<keyof typeof dropped>) {
        this.inc({ reason }, now[reason] - dropped[reason]);
        dropped[reason] = now[reason];
      }
    },
  });

  // The kernel's own counts for this network namespace, read once per scrape (in render; Linux).
  for (const [direction, name, help] of [
    ['send', 'sfu_udp_send_buffer_errors_total', 'UDP datagrams the kernel could not send because a socket\'s send buffer was full (ENOBUFS), in this network namespace: raise media.socketSendBufferBytes and net.core.wmem_max.'],
    ['receive', 'sfu_udp_receive_buffer_errors_total', 'UDP datagrams the kernel dropped because a socket\'s receive buffer was full, in this network namespace: raise media.socketRecvBufferBytes and net.core.rmem_max.'],
  ] as const) {
    new Counter({
      name, help, registers: [registry],
      collect() {
        if (!udpErrors) return;
        this.reset();
        this.inc(udpErrors[direction]);
      },
    });
  }

  const workerDeaths = new Counter({ name: 'sfu_worker_deaths_total', help: 'mediasoup workers that died and were replaced.', registers: [registry] });
  pool.on('workerDied', () => workerDeaths.inc());

  const joinDuration = new Histogram({
    name: 'sfu_join_duration_seconds', help: 'Time from a join request to its response.', registers: [registry],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  });
  const messages = new Counter({ name: 'sfu_signaling_requests_total', help: 'Signaling requests by method.', labelNames: ['method'], registers: [registry] });
  const errors = new Counter({ name: 'sfu_signaling_errors_total', help: 'Signaling error responses by method and error code.', labelNames: ['method', 'code'], registers: [registry] });

  const slowReaders = new Counter({ name: 'sfu_signaling_slow_readers_total', help: 'Sockets closed (4413) because their client stopped reading.', registers: [registry] });

  const signaling: SignalingObserver = {
    request: (method) => messages.inc({ method }),
    error: (method, code) => errors.inc({ method, code }),
    joined: (seconds) => joinDuration.observe(seconds),
    slowReader: () => slowReaders.inc(),
  };

  return {
    registry,
    signaling,
    async render() {
      counts = countObjects();
      udpErrors = udpBufferErrors();
      return registry.metrics();
    },
  };
}

export type NodeMetrics = ReturnType<typeof createMetrics>;
