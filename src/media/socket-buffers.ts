import fs from 'node:fs';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logging/logger.js';

/**
 * UDP socket buffers for the worker's media sockets. Every peer of a worker shares its
 * WebRtcServer socket, and with the kernel's default buffer (about 208 KB) a few long-delay
 * calls fill it: sends fail with ENOBUFS and every connection on the worker sees the same
 * latency spikes. mediasoup sets what is asked; the kernel caps it at net.core.wmem_max and
 * rmem_max (and doubles it for its own bookkeeping).
 */
export function socketBuffers(media: Config['media']): { sendBufferSize?: number; recvBufferSize?: number } {
  return {
    ...(media.socketSendBufferBytes > 0 ? { sendBufferSize: media.socketSendBufferBytes } : {}),
    ...(media.socketRecvBufferBytes > 0 ? { recvBufferSize: media.socketRecvBufferBytes } : {}),
  };
}

const readNumber = (file: string) => {
  try {
    return Number(fs.readFileSync(file, 'utf8').trim());
  } catch {
    return undefined;
  }
};

/** Says, once at start, when the kernel will give less than configured, and how to raise it. */
export function warnIfKernelCaps(media: Config['media'], log: Logger) {
  for (const [asked, file, sysctl] of [
    [media.socketSendBufferBytes, '/proc/sys/net/core/wmem_max', 'net.core.wmem_max'],
    [media.socketRecvBufferBytes, '/proc/sys/net/core/rmem_max', 'net.core.rmem_max'],
  ] as const) {
    const max = readNumber(file);
    if (asked > 0 && max !== undefined && max < asked) {
      log.warn({ asked, kernelMax: max }, `media sockets get ${max} bytes of buffer, not ${asked}: run sysctl -w ${sysctl}=${asked} on the host (see docs/operations.md)`);
    }
  }
}

/**
 * The UDP counters of this network namespace (/proc/net/snmp): datagrams the kernel dropped
 * because a socket's send or receive buffer was full. Linux only; undefined elsewhere.
 */
export function udpBufferErrors(): { send: number; receive: number } | undefined {
  try {
    const lines = fs.readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
    const [names, values] = lines.map((l) => l.split(/\s+/).slice(1));
    const at = (name: string) => Number(values[names.indexOf(name)]);
    return { send: at('SndbufErrors'), receive: at('RcvbufErrors') };
  } catch {
    return undefined;
  }
}
