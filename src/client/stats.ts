/** A per-participant quality summary built from WebRTC stats. */
export interface TrackStats {
  kind: 'audio' | 'video';
  direction: 'inbound' | 'outbound';
  /** Bits per second since the previous stats() call (0 on the first). */
  bitrate: number;
  packets: number;
  packetsLost: number;
  /** Share of packets lost since the previous call, 0-1. */
  lossRate: number;
  bytes: number;
  jitter?: number;
  framesPerSecond?: number;
  framesDecoded?: number;
  frameWidth?: number;
  frameHeight?: number;
}

export interface ParticipantStats {
  participantId: string;
  local: boolean;
  /** Round-trip time to the SFU in seconds, from the ICE candidate pair in use. */
  roundTripTime?: number;
  tracks: TrackStats[];
}

type Sample = { at: number; bytes: number; packets: number; lost: number };

/** Turns RTCStatsReports into TrackStats, remembering the previous sample of each stream for rates. */
export class StatsSampler {
  private readonly previous = new Map<string, Sample>();

  track(key: string, report: RTCStatsReport, direction: 'inbound' | 'outbound'): TrackStats | undefined {
    // A simulcast sender has one outbound-rtp per layer: add up the traffic, describe the largest layer.
    const streams: any[] = [];
    report.forEach((s: any) => {
      if (s.type === `${direction}-rtp`) streams.push(s);
    });
    if (streams.length === 0) return undefined;
    const rtp = streams.reduce((a, b) => ((b.frameWidth ?? 0) > (a.frameWidth ?? 0) ? b : a));
    const sum = (f: (s: any) => number | undefined) => streams.reduce((n, s) => n + (f(s) ?? 0), 0);
    let remoteLost = 0;
    if (direction === 'outbound') report.forEach((s: any) => { if (s.type === 'remote-inbound-rtp') remoteLost += s.packetsLost ?? 0; });
    const bytes = sum((s) => s.bytesReceived ?? s.bytesSent);
    const packets = sum((s) => s.packetsReceived ?? s.packetsSent);
    const lost = direction === 'inbound' ? sum((s) => s.packetsLost) : remoteLost;
    const now: Sample = { at: rtp.timestamp, bytes, packets, lost };
    const prev = this.previous.get(key);
    this.previous.set(key, now);
    const seconds = prev ? (now.at - prev.at) / 1000 : 0;
    const dPackets = prev ? now.packets - prev.packets : 0;
    const dLost = prev ? now.lost - prev.lost : 0;
    return {
      kind: rtp.kind,
      direction,
      bitrate: seconds > 0 ? Math.round(((now.bytes - prev!.bytes) * 8) / seconds) : 0,
      packets,
      packetsLost: lost,
      lossRate: dPackets + dLost > 0 ? Math.max(0, dLost) / (dPackets + Math.max(0, dLost)) : 0,
      bytes,
      jitter: rtp.jitter,
      framesPerSecond: rtp.framesPerSecond,
      framesDecoded: rtp.framesDecoded,
      frameWidth: rtp.frameWidth,
      frameHeight: rtp.frameHeight,
    };
  }

  static roundTripTime(report: RTCStatsReport): number | undefined {
    let rtt: number | undefined;
    report.forEach((s: any) => {
      if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded' && s.currentRoundTripTime !== undefined) rtt = s.currentRoundTripTime;
    });
    return rtt;
  }
}
