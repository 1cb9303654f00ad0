import { describe, expect, it, vi } from 'vitest';
import { QualityReporter } from '../../src/client/quality-reporter.js';

/** A transport whose getStats() answers the inbound streams given, as Chromium names them. */
const transport = (streams: () => object[]) => ({
  closed: false,
  getStats: async () => new Map(streams().map((s: any) => [s.id, { type: 'inbound-rtp', ...s }])),
}) as never;

describe('QualityReporter', () => {
  it('gives each received track its frozen and concealed share of the interval, and the whole for the node', async () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    try {
      const r = new QualityReporter();
      let freeze = 0;
      let concealed = 0;
      let samples = 0;
      const streams = () => [
        { id: 'v', kind: 'video', trackIdentifier: 'video-track', packetsReceived: 0, packetsLost: 0, bytesReceived: 0, totalFreezesDuration: freeze },
        { id: 'a', kind: 'audio', trackIdentifier: 'audio-track', packetsReceived: 0, packetsLost: 0, bytesReceived: 0, concealedSamples: concealed, totalSamplesReceived: samples },
        // mediasoup-client's bandwidth probe is not a track.
        { id: 'p', kind: 'video', mid: 'probator', trackIdentifier: 'probe', totalFreezesDuration: 99 },
      ];
      const t = transport(streams);
      expect(await r.sample(t)).toEqual({ report: undefined, streams: [] }); // the first sample is the baseline
      vi.advanceTimersByTime(5000);
      freeze = 1; // 1 s of 5 frozen
      concealed = 4_800;
      samples = 240_000; // 2% of 5 s at 48 kHz
      const { report, streams: tracks } = await r.sample(t);
      expect(tracks).toEqual([
        { trackId: 'video-track', kind: 'video', frozenRatio: 0.2 },
        { trackId: 'audio-track', kind: 'audio', concealedRatio: 0.02 },
      ]);
      expect(report).toMatchObject({ intervalMs: 5000, frozenRatio: 0.2, concealedRatio: 0.02 });
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('QualityReporter, with a track its sender paused', () => {
  it('leaves out what a paused track missed (a mute is not poor quality), over every interval it was paused in', async () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    try {
      const r = new QualityReporter();
      let concealed = 0;
      let samples = 0;
      let paused = false;
      const t = transport(() => [{ id: 'a', kind: 'audio', trackIdentifier: 'audio-track', packetsReceived: 0, packetsLost: 0, bytesReceived: 0, concealedSamples: concealed, totalSamplesReceived: samples }]);
      const sample = () => r.sample(t, (id) => paused && id === 'audio-track');
      await sample();
      // Muted: the browser conceals every sample of the silence.
      paused = true;
      vi.advanceTimersByTime(5000);
      concealed += 240_000;
      samples += 240_000;
      const muted = await sample();
      expect(muted.streams).toEqual([]);
      expect(muted.report).not.toHaveProperty('concealedRatio');
      // Unmuted during the next interval: the interval still began muted.
      paused = false;
      vi.advanceTimersByTime(5000);
      concealed += 100_000;
      samples += 240_000;
      expect((await sample()).report).not.toHaveProperty('concealedRatio');
      // A whole interval unmuted counts again.
      vi.advanceTimersByTime(5000);
      concealed += 2_400;
      samples += 240_000;
      const live = await sample();
      expect(live.report).toMatchObject({ concealedRatio: 0.01 });
      expect(live.streams).toEqual([{ trackId: 'audio-track', kind: 'audio', concealedRatio: 0.01 }]);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('jitterTargetMs', () => {
  it('leaves a near link alone, and on a far one holds media long enough for a resent packet', async () => {
    const { jitterTargetMs } = await import('../../src/client/subscriber.js');
    expect(jitterTargetMs(undefined, 'video')).toBeNull();
    expect(jitterTargetMs(40, 'audio')).toBeNull();
    // Video: a round trip (a freeze costs more than the delay); audio: one and a half (concealment starts sooner).
    expect(jitterTargetMs(200, 'video')).toBe(200);
    expect(jitterTargetMs(200, 'audio')).toBe(300);
    // Never more than half a second: past it the conversation suffers more than the picture gains.
    expect(jitterTargetMs(900, 'audio')).toBe(500);
  });

  it('on a lossy far link waits for a second resend: two round trips for video, two and a half for audio', async () => {
    const { jitterTargetMs } = await import('../../src/client/subscriber.js');
    expect(jitterTargetMs(200, 'video', true)).toBe(400);
    expect(jitterTargetMs(160, 'audio', true)).toBe(400);
    expect(jitterTargetMs(200, 'audio', true)).toBe(500);
    expect(jitterTargetMs(40, 'video', true)).toBeNull();
  });

  it('a link turns lossy at 2% loss left after retransmission and back below 0.5%, and each receiver follows', async () => {
    const { Subscriber } = await import('../../src/client/subscriber.js');
    const subscriber = new Subscriber(() => undefined, () => undefined);
    const receiver = { jitterBufferTarget: null as number | null };
    // A consumer as far as the playout target goes: its kind and its RTCRtpReceiver.
    (subscriber as unknown as { consumers: Map<string, unknown> }).consumers.set('c1', { kind: 'video', rtpReceiver: receiver });
    subscriber.setLinkRtt(200);
    expect(receiver.jitterBufferTarget).toBe(200);
    subscriber.setLinkLoss(0.015);
    expect(receiver.jitterBufferTarget).toBe(200);
    subscriber.setLinkLoss(0.03);
    expect(receiver.jitterBufferTarget).toBe(400);
    subscriber.setLinkLoss(0.01); // between the two bounds: still lossy
    expect(receiver.jitterBufferTarget).toBe(400);
    subscriber.setLinkLoss(0.002);
    expect(receiver.jitterBufferTarget).toBe(200);
  });
});
