import type { HandlerMap } from '../handler.js';

export const statsHandlers: HandlerMap<'getStats' | 'reportQuality'> = {
  getStats: {
    async run(ctx, { target, id }) {
      const stats = await ctx.peer.find(target, id).getStats();
      return { stats };
    },
  },

  reportQuality: {
    async run(ctx, report) {
      ctx.peer.reportQuality(report);
      return {};
    },
  },
};
