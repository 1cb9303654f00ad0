import { mintToken } from '../auth/tokens.js';
import { CodedError } from '../common/errors.js';
import type { Config } from '../config/schema.js';
import type { AgentView } from '../contracts/records.js';
import type { Logger } from '../logging/logger.js';
import type { UsageRow } from '../platform/store.js';
import type { RoomHosts } from '../platform/room-hosts.js';
import type { RoomDirectory } from '../rooms/directory.js';
import type { Peer, PeerInfo } from '../rooms/peer.js';
import type { Room } from '../rooms/room.js';
import { roomKey } from '../rooms/room-key.js';
import type { RoomRegistry } from '../rooms/room-registry.js';
import { newId } from '../rooms/room-settings.js';
import type { Tenant, Tenants } from '../tenants/tenants.js';
import type { AssistantSessions } from './assistant-sessions.js';
import type { AgentJob, AgentQueue } from './jobs.js';

/** The assistant's identity in every call. */
export const ASSISTANT_IDENTITY = 'assistant';
/** Its token lasts longer than any call (a worker that takes over reuses it). */
const TOKEN_TTL_SECONDS = 12 * 3600;
const SELLERS = new Set(['seller', 'agent']);

type Reason = AgentView['reason'];
interface Dispatch { job: AgentJob; reason: Reason; at: number; state: AgentView['state'] }

export interface DispatcherDeps {
  config: Config;
  tenants: Tenants;
  queue: AgentQueue;
  sessions: AssistantSessions;
  rooms: RoomRegistry;
  directory: RoomDirectory;
  hosts: RoomHosts;
  /** Agent time, metered per tenant. */
  usage(row: UsageRow): void;
  /** Counts a dispatch (/metrics). */
  dispatched(reason: Reason): void;
  log: Logger;
}

/**
 * When a call gets its assistant, decided by the room's owner from its tenant's assistant.join:
 * when a buyer joins; when a buyer has waited waitSeconds with no seller; or on request (POST
 * /v1/rooms/:room/agents). A dispatch turns the room's captions on (the assistant hears through
 * them; everyone is told), mints the assistant's token and queues its job; a worker takes it.
 * One assistant per call at a time, dispatched automatically once per call.
 */
export class AgentDispatcher {
  private readonly dispatches = new Map<Room, Dispatch>();
  private readonly waits = new Map<Room, NodeJS.Timeout>();

  constructor(private readonly deps: DispatcherDeps) {
    deps.hosts.define('api.agent', async ({ roomId, action }) => {
      const room = deps.rooms.get(roomId);
      if (!room) throw new CodedError('NOT_FOUND', `no room ${roomId}`);
      if (action === 'start') return this.start(room, 'request');
      if (action === 'stop') return { agent: await this.stop(room), created: false };
      return { agent: this.view(room), created: false };
    });
  }

  /** The API's side: on the room's owner, wherever it is asked. */
  async agent(tenant: Tenant, room: string, action: 'start' | 'stop' | 'get') {
    const key = roomKey(tenant.id, room);
    const owner = await this.deps.directory.ownerOf(key);
    if (!owner) throw new CodedError('NOT_FOUND', `no room ${room}`);
    return this.deps.hosts.on(owner, 'api.agent', { roomId: key, action });
  }

  observe(room: Room) {
    const tenant = this.deps.tenants.get(room.settings.tenant);
    if (!tenant) return;
    const { join, waitSeconds } = tenant.assistant;
    const arrived = (info: Pick<PeerInfo, 'role'>) => {
      if (!this.deps.directory.owns(room) || this.dispatches.has(room)) return;
      if (SELLERS.has(info.role)) {
        clearTimeout(this.waits.get(room));
        this.waits.delete(room);
        return;
      }
      if (info.role !== 'buyer') return;
      if (join === 'buyer-joined') void this.start(room, 'buyer-joined').catch((err) => room.log.warn({ err: (err as Error).message }, 'could not dispatch the assistant'));
      else if (join === 'seller-wait' && !this.waits.has(room) && !this.sellerIn(room)) {
        const timer = setTimeout(() => {
          this.waits.delete(room);
          if (!this.sellerIn(room) && !this.dispatches.has(room)) void this.start(room, 'seller-wait').catch((err) => room.log.warn({ err: (err as Error).message }, 'could not dispatch the assistant'));
        }, waitSeconds * 1000);
        timer.unref();
        this.waits.set(room, timer);
      }
    };
    room.on('peerJoined', (peer) => {
      if (peer.claims.grants.assist) return this.assistantJoined(room, peer);
      arrived(peer.claims);
    });
    room.on('remoteJoined', arrived);
    room.on('peerLeft', (peer) => {
      if (!peer.claims.grants.assist || peer.id !== ASSISTANT_IDENTITY) return;
      const d = this.dispatches.get(room);
      if (d) d.state = 'ended';
      // Agent time: each stay of the assistant in the call.
      const now = Date.now();
      this.deps.usage({ tenant: tenant.id, room: room.settings.name, callId: room.settings.callId, kind: 'agent', role: 'bot', startAt: peer.joinedAt, endAt: now, bytesIn: 0, bytesOut: 0 });
    });
    room.once('closed', () => {
      clearTimeout(this.waits.get(room));
      this.waits.delete(room);
      const d = this.dispatches.get(room);
      this.dispatches.delete(room);
      if (d && d.state !== 'ended') void this.deps.queue.cancel(d.job.jobId).catch(() => undefined);
    });
  }

  private sellerIn(room: Room) {
    return room.participants().some((p) => SELLERS.has(p.role));
  }

  private assistantJoined(room: Room, peer: Peer) {
    const d = this.dispatches.get(room);
    if (d && peer.id === ASSISTANT_IDENTITY) d.state = 'in-call';
  }

  private view(room: Room): AgentView | null {
    const d = this.dispatches.get(room);
    return d ? { jobId: d.job.jobId, state: d.state, reason: d.reason, dispatchedAt: new Date(d.at).toISOString() } : null;
  }

  /** Dispatches the room's assistant, unless one is on its way or in the call. */
  private async start(room: Room, reason: Reason): Promise<{ agent: AgentView; created: boolean }> {
    const current = this.dispatches.get(room);
    if (current && current.state !== 'ended') return { agent: this.view(room)!, created: false };
    const tenant = this.deps.tenants.get(room.settings.tenant)!;
    const buyer = room.participants().find((p) => p.role === 'buyer');
    const { token } = mintToken(this.deps.config.auth, {
      room: room.settings.name, identity: ASSISTANT_IDENTITY, name: tenant.assistant.name, role: 'bot',
      grants: { assist: true, snapshot: true, subscribe: true }, language: buyer?.language ?? tenant.language, ttlSeconds: TOKEN_TTL_SECONDS,
    }, tenant.id);
    const job: AgentJob = { jobId: newId('job'), tenant: tenant.id, room: room.settings.name, callId: room.settings.callId, url: this.deps.directory.self.url, token, attempt: 0 };
    // Its place is taken before anything is awaited: a second request finds it.
    this.dispatches.set(room, { job, reason, at: Date.now(), state: 'waiting' });
    room.enableCaptions();
    this.deps.sessions.open(room);
    try {
      await this.deps.queue.enqueue(job);
    } catch (err) {
      this.dispatches.delete(room);
      throw new CodedError('NODE_UNAVAILABLE', `the assistant could not be dispatched: ${(err as Error).message}`);
    }
    this.deps.dispatched(reason);
    room.log.info({ jobId: job.jobId, reason }, 'assistant dispatched');
    return { agent: this.view(room)!, created: true };
  }

  /** Stops the room's assistant: its job is cancelled, and it leaves the call now. */
  private async stop(room: Room) {
    const d = this.dispatches.get(room);
    if (!d) throw new CodedError('NOT_FOUND', 'this call has no assistant');
    d.state = 'ended';
    await this.deps.queue.cancel(d.job.jobId);
    const peer = room.peers.get(ASSISTANT_IDENTITY);
    if (peer?.claims.grants.assist) room.remove(peer, { code: 'REMOVED', message: 'the platform stopped the assistant', rejoin: false });
    return this.view(room);
  }
}
