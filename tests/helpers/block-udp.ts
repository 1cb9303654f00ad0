import { execFileSync } from 'node:child_process';
import type { MediaNode } from '../../src/app.js';

/**
 * Drops UDP to every WebRtcServer port of a node on loopback (iptables), so ICE can only
 * succeed over TCP. Returns the function that removes the rules again.
 */
export async function blockNodeUdp(node: MediaNode): Promise<() => void> {
  const ports = await Promise.all(node.pool.slots.map(async (s) => (await s.webRtcServer.dump()).udpSockets.map((u) => u.port)));
  const rules = ports.flat().map((port) => ['INPUT', '-i', 'lo', '-p', 'udp', '--dport', String(port), '-j', 'DROP']);
  for (const rule of rules) execFileSync('iptables', ['-I', ...rule]);
  return () => {
    for (const rule of rules) execFileSync('iptables', ['-D', ...rule]);
  };
}
