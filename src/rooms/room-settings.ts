import { randomUUID } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { Metadata } from '../contracts/records.js';
import type { Tenant } from '../tenants/tenants.js';

/** A recording running in a room: of everyone, or of one participant. */
export const RecordingSpec = Type.Object({
  id: Type.String({ maxLength: 64 }),
  identity: Type.Union([Type.String({ maxLength: 128 }), Type.Null()], { description: 'null: everyone in the room.' }),
  startedAt: Type.Integer(),
});
export type RecordingSpec = Static<typeof RecordingSpec>;

/**
 * What a room is for and how it lives: set when it is created (by a join, or by the API). In
 * a cluster the room's owner publishes them, and every node's part of the room takes them.
 */
export const RoomSettings = Type.Object({
  tenant: Type.String({ maxLength: 32 }),
  /** The room's name in its tenant (what clients see as roomId). */
  name: Type.String({ maxLength: 128 }),
  /** One life of the room: a new call id each time the room is created. */
  callId: Type.String({ maxLength: 64 }),
  metadata: Metadata,
  maxParticipants: Type.Integer({ minimum: 1 }),
  /** Empty (no participant here, nothing holding it) this long, the room closes. 0: at once. */
  emptyTimeoutMs: Type.Integer({ minimum: 0 }),
  createdAt: Type.Integer(),
  /** The recordings running now. The only part that changes: the owner republishes it. */
  recordings: Type.Array(RecordingSpec, { maxItems: 64 }),
  /** Its participants' speech is captioned and its chat translated. */
  captions: Type.Optional(Type.Boolean()),
});
export type RoomSettings = Static<typeof RoomSettings>;

export const newId = (prefix: string) => `${prefix}_${Date.now().toString(36)}${randomUUID().replace(/-/g, '').slice(0, 12)}`;

/** A new call's settings: the tenant's limits, and a recording from the start if the tenant records every room. */
export function newRoomSettings(tenant: Tenant, name: string, opts: { metadata?: Metadata; maxParticipants?: number; emptyTimeoutMs?: number; captions?: boolean } = {}): RoomSettings {
  const createdAt = Date.now();
  return {
    tenant: tenant.id,
    name,
    callId: randomUUID(),
    metadata: opts.metadata ?? {},
    maxParticipants: Math.min(opts.maxParticipants ?? tenant.limits.participantsPerRoom, tenant.limits.participantsPerRoom),
    // A room first joined (not created through the API) lives as long as someone is in it.
    emptyTimeoutMs: opts.emptyTimeoutMs ?? 0,
    createdAt,
    recordings: tenant.autoRecord ? [{ id: newId('rec'), identity: null, startedAt: createdAt }] : [],
    // A tenant captions every room, none, or those created with captions on.
    captions: tenant.captions === 'all' || (tenant.captions === 'request' && opts.captions === true),
  };
}
