import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { freeUdpPortPair } from '../../src/egress/udp.js';

// The kernel's range for ports it picks (bind to 0).
const [low, high] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);

describe('freeUdpPortPair: the ports an ffmpeg that receives RTP binds', () => {
  it('gives an even port whose pair is free, and never one in the range it is told to avoid', async () => {
    // The middle of the kernel's range: about one pick in three lands there.
    const avoid = { min: low + Math.floor((high - low) / 3), max: low + Math.floor((2 * (high - low)) / 3) };
    for (let i = 0; i < 30; i++) {
      const port = await freeUdpPortPair('127.0.0.1', avoid);
      expect(port % 2).toBe(0);
      expect(port + 1 < avoid.min || port > avoid.max, `${port} is in ${avoid.min}-${avoid.max}`).toBe(true);
    }
  });

  it('gives up after its attempts when every port it is offered is to be avoided', async () => {
    await expect(freeUdpPortPair('127.0.0.1', { min: 1024, max: 65535 }, 5)).rejects.toThrow('no free UDP port pair on 127.0.0.1');
  });
});
