import type { HandlerMap } from '../handler.js';

/** The call's voice assistant (an agent worker with the assist grant) keeps its conversation, hands over, records evidence, ends the call. */
export const assistantHandlers: HandlerMap<'assistantSave' | 'handOver' | 'startEvidence' | 'finishEvidence' | 'endCall'> = {
  assistantSave: {
    grant: 'assist',
    async run(ctx, data) {
      ctx.deps.assistants.save(ctx.room, data);
      return {};
    },
  },

  handOver: {
    grant: 'assist',
    async run(ctx, { outcome }) {
      await ctx.deps.assistants.handOver(ctx.room, outcome);
      return {};
    },
  },

  startEvidence: {
    grant: 'assist',
    async run(ctx, { peerId }) {
      return ctx.deps.assistants.startEvidence(ctx.room, ctx.room.peers.get(peerId), peerId);
    },
  },

  finishEvidence: {
    grant: 'assist',
    async run(ctx, { evidenceId }) {
      return ctx.deps.assistants.finishEvidence(ctx.room, evidenceId);
    },
  },

  endCall: {
    grant: 'assist',
    async run(ctx) {
      await ctx.deps.assistants.endCall(ctx.room);
      return {};
    },
  },
};
