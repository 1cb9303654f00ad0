import { NotFoundError, WorkerClosedError } from 'mediasoup/errors';
import { CodedError } from '../common/errors.js';

/**
 * What mediasoup says, in the node's codes, applied where the node calls mediasoup (not guessed
 * later from message text). mediasoup has no error codes of its own, so the two cases below are
 * told apart at their call sites: one allocates a port, the other passes a client's parameters.
 */

/**
 * A plain or pipe transport takes a port of media.rtcMinPort..rtcMaxPort (bots, recordings,
 * forwards, captions, pipes). When every port is taken the worker answers "no more available
 * ports": a state of the node, with its own code.
 */
export async function allocatingPort<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof Error && /no more available ports/i.test(err.message)) {
      throw new CodedError('NO_PORTS', `no free UDP port between media.rtcMinPort and media.rtcMaxPort (${err.message})`);
    }
    throw err;
  }
}

/**
 * A mediasoup call made with what a client sent (RTP, DTLS or SCTP parameters, layers): a
 * refusal is the client's INVALID_PARAMETERS, a call on an object that closed meanwhile is
 * INVALID_STATE, and an id the worker no longer has is NOT_FOUND.
 */
export async function withClientParameters<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof CodedError) throw err;
    if (err instanceof WorkerClosedError) throw new CodedError('INVALID_STATE', err.message);
    if (err instanceof NotFoundError) throw new CodedError('NOT_FOUND', err.message);
    if (err instanceof Error) throw new CodedError('INVALID_PARAMETERS', err.message);
    throw err;
  }
}
