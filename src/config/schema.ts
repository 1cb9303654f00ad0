import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { languageTag } from '../common/languages.js';
import { literals } from '../common/literals.js';

/**
 * The node's whole configuration. Each leaf names the environment variable that
 * overrides it; docs/configuration.md is generated from this schema.
 */
const env = <T extends TSchema>(name: string, schema: T) => ({ ...schema, env: name }) as T & { env: string };

const PublicKey = Type.Object({
  kid: Type.Optional(Type.String({ description: 'Key id; a token whose header names a kid only tries that key.' })),
  alg: Type.Union([Type.Literal('RS256'), Type.Literal('ES256')]),
  pem: Type.String({ minLength: 1, description: 'SPKI public key in PEM form.' }),
  tenant: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: 'Tokens this key signs belong to this tenant (a platform that signs its own tokens).' })),
});

const TenantId = Type.String({ minLength: 1, maxLength: 32, pattern: '^[a-z0-9][a-z0-9-]*$' });
const Tenant = Type.Object({
  id: TenantId,
  apiKeys: Type.Optional(Type.Array(Type.String({ minLength: 16 }), { description: 'Keys for this tenant\'s server API and token minting.' })),
  webhook: Type.Optional(Type.Object({
    url: Type.String({ pattern: '^https?://', description: 'Where events are POSTed (Standard Webhooks).' }),
    secret: Type.String({ pattern: '^whsec_[A-Za-z0-9+/=]{24,}$', description: 'Standard Webhooks signing secret (whsec_ + base64).' }),
  })),
  forceRelay: Type.Optional(Type.Boolean({ description: 'Media of this tenant\'s participants only through TURN (customers behind strict firewalls); needs turn.urls.' })),
  recording: Type.Optional(Type.Object({
    auto: Type.Boolean({ description: 'Record every room of this tenant, from its start, as POST /v1/rooms/:room/recordings would.' }),
  })),
  limits: Type.Optional(Type.Object({
    rooms: Type.Optional(Type.Integer({ minimum: 1, description: 'Rooms this tenant may have at once (TENANT_LIMIT beyond).' })),
    participantsPerRoom: Type.Optional(Type.Integer({ minimum: 1, description: 'Participants in one of its rooms (ROOM_FULL beyond).' })),
  })),
  language: Type.Optional(languageTag('The language of its participants whose token names none (default: en).')),
  captions: Type.Optional(literals(['off', 'request', 'all'], {
    description: 'Live captions and translation: off; request (rooms created with captions: true, the default); all (every room).',
  })),
  speech: Type.Optional(Type.Object({
    openai: Type.Optional(Type.Object({
      baseUrl: Type.String({ pattern: '^https?://', description: 'An OpenAI-compatible API, with /v1: OpenAI\'s, or a self-hosted Whisper, LLM or TTS server.' }),
      apiKey: Type.String({ minLength: 1 }),
      transcriptionModel: Type.Optional(Type.String({ description: 'For /audio/transcriptions (default whisper-1).' })),
      chatModel: Type.Optional(Type.String({ description: 'For translation through /chat/completions (default gpt-4o-mini).' })),
      speechModel: Type.Optional(Type.String({ description: 'For /audio/speech (default tts-1).' })),
      voice: Type.Optional(Type.String({ description: 'The voice /audio/speech speaks with (default alloy).' })),
    }, { description: 'Engines for every language the offline ones do not cover (speech to text, translation, text to speech).' })),
    prefer: Type.Optional(literals(['offline', 'openai'], { description: 'Which engine goes first where both cover a language (default offline).' })),
  })),
  assistant: Type.Optional(Type.Object({
    join: literals(['off', 'buyer-joined', 'seller-wait', 'request'], {
      description: 'When the voice assistant joins a room: when a buyer joins; when a buyer has waited waitSeconds with no seller; only on POST /v1/rooms/:room/agents; or never (off, the default).',
    }),
    waitSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600, description: 'seller-wait: how long a buyer waits alone before the assistant joins (default 20).' })),
    sellerWaitSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86400, description: 'After a hand-over, how long the assistant waits for a seller before it records the evidence clip (default 90).' })),
    evidenceSeconds: Type.Optional(Type.Integer({ minimum: 3, maximum: 300, description: 'How long the evidence clip is (default 20).' })),
    engine: Type.Optional(Type.String({ pattern: '^(rules|openai|module:.+)$', description: 'The dialogue engine: rules (offline, the default); openai (chat completions with tools, on speech.openai\'s service and chatModel); module:<path> (a module of yours exporting createEngine, see examples/custom-engine).' })),
    voice: Type.Optional(literals(['espeak-ng', 'flite', 'openai'], { description: 'How it speaks: espeak-ng (offline, about a hundred languages, the default), flite (offline, English only, clearer), openai (speech.openai\'s /audio/speech). A language the voice lacks falls back to another engine that has it.' })),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Its name in the call (default: After-sales assistant).' })),
    afterHandover: Type.Optional(literals(['leave', 'stay'], { description: 'Once it has told the seller the summary: leave the call (default), or stay, silent.' })),
  }, { description: 'The voice assistant: it talks to the buyer first, around the clock, in the buyer\'s language; see docs/assistant.md. Its rooms have captions (it hears through them).' })),
  rates: Type.Optional(Type.Object({
    currency: Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code the prices are in (USD, EUR, CNY, ...).' }),
    participantMinute: Type.Optional(Type.Number({ minimum: 0, description: 'Per participant minute, every role (default 0).' })),
    recordingMinute: Type.Optional(Type.Number({ minimum: 0, description: 'Per minute of recorded track (default 0).' })),
    egressGigabyte: Type.Optional(Type.Number({ minimum: 0, description: 'Per gigabyte (10^9 bytes) the node sent to participants (default 0).' })),
    speechMinute: Type.Optional(Type.Number({ minimum: 0, description: 'Per minute of audio captioned (default 0).' })),
    agentMinute: Type.Optional(Type.Number({ minimum: 0, description: 'Per minute of the voice assistant in a call (default 0).' })),
    translationThousandCharacters: Type.Optional(Type.Number({ minimum: 0, description: 'Per thousand characters translated (default 0).' })),
  }, { description: 'The tenant\'s rate card: GET /v1/usage, the statement and the console price its usage with it.' })),
}, { title: 'Tenant' });

export const ConfigSchema = Type.Object({
  env: env('NODE_ENV', literals(['development', 'production', 'test'], {
    description: 'In production the built-in development secrets are refused.',
  })),
  server: Type.Object({
    host: env('HOST', Type.String({ minLength: 1, description: 'Address the HTTP/WebSocket server binds.' })),
    port: env('PORT', Type.Integer({ minimum: 0, maximum: 65535, description: 'HTTP/WebSocket port (0 picks a free one).' })),
    allowedOrigins: env('SERVER_ALLOWED_ORIGINS', Type.Array(Type.String({ minLength: 1 }), {
      description: 'Web origins allowed to open signaling sockets from a browser and to load the SDK cross-origin: exact origins (https://shop.example.com), *.domain wildcards (https://*.example.com), or * for any. Sockets without an Origin header (native clients) are always allowed.',
    })),
    trustProxy: env('SERVER_TRUST_PROXY', Type.Boolean({ description: 'Behind a reverse proxy: take the client address from X-Forwarded-For (per-IP limits need the real address).' })),
  }),
  log: Type.Object({
    level: env('LOG_LEVEL', literals(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      description: 'pino log level.',
    })),
  }),
  media: Type.Object({
    numWorkers: env('MEDIA_NUM_WORKERS', Type.Integer({ minimum: 0, maximum: 256, description: 'mediasoup workers; 0 means one per CPU core.' })),
    listenIp: env('MEDIA_LISTEN_IP', Type.String({ minLength: 1, description: 'IP the WebRtcServers bind.' })),
    announcedAddress: env('MEDIA_ANNOUNCED_ADDRESS', Type.String({
      description: 'Address given to clients in ICE candidates (public IP or DNS name behind NAT). Empty: the listen IP, or the first non-internal IPv4 when listening on 0.0.0.0.',
    })),
    pipeAnnouncedAddress: env('MEDIA_PIPE_ANNOUNCED_ADDRESS', Type.String({
      description: 'IP other nodes use to reach this node\'s pipe transports (cluster mode), when it differs from the address clients use. Empty: the same as the announced address. auto: this machine\'s first external IPv4, as in a container whose address on the containers\' network is known only once it runs.',
    })),
    webRtcServerBasePort: env('MEDIA_WEBRTC_PORT_BASE', Type.Integer({
      minimum: 0, maximum: 65535,
      description: 'Worker i listens on this port + i, UDP and TCP. 0 picks free ports (tests).',
    })),
    rtcMinPort: env('MEDIA_RTC_MIN_PORT', Type.Integer({ minimum: 1024, maximum: 65535, description: 'Lowest UDP port of the workers\' own range, for plain and pipe transports: bots\' media in, recordings, snapshots, forwards, captions, pipes between routers and between nodes.' })),
    rtcMaxPort: env('MEDIA_RTC_MAX_PORT', Type.Integer({ minimum: 1024, maximum: 65535, description: 'Highest UDP port of that range (NO_PORTS when every port is taken).' })),
    socketSendBufferBytes: env('MEDIA_SOCKET_SEND_BUFFER_BYTES', Type.Integer({
      minimum: 0, maximum: 268_435_456,
      description: 'UDP send buffer of each worker\'s media socket (shared by all its peers) and of pipe transports. The kernel caps it at net.core.wmem_max. 0: the kernel default (about 208 KB), which overflows under long delays.',
    })),
    socketRecvBufferBytes: env('MEDIA_SOCKET_RECV_BUFFER_BYTES', Type.Integer({
      minimum: 0, maximum: 268_435_456,
      description: 'UDP receive buffer of each worker\'s media socket and of pipe transports. The kernel caps it at net.core.rmem_max. 0: the kernel default.',
    })),
    maxPeersPerRouter: env('MEDIA_MAX_PEERS_PER_ROUTER', Type.Integer({
      minimum: 1, description: 'When every router of a room holds this many peers, the room spreads to another worker.',
    })),
    workerLogLevel: env('MEDIA_WORKER_LOG_LEVEL', literals(['debug', 'warn', 'error', 'none'], {
      description: 'mediasoup worker log level.',
    })),
    initialOutgoingBitrate: env('MEDIA_INITIAL_OUTGOING_BITRATE', Type.Integer({ minimum: 100000, description: 'Initial send bitrate estimate per transport (bps).' })),
    keyFrameRequestDelayMs: env('MEDIA_KEY_FRAME_REQUEST_DELAY_MS', Type.Integer({
      minimum: 0, maximum: 5000,
      description: 'Least time between two key frame requests the node sends a browser for one video stream (a simulcast layer), ms. A request that comes sooner is held until that time has passed, then sent: a browser ignores a request within 300 ms of the last one it answered, so a request sent sooner is lost and the receiver waits a second for mediasoup\'s retry. A key frame that arrives meanwhile answers a held request (the project\'s worker patch). 0 sends every request at once. 400 (the default) brought the first frame through two nodes from 1.8 s to 0.65 s; at 200 ms RTT with random or bursty loss it made no difference the spread of the runs shows (docs/call-quality.md).',
    })),
    maxProcesses: env('MEDIA_MAX_PROCESSES', Type.Integer({
      minimum: 1, maximum: 10000,
      description: 'Media processes (ffmpeg: one per recorded participant for the tracks that start sending together, one per captioned track, one per snapshot) this node runs at once. Past it, a snapshot waits up to 5 s then fails with MEDIA_BUSY, a new recording is refused with MEDIA_BUSY, and the tracks of running recordings and captions wait in line. /readyz and placement show a node that is full.',
    })),
    maxProcessMegabytes: env('MEDIA_MAX_PROCESS_MB', Type.Integer({
      minimum: 16, description: 'The private memory those processes may use together (MB, what they cost beyond the libraries they share); past it, as past media.maxProcesses.',
    })),
  }),
  signaling: Type.Object({
    maxMessageBytes: env('SIGNALING_MAX_MESSAGE_BYTES', Type.Integer({
      minimum: 1024, maximum: 16 * 1024 * 1024, description: 'Largest WebSocket frame accepted; a larger one closes the socket with code 1009.',
    })),
    joinTimeoutMs: env('SIGNALING_JOIN_TIMEOUT_MS', Type.Integer({
      minimum: 100, description: 'A socket that has not joined a room this long after connecting is closed (code 4408).',
    })),
    requestTimeoutMs: env('SIGNALING_REQUEST_TIMEOUT_MS', Type.Integer({ minimum: 100, description: 'A request still running after this fails with REQUEST_TIMEOUT.' })),
    maxBufferedBytes: env('SIGNALING_MAX_BUFFERED_BYTES', Type.Integer({
      minimum: 65536, description: 'A client that stops reading is disconnected (close code 4413) once this much waits to be sent to it.',
    })),
    reconnectGraceMs: env('SIGNALING_RECONNECT_GRACE_MS', Type.Integer({
      minimum: 0, description: 'A participant whose socket drops stays in the room this long (the others see no leave) and may resume with join { resume: true }. 0: leave at once.',
    })),
  }),
  limits: Type.Object({
    peersPerRoom: env('LIMIT_PEERS_PER_ROOM', Type.Integer({ minimum: 1, description: 'Participants in one room on this node; one more is refused with ROOM_FULL.' })),
    roomsPerNode: env('LIMIT_ROOMS_PER_NODE', Type.Integer({ minimum: 1, description: 'Rooms this node hosts at once; a new one is refused with NODE_FULL.' })),
    connectionsPerIpPerMinute: env('LIMIT_CONNECTIONS_PER_IP_PER_MINUTE', Type.Integer({
      minimum: 0, description: 'Signaling sockets one client address may open per minute (a burst of this many, refilled evenly); more get HTTP 429. 0: no limit.',
    })),
    joinsPerIpPerMinute: env('LIMIT_JOINS_PER_IP_PER_MINUTE', Type.Integer({
      minimum: 0, description: 'join requests from one client address per minute (burst, refilled evenly); more are refused with RATE_LIMITED. 0: no limit.',
    })),
    transportsPerPeer: env('LIMIT_TRANSPORTS_PER_PEER', Type.Integer({ minimum: 2, maximum: 64, description: 'WebRTC transports one participant may have open.' })),
    producersPerPeer: env('LIMIT_PRODUCERS_PER_PEER', Type.Integer({ minimum: 1, maximum: 256, description: 'Producers and data producers one participant may have open.' })),
    appDataBytes: env('LIMIT_APPDATA_BYTES', Type.Integer({ minimum: 64, maximum: 65536, description: 'Largest appData a client may attach, as JSON; larger is refused with APPDATA_TOO_LARGE.' })),
    appDataDepth: env('LIMIT_APPDATA_DEPTH', Type.Integer({ minimum: 1, maximum: 32, description: 'Deepest nesting of objects and arrays in appData; deeper is refused with APPDATA_TOO_LARGE.' })),
    roomsPerTenant: env('LIMIT_ROOMS_PER_TENANT', Type.Integer({ minimum: 1, description: 'Rooms one tenant may have at once, unless its own entry says otherwise (TENANT_LIMIT).' })),
    recordingsPerRoom: env('LIMIT_RECORDINGS_PER_ROOM', Type.Integer({ minimum: 1, maximum: 64, description: 'Recordings running at once in one room (LIMIT_REACHED beyond).' })),
    snapshotsPerCall: env('LIMIT_SNAPSHOTS_PER_CALL', Type.Integer({ minimum: 1, maximum: 10000, description: 'Snapshots one call may take (LIMIT_REACHED beyond).' })),
    forwardsPerRoom: env('LIMIT_FORWARDS_PER_ROOM', Type.Integer({ minimum: 1, maximum: 1000, description: 'RTP forwards running at once in one room (LIMIT_REACHED beyond).' })),
    notesPerCall: env('LIMIT_NOTES_PER_CALL', Type.Integer({ minimum: 1, maximum: 1000, description: 'Notes (POST /v1/rooms/:room/notes) one call may hold.' })),
    metadataBytes: env('LIMIT_METADATA_BYTES', Type.Integer({ minimum: 256, maximum: 65536, description: 'Largest room metadata (JSON) the server API accepts.' })),
  }),
  tenants: env('TENANTS', Type.Array(Tenant, {
    description: 'The platforms and shop systems this node serves (JSON array). auth.apiKeys form the tenant "default"; an entry with id "default" adds its webhook and limits.',
  })),
  rooms: Type.Object({
    emptyTimeoutSeconds: env('ROOM_EMPTY_TIMEOUT_SECONDS', Type.Integer({
      minimum: 0, description: 'A room created with POST /v1/rooms stays open this long before its first participant and after its last, unless the request names its own.',
    })),
  }),
  store: Type.Object({
    path: env('STORE_PATH', Type.String({ minLength: 1, description: 'SQLite file for call records, usage and the webhook outbox (single node; cluster mode keeps them in Redis).' })),
    retentionDays: env('STORE_RETENTION_DAYS', Type.Integer({ minimum: 1, description: 'Call records and usage are kept this long.' })),
  }),
  recording: Type.Object({
    dir: env('RECORDING_DIR', Type.String({ minLength: 1, description: 'Where recordings and snapshots are written, one folder per tenant and call.' })),
    ffmpegPath: env('FFMPEG_PATH', Type.String({ minLength: 1, description: 'The ffmpeg that records and captures snapshots (Debian\'s ffmpeg package). Missing: those requests fail with FFMPEG_MISSING; calls are unaffected.' })),
    ffprobePath: env('FFPROBE_PATH', Type.String({ minLength: 1, description: 'The ffprobe that measures finished files.' })),
    minFreeMegabytes: env('RECORDING_MIN_FREE_MB', Type.Integer({ minimum: 0, description: 'A recording or snapshot is refused (DISK_FULL) while the disk of recording.dir has less free space than this.' })),
    maxRestarts: env('RECORDING_MAX_RESTARTS', Type.Integer({ minimum: 0, maximum: 100, description: 'An ffmpeg that exits during a recording is restarted, into a new file, at most this many times a minute; then the recording fails (recording.finished with status failed).' })),
    linkTtlSeconds: env('RECORDING_LINK_TTL_SECONDS', Type.Integer({ minimum: 10, maximum: 604800, description: 'Signed download links to recordings and snapshots expire after this.' })),
  }),
  turn: Type.Object({
    urls: env('TURN_URLS', Type.Array(Type.String({ pattern: '^(turns?|stun):' }), {
      description: 'TURN (and STUN) URLs clients get in their join answer, for example turn:turn.example.com:3478?transport=udp, turn:turn.example.com:3478?transport=tcp and turns:turn.example.com:443?transport=tcp. Empty: no TURN.',
    })),
    secret: env('TURN_SECRET', Type.String({ description: 'coturn\'s static-auth-secret (use-auth-secret): each participant gets credentials derived from it (TURN REST API), valid for turn.ttlSeconds.' })),
    ttlSeconds: env('TURN_TTL_SECONDS', Type.Integer({ minimum: 60, maximum: 604800, description: 'How long TURN credentials are valid; longer than a call, since a relay is refreshed with them.' })),
  }),
  forwarding: Type.Object({
    allowedTargets: env('FORWARD_ALLOWED_TARGETS', Type.Array(Type.String({ minLength: 1 }), {
      description: 'Addresses RTP may be forwarded to (POST /v1/rooms/:room/participants/:identity/forwards): IPs or CIDR ranges. By default loopback and private networks. Never this node\'s own listening ports; a production node refuses to start with a catch-all range (/0).',
    })),
    allowLoopback: env('FORWARD_ALLOW_LOOPBACK', literals(['auto', 'on', 'off'], {
      description: 'Whether forwards may go to loopback addresses (a transcriber on the same host). auto: yes, unless env is production.',
    })),
  }),
  webhooks: Type.Object({
    timeoutMs: env('WEBHOOK_TIMEOUT_MS', Type.Integer({ minimum: 100, description: 'One delivery attempt may take this long.' })),
    retryDelaysMs: env('WEBHOOK_RETRY_DELAYS_MS', Type.Array(Type.Integer({ minimum: 1 }), {
      minItems: 1, description: 'Wait before each retry of a failed delivery (JSON array); after the last, the delivery has failed for good.',
    })),
    concurrency: env('WEBHOOK_CONCURRENCY', Type.Integer({ minimum: 1, maximum: 256, description: 'Deliveries in flight at once on this node, all tenants together (events of one room go one at a time, in order).' })),
    concurrencyPerTenant: env('WEBHOOK_CONCURRENCY_PER_TENANT', Type.Integer({ minimum: 1, maximum: 64, description: 'Deliveries in flight at once for one tenant: a tenant whose receiver is slow or never answers holds only this many, and never delays another tenant\'s events.' })),
    maxPendingPerTenant: env('WEBHOOK_MAX_PENDING_PER_TENANT', Type.Integer({ minimum: 10, description: 'Undelivered events one tenant may have queued; past it a new event is not queued but listed at once in GET /v1/webhooks/failures (error: not queued), and counted.' })),
  }),
  cluster: Type.Object({
    redisUrl: env('REDIS_URL', Type.String({ description: 'Redis URL (redis://host:6379/0). Empty: this node runs alone, with no Redis.' })),
    region: env('REGION', Type.String({ minLength: 1, maxLength: 64, description: 'This node\'s region, a key of the regions file.' })),
    nodeId: env('NODE_ID', Type.String({ maxLength: 64, pattern: '^[A-Za-z0-9._-]*$', description: 'Unique node id. Empty: hostname plus a random suffix.' })),
    publicUrl: env('PUBLIC_URL', Type.String({ description: 'Base URL clients use to reach this node (redirects point here). Empty: http://<announced address>:<port>.' })),
    secret: env('CLUSTER_SECRET', Type.String({ description: 'Shared secret that signs node-to-node messages (HMAC-SHA256).' })),
    regionsFile: env('REGIONS_FILE', Type.String({ description: 'Region table (coordinates and measured latencies). Empty: config/regions.json.' })),
    capacity: env('NODE_CAPACITY', Type.Integer({ minimum: 1, description: 'Peers this node takes before placement prefers other nodes.' })),
    heartbeatMs: env('CLUSTER_HEARTBEAT_MS', Type.Integer({ minimum: 100, description: 'How often the node refreshes its registry entry and its room placements.' })),
    nodeTtlMs: env('CLUSTER_NODE_TTL_MS', Type.Integer({ minimum: 300, description: 'A node whose heartbeat is older than this is gone.' })),
    roomTtlMs: env('CLUSTER_ROOM_TTL_MS', Type.Integer({ minimum: 500, description: 'A room placement not refreshed for this long expires.' })),
    spanRegions: env('CLUSTER_SPAN_REGIONS', Type.Boolean({
      description: 'A participant who reaches a node in another region than the room\'s stays there, and the nodes pipe media between them. Off: they are redirected.',
    })),
    drainTimeoutMs: env('DRAIN_TIMEOUT_MS', Type.Integer({ minimum: 0, description: 'On SIGTERM or an admin drain, how long calls may continue before the node exits anyway.' })),
  }),
  speech: Type.Object({
    pocketsphinxBinary: env('SPEECH_POCKETSPHINX_BINARY', Type.String({ description: 'The streaming recogniser (built by npm start and npm test from src/speech/engines/pocketsphinx-stream.c).' })),
    pocketsphinxModel: env('SPEECH_POCKETSPHINX_MODEL', Type.String({ description: 'pocketsphinx\'s English model folder (Debian\'s pocketsphinx-en-us).' })),
    apertiumModes: env('SPEECH_APERTIUM_MODES', Type.String({ description: 'Where Apertium\'s pairs are (Debian\'s apertium-eng-spa and the other apertium-* packages).' })),
    espeakPath: env('SPEECH_ESPEAK_PATH', Type.String({ description: 'espeak-ng, the offline voice.' })),
    flitePath: env('SPEECH_FLITE_PATH', Type.String({ description: 'Flite, the offline English voice the assistant may use instead (assistant.voice: flite).' })),
    requestTimeoutMs: env('SPEECH_REQUEST_TIMEOUT_MS', Type.Integer({ minimum: 100, description: 'One request to an OpenAI-compatible engine may take this long.' })),
  }),
  captions: Type.Object({
    maxParticipantsPerNode: env('CAPTIONS_MAX_PARTICIPANTS_PER_NODE', Type.Integer({
      minimum: 0, description: 'Participants whose speech this node captions at once (offline, each takes a decoder and a recogniser: about a quarter of a core). One more is told CAPTIONS_FULL (captionStatus) and counted; the call goes on. 0: two per CPU core, what a node was measured to hold while media and joins go on as without captions (docs/benchmarks.md).',
    })),
  }),
  agents: Type.Object({
    workers: env('AGENT_WORKERS', Type.Integer({
      minimum: 0, maximum: 64, description: 'Agent worker processes this node starts and supervises (one that dies is restarted). Alone, they take this node\'s assistant jobs; in a cluster, jobs from Redis, as workers started apart with npm run agent do. 0: none (a cluster\'s jobs then wait for workers elsewhere).',
    })),
    callsPerWorker: env('AGENT_CALLS_PER_WORKER', Type.Integer({ minimum: 1, maximum: 64, description: 'Assistant calls one worker process holds at once.' })),
    leaseMs: env('AGENT_LEASE_MS', Type.Integer({ minimum: 1000, description: 'In a cluster, a job whose worker has not renewed it for this long is dispatched again (its worker died).' })),
  }),
  metrics: Type.Object({
    requireKey: env('METRICS_REQUIRE_KEY', literals(['auto', 'on', 'off'], {
      description: 'GET /metrics needs the operator\'s key (auth.apiKeys, as Authorization: Bearer, which Prometheus sends with its authorization setting). auto: on in production.',
    })),
    tenantLabels: env('METRICS_TENANT_LABELS', Type.Boolean({ description: 'Usage and webhook series carry a tenant label (tenant ids are visible to whoever reads /metrics). Off: they are the node\'s totals.' })),
  }),
  demo: Type.Object({
    enabled: env('DEMO_ENABLED', Type.Boolean({ description: 'Serve the demo page at /demo. The browser SDK (/sdk/v1/sfu-client.js) is served either way.' })),
    devTokens: env('DEMO_DEV_TOKENS', literals(['auto', 'on', 'off'], {
      description: 'POST /demo/token hands out tokens to anyone, for the demo. auto: only when env is development.',
    })),
  }),
  console: Type.Object({
    enabled: env('CONSOLE_ENABLED', Type.Boolean({ description: 'Serve the console at /console/: tenants sign in with an API key, the operator with auth.apiKeys (docs/console.md).' })),
    sessionMinutes: env('CONSOLE_SESSION_MINUTES', Type.Integer({ minimum: 1, maximum: 1440, description: 'How long a console sign-in lasts; then the key is asked for again.' })),
    maxSessions: env('CONSOLE_MAX_SESSIONS', Type.Integer({ minimum: 1, description: 'Console sessions this node keeps at once; past it the oldest ends.' })),
    signInsPerIpPerMinute: env('CONSOLE_SIGN_INS_PER_IP_PER_MINUTE', Type.Integer({ minimum: 1, description: 'Sign-in attempts one address may make per minute (RATE_LIMITED beyond), against guessing keys.' })),
  }),
  auth: Type.Object({
    hs256Secret: env('AUTH_HS256_SECRET', Type.String({ description: 'Shared secret for HS256 tokens; empty disables HS256. Also signs tokens minted by this node.' })),
    publicKeys: env('AUTH_PUBLIC_KEYS', Type.Array(PublicKey, { description: 'RS256/ES256 public keys (JSON array in the env variable).' })),
    issuer: env('AUTH_ISSUER', Type.String({ description: 'Required "iss" claim; empty accepts any.' })),
    audience: env('AUTH_AUDIENCE', Type.String({ description: 'Required "aud" claim; empty accepts any.' })),
    apiKeys: env('AUTH_API_KEYS', Type.Array(Type.String({ minLength: 16 }), { description: 'Keys for POST /v1/tokens (comma-separated in the env variable).' })),
    maxTokenTtlSeconds: env('AUTH_MAX_TOKEN_TTL_SECONDS', Type.Integer({ minimum: 60, description: 'Longest lifetime a minted token may ask for.' })),
    defaultTokenTtlSeconds: env('AUTH_DEFAULT_TOKEN_TTL_SECONDS', Type.Integer({ minimum: 60, description: 'Lifetime of a minted token that names none.' })),
  }),
});

export type Config = Static<typeof ConfigSchema>;
