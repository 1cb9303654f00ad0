import { Type, type Static } from '@sinclair/typebox';
import { literals } from '../common/literals.js';

export const Grants = Type.Object({
  publishAudio: Type.Boolean(),
  publishVideo: Type.Boolean(),
  publishData: Type.Boolean(),
  subscribe: Type.Boolean(),
  admin: Type.Boolean(),
  /** Capture stills of others' video (takeSnapshot). */
  snapshot: Type.Boolean(),
  /** Send media over plain RTP (createPlainTransport), for bots. */
  ingest: Type.Boolean(),
  /** Act as the call's assistant: keep its conversation, hand over, record evidence clips, end the call (the node's own assistant has it). */
  assist: Type.Boolean(),
}, { title: 'Grants' });
export type Grants = Static<typeof Grants>;
export type Grant = keyof Grants;
/** Some grants, to change a role's defaults: only the grants above (an unknown one is refused). */
export const GrantChanges = Type.Partial(Grants, { additionalProperties: false, title: 'GrantChanges' });
const GRANT_NAMES = Object.keys(Grants.properties) as Grant[];
/** A role's grants with a token's changes, known grants only. */
export const grantsOf = (role: Role, changes: Partial<Record<string, unknown>> = {}): Grants =>
  Object.fromEntries(GRANT_NAMES.map((g) => [g, typeof changes[g] === 'boolean' ? changes[g] : DEFAULT_GRANTS[role][g]])) as Grants;

export const Role = literals(['buyer', 'seller', 'agent', 'bot', 'observer'], {
  title: 'Role',
  description: 'buyer and seller are the two sides of an after-sales call; agent is support staff; bot is an AI service (triage, transcription); observer only watches.',
});
export type Role = Static<typeof Role>;

const all = { publishAudio: true, publishVideo: true, publishData: true, subscribe: true, admin: false, snapshot: false, ingest: false, assist: false };

/** What a role may do when its token names no grants of its own. */
export const DEFAULT_GRANTS: Record<Role, Grants> = {
  buyer: all,
  seller: { ...all, snapshot: true },
  agent: { ...all, snapshot: true },
  bot: { publishAudio: true, publishVideo: false, publishData: true, subscribe: true, admin: false, snapshot: true, ingest: true, assist: false },
  observer: { publishAudio: false, publishVideo: false, publishData: false, subscribe: true, admin: false, snapshot: false, ingest: false, assist: false },
};
