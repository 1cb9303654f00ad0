/**
 * Stable error codes of the server API (/v1), each with its HTTP status and meaning. Every error
 * answer is `{ error: { code, message } }`, the same shape as the signaling protocol's.
 */
export const API_ERRORS = {
  BAD_REQUEST: [400, 'The body, query or path does not match the schema (the message says where).'],
  METADATA_TOO_LARGE: [400, 'The room\'s metadata is larger than limits.metadataBytes of JSON.'],
  UNAUTHORIZED: [401, 'No API key, or one no tenant has (Authorization: Bearer <key>, or x-api-key).'],
  FORBIDDEN: [403, 'The key is valid but not for this route (the admin routes take the operator\'s key).'],
  TARGET_NOT_ALLOWED: [403, 'RTP may not be forwarded to that address (forwarding.allowedTargets).'],
  NOT_FOUND: [404, 'No such room, participant, track, call or route for this tenant. Another tenant\'s rooms are not found either.'],
  MINTING_DISABLED: [409, 'This node has no auth.hs256Secret to sign tokens with.'],
  PAYLOAD_TOO_LARGE: [413, 'The body is larger than the server accepts.'],
  TENANT_LIMIT: [429, 'The tenant has as many rooms as it may at once (its limits.rooms, or limits.roomsPerTenant).'],
  RATE_LIMITED: [429, 'Too many signaling connections from this address (limits.connectionsPerIpPerMinute).'],
  LIMIT_REACHED: [429, 'A per-room or per-call limit is reached (limits.recordingsPerRoom, limits.snapshotsPerCall, limits.forwardsPerRoom).'],
  INTERNAL_ERROR: [500, 'Unexpected server failure; the node\'s log has the detail.'],
  NODE_UNREACHABLE: [502, 'The node that hosts the room did not answer over the cluster bus.'],
  SNAPSHOT_FAILED: [502, 'No frame of that video could be captured in time (the track sends nothing, or is paused).'],
  NODE_UNAVAILABLE: [503, 'No node can take the room now (no live media worker, draining, or the cluster store is unreachable).'],
  NODE_FULL: [503, 'The chosen node hosts as many rooms as it may (limits.roomsPerNode).'],
  NO_PORTS: [503, 'The node has no free UDP port left (media.rtcMinPort to rtcMaxPort) for a plain transport or a pipe; try again later.'],
  FFMPEG_MISSING: [503, 'This node has no ffmpeg (recording.ffmpegPath), which recordings and snapshots need.'],
  DISK_FULL: [507, 'The recording disk has less free space than recording.minFreeMegabytes, or filled up.'],
} as const satisfies Record<string, readonly [number, string]>;

export type ApiErrorCode = keyof typeof API_ERRORS;

export const isApiErrorCode = (code: string): code is ApiErrorCode => Object.hasOwn(API_ERRORS, code);

/** An error the server API answers with its code's status. */
export class ApiError extends Error {
  readonly status: number;
  constructor(readonly code: ApiErrorCode, message: string) {
    super(message);
    this.status = API_ERRORS[code][0];
  }
}

export const errorBody = (code: ApiErrorCode, message: string) => ({ error: { code, message } });
