import { Counter, Gauge, type Registry } from 'prom-client';

/** Captions: who is captioned now, who could not be, and what the recognisers said. */
export function createCaptionMetrics(registry: Registry, captioned: () => number) {
  new Gauge({
    name: 'sfu_captioned_participants', help: 'Participants whose speech this node captions now (within captions.maxParticipantsPerNode).', registers: [registry],
    collect() { this.set(captioned()); },
  });
  const refused = new Counter({ name: 'sfu_captions_refused_total', help: 'Participants not captioned because the node captioned as many as it may (CAPTIONS_FULL).', registers: [registry] });
  const segments = new Counter({ name: 'sfu_caption_segments_total', help: 'Caption segments sent, by kind: interim or final.', labelNames: ['kind'], registers: [registry] });
  return {
    refused: () => refused.inc(),
    segment: (final: boolean) => segments.inc({ kind: final ? 'final' : 'interim' }),
  };
}
