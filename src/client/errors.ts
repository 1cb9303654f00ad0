import type { ErrorCode, Redirect } from '../common/errors.js';

/** Client-side failures that are not protocol errors. */
export type ClientErrorCode =
  | 'CONNECTION_FAILED' | 'SOCKET_CLOSED' | 'NOT_CONNECTED' | 'REDIRECT_REFUSED'
  | 'MEDIA_PERMISSION_DENIED' | 'MEDIA_NOT_FOUND' | 'MEDIA_IN_USE' | 'MEDIA_UNAVAILABLE';

/** Every error the SDK raises. `code` is the protocol's own error code when the server refused a request. */
export class SfuError extends Error {
  constructor(readonly code: ErrorCode | ClientErrorCode | string, message: string, readonly redirect?: Redirect) {
    super(message);
    this.name = 'SfuError';
  }
}
