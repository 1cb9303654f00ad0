/** The server API's rooms, participants, tokens and call records. */
import { Type } from '@sinclair/typebox';
import { GrantChanges, Role } from '../auth/grants.js';
import { languageTag } from '../common/languages.js';
import { MintRequest, mintToken, TokenClaims } from '../auth/tokens.js';
import type { NodeRef } from '../cluster/allocator.js';
import type { Config } from '../config/schema.js';
import { CallRecord, Metadata, RoomView } from '../contracts/records.js';
import { signalingUrl } from '../contracts/url.js';
import { Cursor, Identity, Limit, parseTime, ParticipantParams, ROOM_ERRORS, RoomName, RoomParams, route, type Route } from './route.js';
import { CodedError } from '../common/errors.js';

const Token = Type.Object({ identity: Type.String(), token: Type.String(), expiresAt: Type.Integer({ description: 'Epoch seconds.' }) }, { title: 'MintedToken' });
const Node = Type.Object({ id: Type.String(), region: Type.String(), url: Type.String() }, { title: 'Node' });

const CreateRoomBody = Type.Object({
  room: RoomName,
  region: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Where the buyer is (their shipping country\'s region): the room goes to the nearest node with capacity.' })),
  metadata: Type.Optional(Metadata),
  maxParticipants: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  emptyTimeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400, description: 'How long the room waits for its first participant, and after its last (default rooms.emptyTimeoutSeconds).' })),
  captions: Type.Optional(Type.Boolean({ description: 'Live captions and translation in this room (when its tenant\'s captions are "request"; "all" captions every room, "off" none). Participants are told in their join answer.' })),
  participants: Type.Optional(Type.Array(Type.Object({
    identity: Identity,
    name: TokenClaims.properties.name,
    role: Type.Optional(Role),
    language: TokenClaims.properties.language,
    grants: Type.Optional(GrantChanges),
    ttlSeconds: MintRequest.properties.ttlSeconds,
  }, { additionalProperties: false }), { maxItems: 20, description: 'Participants to mint tokens for; the tokens come back in the answer.' })),
}, { additionalProperties: false, title: 'CreateRoom' });

const CreatedRoom = Type.Object({
  room: RoomView, node: Node,
  signalingUrl: Type.String({ description: 'Where the participants\' clients connect (the SDK takes the node URL and finds this itself).' }),
  tokens: Type.Array(Token),
}, { title: 'CreatedRoom' });

/** Checked before anything is done, so a refused request changes nothing. */
const canMint = (config: Config) => {
  if (!config.auth.hs256Secret) throw new CodedError('MINTING_DISABLED', 'this node has no auth.hs256Secret to sign tokens with');
};
const nodeOf = (n: NodeRef) => ({ id: n.id, region: n.region, url: n.url });

export const roomRoutes: Route[] = [
  route({
    method: 'POST', url: '/v1/tokens', summary: 'Mint an access token for one participant of one of your rooms.',
    body: MintRequest,
    responses: { 201: Type.Object({ token: Type.String(), expiresAt: Type.Integer({ description: 'Epoch seconds.' }) }) },
    errors: ['MINTING_DISABLED'],
    async handler({ config }, req, reply) {
      canMint(config);
      return reply.code(201).send(mintToken(config.auth, req.body, req.tenant.id));
    },
  }),
  route({
    method: 'POST', url: '/v1/rooms', summary: 'Create a room before anyone joins, placed near the buyer\'s region, optionally with tokens for its participants. Creating an existing room answers 200 with it.',
    body: CreateRoomBody,
    responses: { 201: CreatedRoom, 200: CreatedRoom },
    errors: ['METADATA_TOO_LARGE', 'MINTING_DISABLED', 'TENANT_LIMIT', 'NODE_FULL', 'NODE_UNAVAILABLE', 'NODE_UNREACHABLE'],
    async handler({ config, service }, req, reply) {
      const { participants = [], ...create } = req.body;
      if (participants.length) canMint(config);
      const { view, node, created } = await service.create(req.tenant, create);
      const tokens = participants.map((p) => ({
        identity: p.identity,
        ...mintToken(config.auth, { room: create.room, identity: p.identity, name: p.name, role: p.role, grants: p.grants, ttlSeconds: p.ttlSeconds, region: create.region, language: p.language }, req.tenant.id),
      }));
      return reply.code(created ? 201 : 200).send({ room: view, node: nodeOf(node), signalingUrl: signalingUrl(node.url), tokens });
    },
  }),
  route({
    method: 'GET', url: '/v1/rooms', summary: 'Your rooms now, newest first.',
    querystring: Type.Object({ limit: Limit, cursor: Cursor }),
    responses: { 200: Type.Object({ rooms: Type.Array(RoomView), total: Type.Integer(), nextCursor: Type.Union([Type.String(), Type.Null()]) }) },
    async handler({ service }, req) {
      const limit = req.query.limit ?? 20;
      const offset = Number(req.query.cursor ?? 0) || 0;
      const { rooms, total } = await service.list(req.tenant, offset, limit);
      return { rooms, total, nextCursor: offset + limit < total ? String(offset + limit) : null };
    },
  }),
  route({
    method: 'GET', url: '/v1/rooms/:room', summary: 'One room with its participants: role, region, node, join time, tracks and current quality.',
    params: RoomParams,
    responses: { 200: RoomView },
    errors: ROOM_ERRORS,
    async handler({ service }, req) {
      return service.get(req.tenant, req.params.room);
    },
  }),
  route({
    method: 'DELETE', url: '/v1/rooms/:room', summary: 'End the call for everyone: each participant gets disconnected with code ROOM_ENDED.',
    params: RoomParams,
    responses: { 204: Type.Null() },
    errors: ROOM_ERRORS,
    async handler({ service }, req, reply) {
      await service.end(req.tenant, req.params.room);
      return reply.code(204).send();
    },
  }),
  route({
    method: 'DELETE', url: '/v1/rooms/:room/participants/:identity', summary: 'Remove one participant (disconnected, code REMOVED).',
    params: ParticipantParams,
    responses: { 204: Type.Null() },
    errors: ROOM_ERRORS,
    async handler({ service }, req, reply) {
      await service.removeParticipant(req.tenant, req.params.room, req.params.identity);
      return reply.code(204).send();
    },
  }),
  route({
    method: 'POST', url: '/v1/rooms/:room/participants/:identity/mute', summary: 'Mute (or unmute) a participant\'s track: one by id, or all of a kind, or all. The participant is told (producerMuted).',
    params: ParticipantParams,
    body: Type.Object({
      trackId: Type.Optional(Type.String({ maxLength: 64 })),
      kind: Type.Optional(Type.Union([Type.Literal('audio'), Type.Literal('video')])),
      muted: Type.Optional(Type.Boolean({ default: true, description: 'false unmutes; default true.' })),
    }, { additionalProperties: false }),
    responses: { 200: Type.Object({ tracks: Type.Array(Type.String(), { description: 'The tracks it muted or unmuted.' }) }) },
    errors: ROOM_ERRORS,
    async handler({ service }, req) {
      const { trackId, kind, muted = true } = req.body ?? {};
      return { tracks: await service.mute(req.tenant, req.params.room, req.params.identity, { trackId, kind, muted }) };
    },
  }),
  route({
    method: 'POST', url: '/v1/rooms/:room/messages', summary: 'Send a message into the call\'s chat from the platform (for example "refund approved"); clients get systemMessage.',
    params: RoomParams,
    body: Type.Object({
      text: Type.String({ minLength: 1, maxLength: 2000 }),
      from: Type.Optional(Type.String({ minLength: 1, maxLength: 64, default: 'system' })),
      language: Type.Optional(languageTag('The language of `text` (default: the tenant\'s). In a room with captions, participants get it translated into theirs too.')),
    }, { additionalProperties: false }),
    responses: { 202: Type.Object({ delivered: Type.Integer({ description: 'Participants it reached.' }) }) },
    errors: ROOM_ERRORS,
    async handler({ service }, req, reply) {
      const delivered = await service.message(req.tenant, req.params.room, req.body.text, req.body.from ?? 'system', req.body.language);
      return reply.code(202).send({ delivered });
    },
  }),
  route({
    method: 'GET', url: '/v1/calls', summary: 'Call records, newest first. Filter by start time and by metadata: metadata.orderId=A-1001 matches calls whose metadata has orderId "A-1001".',
    querystring: Type.Object({
      from: Type.Optional(Type.String({ format: 'date-time', description: 'Calls that started at or after this time.' })),
      to: Type.Optional(Type.String({ format: 'date-time', description: 'Calls that started before this time.' })),
      identity: Type.Optional(Type.String({ maxLength: 128, description: 'Calls this participant was in.' })),
      limit: Limit, cursor: Cursor,
    }, { additionalProperties: Type.String({ maxLength: 1024 }), description: 'Also metadata.<key>=<value>, any number of them.' }),
    responses: { 200: Type.Object({ calls: Type.Array(CallRecord), nextCursor: Type.Union([Type.String(), Type.Null()]) }) },
    async handler({ store }, req) {
      const { from, to, limit, cursor, identity, ...rest } = req.query as Record<string, string | number | undefined>;
      const metadata: Record<string, string> = {};
      for (const [k, v] of Object.entries(rest)) {
        if (!k.startsWith('metadata.')) throw new CodedError('BAD_REQUEST', `unknown query parameter ${k}`);
        metadata[k.slice('metadata.'.length)] = String(v);
      }
      return store.listCalls(req.tenant.id, {
        from: parseTime(from as string | undefined, 'from'), to: parseTime(to as string | undefined, 'to'), metadata,
        ...(identity !== undefined ? { identity: String(identity) } : {}),
        limit: Number(limit ?? 20), cursor: cursor as string | undefined,
      });
    },
  }),
  route({
    method: 'GET', url: '/v1/calls/:callId', summary: 'One call record.',
    params: Type.Object({ callId: Type.String({ maxLength: 64 }) }),
    responses: { 200: CallRecord },
    errors: ['NOT_FOUND'],
    async handler({ store }, req) {
      const record = await store.getCall(req.tenant.id, req.params.callId);
      if (!record) throw new CodedError('NOT_FOUND', `no call ${req.params.callId}`);
      return record;
    },
  }),
];
