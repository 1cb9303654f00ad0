import net from 'node:net';
import os from 'node:os';
import { CodedError } from '../common/errors.js';

export interface TargetPolicy {
  /** forwarding.allowedTargets: IPs and CIDR ranges. */
  allowed: string[];
  /** Loopback addresses may be targets (forwarding.allowLoopback; off in production by default). */
  loopback: boolean;
  /** This node's own addresses besides loopback and its interfaces: its listen and announced IPs. */
  ownAddresses: string[];
  /** The ports this node listens on now: HTTP, the workers' WebRtcServers, and the range of its plain and pipe transports. */
  ownPorts(): Promise<{ ports: number[]; range: [number, number] }>;
}

const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

const family = (ip: string) => (net.isIPv6(ip) ? 'ipv6' : 'ipv4');

/**
 * Where RTP may be forwarded. Only to forwarding.allowedTargets; to loopback only when allowed;
 * and never to one of this node's own listening ports on one of its own addresses, where a
 * forward would feed the node itself (another tenant's bot transport, its signaling port).
 */
export class ForwardTargets {
  private readonly allowed = new net.BlockList();

  constructor(private readonly policy: TargetPolicy) {
    for (const target of policy.allowed) {
      const [address, prefix] = target.split('/');
      if (prefix === undefined) this.allowed.addAddress(address, family(address));
      else this.allowed.addSubnet(address, Number(prefix), family(address));
    }
  }

  private isOwnAddress(ip: string) {
    if (LOOPBACK.check(ip, family(ip)) || ip === '0.0.0.0' || ip === '::') return true;
    if (this.policy.ownAddresses.includes(ip)) return true;
    return Object.values(os.networkInterfaces()).some((list) => list?.some((i) => i.address === ip));
  }

  /** Throws BAD_REQUEST or TARGET_NOT_ALLOWED, saying why, unless RTP may go to `host`:`ports`. */
  async check(host: string, ports: number[]) {
    if (!net.isIP(host)) throw new CodedError('BAD_REQUEST', `host must be an IP address, not ${host}`);
    if (!this.allowed.check(host, family(host))) throw new CodedError('TARGET_NOT_ALLOWED', `${host} is not in forwarding.allowedTargets`);
    if (LOOPBACK.check(host, family(host)) && !this.policy.loopback) throw new CodedError('TARGET_NOT_ALLOWED', `${host} is a loopback address, which forwarding.allowLoopback does not allow`);
    if (!this.isOwnAddress(host)) return;
    const own = await this.policy.ownPorts();
    for (const port of ports.flatMap((p) => [p, p + 1])) {
      if (own.ports.includes(port) || (port >= own.range[0] && port <= own.range[1])) {
        throw new CodedError('TARGET_NOT_ALLOWED', `${host}:${port} is one of this node's own ports; RTP cannot be forwarded into the node itself`);
      }
    }
  }
}
