import { CodedError } from '../common/errors.js';
import type { NodeMethod, NodeRequest, NodeResponse } from './bus-messages.js';

export type RpcHandler<M extends NodeMethod> = (req: NodeRequest<M>, from: string) => Promise<NodeResponse<M>>;

/** Requests from this node to another one, and the answers this node gives: the signed bus in a cluster. */
export interface NodeLink {
  onRpc<M extends NodeMethod>(method: M, handler: RpcHandler<M>): void;
  rpc<M extends NodeMethod>(nodeId: string, method: M, req: NodeRequest<M>, timeoutMs?: number): Promise<NodeResponse<M>>;
}

/** A node with no others: there is nobody to ask. */
export class LoneNode implements NodeLink {
  onRpc() {}

  async rpc<M extends NodeMethod>(nodeId: string, method: M): Promise<NodeResponse<M>> {
    throw new CodedError('NODE_UNREACHABLE', `no node ${nodeId} to ask ${method}: this node runs alone`);
  }
}
