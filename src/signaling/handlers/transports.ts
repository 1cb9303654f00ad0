import type { types } from 'mediasoup';
import type { Grants } from '../../auth/grants.js';
import type { HandlerMap } from '../handler.js';
import { withClientParameters } from '../../media/media-errors.js';

export const transportHandlers: HandlerMap<'createTransport' | 'createPlainTransport' | 'connectTransport' | 'closeTransport' | 'restartIce'> = {
  createTransport: {
    grant: ({ direction }, ctx) => (direction === 'recv' ? 'subscribe' : publishGrantOf(ctx.peer.claims.grants)),
    grantDoc: '`subscribe` for recv; any publish grant for send',
    async run(ctx, data) {
      return transportOptions(await ctx.peer.createTransport(data), data.direction);
    },
  },

  createPlainTransport: {
    grant: 'ingest',
    async run(ctx, data) {
      const transport = await ctx.peer.createPlainTransport(data);
      return {
        transportId: transport.id,
        ip: transport.tuple.localAddress,
        port: transport.tuple.localPort,
        ...(transport.rtcpTuple ? { rtcpPort: transport.rtcpTuple.localPort } : {}),
      };
    },
  },

  connectTransport: {
    async run(ctx, { transportId, dtlsParameters }) {
      await ctx.peer.connectTransport(transportId, dtlsParameters);
      return {};
    },
  },

  closeTransport: {
    async run(ctx, { transportId }) {
      ctx.peer.find('transport', transportId).close();
      return {};
    },
  },

  restartIce: {
    async run(ctx, { transportId }) {
      const iceParameters = await withClientParameters(ctx.peer.webRtcTransport(transportId).restartIce());
      return { iceParameters };
    },
  },
};

/** What the client needs to make its side of `transport` (createTransport's answer, and join's). */
export function transportOptions(transport: types.WebRtcTransport, direction: 'send' | 'recv') {
  return {
    transportId: transport.id,
    direction,
    iceParameters: transport.iceParameters,
    iceCandidates: transport.iceCandidates,
    dtlsParameters: transport.dtlsParameters,
    sctpParameters: transport.sctpParameters && withLegacySctpFields(transport.sctpParameters),
  };
}

/** Whether the grants allow a transport of this direction (createTransport's check). */
export const mayOpenTransport = (grants: Grants, direction: 'send' | 'recv') => (direction === 'recv' ? grants.subscribe : grants[publishGrantOf(grants)]);

/** A send transport needs some publish grant; which one depends on what is produced later. */
function publishGrantOf(grants: Grants) {
  if (grants.publishAudio) return 'publishAudio' as const;
  if (grants.publishVideo) return 'publishVideo' as const;
  return 'publishData' as const;
}

/** Protocol v1 keeps the pre-3.20 fields (OS, MIS, maxMessageSize) for older mediasoup-clients, until v2. */
function withLegacySctpFields(p: { port: number; maxSendMessageSize: number; maxReceiveMessageSize: number }) {
  return { port: p.port, maxSendMessageSize: p.maxSendMessageSize, maxReceiveMessageSize: p.maxReceiveMessageSize, OS: 1024, MIS: 1024, maxMessageSize: p.maxSendMessageSize };
}
