import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { TokenClaims } from '../auth/tokens.js';
import type { AgentDispatcher } from '../agents/dispatcher.js';
import type { Config } from '../config/schema.js';
import type { EvidenceService } from '../egress/evidence-service.js';
import type { RoomService } from '../platform/room-service.js';
import type { Outbox, PlatformStore } from '../platform/store.js';
import type { UsageMeter } from '../platform/usage.js';
import type { Tenant } from '../tenants/tenants.js';
import { CodedError, type ErrorCode } from '../common/errors.js';

/** What the server API's handlers work with. */
export interface ApiDeps {
  config: Config;
  service: RoomService;
  evidence: EvidenceService;
  store: PlatformStore;
  outbox: Outbox;
  usage: UsageMeter;
  agents: Pick<AgentDispatcher, 'agent'>;
}

export const ErrorBody = Type.Object({ error: Type.Object({ code: Type.String(), message: Type.String() }) }, { title: 'Error' });
export const RoomName = TokenClaims.properties.room;
export const Identity = TokenClaims.properties.sub;
export const RoomParams = Type.Object({ room: RoomName });
export const ParticipantParams = Type.Object({ room: RoomName, identity: Identity });
export const Cursor = Type.Optional(Type.String({ maxLength: 200, description: 'From the previous page\'s nextCursor.' }));
export const Limit = Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 }));
export const Time = Type.String({ format: 'date-time' });

export interface Route<B extends TSchema = TSchema, Q extends TSchema = TSchema, P extends TSchema = TSchema> {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  summary: string;
  body?: B;
  querystring?: Q;
  params?: P;
  /** Status → schema, of the answers that succeed. */
  responses: Record<number, TSchema>;
  /** The errors this route can answer besides COMMON_ERRORS. */
  errors?: readonly ErrorCode[];
  /** A signed link (?tenant=&expires=&sig=) stands in for the API key. */
  signedLink?: boolean;
  handler(deps: ApiDeps, req: FastifyRequest<{ Body: Static<B>; Querystring: Static<Q>; Params: Static<P> }> & { tenant: Tenant }, reply: FastifyReply): Promise<unknown>;
}
export const route = <B extends TSchema = TSchema, Q extends TSchema = TSchema, P extends TSchema = TSchema>(r: Route<B, Q, P>) => r as unknown as Route;


/** Any route can answer these. */
export const COMMON_ERRORS: ErrorCode[] = ['BAD_REQUEST', 'UNAUTHORIZED', 'INTERNAL_ERROR'];
/** Operations on a room reach every node that hosts part of it. */
export const ROOM_ERRORS: ErrorCode[] = ['NOT_FOUND', 'NODE_UNREACHABLE'];


/** A query's ISO 8601 time as epoch ms (undefined when absent); BAD_REQUEST when it is not one. */
export const parseTime = (value: string | undefined, name: string): number | undefined => {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new CodedError('BAD_REQUEST', `${name} is not an ISO 8601 time`);
  return ms;
};
