import { TokenError } from '../../auth/tokens.js';
import type { Config } from '../../config/schema.js';
import { newRoomSettings } from '../../rooms/room-settings.js';
import { iceServersFor } from '../../turn/credentials.js';
import { roomKey } from '../../rooms/room-key.js';
import type { HandlerMap } from '../handler.js';
import { mayOpenTransport, transportOptions } from './transports.js';
import { CodedError } from '../../common/errors.js';

const JOIN_ATTEMPTS = 3;

/** TURN for this participant; relay-only when asked and a TURN server is there to relay. */
function iceFor(turn: Config['turn'], identity: string, relay: boolean) {
  const iceServers = iceServersFor(turn, identity);
  return { iceServers, iceTransportPolicy: relay && iceServers.some((s) => s.credential) ? 'relay' as const : 'all' as const };
}

export const roomHandlers: HandlerMap<'join' | 'setRtpCapabilities' | 'setLanguage' | 'kickPeer' | 'leave'> = {
  join: {
    async run(ctx, { token, autoSubscribe, resume, transports }) {
      const started = performance.now();
      if (!ctx.deps.joinLimiter.take(ctx.ip)) throw new CodedError('RATE_LIMITED', 'too many joins from this address; wait and try again');
      let claims;
      try {
        claims = ctx.deps.verifier.verify(token);
      } catch (err) {
        if (err instanceof TokenError) throw new CodedError(err.code, err.message);
        throw err;
      }
      const tenant = ctx.deps.tenants.get(claims.tenant);
      if (!tenant) throw new CodedError('TOKEN_INVALID', `the token's tenant ${claims.tenant} is not served here`);
      const key = roomKey(claims.tenant, claims.room);
      // Placement near the token's region, else near this node (the buyer reached the node nearest them).
      const allocation = await ctx.deps.allocator.allocate(key, claims.region);
      if (allocation.kind === 'redirect') {
        const { id: nodeId, region, url } = allocation.node;
        throw new CodedError('REDIRECT', `room ${claims.room} is hosted on node ${nodeId}`, { nodeId, region, url });
      }
      // A room can close between lookup and entry (its last peer left): try again.
      for (let attempt = 1; attempt <= JOIN_ATTEMPTS; attempt++) {
        const { room } = await ctx.deps.rooms.getOrCreate(key, () => newRoomSettings(tenant, claims.room));
        const resumed = resume ? room.resume(claims, ctx.session) : undefined;
        const log = ctx.log.child({ roomId: room.id, peerId: claims.identity });
        const peer = resumed ?? (await room.join(claims, autoSubscribe ?? true, ctx.session, log));
        if (!peer) continue;
        // The socket died while joining: nothing of this join may stay behind.
        if (!ctx.enter(peer, room)) {
          room.remove(peer, undefined, 'socket closed while joining');
          throw new CodedError('NOT_JOINED', 'the socket closed while joining');
        }
        // The transports asked for, made with the join (a round trip each saved); none on a resume.
        const directions = resumed ? [] : (transports ?? []).filter((d) => mayOpenTransport(claims.grants, d));
        let opened;
        try {
          opened = await Promise.all(directions.map(async (direction) => transportOptions(await peer.createTransport({ direction }), direction)));
        } catch (err) {
          ctx.leave();
          room.remove(peer, undefined, 'its transports could not be created');
          throw err;
        }
        ctx.deps.metrics.joined((performance.now() - started) / 1000);
        return {
          peerId: peer.id,
          roomId: room.settings.name,
          role: claims.role,
          grants: claims.grants,
          routerRtpCapabilities: room.media.rtpCapabilities,
          peers: room.participants(peer),
          metadata: room.settings.metadata,
          captions: { enabled: room.settings.captions === true, language: peer.language },
          ...iceFor(ctx.deps.config.turn, claims.identity, claims.relay || tenant.forceRelay),
          ...(claims.grants.assist ? { assistant: ctx.deps.assistants.joinAnswer(room, Boolean(resumed)) } : {}),
          ...(resumed ? { resumed: resumed.inventory() } : {}),
          ...(opened.length ? { transports: opened } : {}),
        };
      }
      throw new CodedError('NODE_UNAVAILABLE', 'the room kept closing while joining');
    },
  },

  setRtpCapabilities: {
    async run(ctx, { rtpCapabilities }) {
      ctx.peer.setRtpCapabilities(rtpCapabilities);
      return {};
    },
  },

  setLanguage: {
    async run(ctx, { language }) {
      ctx.room.setLanguage(ctx.peer, language);
      return {};
    },
  },

  kickPeer: {
    grant: 'admin',
    async run(ctx, { peerId }) {
      const target = ctx.room.peers.get(peerId);
      if (!target) throw new CodedError('NOT_FOUND', `no peer ${peerId} in this room`);
      ctx.room.remove(target, { code: 'KICKED', message: `removed by ${ctx.peer.id}`, rejoin: false });
      return {};
    },
  },

  leave: {
    async run(ctx) {
      const { room, peer } = ctx;
      ctx.leave();
      await room.leave(peer);
      return {};
    },
  },
};
