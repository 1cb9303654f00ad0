import { SignalingError } from '../signaling/errors.js';

/**
 * mediasoup failures that are not bugs but a state of the node, given their stable code. The
 * worker answers "no more available ports" when every port of media.rtcMinPort..rtcMaxPort is
 * taken by plain and pipe transports (bots, recordings, forwards, cross-node pipes).
 */
export function codedMediaError(err: unknown): SignalingError | undefined {
  if (err instanceof Error && /no more available ports/i.test(err.message)) {
    return new SignalingError('NO_PORTS', `no free UDP port between media.rtcMinPort and media.rtcMaxPort (${err.message})`);
  }
  return undefined;
}
