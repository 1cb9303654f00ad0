import type { HandlerMap } from '../handler.js';

export const statsHandlers: HandlerMap<'getStats'> = {
  getStats: {
    async run(ctx, { target, id }) {
      const stats = await ctx.peer.find(target, id).getStats();
      return { stats };
    },
  },
};
