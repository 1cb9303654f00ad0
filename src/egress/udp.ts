import dgram from 'node:dgram';
import fs from 'node:fs';

/**
 * Two free consecutive UDP ports on `ip` (RTP on the even one, RTCP on the next), for a
 * receiver such as ffmpeg that binds them itself. Checked by binding both, then released, so
 * none of them in `avoid` (a range something else binds in meanwhile).
 */
export async function freeUdpPortPair(ip = '127.0.0.1', avoid?: { min: number; max: number }, attempts = 20): Promise<number> {
  for (let i = 0; i < attempts; i++) {
    const first = await bind(ip, 0);
    let port = first.address().port;
    first.close();
    if (port % 2 === 1) port -= 1;
    if (port < 1024) continue;
    if (avoid && port + 1 >= avoid.min && port <= avoid.max) continue;
    const pair = await Promise.all([bind(ip, port), bind(ip, port + 1)].map((p) => p.catch(() => undefined)));
    for (const s of pair) s?.close();
    if (pair.every(Boolean)) return port;
  }
  throw new Error(`no free UDP port pair on ${ip}`);
}

function bind(ip: string, port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(ip.includes(':') ? 'udp6' : 'udp4');
    socket.once('error', (err) => {
      socket.close();
      reject(err);
    });
    socket.bind(port, ip, () => resolve(socket));
  });
}

/**
 * Whether some process has bound UDP `port` (Linux: /proc/net/udp and udp6). Binding it to
 * find out would race the process we wait for, so the kernel's table is read instead.
 */
export function udpPortBound(port: number): boolean {
  const suffix = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    // Each line: "sl local_address rem_address ..."; the local port follows the address.
    for (const line of text.split('\n').slice(1)) if (line.trim().split(/\s+/)[1]?.endsWith(suffix)) return true;
  }
  return false;
}
