import { Type, type Static } from '@sinclair/typebox';
import { literals } from '../common/literals.js';

export const Grants = Type.Object({
  publishAudio: Type.Boolean(),
  publishVideo: Type.Boolean(),
  publishData: Type.Boolean(),
  subscribe: Type.Boolean(),
  admin: Type.Boolean(),
}, { title: 'Grants' });
export type Grants = Static<typeof Grants>;
export type Grant = keyof Grants;

export const Role = literals(['buyer', 'seller', 'agent', 'bot', 'observer'], {
  title: 'Role',
  description: 'buyer and seller are the two sides of an after-sales call; agent is support staff; bot is an AI service (triage, transcription); observer only watches.',
});
export type Role = Static<typeof Role>;

const all = { publishAudio: true, publishVideo: true, publishData: true, subscribe: true, admin: false };

/** What a role may do when its token names no grants of its own. */
export const DEFAULT_GRANTS: Record<Role, Grants> = {
  buyer: all,
  seller: all,
  agent: all,
  bot: { publishAudio: true, publishVideo: false, publishData: true, subscribe: true, admin: false },
  observer: { publishAudio: false, publishVideo: false, publishData: false, subscribe: true, admin: false },
};
