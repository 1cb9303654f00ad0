import type { types } from 'mediasoup-client';
import type { RequestData } from '../contracts/protocol.js';

type Report = RequestData<'reportQuality'>;
interface Totals { at: number; packets: number; lost: number; bytes: number; freezeSeconds: number; concealed: number; samples: number }

/** What one received track was like over the last interval (its MediaStreamTrack id). */
export interface StreamQuality {
  trackId: string;
  kind: 'audio' | 'video';
  /** Share of the interval the video was frozen. */
  frozenRatio?: number;
  /** Share of the audio samples that were concealed (made up for lost packets). */
  concealedRatio?: number;
}

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
  /** Each inbound stream's totals at the last sample, by stats id. */
  private lastByStream = new Map<string, Totals>();

  async sample(transport: types.Transport | undefined): Promise<{ report?: Report; streams: StreamQuality[]; rttMs?: number }> {
    if (!transport || transport.closed) return { streams: [] };
    const report = await transport.getStats();
    const streams = inbound(report);
    const rttMs = roundTripMs(report);
    return { report: this.overall(streams, rttMs), streams: this.perStream(streams), rttMs };
  }

  /** Per received track: frozen and concealed shares since the last sample (none on the first). */
  private perStream(streams: any[]): StreamQuality[] {
    const out: StreamQuality[] = [];
    const seen = new Map<string, Totals>();
    for (const s of streams) {
      const now = totals([s]);
      seen.set(s.id, now);
      const prev = this.lastByStream.get(s.id);
      if (!prev || !s.trackIdentifier || now.at - prev.at < 100) continue;
      const q = ratios(prev, now, s.kind === 'video');
      out.push({ trackId: s.trackIdentifier, kind: s.kind, ...q });
    }
    this.lastByStream = seen; // streams that ended are forgotten
    return out;
  }

  private overall(streams: any[], rttMs: number | undefined): Report | undefined {
    const now = totals(streams);
    const prev = this.last;
    this.last = now;
    if (!prev) return undefined;
    const ms = now.at - prev.at;
    if (ms < 100) return undefined;
    const packets = now.packets - prev.packets;
    const lost = Math.max(0, now.lost - prev.lost);
    return {
      intervalMs: Math.min(60_000, Math.round(ms)),
      ...(rttMs !== undefined ? { rttMs } : {}),
      ...(packets + lost > 0 ? { lossRate: lost / (packets + lost) } : {}),
      bitrateBps: Math.max(0, Math.round(((now.bytes - prev.bytes) * 8 * 1000) / ms)),
      ...ratios(prev, now, streams.some((s) => s.kind === 'video')),
    };
  }

  reset() {
    this.last = undefined;
    this.lastByStream.clear();
  }
}

/** The round trip to the node on the transport's ICE pair in use, ms. */
function roundTripMs(report: RTCStatsReport): number | undefined {
  let rtt: number | undefined;
  report.forEach((s: any) => {
    if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded' && s.currentRoundTripTime !== undefined) rtt = s.currentRoundTripTime;
  });
  return rtt === undefined ? undefined : Math.round(rtt * 1000);
}

function totals(streams: any[]): Totals {
  const sum = (f: (s: any) => number | undefined) => streams.reduce((n, s) => n + (f(s) ?? 0), 0);
  return {
    at: performance.now(),
    packets: sum((s) => s.packetsReceived),
    lost: sum((s) => s.packetsLost),
    bytes: sum((s) => s.bytesReceived),
    freezeSeconds: sum((s) => (s.kind === 'video' ? s.totalFreezesDuration : 0)),
    concealed: sum((s) => (s.kind === 'audio' ? s.concealedSamples : 0)),
    samples: sum((s) => (s.kind === 'audio' ? s.totalSamplesReceived : 0)),
  };
}

/** Frozen share of the time (with video) and concealed share of the audio, between two samples. */
function ratios(prev: Totals, now: Totals, hasVideo: boolean): Pick<Report, 'frozenRatio' | 'concealedRatio'> {
  const ms = now.at - prev.at;
  const samples = now.samples - prev.samples;
  return {
    ...(hasVideo ? { frozenRatio: Math.min(1, Math.max(0, (now.freezeSeconds - prev.freezeSeconds) * 1000) / ms) } : {}),
    ...(samples > 0 ? { concealedRatio: Math.min(1, Math.max(0, now.concealed - prev.concealed) / samples) } : {}),
  };
}
