import type { HandlerMap } from '../handler.js';

/** Chat for clients without data channels (bots): bridged to the SDK's "chat" data channel label. */
export const chatHandlers: HandlerMap<'sendChat' | 'subscribeChat'> = {
  sendChat: {
    grant: 'publishData',
    async run(ctx, { text }) {
      await ctx.room.sendChat(ctx.peer, text);
      return {};
    },
  },

  subscribeChat: {
    async run(ctx) {
      await ctx.room.subscribeChat(ctx.peer);
      return {};
    },
  },
};
