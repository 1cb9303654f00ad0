import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { turnCredentials } from '../../src/turn/credentials.js';
import { Coturn } from '../helpers/coturn.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { freePort } from '../helpers/redis-server.js';
import { SignalingClient } from '../helpers/signaling-client.js';

const SECRET = 'turn-shared-secret-0123456789abcdef';

/** A TURN allocation with coturn's own client: exit 0 when coturn accepted the credentials. */
function allocate(port: number, username: string, credential: string) {
  return spawnSync('turnutils_uclient', ['-u', username, '-w', credential, '-p', String(port), '-e', '127.0.0.1', '-n', '1', '-m', '1', '-y', '127.0.0.1'], { encoding: 'utf8', timeout: 15_000 }).status;
}

describe('TURN: short-lived credentials that a real coturn accepts', () => {
  let coturn: Coturn;
  let t: TestNode;
  beforeAll(async () => {
    const [port, tlsPort] = [await freePort(), await freePort()];
    coturn = await Coturn.start({ secret: SECRET, listenIp: '127.0.0.1', port, tlsPort, relayIp: '127.0.0.1' });
    t = await startTestNode({
      turn: { urls: [`stun:127.0.0.1:${port}`, `turn:127.0.0.1:${port}?transport=udp`, `turn:127.0.0.1:${port}?transport=tcp`, `turns:127.0.0.1:${tlsPort}?transport=tcp`], secret: SECRET, ttlSeconds: 600 },
      tenants: [{ id: 'strict', apiKeys: ['strict-shop-key-0123456789abcdef'], forceRelay: true }],
    });
  });
  afterAll(async () => {
    await t?.close();
    coturn?.stop();
  });

  it('join answers STUN and TURN servers (UDP, TCP, TLS) with credentials coturn accepts; expired ones it refuses', async () => {
    const c = await SignalingClient.connect(t.ws);
    try {
      const joined = await c.request('join', { token: t.token({ room: 'turn', identity: 'buyer-7' }) });
      expect(joined.iceTransportPolicy).toBe('all');
      const [stun, turn] = joined.iceServers;
      expect(stun).toEqual({ urls: [`stun:127.0.0.1:${coturn.options.port}`] });
      expect(turn.urls).toEqual(expect.arrayContaining([expect.stringMatching(/^turn:.*transport=udp$/), expect.stringMatching(/^turn:.*transport=tcp$/), expect.stringMatching(/^turns:.*transport=tcp$/)]));
      const [expiry, identity] = turn.username!.split(':');
      expect(identity).toBe('buyer-7');
      expect(Number(expiry) - Date.now() / 1000).toBeGreaterThan(590);
      expect(allocate(coturn.options.port, turn.username!, turn.credential!)).toBe(0);
      // Past their TTL, the same kind of credentials are refused by coturn.
      const expired = turnCredentials(SECRET, 'buyer-7', 600, Date.now() - 601_000);
      expect(allocate(coturn.options.port, expired.username, expired.credential)).not.toBe(0);
      // And a forged one too.
      expect(allocate(coturn.options.port, turn.username!, 'Zm9yZ2Vk')).not.toBe(0);
    } finally {
      c.close();
    }
  });

  it('relay only, for a token that asks, and for a tenant that forces it', async () => {
    const c = await SignalingClient.connect(t.ws);
    try {
      expect((await c.request('join', { token: t.token({ room: 'turn-relay', identity: 'behind-firewall', relay: true }) })).iceTransportPolicy).toBe('relay');
      await c.request('leave', {});
      const strict = (await (await fetch(`${t.http}/v1/tokens`, {
        method: 'POST', headers: { authorization: 'Bearer strict-shop-key-0123456789abcdef', 'content-type': 'application/json' },
        body: JSON.stringify({ room: 'turn-relay', identity: 'strict-buyer' }),
      })).json()).token;
      expect((await c.request('join', { token: strict })).iceTransportPolicy).toBe('relay');
    } finally {
      c.close();
    }
  });

  it('config: TURN URLs without the secret, and forced relay without TURN, are refused at start', () => {
    expect(() => loadConfig({ TURN_URLS: 'turn:turn.example.com:3478' })).toThrow(/turn.secret \(TURN_SECRET\)/);
    expect(() => loadConfig({ TENANTS: JSON.stringify([{ id: 'x', forceRelay: true }]) })).toThrow(/forces relay, which needs a TURN server/);
  });
});
