import type { types } from 'mediasoup';
import type { Peer } from '../../rooms/peer.js';
import { SignalingError } from '../errors.js';
import type { HandlerMap } from '../handler.js';

const MAX_PRODUCERS_PER_PEER = 16;

function sendTransport(peer: Peer, transportId: string) {
  const transport = peer.own('transport', transportId);
  if (transport.appData.direction !== 'send') throw new SignalingError('INVALID_STATE', 'produce needs a send transport');
  if (peer.producers.size + peer.dataProducers.size >= MAX_PRODUCERS_PER_PEER) {
    throw new SignalingError('INVALID_STATE', `at most ${MAX_PRODUCERS_PER_PEER} producers per peer`);
  }
  return transport;
}

const kindGrant = (kind: 'audio' | 'video') => (kind === 'audio' ? 'publishAudio' as const : 'publishVideo' as const);
const KIND_GRANT_DOC = '`publishAudio` or `publishVideo`, by the kind';

export const producerHandlers: HandlerMap<
  'produce' | 'produceData' | 'pauseProducer' | 'resumeProducer' | 'closeProducer' | 'closeDataProducer'
> = {
  produce: {
    grant: ({ kind }) => kindGrant(kind),
    grantDoc: KIND_GRANT_DOC,
    async run(ctx, { transportId, kind, rtpParameters, paused, appData }) {
      const { peer, room } = ctx;
      const producer = await sendTransport(peer, transportId).produce({
        kind,
        rtpParameters: rtpParameters as types.RtpParameters,
        paused,
        appData: { ...appData, peerId: peer.id },
      });
      room.addProducer(peer, producer);
      ctx.afterResponse(() => room.producerAdded(peer, producer));
      return { producerId: producer.id };
    },
  },

  produceData: {
    grant: 'publishData',
    async run(ctx, { transportId, sctpStreamParameters, label, protocol, appData }) {
      const { peer, room } = ctx;
      const transport = sendTransport(peer, transportId);
      if (!transport.sctpParameters) throw new SignalingError('INVALID_STATE', 'the transport was created with enableSctp: false');
      const dataProducer = await transport.produceData({ sctpStreamParameters, label, protocol, appData: { ...appData, peerId: peer.id } });
      room.addDataProducer(peer, dataProducer);
      ctx.afterResponse(() => room.dataProducerAdded(peer, dataProducer));
      return { dataProducerId: dataProducer.id };
    },
  },

  pauseProducer: {
    grant: ({ producerId }, ctx) => kindGrant(ctx.peer.own('producer', producerId).kind),
    grantDoc: KIND_GRANT_DOC,
    async run(ctx, { producerId }) {
      await ctx.peer.own('producer', producerId).pause();
      return {};
    },
  },

  resumeProducer: {
    grant: ({ producerId }, ctx) => kindGrant(ctx.peer.own('producer', producerId).kind),
    grantDoc: KIND_GRANT_DOC,
    async run(ctx, { producerId }) {
      await ctx.peer.own('producer', producerId).resume();
      return {};
    },
  },

  closeProducer: {
    async run(ctx, { producerId }) {
      ctx.peer.own('producer', producerId).close();
      return {};
    },
  },

  closeDataProducer: {
    async run(ctx, { dataProducerId }) {
      ctx.peer.own('dataProducer', dataProducerId).close();
      return {};
    },
  },
};
