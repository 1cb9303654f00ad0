/**
 * The node's one error vocabulary. Every refusal is a CodedError with a code from CODES, which
 * gives its HTTP status and its meaning: signaling responses, server API answers, replies on
 * the cluster bus and the documents (docs/protocol.md, docs/api.md) all follow from this table,
 * so a code means the same thing wherever it is seen.
 */

type Surface = 'signaling' | 'api';
const BOTH: readonly Surface[] = ['signaling', 'api'];
const code = (status: number, meaning: string, on: readonly Surface[] = BOTH) => ({ status, meaning, on });

export const CODES = {
  BAD_JSON: code(400, 'The frame is not a JSON object.', ['signaling']),
  BAD_REQUEST: code(400, 'The frame, body, query or path does not match the schema (the message says where).'),
  UNKNOWN_METHOD: code(400, 'No request has that method.', ['signaling']),
  NOT_JOINED: code(409, 'The request needs a joined session; send join first.', ['signaling']),
  ALREADY_JOINED: code(409, 'This socket has already joined a room; leave first.', ['signaling']),
  TOKEN_INVALID: code(401, 'The token is malformed, forged, uses a refused algorithm or lacks required claims.', ['signaling']),
  TOKEN_EXPIRED: code(401, 'The token has expired.', ['signaling']),
  PERMISSION_DENIED: code(403, "The token's grants do not allow this request.", ['signaling']),
  METADATA_TOO_LARGE: code(400, 'The room\'s metadata is larger than limits.metadataBytes of JSON.', ['api']),
  UNAUTHORIZED: code(401, 'No API key, or one no tenant has (Authorization: Bearer <key>, or x-api-key).', ['api']),
  FORBIDDEN: code(403, 'The key is valid but not for this route (the admin routes take the operator\'s key).', ['api']),
  ORIGIN_NOT_ALLOWED: code(403, 'The page\'s origin is not in server.allowedOrigins (a browser\'s signaling socket, before the upgrade).', ['api']),
  TARGET_NOT_ALLOWED: code(403, 'RTP may not be forwarded to that address (forwarding.allowedTargets, and never to this node\'s own ports).', ['api']),
  NOT_FOUND: code(404, 'No such room, participant, track, transport, producer, consumer, call or route belongs to you. Another tenant\'s rooms are not found either.'),
  INVALID_STATE: code(409, 'The request is valid but not now (for example connecting a transport twice, or producing on a recv transport).', ['signaling']),
  INVALID_PARAMETERS: code(400, 'mediasoup refused the parameters (RTP, DTLS, SCTP or layers).', ['signaling']),
  CANNOT_CONSUME: code(409, 'Your RTP capabilities cannot receive that producer, or you have no recv transport yet.', ['signaling']),
  MINTING_DISABLED: code(409, 'This node has no auth.hs256Secret to sign tokens with.', ['api']),
  ROOM_FULL: code(409, 'The room has as many participants as it may (its maxParticipants, its tenant\'s limit, or limits.peersPerRoom).', ['signaling']),
  APPDATA_TOO_LARGE: code(400, 'appData is larger or nested deeper than limits.appDataBytes and limits.appDataDepth allow.', ['signaling']),
  PAYLOAD_TOO_LARGE: code(413, 'The body is larger than the server accepts.', ['api']),
  URI_TOO_LONG: code(414, 'A path parameter is longer than any room name, identity or id can be.', ['api']),
  TENANT_LIMIT: code(429, 'The tenant has as many rooms as it may at once (its limits.rooms, or limits.roomsPerTenant).'),
  RATE_LIMITED: code(429, 'Too many joins or signaling connections from this address (limits.joinsPerIpPerMinute, limits.connectionsPerIpPerMinute), or console sign-ins (console.signInsPerIpPerMinute); wait and try again.'),
  TOO_MANY_REQUESTS: code(429, 'Too many requests are waiting on this socket; wait for responses before sending more.', ['signaling']),
  WEBHOOK_BACKLOG_FULL: code(429, 'You have as many undelivered webhook events as webhooks.maxPendingPerTenant allows; the event was not queued again.', ['api']),
  CSRF_REJECTED: code(403, 'A console session\'s change came without its CSRF token (the x-csrf-token header the sign-in answered).', ['api']),
  LIMIT_REACHED: code(429, 'A per-room or per-call limit is reached (limits.recordingsPerRoom, limits.snapshotsPerCall, limits.forwardsPerRoom, limits.notesPerCall).'),
  REDIRECT: code(307, 'The room is hosted on another node: connect to error.redirect.url and send join there.', ['signaling']),
  INTERNAL_ERROR: code(500, 'Unexpected server failure; the request had no effect that can be relied on, and the node\'s log has the detail.'),
  NODE_UNREACHABLE: code(502, 'The node that hosts the room did not answer over the cluster bus.'),
  SNAPSHOT_FAILED: code(502, 'No frame of that video could be captured in time (the track sends nothing, or is paused).'),
  NODE_UNAVAILABLE: code(503, 'No node can take the room now (no live media worker, draining, or the cluster store is unreachable).'),
  NODE_FULL: code(503, 'The node hosts as many rooms as it may (limits.roomsPerNode); try again later.'),
  NO_PORTS: code(503, 'The node has no free UDP port left (media.rtcMinPort to rtcMaxPort) for a plain transport or a pipe; try again later.'),
  FFMPEG_MISSING: code(503, 'This node has no ffmpeg (recording.ffmpegPath), which recordings and snapshots need.'),
  MEDIA_BUSY: code(503, 'The node runs as many media processes (ffmpeg) as media.maxProcesses allows, or they use media.maxProcessMegabytes; try again later.'),
  NO_ENGINE: code(501, 'No speech or translation engine covers that language (or pair) for your tenant: the original text stands (captionStatus, untranslated).', ['signaling']),
  CAPTIONS_FAILED: code(502, 'The captions\' decoder or recogniser failed and could not be restarted (captionStatus).', ['signaling']),
  CAPTIONS_FULL: code(503, 'The node captions as many participants as captions.maxParticipantsPerNode allows; the call goes on without this participant\'s captions (captionStatus).', ['signaling']),
  REQUEST_TIMEOUT: code(504, 'The request took too long.', ['signaling']),
  DISK_FULL: code(507, 'The recording disk has less free space than recording.minFreeMegabytes, or filled up.'),
} as const;

export type ErrorCode = keyof typeof CODES;
export const ERROR_CODES = Object.keys(CODES) as readonly ErrorCode[];
export const isErrorCode = (c: unknown): c is ErrorCode => typeof c === 'string' && Object.hasOwn(CODES, c);
/** The codes a signaling client or an API caller can be answered with (for their documents). */
export const codesOn = (surface: Surface) => ERROR_CODES.filter((c) => CODES[c].on.includes(surface));

/** Where a REDIRECT sends the client. */
export interface Redirect {
  nodeId: string;
  region: string;
  /** The node's base URL; its signaling endpoint is this URL's /v1/rtc. */
  url: string;
}

/** A refusal with a stable code. Thrown anywhere in the node; each surface answers it as it is. */
export class CodedError extends Error {
  constructor(readonly code: ErrorCode, message: string = CODES[code].meaning, readonly redirect?: Redirect) {
    super(message);
  }

  get status(): number {
    return CODES[this.code].status;
  }
}

/** The error body of every surface: `{ error: { code, message } }`. */
export const errorBody = (code: ErrorCode, message: string) => ({ error: { code, message } });
