import type { FastifyPluginAsync } from 'fastify';
import websocket from '@fastify/websocket';
import { RateLimiter } from '../common/rate-limiter.js';
import { originAllowed } from '../common/origins.js';
import type { SignalingDeps } from './handler.js';
import { SIGNALING_PATH } from '../contracts/protocol.js';
import { SignalingSession } from './session.js';
import { errorBody } from '../common/errors.js';
import { CLOSE_JOIN_TIMEOUT, CLOSE_MESSAGE_TOO_BIG } from './close-codes.js';

const HEARTBEAT_MS = 15_000;

/** WebSocket signaling at /v1/rtc: one SignalingSession per connection. */
export const signalingPlugin: FastifyPluginAsync<{ deps: SignalingDeps }> = async (app, { deps }) => {
  const { config } = deps;
  // ws closes a socket whose frame exceeds maxPayload with 1009 (message too big) itself.
  await app.register(websocket, { options: { maxPayload: config.signaling.maxMessageBytes } });
  const alive = new WeakSet<object>();
  const connections = new RateLimiter(config.limits.connectionsPerIpPerMinute);

  app.get(SIGNALING_PATH, {
    websocket: true,
    // Before the upgrade: a page on another origin, or an address opening sockets too fast, is refused.
    onRequest: async (req, reply) => {
      const origin = req.headers.origin;
      if (origin && !originAllowed(origin, config.server.allowedOrigins)) {
        deps.rejects.warn('origin', { origin, ip: req.ip }, 'refused a signaling socket from an origin not in server.allowedOrigins');
        return reply.code(403).send(errorBody('ORIGIN_NOT_ALLOWED', `origin ${origin} may not open signaling sockets`));
      }
      if (!connections.take(req.ip)) {
        deps.rejects.warn('connection-rate', { ip: req.ip }, 'refused a signaling socket: too many from this address');
        return reply.code(429).header('retry-after', '60').send(errorBody('RATE_LIMITED', 'too many connections from this address'));
      }
    },
  }, (socket, req) => {
    const log = deps.log.child({ conn: req.id, remote: req.ip });
    const session = new SignalingSession(socket, deps, log, req.ip);
    alive.add(socket);
    // Sockets that never join hold resources for nothing.
    const joinDeadline = setTimeout(() => {
      if (!session.everJoined) socket.close(CLOSE_JOIN_TIMEOUT, 'join timeout');
    }, config.signaling.joinTimeoutMs);
    socket.on('pong', () => alive.add(socket));
    socket.on('message', (data, isBinary) => {
      if (isBinary) return session.onMessage('\u0000binary');
      session.onMessage(data.toString());
    });
    socket.on('error', (err) => log.debug({ err, code: CLOSE_MESSAGE_TOO_BIG }, 'socket error'));
    socket.on('close', (code) => {
      clearTimeout(joinDeadline);
      log.debug({ code }, 'socket closed');
      session.onClose();
    });
  });

  // Dead clients (no pong for a whole interval) are dropped, so their peers leave the room.
  const heartbeat = setInterval(() => {
    for (const socket of app.websocketServer.clients) {
      if (!alive.has(socket)) {
        socket.terminate();
        continue;
      }
      alive.delete(socket);
      socket.ping();
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();
  app.addHook('onClose', async () => clearInterval(heartbeat));
};
