/** Stable error codes of protocol v1, with what each means. Clients switch on the code. */
export const ERRORS = {
  BAD_JSON: 'The frame is not a JSON object.',
  BAD_REQUEST: 'The frame or its data does not match the schema.',
  UNKNOWN_METHOD: 'No request has that method.',
  NOT_JOINED: 'The request needs a joined session; send join first.',
  ALREADY_JOINED: 'This socket has already joined a room; leave first.',
  TOKEN_INVALID: 'The token is malformed, forged, uses a refused algorithm or lacks required claims.',
  TOKEN_EXPIRED: 'The token has expired.',
  PERMISSION_DENIED: "The token's grants do not allow this request.",
  NOT_FOUND: 'No such transport, producer or consumer belongs to this peer.',
  INVALID_STATE: 'The request is valid but not now (for example connecting a transport twice, or producing on a recv transport).',
  INVALID_PARAMETERS: 'mediasoup refused the parameters (RTP, DTLS, SCTP or layers).',
  CANNOT_CONSUME: 'Your RTP capabilities cannot receive that producer, or you have no recv transport yet.',
  REQUEST_TIMEOUT: 'The request took too long.',
  TOO_MANY_REQUESTS: 'Too many requests are waiting on this socket; wait for responses before sending more.',
  NODE_UNAVAILABLE: 'The node is not accepting rooms now (no live media worker, draining, or the cluster store is unreachable).',
  NODE_FULL: 'This node hosts as many rooms as it may (limits.roomsPerNode); try again later.',
  ROOM_FULL: 'The room has as many participants as it may (its maxParticipants, its tenant\'s limit, or limits.peersPerRoom).',
  TENANT_LIMIT: 'The tenant has as many rooms as it may at once (its limits.rooms, or limits.roomsPerTenant).',
  RATE_LIMITED: 'Too many joins from this address (limits.joinsPerIpPerMinute); wait and try again.',
  APPDATA_TOO_LARGE: 'appData is larger or nested deeper than limits.appDataBytes and limits.appDataDepth allow.',
  REDIRECT: 'The room is hosted on another node: connect to error.redirect.url and send join there.',
  FFMPEG_MISSING: 'This node has no ffmpeg (recording.ffmpegPath), which recordings and snapshots need.',
  DISK_FULL: 'The recording disk has less free space than recording.minFreeMegabytes, or filled up.',
  SNAPSHOT_FAILED: 'No frame of that video could be captured in time (the track sends nothing, or is paused).',
  NO_PORTS: 'The node has no free UDP port left (media.rtcMinPort to rtcMaxPort) for a plain transport or a pipe; try again later.',
  LIMIT_REACHED: 'A per-room or per-call limit is reached (limits.recordingsPerRoom, limits.snapshotsPerCall, limits.forwardsPerRoom).',
  INTERNAL_ERROR: 'Unexpected server failure; the request had no effect that can be relied on.',
} as const;

export type ErrorCode = keyof typeof ERRORS;
export const ERROR_CODES = Object.keys(ERRORS) as readonly ErrorCode[];
export const isErrorCode = (code: string): code is ErrorCode => Object.hasOwn(ERRORS, code);

/** Close code of the WebSocket when a frame exceeds signaling.maxMessageBytes (RFC 6455 "message too big"). */
export const CLOSE_MESSAGE_TOO_BIG = 1009;
/** Close code of a socket that did not join within signaling.joinTimeoutMs. */
export const CLOSE_JOIN_TIMEOUT = 4408;
/** Close code of a socket whose client stopped reading: more than signaling.maxBufferedBytes waited to be sent. */
export const CLOSE_SLOW_READER = 4413;
/** Close code of a socket whose participant resumed on another socket (join with resume: true). */
export const CLOSE_RESUMED_ELSEWHERE = 4409;
/** Deepest nesting of objects and arrays a frame may have, whatever it carries. */
export const MAX_FRAME_DEPTH = 32;

/** Where a REDIRECT sends the client. */
export interface Redirect {
  nodeId: string;
  region: string;
  /** The node's base URL; its signaling endpoint is this URL's /v1/rtc. */
  url: string;
}

export class SignalingError extends Error {
  constructor(readonly code: ErrorCode, message: string = ERRORS[code], readonly redirect?: Redirect) {
    super(message);
  }
}
