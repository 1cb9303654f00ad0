import { createHmac } from 'node:crypto';
import type { Config } from '../config/schema.js';

/** An ICE server as RTCPeerConnection (and mediasoup-client's transports) take it. */
export interface IceServer {
  urls: string[];
  username?: string;
  credential?: string;
}

/**
 * Short-lived TURN credentials, the TURN REST API way coturn checks with use-auth-secret:
 * the username is `<expiry>:<identity>`, the password the base64 HMAC-SHA1 of the username
 * with the shared secret. coturn refuses them once the expiry (epoch seconds) has passed.
 */
export function turnCredentials(secret: string, identity: string, ttlSeconds: number, now = Date.now()) {
  const username = `${Math.floor(now / 1000) + ttlSeconds}:${identity}`;
  return { username, credential: createHmac('sha1', secret).update(username).digest('base64') };
}

/** The ICE servers a participant gets when it joins: STUN as is, TURN with its own credentials. */
export function iceServersFor(turn: Config['turn'], identity: string, now = Date.now()): IceServer[] {
  const stun = turn.urls.filter((u) => u.startsWith('stun:'));
  const relays = turn.urls.filter((u) => !u.startsWith('stun:'));
  return [
    ...(stun.length ? [{ urls: stun }] : []),
    ...(relays.length && turn.secret ? [{ urls: relays, ...turnCredentials(turn.secret, identity, turn.ttlSeconds, now) }] : []),
  ];
}
