import os from 'node:os';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import { Registry } from 'prom-client';
import { TokenVerifier } from './auth/tokens.js';
import { LocalAllocator, type RoomAllocator } from './cluster/allocator.js';
import { Cluster } from './cluster/cluster.js';
import { LoneNode, type NodeLink } from './cluster/node-link.js';
import type { SelfInfo } from './cluster/node-registry.js';
import { LogLimiter } from './common/log-limiter.js';
import { RateLimiter } from './common/rate-limiter.js';
import { inUse, StartupError, startupStep } from './common/startup-error.js';
import type { Config } from './config/schema.js';
import { createEgress } from './egress/egress.js';
import { Ffmpeg } from './egress/ffmpeg.js';
import { MediaProcesses } from './egress/media-processes.js';
import { Captions } from './captions/captions.js';
import { AgentWorkers } from './agents/agent-workers.js';
import { AssistantSessions } from './agents/assistant-sessions.js';
import { AgentDispatcher } from './agents/dispatcher.js';
import type { AgentQueue } from './agents/jobs.js';
import { LocalAgentQueue } from './agents/local-queue.js';
import { RedisAgentQueue } from './agents/redis-queue.js';
import type { Redis } from 'ioredis';
import { SpeechEngines } from './speech/speech-engines.js';
import { createCaptionMetrics } from './metrics/caption-metrics.js';
import { createAgentMetrics } from './metrics/agent-metrics.js';
import { EvidenceService } from './egress/evidence-service.js';
import { finishRecordingFile } from './egress/recording-file.js';
import { adminPlugin } from './http/admin-plugin.js';
import { apiPlugin, openApiPlugin } from './http/api-plugin.js';
import { demoPlugin } from './http/demo-plugin.js';
import { frameworkError, installHttpErrors, MAX_PATH_PARAM_LENGTH } from './http/errors.js';
import { healthPlugin } from './http/health-plugin.js';
import { preflightPlugin } from './http/preflight-plugin.js';
import { sdkPlugin } from './http/sdk-plugin.js';
import { installValidators } from './http/validators.js';
import type { Logger } from './logging/logger.js';
import { announcedAddress, WorkerPool } from './media/worker-pool.js';
import { createMetrics } from './metrics/metrics.js';
import { ParticipantLedger } from './platform/participant-ledger.js';
import { createPlatform, type Platform } from './platform/platform.js';
import { RoomHosts } from './platform/room-hosts.js';
import { recoverCalls } from './platform/restart-recovery.js';
import { RoomService } from './platform/room-service.js';
import { redisStores, sqliteStores, type Stores } from './platform/stores.js';
import { recordingUsage } from './platform/store.js';
import { ConsoleSessions } from './http/console-sessions.js';
import { consolePlugin } from './http/console-plugin.js';
import type { RoomDirectory } from './rooms/directory.js';
import { LocalDirectory } from './rooms/local-directory.js';
import { roomKey } from './rooms/room-key.js';
import { RoomRegistry } from './rooms/room-registry.js';
import { signalingPlugin } from './signaling/plugin.js';
import { Tenants } from './tenants/tenants.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The port to listen on: the configured one (checked free now, before workers start), or a free one for 0. */
async function resolvePort({ host, port }: Config['server']): Promise<number> {
  const probe = net.createServer();
  await startupStep(
    () => new Promise<void>((resolve, reject) => probe.once('error', reject).listen(port, host, resolve)),
    (err) => (inUse(err)
      ? `server.port (PORT): port ${port} on ${host} is in use by another process; set PORT to a free port`
      : `server.host (HOST) / server.port (PORT): cannot listen on ${host}:${port}: ${err.message}`),
  );
  const { port: free } = probe.address() as net.AddressInfo;
  await new Promise((r) => probe.close(r));
  return free;
}

/** A Redis URL without its password, for messages. */
const redactUrl = (url: string) => url.replace(/\/\/([^@/]*)@/, '//***@');

/** A node id with a random suffix: a cluster member that names none gets a new one each start. */
const randomNodeId = () => `${os.hostname()}-${randomBytes(3).toString('hex')}`;

/** Who this node is to clients and to the other nodes. */
function describeSelf(config: Config, port: number, id: string): SelfInfo {
  const host = announcedAddress(config.media) ?? config.media.listenIp;
  return {
    id,
    region: config.cluster.region,
    url: config.cluster.publicUrl || `http://${host}:${port}`,
    mediaAddress: host,
    capacity: config.cluster.capacity,
    startedAt: Date.now(),
  };
}

/**
 * The composition root. The node's own address is settled first; then single-node or cluster
 * mode is chosen once (the room directory, the node link, the allocator and the stores), and
 * every part gets what it needs at construction.
 */
export async function createNode(config: Config, log: Logger) {
  const port = await resolvePort(config.server);
  const ledger = new ParticipantLedger();
  const processes = new MediaProcesses({ maxProcesses: config.media.maxProcesses, maxMegabytes: config.media.maxProcessMegabytes });
  const ffmpeg = new Ffmpeg(config.recording.ffmpegPath, config.recording.ffprobePath, processes, { min: config.media.rtcMinPort, max: config.media.rtcMaxPort });
  const clustered = Boolean(config.cluster.redisUrl);
  // A lone node keeps its id (and its link key) in its store, so its files and links outlive a restart.
  let sqlite: ReturnType<typeof sqliteStores> | undefined;
  try {
    sqlite = clustered ? undefined : sqliteStores(config);
  } catch (err) {
    throw new StartupError(`store.path (STORE_PATH): cannot open ${config.store.path}: ${(err as Error).message}`);
  }
  const nodeId = config.cluster.nodeId || (sqlite ? sqlite.sqlite.keep('node-id', randomNodeId) : randomNodeId());
  const self = describeSelf(config, port, nodeId);
  const nodeLog = log.child({ nodeId: self.id });
  let pool: WorkerPool;
  try {
    pool = await WorkerPool.create(config.media, nodeLog);
  } catch (err) {
    await sqlite?.close();
    throw err;
  }
  let directory: RoomDirectory;
  let link: NodeLink;
  let allocator: RoomAllocator;
  let stores: Stores;
  let clusterRedis: Redis | undefined;
  if (sqlite) {
    directory = new LocalDirectory(self);
    link = new LoneNode();
    allocator = new LocalAllocator(self);
    stores = sqlite;
  } else {
    let cluster: Cluster;
    try {
      cluster = await startupStep(
        () => Cluster.connect(config, self, {
          recordOf: (peer, reason, leftAt) => ledger.record(peer, { node: self.id, region: self.region }, reason, leftAt),
          egressFull: () => processes.full,
        }, nodeLog),
        (err) => `cluster.redisUrl (REDIS_URL): cannot reach Redis at ${redactUrl(config.cluster.redisUrl)}: ${err.message}`,
      );
    } catch (err) {
      pool.close();
      throw err;
    }
    directory = cluster;
    link = cluster.bus;
    allocator = cluster.allocator;
    stores = redisStores(config, cluster.redis, self.id, nodeLog);
    clusterRedis = cluster.redis;
  }
  const tenants = new Tenants(config);
  const registry = new Registry();
  const platform: Platform = createPlatform({ config, tenants, stores, ledger, directory, registry, log: nodeLog });
  const speech = new SpeechEngines(config.speech);
  const captionMetrics = createCaptionMetrics(registry, () => captions.captioned);
  const captions = new Captions({
    engines: speech, tenants, ffmpeg,
    // Two per core by default: the most a node was measured to caption with media and joins unmoved (docs/benchmarks.md).
    maxParticipants: config.captions.maxParticipantsPerNode || 2 * os.availableParallelism(),
    counted: captionMetrics,
    captioned: (room, peer, startAt, seconds) => platform.usage.add({
      tenant: room.settings.tenant, room: room.settings.name, callId: room.settings.callId, kind: 'speech', role: peer.claims.role,
      startAt, endAt: startAt + Math.round(seconds * 1000), bytesIn: 0, bytesOut: 0,
    }),
    log: nodeLog.child({ component: 'captions' }),
  });
  const egress = createEgress({ config, store: platform.store, emit: (event) => platform.deliverer.emit(event), directory,
    recorded: (file) => {
      const row = recordingUsage(file);
      if (row) platform.usage.add(row);
    }, linkKey: stores.linkKey, ffmpeg,
    listeningPorts: async () => [port, ...(await pool.listeningPorts())], registry, log: nodeLog,
  });
  const rooms = new RoomRegistry({
    pool,
    media: config.media,
    limits: {
      ingest: { ip: config.media.listenIp, announcedAddress: announcedAddress(config.media) },
      transports: config.limits.transportsPerPeer,
      producers: config.limits.producersPerPeer,
      initialOutgoingBitrate: config.media.initialOutgoingBitrate,
      keyFrameRequestDelayMs: config.media.keyFrameRequestDelayMs,
      appDataBytes: config.limits.appDataBytes,
      appDataDepth: config.limits.appDataDepth,
      peersPerRoom: config.limits.peersPerRoom,
      roomsPerNode: config.limits.roomsPerNode,
      defaultLanguage: (tenant) => tenants.get(tenant)?.language ?? 'en',
      translate: (settings, text, from, to) => speech.translate(tenants.get(settings.tenant)!, text, from, to),
    },
    log: nodeLog,
    directory,
    tenantRoomLimit: (tenant) => tenants.get(tenant)!.limits.rooms,
    observe: (room) => {
      egress.observe(room);
      platform.observe(room, { evidenceSettled: egress.settled, assistantRecord: (r) => assistants.record(r) });
      captions.observe(room);
      dispatcher.observe(room);
    },
  });
  const metrics = createMetrics(registry, pool, rooms, directory);
  const hosts = new RoomHosts(directory, link);
  const service = new RoomService({ rooms, hosts, allocator, tenants, config, directory, ledger });
  const evidence = new EvidenceService({ rooms, hosts, ...egress, store: platform.store, config, directory });
  const assistants = new AssistantSessions({
    tenants, evidence, store: platform.store,
    endCall: (room) => service.end(tenants.get(room.settings.tenant)!, room.settings.name),
    emit: (event) => platform.deliverer.emit(event),
    hooked: (tenant) => platform.deliverer.delivers(tenant),
    log: nodeLog,
  });
  const agentWorkers = config.agents.workers > 0 ? new AgentWorkers({ count: config.agents.workers, config, log: nodeLog.child({ component: 'agents' }) }) : undefined;
  const agentQueue: AgentQueue = clusterRedis ? new RedisAgentQueue(clusterRedis, config.agents.leaseMs, agentWorkers) : new LocalAgentQueue(agentWorkers);
  if (!clusterRedis && !agentWorkers && tenants.all().some((t) => t.assistant.join !== 'off')) {
    nodeLog.warn('agents.workers (AGENT_WORKERS) is 0 and this node runs alone: assistant jobs will wait for a worker that never comes');
  }
  const agentMetrics = createAgentMetrics(registry, () => agentQueue.counts(), () => agentWorkers?.pids().length ?? 0);
  const dispatcher = new AgentDispatcher({
    config, tenants, queue: agentQueue, sessions: assistants, rooms, directory, hosts,
    usage: (row) => platform.usage.add(row), dispatched: agentMetrics.dispatched, log: nodeLog,
  });
  // A lone node closes the calls its last stop left open (or takes up the rooms created ahead) before it serves.
  if (stores.journal) {
    await recoverCalls({
      journal: stores.journal, store: platform.store, emit: (event) => platform.deliverer.emit(event), node: self.id, region: self.region,
      finishFile: (file, endedAt) => finishRecordingFile(egress.ffmpeg, file, null, endedAt),
      reopen: async (settings, call) => {
        platform.resume(call);
        const { room, created } = await rooms.getOrCreate(roomKey(settings.tenant, settings.name), () => settings);
        if (created) room.closeIfEmpty(); // its empty timeout starts again now
      },
      log: nodeLog,
    });
  }

  const app = Fastify({
    loggerInstance: nodeLog as unknown as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    trustProxy: config.server.trustProxy,
    // A path parameter is at most a room name or an identity (128 characters), percent-encoded.
    routerOptions: { maxParamLength: MAX_PATH_PARAM_LENGTH },
    frameworkErrors: frameworkError,
  });
  installValidators(app);
  installHttpErrors(app);
  await app.register(openApiPlugin);
  const metricsNeedKey = config.metrics.requireKey === 'on' || (config.metrics.requireKey === 'auto' && config.env === 'production');
  await app.register(healthPlugin, { pool, rooms, metrics, processes, ...(metricsNeedKey ? { metricsKey: tenants } : {}) });
  const sessions = config.console.enabled ? new ConsoleSessions(tenants, config.console.sessionMinutes * 60_000, config.console.maxSessions) : undefined;
  await app.register(apiPlugin, { tenants, sessions, deps: { config, service, evidence, store: platform.store, outbox: platform.outbox, usage: platform.usage, agents: dispatcher } });
  await app.register(adminPlugin, { tenants, drain: () => startDrain() });
  await app.register(sdkPlugin, { allowedOrigins: config.server.allowedOrigins });
  await app.register(preflightPlugin, {
    endpoints: () => directory.endpoints(),
    stun: config.turn.urls.filter((u) => u.startsWith('stun:')),
    allowedOrigins: config.server.allowedOrigins,
  });
  if (sessions) await app.register(consolePlugin, { tenants, sessions, signInsPerIpPerMinute: config.console.signInsPerIpPerMinute });
  if (config.demo.enabled) await app.register(demoPlugin, { config, service, tenants });
  await app.register(signalingPlugin, {
    deps: {
      config, rooms, tenants, verifier: new TokenVerifier(config.auth), allocator, metrics: metrics.signaling, log: nodeLog,
      joinLimiter: new RateLimiter(config.limits.joinsPerIpPerMinute),
      rejects: new LogLimiter(nodeLog),
      evidence,
      quality: ledger,
      assistants,
    },
  });

  let closing: Promise<void> | undefined;
  let draining: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      rooms.acceptingRooms = false;
      rooms.closeAll('NODE_SHUTDOWN', 'this media node is shutting down; join again');
      await app.close();
      await agentQueue.stop();
      // Recordings finish their files before the records that list them are written.
      await egress.stop();
      speech.close();
      await platform.stop();
      await directory.stop();
      pool.close();
    })();
    return closing;
  };
  /** No new rooms; calls go on until they end or drainTimeoutMs passes; then close. Empty rooms do not hold a drain. */
  const drain = () => {
    draining ??= (async () => {
      rooms.acceptingRooms = false;
      await directory.drain();
      nodeLog.info({ rooms: rooms.size, peers: rooms.peerCount, timeoutMs: config.cluster.drainTimeoutMs }, 'draining');
      const deadline = Date.now() + config.cluster.drainTimeoutMs;
      while (rooms.peerCount > 0 && Date.now() < deadline) await sleep(250);
      await close();
    })();
    return draining;
  };
  const startDrain = () => {
    void drain();
    return { rooms: rooms.size, peers: rooms.peerCount };
  };

  return {
    app, pool, rooms, metrics, self, directory, port, platform, tenants,
    /** Binds the server, then (cluster mode) shows this node to the others. */
    async listen() {
      await startupStep(() => app.listen({ host: config.server.host, port }), (err) => (inUse(err)
        ? `server.port (PORT): port ${port} on ${config.server.host} was taken meanwhile; set PORT to a free port`
        : `server.host (HOST): cannot listen on ${config.server.host}:${port}: ${err.message}`));
      await directory.start();
      platform.start();
      agentQueue.start();
      return port;
    },
    drain,
    close,
  };
}

export type MediaNode = Awaited<ReturnType<typeof createNode>>;
