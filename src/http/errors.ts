import type { FastifyError, FastifyInstance } from 'fastify';
import { ApiError, errorBody, isApiErrorCode, API_ERRORS } from '../platform/api-errors.js';
import { codedMediaError } from '../media/media-errors.js';
import { SignalingError } from '../signaling/errors.js';

/**
 * HTTP errors share the signaling shape, { error: { code, message } }, with a code from
 * API_ERRORS. Placement and limits throw signaling errors; those the API documents keep their code.
 */
export function installHttpErrors(app: FastifyInstance) {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const coded = codedMediaError(err);
    if (coded) return reply.code(API_ERRORS[coded.code as 'NO_PORTS'][0]).send(errorBody('NO_PORTS', coded.message));
    if (err instanceof ApiError) return reply.code(err.status).send(errorBody(err.code, err.message));
    if (err instanceof SignalingError && isApiErrorCode(err.code)) return reply.code(API_ERRORS[err.code][0]).send(errorBody(err.code, err.message));
    if (err.validation) return reply.code(400).send(errorBody('BAD_REQUEST', err.message));
    if (err.statusCode === 413) return reply.code(413).send(errorBody('PAYLOAD_TOO_LARGE', err.message));
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return reply.code(err.statusCode).send(errorBody('BAD_REQUEST', err.message));
    req.log.error({ err }, 'request failed');
    return reply.code(500).send(errorBody('INTERNAL_ERROR', 'internal error'));
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send(errorBody('NOT_FOUND', `no route ${req.method} ${req.url}`)));
}
