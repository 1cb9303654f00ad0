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
