import { TokenError } from '../../auth/tokens.js';
import { Peer } from '../../rooms/peer.js';
import type { Room } from '../../rooms/room.js';
import { SignalingError } from '../errors.js';
import type { HandlerMap, SessionContext } from '../handler.js';

const JOIN_ATTEMPTS = 3;

export const roomHandlers: HandlerMap<'join' | 'setRtpCapabilities' | 'kickPeer' | 'leave'> = {
  join: {
    async run(ctx, { token, autoSubscribe }) {
      const started = performance.now();
      let identity;
      try {
        identity = ctx.deps.verifier.verify(token);
      } catch (err) {
        if (err instanceof TokenError) throw new SignalingError(err.code, err.message);
        throw err;
      }
      // Placement: a region from the token, else this node's (a buyer reaches the node nearest them).
      const placement = await ctx.deps.router.place(identity.room, identity.region);
      const { router, spanRegions } = ctx.deps;
      if (!placement.local && !(spanRegions && placement.node.region !== router.self.region)) {
        const { id: nodeId, region, url } = placement.node;
        throw new SignalingError('REDIRECT', `room ${identity.room} is hosted on node ${nodeId}`, { nodeId, region, url });
      }
      // A room can close between lookup and entry (its last peer left): try again.
      for (let attempt = 1; ; attempt++) {
        const room = await ctx.deps.rooms.getOrCreate(identity.room, placement.local);
        try {
          const peer = await enter(ctx, room, identity, autoSubscribe ?? true);
          if (peer) {
            ctx.deps.metrics.joined((performance.now() - started) / 1000);
            return {
              peerId: peer.id,
              roomId: room.id,
              role: identity.role,
              grants: identity.grants,
              routerRtpCapabilities: room.media.rtpCapabilities as never,
              peers: room.peerInfos(peer),
            };
          }
        } finally {
          if (room.peers.size === 0) room.close();
        }
        if (attempt === JOIN_ATTEMPTS) throw new SignalingError('NODE_UNAVAILABLE', 'the room kept closing while joining');
      }
    },
  },

  setRtpCapabilities: {
    async run(ctx, { rtpCapabilities }) {
      const wasReady = ctx.peer.canReceive;
      ctx.peer.rtpCapabilities = rtpCapabilities as never;
      if (!wasReady && ctx.peer.canReceive) ctx.afterResponse(() => ctx.room.subscribeToAll(ctx.peer));
      return {};
    },
  },

  kickPeer: {
    grant: 'admin',
    async run(ctx, { peerId }) {
      const target = ctx.room.peers.get(peerId);
      if (!target) throw new SignalingError('NOT_FOUND', `no peer ${peerId} in this room`);
      ctx.room.remove(target, { code: 'KICKED', message: `removed by ${ctx.peer.id}`, rejoin: false });
      return {};
    },
  },

  leave: {
    async run(ctx) {
      const { room, peer } = ctx;
      ctx.detach(peer);
      room.remove(peer);
      return {};
    },
  },
};

async function enter(ctx: SessionContext, room: Room, identity: Peer['identity'], autoSubscribe: boolean) {
  const entry = await room.media.assignRouter();
  if (room.closed) {
    room.media.releaseRouter(entry);
    return undefined;
  }
  const log = ctx.log.child({ roomId: room.id, peerId: identity.identity });
  let peer: Peer;
  peer = new Peer(identity, entry, autoSubscribe, ctx.notify, log, (code, message, rejoin) => {
    ctx.detach(peer);
    peer.notify('disconnected', { code, message, rejoin });
  });
  room.add(peer);
  ctx.attach(peer, room);
  return peer;
}
