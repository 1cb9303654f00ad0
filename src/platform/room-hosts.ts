import { CodedError, isErrorCode } from '../common/errors.js';
import type { NodeMethod, NodeRequest, NodeResponse } from '../cluster/bus-messages.js';
import { RemoteError } from '../cluster/cluster-bus.js';
import type { NodeLink } from '../cluster/node-link.js';
import type { RoomDirectory } from '../rooms/directory.js';
import type { RoomKey } from '../rooms/room-key.js';

type Handler<M extends NodeMethod> = (req: NodeRequest<M>) => Promise<NodeResponse<M>>;

/**
 * Runs an API operation where a room is: on each node that hosts part of it, here directly and
 * elsewhere over the node link. An operation is defined once (`define`); the same handler
 * answers this node's calls and the other nodes' requests, so both sides cannot drift apart.
 */
export class RoomHosts {
  private readonly handlers = new Map<NodeMethod, Handler<NodeMethod>>();

  constructor(private readonly directory: RoomDirectory, private readonly link: NodeLink) {}

  define<M extends NodeMethod>(method: M, handler: Handler<M>) {
    this.handlers.set(method, handler as unknown as Handler<NodeMethod>);
    this.link.onRpc(method, handler);
  }

  /** Runs `method` on every node that hosts part of room `key`. */
  async each<M extends NodeMethod>(key: RoomKey, method: M, req: NodeRequest<M>): Promise<NodeResponse<M>[]> {
    return Promise.all((await this.directory.hosts(key)).map((node) => this.on(node, method, req)));
  }

  /**
   * Runs `method` on every node that hosts part of room `key`, the room's owner last: what the
   * others' participants leave with (their records) reaches the owner before its part ends.
   */
  async eachOwnerLast<M extends NodeMethod>(key: RoomKey, method: M, req: NodeRequest<M>): Promise<NodeResponse<M>[]> {
    const [hosts, owner] = await Promise.all([this.directory.hosts(key), this.directory.ownerOf(key)]);
    const answers: NodeResponse<M>[] = await Promise.all(hosts.filter((n) => n !== owner).map((node) => this.on(node, method, req)));
    if (owner && hosts.includes(owner)) answers.push(await this.on(owner, method, req));
    return answers;
  }

  /**
   * Runs `method` on one node. Its refusals keep their code (a full node is NODE_FULL wherever
   * it is asked from); a node that cannot be reached is NODE_UNREACHABLE.
   */
  async on<M extends NodeMethod>(node: string, method: M, req: NodeRequest<M>): Promise<NodeResponse<M>> {
    if (node === this.directory.self.id) return (this.handlers.get(method) as unknown as Handler<M>)(req);
    try {
      return await this.link.rpc(node, method, req);
    } catch (err) {
      if (err instanceof RemoteError && isErrorCode(err.code)) throw new CodedError(err.code, err.message);
      if (err instanceof CodedError) throw err;
      throw new CodedError('NODE_UNREACHABLE', `node ${node} did not answer ${method}: ${(err as Error).message}`);
    }
  }
}
