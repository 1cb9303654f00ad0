import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { TokenClaims } from '../auth/tokens.js';
import type { RoomAllocator } from '../cluster/allocator.js';
import type { Config } from '../config/schema.js';
import { signalingUrl } from '../signaling/url.js';
import { requireApiKey } from './api-key.js';

const CreateRoom = Type.Object({
  room: TokenClaims.properties.room,
  region: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Where the buyer is; the room goes to the nearest node with capacity.' })),
}, { additionalProperties: false });

export interface AdminDeps {
  auth: Config['auth'];
  allocator: RoomAllocator;
  drain: () => { rooms: number; peers: number };
}

/**
 * The integrator/operator API (API key):
 * POST /v1/rooms places a room near the buyer before anyone joins;
 * POST /v1/admin/drain stops new rooms here, lets calls finish, then exits.
 */
export const adminPlugin: FastifyPluginAsync<AdminDeps> = async (app, { auth, allocator, drain }) => {
  app.addHook('onRequest', requireApiKey(auth));

  app.post<{ Body: Static<typeof CreateRoom> }>('/v1/rooms', { schema: { body: CreateRoom } }, async (req, reply) => {
    const { node } = await allocator.allocate(req.body.room, req.body.region);
    return reply.code(201).send({ room: req.body.room, node, signalingUrl: signalingUrl(node.url) });
  });

  app.post('/v1/admin/drain', async (_req, reply) => reply.code(202).send({ draining: true, ...drain() }));
};
