import type { FastifyPluginAsync } from 'fastify';
import websocket from '@fastify/websocket';
import { CLOSE_JOIN_TIMEOUT, CLOSE_MESSAGE_TOO_BIG } from './errors.js';
import type { SignalingDeps } from './handler.js';
import { SIGNALING_PATH } from './protocol.js';
import { SignalingSession } from './session.js';

const HEARTBEAT_MS = 15_000;

/** WebSocket signaling at /v1/rtc: one SignalingSession per connection. */
export const signalingPlugin: FastifyPluginAsync<{ deps: SignalingDeps }> = async (app, { deps }) => {
  // ws closes a socket whose frame exceeds maxPayload with 1009 (message too big) itself.
  await app.register(websocket, { options: { maxPayload: deps.config.signaling.maxMessageBytes } });
  const alive = new WeakSet<object>();

  app.get(SIGNALING_PATH, { websocket: true }, (socket, req) => {
    const log = deps.log.child({ conn: req.id, remote: req.ip });
    const session = new SignalingSession(socket, deps, log);
    alive.add(socket);
    // Sockets that never join hold resources for nothing.
    const joinDeadline = setTimeout(() => {
      if (!session.everJoined) socket.close(CLOSE_JOIN_TIMEOUT, 'join timeout');
    }, deps.config.signaling.joinTimeoutMs);
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
