import { execFileSync } from 'node:child_process';
import type { MediaNode } from '../../src/app.js';

/**
 * Drops UDP (or UDP and TCP) to every WebRtcServer port of a node on loopback (iptables), so
 * ICE can only succeed over TCP (or not at all: a cut media path). Returns the function that
 * removes the rules again.
 */
export async function blockNodeUdp(node: MediaNode, protocols: Array<'udp' | 'tcp'> = ['udp']): Promise<() => void> {
  const dumps = await Promise.all(node.pool.slots.map((s) => s.webRtcServer.dump()));
  const ports = (protocol: 'udp' | 'tcp') => dumps.flatMap((d) => (protocol === 'udp' ? d.udpSockets : d.tcpServers).map((u) => u.port));
  const rules = protocols.flatMap((protocol) => ports(protocol).map((port) => ['INPUT', '-i', 'lo', '-p', protocol, '--dport', String(port), '-j', 'DROP']));
  for (const rule of rules) execFileSync('iptables', ['-I', ...rule]);
  return () => {
    for (const rule of rules) execFileSync('iptables', ['-D', ...rule]);
  };
}
