import type { HandlerMap } from '../handler.js';

export const evidenceHandlers: HandlerMap<'takeSnapshot'> = {
  takeSnapshot: {
    grant: 'snapshot',
    async run(ctx, { peerId, producerId }) {
      const { settings } = ctx.room;
      const snapshot = await ctx.deps.evidence.snapshot(settings.tenant, settings.name, peerId, producerId, ctx.peer.id);
      // The node that hosts the subject told its own peers; these are told here.
      if (!ctx.room.peers.has(peerId)) ctx.room.broadcast('snapshotTaken', { snapshotId: snapshot.snapshotId, peerId, takenBy: ctx.peer.id, at: Date.parse(snapshot.takenAt) });
      return snapshot;
    },
  },
};
