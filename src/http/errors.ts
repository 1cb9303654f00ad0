import type { FastifyError, FastifyInstance } from 'fastify';
import { ApiError } from '../platform/room-service.js';
import { SignalingError } from '../signaling/errors.js';

/** Statuses for the signaling codes the server API can meet (placement, limits). */
const STATUS: Record<string, number> = {
  NOT_FOUND: 404, NODE_UNAVAILABLE: 503, NODE_FULL: 503, TENANT_LIMIT: 429, ROOM_FULL: 409, RATE_LIMITED: 429, REDIRECT: 409,
};

/** HTTP errors share the signaling shape: { error: { code, message } }, with a stable code. */
export function installHttpErrors(app: FastifyInstance) {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof ApiError) return reply.code(err.status).send({ error: { code: err.code, message: err.message } });
    if (err instanceof SignalingError) return reply.code(STATUS[err.code] ?? 400).send({ error: { code: err.code, message: err.message } });
    if (err.validation) return reply.code(400).send({ error: { code: 'BAD_REQUEST', message: err.message } });
    if (err.statusCode === 413) return reply.code(413).send({ error: { code: 'PAYLOAD_TOO_LARGE', message: err.message } });
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) req.log.error({ err }, 'request failed');
    return reply.code(status).send({ error: { code: status === 500 ? 'INTERNAL_ERROR' : 'BAD_REQUEST', message: status === 500 ? 'internal error' : err.message } });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no route ${req.method} ${req.url}` } }));
}
