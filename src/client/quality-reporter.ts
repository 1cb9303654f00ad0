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
 * it with reportQuality; the node keeps it in the call record. A track its sender paused (a
 * mute, by the participant or the platform) receives nothing on purpose: its frozen time and
 * concealed audio, over any interval it was paused in, are not poor quality and are left out.
 */
export class QualityReporter {
  private last?: number;
  /** Each inbound stream's totals at the last sample, by stats id, and whether its track was paused then. */
  private lastByStream = new Map<string, { totals: Totals; paused: boolean }>();
  /** Bytes the send transport had sent at the last sample, and when. */
  private lastSent?: { at: number; bytes: number };

  async sample(transport: types.Transport | undefined, paused: (trackId: string) => boolean = () => false, sendTransport?: types.Transport): Promise<{ report?: Report; streams: StreamQuality[]; rttMs?: number }> {
    if (!transport || transport.closed) return { streams: [] };
    const [report, sent] = await Promise.all([transport.getStats(), this.sentBitrate(sendTransport)]);
    const rttMs = roundTripMs(report);
    const { report: q, streams } = this.measure(inbound(report), rttMs, paused);
    if (q && sent !== undefined) q.sendBitrateBps = sent;
    return { report: q, streams, rttMs };
  }

  /** What the send transport sent since the last sample (its outbound-rtp bytes), bits per second. */
  private async sentBitrate(transport: types.Transport | undefined): Promise<number | undefined> {
    if (!transport || transport.closed) return undefined;
    const stats = await transport.getStats().catch(() => undefined);
    if (!stats) return undefined;
    let bytes = 0;
    stats.forEach((s: any) => {
      if (s.type === 'outbound-rtp') bytes += s.bytesSent ?? 0;
    });
    const at = performance.now();
    const last = this.lastSent;
    this.lastSent = { at, bytes };
    if (!last || at - last.at < 100 || bytes < last.bytes) return undefined;
    return Math.round(((bytes - last.bytes) * 8 * 1000) / (at - last.at));
  }

  private measure(streams: any[], rttMs: number | undefined, paused: (trackId: string) => boolean) {
    const at = performance.now();
    const prevAt = this.last;
    this.last = at;
    const seen = new Map<string, { totals: Totals; paused: boolean }>();
    const out: StreamQuality[] = [];
    const sum: Totals = { at, packets: 0, lost: 0, bytes: 0, freezeSeconds: 0, concealed: 0, samples: 0 };
    let hasVideo = false;
    for (const s of streams) {
      const now = { totals: totals([s], at), paused: Boolean(s.trackIdentifier && paused(s.trackIdentifier)) };
      seen.set(s.id, now);
      const prev = this.lastByStream.get(s.id);
      if (!prev) continue;
      const d = delta(prev.totals, now.totals);
      sum.packets += d.packets;
      sum.lost += d.lost;
      sum.bytes += d.bytes;
      // Paused at either end of the interval: what it missed is the mute, not the link.
      if (now.paused || prev.paused) continue;
      if (s.kind === 'video') hasVideo = true;
      sum.freezeSeconds += d.freezeSeconds;
      sum.concealed += d.concealed;
      sum.samples += d.samples;
      if (s.trackIdentifier && at - prev.totals.at >= 100) out.push({ trackId: s.trackIdentifier, kind: s.kind, ...ratios(d, at - prev.totals.at, s.kind === 'video') });
    }
    this.lastByStream = seen; // streams that ended are forgotten
    if (prevAt === undefined || at - prevAt < 100) return { streams: out };
    const ms = at - prevAt;
    const report: Report = {
      intervalMs: Math.min(60_000, Math.round(ms)),
      ...(rttMs !== undefined ? { rttMs } : {}),
      ...(sum.packets + sum.lost > 0 ? { lossRate: sum.lost / (sum.packets + sum.lost) } : {}),
      bitrateBps: Math.max(0, Math.round((sum.bytes * 8 * 1000) / ms)),
      ...ratios(sum, ms, hasVideo),
    };
    return { report, streams: out };
  }

  reset() {
    this.last = undefined;
    this.lastSent = undefined;
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

function totals(streams: any[], at: number): Totals {
  const sum = (f: (s: any) => number | undefined) => streams.reduce((n, s) => n + (f(s) ?? 0), 0);
  return {
    at,
    packets: sum((s) => s.packetsReceived),
    lost: sum((s) => s.packetsLost),
    bytes: sum((s) => s.bytesReceived),
    freezeSeconds: sum((s) => (s.kind === 'video' ? s.totalFreezesDuration : 0)),
    concealed: sum((s) => (s.kind === 'audio' ? s.concealedSamples : 0)),
    samples: sum((s) => (s.kind === 'audio' ? s.totalSamplesReceived : 0)),
  };
}

/** What a stream received between two samples (counters never go back: a negative step counts as none). */
function delta(prev: Totals, now: Totals): Totals {
  const d = (k: Exclude<keyof Totals, 'at'>) => Math.max(0, now[k] - prev[k]);
  return { at: now.at, packets: d('packets'), lost: d('lost'), bytes: d('bytes'), freezeSeconds: d('freezeSeconds'), concealed: d('concealed'), samples: d('samples') };
}

/** Frozen share of the time (with video) and concealed share of the audio, over `ms` of deltas. */
function ratios(d: Totals, ms: number, hasVideo: boolean): Pick<Report, 'frozenRatio' | 'concealedRatio'> {
  return {
    ...(hasVideo ? { frozenRatio: Math.min(1, (d.freezeSeconds * 1000) / ms) } : {}),
    ...(d.samples > 0 ? { concealedRatio: Math.min(1, d.concealed / d.samples) } : {}),
  };
}
