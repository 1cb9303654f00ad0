import type { HandlerMap } from '../handler.js';

export const evidenceHandlers: HandlerMap<'takeSnapshot'> = {
  takeSnapshot: {
    grant: 'snapshot',
    async run(ctx, { peerId, producerId }) {
      const { settings } = ctx.room;
      // The room that hosts the subject announces it, to this node's peers too.
      return ctx.deps.evidence.snapshot(settings.tenant, settings.name, peerId, producerId, ctx.peer.id);
    },
  },
};
