import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * HMAC-SHA256 with the shared cluster secret, over a body *and the place it belongs*
 * (a channel, a registry key, a room's peer entry), so a signed value copied elsewhere
 * does not verify there. Everything a node reads back from Redis or the bus goes through it.
 */
export class Signer {
  constructor(private readonly secret: string) {}

  sign(context: string, body: string): string {
    return createHmac('sha256', this.secret).update(context).update('\n').update(body).digest('base64url');
  }

  verify(context: string, body: string, sig: unknown): boolean {
    if (typeof sig !== 'string') return false;
    const expected = Buffer.from(this.sign(context, body));
    const given = Buffer.from(sig);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}
