import { Type } from '@sinclair/typebox';

/**
 * A room's id inside the node, across the cluster and in Redis: its tenant and its name
 * ("<tenant>/<name>"). Clients and the server API only ever see the name; the key exists so
 * that two tenants' rooms of the same name never meet. Build it only with roomKey().
 */
export type RoomKey = string & { readonly __roomKey: unique symbol };

/** Tenant ids are at most 32 characters and room names 128, neither with a "/": a key fits 161. */
export const ROOM_KEY_MAX_LENGTH = 32 + 1 + 128;
export const RoomKeySchema = Type.Unsafe<RoomKey>(Type.String({
  minLength: 3, maxLength: ROOM_KEY_MAX_LENGTH, pattern: '^[a-z0-9][a-z0-9-]*/[A-Za-z0-9._:-]+$', description: '<tenant>/<room name>',
}));

export const roomKey = (tenant: string, name: string) => `${tenant}/${name}` as RoomKey;

export const splitRoomKey = (key: RoomKey) => {
  const i = key.indexOf('/');
  return { tenant: key.slice(0, i), name: key.slice(i + 1) };
};
