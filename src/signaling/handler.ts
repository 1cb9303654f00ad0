import type { Grant, Grants } from '../auth/grants.js';
import type { TokenVerifier } from '../auth/tokens.js';
import type { RoomRouter } from '../cluster/room-router.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logging/logger.js';
import type { Notify, Peer } from '../rooms/peer.js';
import type { Room } from '../rooms/room.js';
import type { RoomRegistry } from '../rooms/room-registry.js';
import type { RequestData, RequestMethod, ResponseData } from './protocol.js';

/** What the signaling layer needs from the rest of the node, injected by the plugin. */
export interface SignalingDeps {
  config: Config;
  rooms: RoomRegistry;
  verifier: TokenVerifier;
  metrics: SignalingObserver;
  log: Logger;
  /** Where rooms live: this node alone, or the cluster. Set once the node knows its address. */
  router: RoomRouter;
  /** Cross-region participants attach here instead of being redirected (cluster.spanRegions). */
  spanRegions: boolean;
}

/** Metrics hooks; bounded labels only (method names from the protocol, error codes). */
export interface SignalingObserver {
  request(method: string): void;
  error(method: string, code: string): void;
  joined(seconds: number): void;
}

/** The session as handlers see it. */
export interface SessionContext {
  readonly deps: SignalingDeps;
  readonly log: Logger;
  readonly notify: Notify;
  attach(peer: Peer, room: Room): void;
  detach(peer: Peer): void;
  /** Runs after the response is on the wire (e.g. newConsumer must follow createTransport's response). */
  afterResponse(job: () => Promise<unknown> | void): void;
}

export interface JoinedContext extends SessionContext {
  readonly peer: Peer;
  readonly room: Room;
}

type Ctx<M extends RequestMethod> = M extends 'join' ? SessionContext : JoinedContext;

export interface Handler<M extends RequestMethod> {
  /** The grant this request needs, checked before it runs (undefined: none beyond having joined). */
  grant?: Grant | ((data: RequestData<M>, ctx: JoinedContext) => Grant | undefined);
  /** For the protocol document, when `grant` is a function. */
  grantDoc?: string;
  run(ctx: Ctx<M>, data: RequestData<M>): Promise<ResponseData<M>>;
}

export type HandlerMap<M extends RequestMethod = RequestMethod> = { [K in M]: Handler<K> };

export const hasGrant = (grants: Grants, grant: Grant | undefined) => !grant || grants[grant];
