import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';

/** An RTP packet: version 2, no marker, the given payload type, sequence number, timestamp and SSRC. */
export function rtpPacket(payloadType: number, seq: number, timestamp: number, ssrc: number, payload: Buffer) {
  const header = Buffer.alloc(12);
  header[0] = 0x80;
  header[1] = payloadType & 0x7f;
  header.writeUInt16BE(seq & 0xffff, 2);
  header.writeUInt32BE(timestamp >>> 0, 4);
  header.writeUInt32BE(ssrc, 8);
  return Buffer.concat([header, payload]);
}

export const PAYLOAD_TYPE = 101;
export const SSRC = 4242;
/** A typical video packet's size, for the streams the benchmarks send. */
export const PAYLOAD_BYTES = 1100;
/** How a plain-RTP publisher (a bot on the node, a producer on bare mediasoup) declares that stream. */
export const RTP_PARAMETERS = {
  codecs: [{ mimeType: 'audio/opus', payloadType: PAYLOAD_TYPE, clockRate: 48000, channels: 2 }],
  encodings: [{ ssrc: SSRC }],
};

/**
 * One RTP stream sent to `port`, its sequence numbers and timestamps continuing from one burst
 * to the next (a receiver drops packets that go back in sequence).
 */
export class RtpSender {
  private readonly socket = dgram.createSocket('udp4');
  private n = 0;

  constructor(readonly port: number, readonly ip = '127.0.0.1') {}

  /**
   * Sends at `pps` packets a second for `seconds` (bounded), paced by the clock so that a late
   * timer sends the packets it owes. `payload(i)` gives the burst's packet i's payload.
   */
  async send(pps: number, seconds: number, payload: (i: number) => Buffer) {
    const total = Math.round(pps * seconds);
    let sent = 0;
    const start = performance.now();
    await new Promise<void>((resolve) => {
      const tick = () => {
        const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * pps));
        for (; sent < due; sent++) {
          this.n++;
          this.socket.send(rtpPacket(PAYLOAD_TYPE, this.n, this.n * 960, SSRC, payload(sent)), this.port, this.ip);
        }
        if (sent >= total) resolve();
        else setTimeout(tick, 2);
      };
      tick();
    });
    return sent;
  }

  close() {
    this.socket.close();
  }
}

/**
 * Counts RTP arriving on loopback for a range of UDP ports, and drops it, in the kernel (an
 * iptables rule in the raw table): counting in this process would cost more than forwarding
 * it does. RTCP (payload types 200-206) is dropped by a second rule and not counted. Needs root.
 */
export class RtpCounter {
  private readonly rules: string[][];

  private constructor(readonly firstPort: number, readonly lastPort: number) {
    const tag = ['-m', 'comment', '--comment', `sfu-bench-${process.pid}-${firstPort}`];
    const ports = ['-i', 'lo', '-p', 'udp', '--dport', `${firstPort}:${lastPort}`];
    this.rules = [
      [...ports, '-m', 'u32', '--u32', '0>>22&0x3C@8>>16&0xFF=0:199', ...tag, '-j', 'DROP'],
      [...ports, ...tag, '-j', 'DROP'],
    ];
  }

  static open(firstPort: number, lastPort: number) {
    if (process.getuid?.() !== 0) throw new Error('counting forwarded packets needs root (an iptables rule on loopback)');
    const counter = new RtpCounter(firstPort, lastPort);
    // Inserted in reverse so that the RTP rule comes first.
    for (const rule of [...counter.rules].reverse()) execFileSync('iptables', ['-w', '-t', 'raw', '-I', 'PREROUTING', ...rule]);
    return counter;
  }

  /** RTP packets counted so far. */
  packets(): number {
    const listing = execFileSync('iptables', ['-w', '-t', 'raw', '-L', 'PREROUTING', '-v', '-x', '-n'], { encoding: 'utf8' });
    const line = listing.split('\n').find((l) => l.includes(`sfu-bench-${process.pid}-${this.firstPort}`) && l.includes('u32'));
    return Number(line?.trim().split(/\s+/)[0] ?? NaN);
  }

  close() {
    for (const rule of this.rules) {
      try {
        execFileSync('iptables', ['-w', '-t', 'raw', '-D', 'PREROUTING', ...rule]);
      } catch {
        // already gone
      }
    }
  }
}
