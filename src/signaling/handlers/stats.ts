import type { ResponseData } from '../../contracts/protocol.js';
import type { HandlerMap } from '../handler.js';
import { withClientParameters } from '../../media/media-errors.js';

export const statsHandlers: HandlerMap<'getStats' | 'reportQuality'> = {
  getStats: {
    async run(ctx, { target, id }) {
      const stats: unknown[] = await withClientParameters<unknown[]>(ctx.peer.find(target, id).getStats());
      return { stats: stats as ResponseData<'getStats'>['stats'] };
    },
  },

  reportQuality: {
    async run(ctx, report) {
      ctx.deps.quality.report(ctx.room, ctx.peer, report);
      return {};
    },
  },
};
