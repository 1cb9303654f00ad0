import type { Grant, Grants } from '../auth/grants.js';
import type { LogLimiter } from '../common/log-limiter.js';
import type { RateLimiter } from '../common/rate-limiter.js';
import type { TokenVerifier } from '../auth/tokens.js';
import type { RoomAllocator } from '../cluster/allocator.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logging/logger.js';
import type { Peer, PeerSession } from '../rooms/peer.js';
import type { Room } from '../rooms/room.js';
import type { RoomRegistry } from '../rooms/room-registry.js';
import type { EvidenceService } from '../egress/evidence-service.js';
import type { AssistantSessions } from '../agents/assistant-sessions.js';
import type { Tenants } from '../tenants/tenants.js';
import type { RequestData, RequestMethod, ResponseData } from '../contracts/protocol.js';
import type { QualityReport } from '../contracts/records.js';

/** What the signaling layer needs from the rest of the node, given to the plugin at construction. */
export interface SignalingDeps {
  config: Config;
  rooms: RoomRegistry;
  tenants: Tenants;
  verifier: TokenVerifier;
  /** Which node hosts a room: this one alone, or the cluster's choice. */
  allocator: RoomAllocator;
  metrics: SignalingObserver;
  log: Logger;
  /** join requests per client address (limits.joinsPerIpPerMinute). */
  joinLimiter: RateLimiter;
  /** Logs rejected client input without letting junk flood the log. */
  rejects: LogLimiter;
  /** Evidence the protocol can ask for (takeSnapshot), wherever in the cluster its subject is. */
  evidence: Pick<EvidenceService, 'snapshot'>;
  /** What the call's assistant asks of the node (its conversation, hand-over, evidence, the end of the call). */
  assistants: Pick<AssistantSessions, 'save' | 'handOver' | 'startEvidence' | 'finishEvidence' | 'endCall' | 'joinAnswer'>;
  /** Where the clients' quality reports go (the platform's ledger of each participant's stay). */
  quality: { report(room: Room, peer: Peer, report: QualityReport): void };
}

/** Metrics hooks; bounded labels only (method names from the protocol, error codes). */
export interface SignalingObserver {
  request(method: string): void;
  error(method: string, code: string): void;
  joined(seconds: number): void;
  /** A socket closed because its client stopped reading. */
  slowReader(): void;
}

/** The session as handlers see it. */
export interface SessionContext {
  readonly deps: SignalingDeps;
  readonly log: Logger;
  /** The client's address (for per-address limits). */
  readonly ip: string;
  /** The session as its peer sees it: notifications, its work queue, removal. */
  readonly session: PeerSession;
  /** The session now speaks for `peer` in `room`; false when its socket has closed meanwhile. */
  enter(peer: Peer, room: Room): boolean;
  /** The session no longer speaks for a peer (it left). */
  leave(): void;
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
