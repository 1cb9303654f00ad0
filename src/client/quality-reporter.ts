import type { types } from 'mediasoup-client';
import type { RequestData } from '../signaling/protocol.js';

type Report = RequestData<'reportQuality'>;
interface Totals { at: number; packets: number; lost: number; bytes: number; freezeSeconds: number; concealed: number; samples: number }

/** Every inbound-rtp of a receive transport except mediasoup-client's probator (mid "probator"). */
function inbound(report: RTCStatsReport) {
  const out: any[] = [];
  report.forEach((s: any) => {
    if (s.type === 'inbound-rtp' && s.mid !== 'probator') out.push(s);
  });
  return out;
}

/**
 * What this participant receives, as its browser measures it, over the last interval: RTT to
 * the node, loss, bitrate, and the shares of frozen video and concealed audio. The SDK sends
 * it with reportQuality; the node keeps it in the call record.
 */
export class QualityReporter {
  private last?: Totals;

  async sample(transport: types.Transport | undefined): Promise<Report | undefined> {
    if (!transport || transport.closed) return undefined;
    const report = await transport.getStats();
    const streams = inbound(report);
    let rtt: number | undefined;
    report.forEach((s: any) => {
      if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded' && s.currentRoundTripTime !== undefined) rtt = s.currentRoundTripTime;
    });
    const sum = (f: (s: any) => number | undefined) => streams.reduce((n, s) => n + (f(s) ?? 0), 0);
    const now: Totals = {
      at: performance.now(),
      packets: sum((s) => s.packetsReceived),
      lost: sum((s) => s.packetsLost),
      bytes: sum((s) => s.bytesReceived),
      freezeSeconds: sum((s) => (s.kind === 'video' ? s.totalFreezesDuration : 0)),
      concealed: sum((s) => (s.kind === 'audio' ? s.concealedSamples : 0)),
      samples: sum((s) => (s.kind === 'audio' ? s.totalSamplesReceived : 0)),
    };
    const prev = this.last;
    this.last = now;
    if (!prev) return undefined;
    const ms = now.at - prev.at;
    if (ms < 100) return undefined;
    const packets = now.packets - prev.packets;
    const lost = Math.max(0, now.lost - prev.lost);
    const hasVideo = streams.some((s) => s.kind === 'video');
    const samples = now.samples - prev.samples;
    return {
      intervalMs: Math.min(60_000, Math.round(ms)),
      ...(rtt !== undefined ? { rttMs: Math.round(rtt * 1000) } : {}),
      ...(packets + lost > 0 ? { lossRate: lost / (packets + lost) } : {}),
      bitrateBps: Math.max(0, Math.round(((now.bytes - prev.bytes) * 8 * 1000) / ms)),
      ...(hasVideo ? { frozenRatio: Math.min(1, Math.max(0, (now.freezeSeconds - prev.freezeSeconds) * 1000) / ms) } : {}),
      ...(samples > 0 ? { concealedRatio: Math.min(1, Math.max(0, now.concealed - prev.concealed) / samples) } : {}),
    };
  }

  reset() {
    this.last = undefined;
  }
}
