import type { HandlerMap } from '../handler.js';
import { withClientParameters } from '../../media/media-errors.js';

const kindGrant = (kind: 'audio' | 'video') => (kind === 'audio' ? 'publishAudio' as const : 'publishVideo' as const);
const KIND_GRANT_DOC = '`publishAudio` or `publishVideo`, by the kind';

export const producerHandlers: HandlerMap<
  'produce' | 'produceData' | 'pauseProducer' | 'resumeProducer' | 'closeProducer' | 'closeDataProducer' | 'setMaxSpatialLayer'
> = {
  produce: {
    grant: ({ kind }) => kindGrant(kind),
    grantDoc: KIND_GRANT_DOC,
    async run(ctx, data) {
      const producer = await ctx.peer.produce(data);
      return { producerId: producer.id };
    },
  },

  produceData: {
    grant: 'publishData',
    async run(ctx, data) {
      const dataProducer = await ctx.peer.produceData(data);
      return { dataProducerId: dataProducer.id };
    },
  },

  pauseProducer: {
    grant: ({ producerId }, ctx) => kindGrant(ctx.peer.find('producer', producerId).kind),
    grantDoc: KIND_GRANT_DOC,
    async run(ctx, { producerId }) {
      await withClientParameters(ctx.peer.find('producer', producerId).pause());
      return {};
    },
  },

  setMaxSpatialLayer: {
    grant: 'publishVideo',
    async run(ctx, { producerId, spatialLayer }) {
      return ctx.room.limitLayers(ctx.peer, producerId, spatialLayer);
    },
  },

  resumeProducer: {
    grant: ({ producerId }, ctx) => kindGrant(ctx.peer.find('producer', producerId).kind),
    grantDoc: KIND_GRANT_DOC,
    async run(ctx, { producerId }) {
      await withClientParameters(ctx.peer.find('producer', producerId).resume());
      return {};
    },
  },

  closeProducer: {
    async run(ctx, { producerId }) {
      ctx.peer.find('producer', producerId).close();
      return {};
    },
  },

  closeDataProducer: {
    async run(ctx, { dataProducerId }) {
      ctx.peer.find('dataProducer', dataProducerId).close();
      return {};
    },
  },
};
