import type { TransportAppData } from '../../rooms/peer.js';
import { SignalingError } from '../errors.js';
import type { HandlerMap } from '../handler.js';

const MAX_TRANSPORTS_PER_PEER = 4;

export const transportHandlers: HandlerMap<'createTransport' | 'connectTransport' | 'closeTransport' | 'restartIce'> = {
  createTransport: {
    grant: ({ direction }, ctx) => (direction === 'recv' ? 'subscribe' : publishGrantOf(ctx.peer.identity.grants)),
    grantDoc: '`subscribe` for recv; any publish grant for send',
    async run(ctx, { direction, enableSctp = true, forceTcp }) {
      const { peer, room } = ctx;
      if (peer.transports.size >= MAX_TRANSPORTS_PER_PEER) {
        throw new SignalingError('INVALID_STATE', `at most ${MAX_TRANSPORTS_PER_PEER} transports per peer; close one first`);
      }
      const wasReady = peer.canReceive;
      const transport = await peer.router.createWebRtcTransport<TransportAppData>({
        webRtcServer: peer.routerEntry.slot.webRtcServer,
        enableUdp: !forceTcp,
        enableTcp: true,
        preferUdp: true,
        enableSctp,
        initialAvailableOutgoingBitrate: ctx.deps.config.media.initialOutgoingBitrate,
        appData: { direction, connected: false },
      });
      peer.transports.set(transport.id, transport);
      transport.observer.on('close', () => peer.transports.delete(transport.id));
      transport.on('dtlsstatechange', (state) => {
        if (state === 'failed' || state === 'closed') peer.log.warn({ transportId: transport.id, state }, 'transport DTLS ended');
      });
      transport.on('icestatechange', (state) => peer.log.debug({ transportId: transport.id, state }, 'ICE state'));
      if (!wasReady && peer.canReceive) ctx.afterResponse(() => room.subscribeToAll(peer));
      return {
        transportId: transport.id,
        direction,
        iceParameters: transport.iceParameters,
        iceCandidates: transport.iceCandidates.map((c) => ({ ...c, tcpType: c.tcpType ?? undefined })),
        dtlsParameters: transport.dtlsParameters,
        sctpParameters: transport.sctpParameters && withLegacySctpFields(transport.sctpParameters),
      } as never;
    },
  },

  connectTransport: {
    async run(ctx, { transportId, dtlsParameters }) {
      const transport = ctx.peer.own('transport', transportId);
      if (transport.appData.connected) throw new SignalingError('INVALID_STATE', 'transport is already connected');
      transport.appData.connected = true;
      try {
        await transport.connect({ dtlsParameters: dtlsParameters as never });
      } catch (err) {
        transport.appData.connected = false;
        throw err;
      }
      return {};
    },
  },

  closeTransport: {
    async run(ctx, { transportId }) {
      ctx.peer.own('transport', transportId).close();
      return {};
    },
  },

  restartIce: {
    async run(ctx, { transportId }) {
      const iceParameters = await ctx.peer.own('transport', transportId).restartIce();
      return { iceParameters };
    },
  },
};

/** A send transport needs some publish grant; which one depends on what is produced later. */
function publishGrantOf(grants: { publishAudio: boolean; publishVideo: boolean; publishData: boolean }) {
  if (grants.publishAudio) return 'publishAudio' as const;
  if (grants.publishVideo) return 'publishVideo' as const;
  return 'publishData' as const;
}

/** Protocol v1 keeps the pre-3.20 fields (OS, MIS, maxMessageSize) for older mediasoup-clients, until v2. */
function withLegacySctpFields(p: { port: number; maxSendMessageSize: number; maxReceiveMessageSize: number }) {
  return { port: p.port, maxSendMessageSize: p.maxSendMessageSize, maxReceiveMessageSize: p.maxReceiveMessageSize, OS: 1024, MIS: 1024, maxMessageSize: p.maxSendMessageSize };
}
