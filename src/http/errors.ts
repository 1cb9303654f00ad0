import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CodedError, errorBody } from '../common/errors.js';

/** Longest path parameter: a 128-character room name or identity, each character percent-encoded. */
export const MAX_PATH_PARAM_LENGTH = 3 * 128;

/** Errors the router raises before any route runs, in the API's own format (Fastify's frameworkErrors). */
export function frameworkError(err: FastifyError, _req: FastifyRequest, reply: FastifyReply) {
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') return reply.code(414).send(errorBody('URI_TOO_LONG', `a path parameter is longer than ${MAX_PATH_PARAM_LENGTH} characters`));
  if (err.code === 'FST_ERR_BAD_URL') return reply.code(400).send(errorBody('BAD_REQUEST', 'the URL is malformed'));
  return reply.code(500).send(errorBody('INTERNAL_ERROR', 'internal error'));
}

/**
 * HTTP errors share the signaling shape, { error: { code, message } }: a CodedError answers with
 * its code's status, wherever in the node it was thrown.
 */
export function installHttpErrors(app: FastifyInstance) {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof CodedError) return reply.code(err.status).send(errorBody(err.code, err.message));
    if (err.validation) return reply.code(400).send(errorBody('BAD_REQUEST', err.message));
    if (err.statusCode === 413) return reply.code(413).send(errorBody('PAYLOAD_TOO_LARGE', err.message));
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return reply.code(err.statusCode).send(errorBody('BAD_REQUEST', err.message));
    req.log.error({ err }, 'request failed');
    return reply.code(500).send(errorBody('INTERNAL_ERROR', 'internal error'));
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send(errorBody('NOT_FOUND', `no route ${req.method} ${req.url}`)));
}
