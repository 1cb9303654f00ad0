import dgram from 'node:dgram';
import fs from 'node:fs';

/** Whether a UDP port can be bound on every address now (ffmpeg and GStreamer bind 0.0.0.0). */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', () => { socket.close(); resolve(false); });
    socket.bind(port, '0.0.0.0', () => socket.close(() => resolve(true)));
  });
}

/**
 * An even port, with the next one, free for an RTP receiver the test starts later (ffmpeg binds
 * both, for RTP and RTCP). It lies below the kernel's ephemeral range: a port the kernel picked
 * (ours, the node's ffmpeg, another test file's) can be taken again by anyone between our check
 * and the receiver's bind, one from below that range only by someone who names it.
 */
export async function freeRtpPort(): Promise<number> {
  const [ephemeralMin] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  // Below 30000 too: the benchmark's node (its smoke run is in `npm test`) takes its RTC ports from 30000 up.
  const low = 20_000;
  const high = Math.max(low + 1000, Math.min(ephemeralMin, 30_000)) - 2;
  for (let i = 0; i < 50; i++) {
    const port = low + 2 * Math.floor((Math.random() * (high - low)) / 2);
    if (await bindable(port) && await bindable(port + 1)) return port;
  }
  throw new Error(`no free RTP port pair in ${low}–${high} after 50 tries`);
}
