import { Type } from '@sinclair/typebox';
import { AgentView } from '../contracts/records.js';
import { ROOM_ERRORS, RoomParams, route, type Route } from './route.js';

/** A room's voice assistant: dispatched on request, stopped, seen (docs/assistant.md). */
export const agentRoutes: Route[] = [
  route({
    method: 'POST', url: '/v1/rooms/:room/agents', summary: 'Dispatch the room\'s voice assistant now (the tenant\'s assistant settings; the room gets captions, everyone is told). 201 with the new job; 200 with the one on its way or in the call.',
    params: RoomParams,
    responses: { 201: Type.Object({ agent: AgentView }), 200: Type.Object({ agent: AgentView }) },
    errors: [...ROOM_ERRORS, 'NODE_UNAVAILABLE'],
    async handler({ agents }, req, reply) {
      const { agent, created } = await agents.agent(req.tenant, req.params.room, 'start');
      return reply.code(created ? 201 : 200).send({ agent });
    },
  }),
  route({
    method: 'GET', url: '/v1/rooms/:room/agents', summary: 'The room\'s assistant: waiting for a worker, in the call, or ended.',
    params: RoomParams,
    responses: { 200: Type.Object({ agent: Type.Union([AgentView, Type.Null()]) }) },
    errors: ROOM_ERRORS,
    async handler({ agents }, req) {
      return { agent: (await agents.agent(req.tenant, req.params.room, 'get')).agent };
    },
  }),
  route({
    method: 'DELETE', url: '/v1/rooms/:room/agents', summary: 'Stop the room\'s assistant: its job is cancelled and it leaves the call.',
    params: RoomParams,
    responses: { 204: Type.Null() },
    errors: ROOM_ERRORS,
    async handler({ agents }, req, reply) {
      await agents.agent(req.tenant, req.params.room, 'stop');
      return reply.code(204).send();
    },
  }),
];
