import type { NodeRef } from '../cluster/allocator.js';
import type { NodeMethod, NodeRequest, NodeResponse } from '../cluster/bus-messages.js';
import type { Cluster } from '../cluster/cluster.js';
import { RemoteError } from '../cluster/cluster-bus.js';
import type { RoomRegistry } from '../rooms/room-registry.js';
import type { RoomSettings } from '../rooms/room-settings.js';
import { ApiError, isApiErrorCode } from './api-errors.js';

type Handler<M extends NodeMethod> = (req: NodeRequest<M>) => Promise<NodeResponse<M>>;

/**
 * Runs an API operation where a room is: on each node that hosts part of it, here directly and
 * elsewhere over the signed bus. An operation is defined once (`define`); the same handler
 * answers this node's calls and the other nodes' requests, so both sides cannot drift apart.
 */
export class RoomHosts {
  private readonly handlers = new Map<NodeMethod, Handler<NodeMethod>>();

  constructor(private readonly rooms: RoomRegistry, private readonly self: NodeRef, private readonly cluster: Cluster | undefined) {}

  define<M extends NodeMethod>(method: M, handler: Handler<M>) {
    this.handlers.set(method, handler as unknown as Handler<NodeMethod>);
    this.cluster?.bus.onRpc(method, handler);
  }

  /** The room's settings, here or as its owner published them; undefined when there is no such room. */
  async settings(key: string): Promise<RoomSettings | undefined> {
    return this.rooms.get(key)?.settings ?? (await this.cluster?.store.settings(key));
  }

  /** The nodes that host part of the room (just this one, alone). */
  async hosts(key: string): Promise<string[]> {
    const hosts = this.cluster ? await this.cluster.store.hosts(key) : [this.self.id];
    if (this.rooms.get(key) && !hosts.includes(this.self.id)) hosts.push(this.self.id);
    return hosts;
  }

  /** Runs `method` on every node that hosts part of room `key`. */
  async each<M extends NodeMethod>(key: string, method: M, req: NodeRequest<M>): Promise<NodeResponse<M>[]> {
    return Promise.all((await this.hosts(key)).map((node) => this.on(node, method, req)));
  }

  /**
   * Runs `method` on one node. Its refusals keep their code (a full node is NODE_FULL wherever
   * it is asked from); a node that cannot be reached is NODE_UNREACHABLE.
   */
  async on<M extends NodeMethod>(node: string, method: M, req: NodeRequest<M>): Promise<NodeResponse<M>> {
    if (node === this.self.id || !this.cluster) return (this.handlers.get(method) as unknown as Handler<M>)(req);
    try {
      return await this.cluster.bus.rpc(node, method, req);
    } catch (err) {
      if (err instanceof RemoteError && err.code && isApiErrorCode(err.code)) throw new ApiError(err.code, err.message);
      throw new ApiError('NODE_UNREACHABLE', `node ${node} did not answer ${method}: ${(err as Error).message}`);
    }
  }
}
