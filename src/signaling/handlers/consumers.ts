import type { HandlerMap } from '../handler.js';
import { withClientParameters } from '../../media/media-errors.js';
import { CodedError } from '../../common/errors.js';

export const consumerHandlers: HandlerMap<
  'consume' | 'pauseConsumer' | 'resumeConsumer' | 'closeConsumer' | 'setConsumerPreferredLayers' | 'requestKeyFrame'
> = {
  consume: {
    grant: 'subscribe',
    async run(ctx, { producerId }) {
      return ctx.room.consumeById(ctx.peer, producerId);
    },
  },

  pauseConsumer: {
    grant: 'subscribe',
    async run(ctx, { consumerId }) {
      await withClientParameters(ctx.peer.find('consumer', consumerId).pause());
      return {};
    },
  },

  resumeConsumer: {
    grant: 'subscribe',
    async run(ctx, { consumerId }) {
      await withClientParameters(ctx.peer.find('consumer', consumerId).resume());
      return {};
    },
  },

  closeConsumer: {
    async run(ctx, { consumerId }) {
      ctx.peer.find('consumer', consumerId).close();
      return {};
    },
  },

  setConsumerPreferredLayers: {
    grant: 'subscribe',
    async run(ctx, { consumerId, spatialLayer, temporalLayer }) {
      const consumer = ctx.peer.find('consumer', consumerId);
      if (consumer.type !== 'simulcast' && consumer.type !== 'svc') {
        throw new CodedError('INVALID_STATE', `a ${consumer.type} consumer has no layers to choose`);
      }
      await withClientParameters(ctx.room.layers.choose(consumer, { spatialLayer, temporalLayer }));
      return {};
    },
  },

  requestKeyFrame: {
    grant: 'subscribe',
    async run(ctx, { consumerId }) {
      const consumer = ctx.peer.find('consumer', consumerId);
      if (consumer.kind !== 'video') throw new CodedError('INVALID_STATE', 'key frames are for video consumers');
      await withClientParameters(consumer.requestKeyFrame());
      return {};
    },
  },
};
