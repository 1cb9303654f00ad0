/**
 * Seeded random and mutated signaling frames: junk, near-misses of the envelope, and every
 * request of the protocol with its data mutated (wrong types, huge values, missing fields,
 * nesting bombs, wrong-kind codecs, appData beyond the limits).
 */
import { requests } from '../../src/contracts/protocol.js';

/** mulberry32: small, fast and reproducible. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)],
    chance: (p: number) => next() < p,
  };
}
export type Rng = ReturnType<typeof prng>;

const METHODS = Object.keys(requests);
const nest = (depth: number, leaf: unknown = 1): unknown => {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
};

function junkString(r: Rng, max = 300) {
  const alphabet = ['a', '"', '\\', '{', '}', '[', ']', ':', ',', '\u0000', '\ud800', 'é', '😀', ' ', '\n', '1', 'e', '-'];
  let s = '';
  const n = r.int(max);
  for (let i = 0; i < n; i++) s += r.pick(alphabet);
  return s;
}

function junkValue(r: Rng, depth = 0): unknown {
  switch (r.int(depth > 3 ? 6 : 9)) {
    case 0: return null;
    case 1: return r.chance(0.5);
    case 2: return r.pick([0, -1, 1.5, 2 ** 53, -(2 ** 63), Number.MAX_VALUE, 1e308, 4294967296]);
    case 3: return junkString(r, 40);
    case 4: return 'x'.repeat(r.pick([0, 1, 65, 129, 8193]));
    case 5: return r.pick(['audio', 'video', 'send', 'recv', 'transport', 'consumer', 'sha-256', 'audio/opus', 'video/VP8']);
    case 6: return Array.from({ length: r.int(5) }, () => junkValue(r, depth + 1));
    case 7: return Object.fromEntries(Array.from({ length: r.int(5) }, () => [junkString(r, 8), junkValue(r, depth + 1)]));
    default: return nest(r.pick([5, 31, 33, 200]));
  }
}

/** Valid-looking data for a method, from what the session knows (its own ids), before mutation. */
export function sampleData(r: Rng, method: string, ids: { transportId?: string; producerId?: string; consumerId?: string; token: string }) {
  const opus = { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: 1234 }] };
  const vp8 = { codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 }], encodings: [{ ssrc: 5678 }] };
  const samples: Record<string, unknown> = {
    join: { token: ids.token, autoSubscribe: true },
    setRtpCapabilities: { rtpCapabilities: { codecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }] } },
    createTransport: { direction: 'send' },
    connectTransport: { transportId: ids.transportId, dtlsParameters: { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: 'AB:CD' }] } },
    closeTransport: { transportId: ids.transportId },
    restartIce: { transportId: ids.transportId },
    produce: { transportId: ids.transportId, kind: 'audio', rtpParameters: opus },
    produceData: { transportId: ids.transportId, sctpStreamParameters: { streamId: 3 }, label: 'x' },
    consume: { producerId: ids.producerId },
    pauseProducer: { producerId: ids.producerId },
    resumeProducer: { producerId: ids.producerId },
    closeProducer: { producerId: ids.producerId },
    closeDataProducer: { dataProducerId: ids.producerId },
    pauseConsumer: { consumerId: ids.consumerId },
    resumeConsumer: { consumerId: ids.consumerId },
    closeConsumer: { consumerId: ids.consumerId },
    setConsumerPreferredLayers: { consumerId: ids.consumerId, spatialLayer: 1 },
    requestKeyFrame: { consumerId: ids.consumerId },
    setMaxSpatialLayer: { producerId: ids.producerId, spatialLayer: 0 },
    getStats: { target: 'transport', id: ids.transportId },
    kickPeer: { peerId: 'someone' },
    leave: {},
  };
  const data = structuredClone(samples[method] ?? {}) as Record<string, unknown>;
  // Wrong-kind codecs: video declared as audio, and the reverse.
  if (method === 'produce') data.rtpParameters = r.chance(0.5) ? vp8 : opus;
  return data;
}

/** Replaces, deletes or adds something somewhere in `value`. */
function mutate(r: Rng, value: unknown, depth = 0): unknown {
  if (typeof value !== 'object' || value === null || depth > 6 || r.chance(0.2)) return junkValue(r);
  const copy: Record<string, unknown> | unknown[] = Array.isArray(value) ? [...value] : { ...(value as Record<string, unknown>) };
  const keys = Object.keys(copy);
  const op = r.int(4);
  if (op === 0 && keys.length) delete (copy as Record<string, unknown>)[r.pick(keys)];
  else if (op === 1) (copy as Record<string, unknown>)[r.pick([...keys, 'appData', 'extra', '__proto__', 'constructor'])] = junkValue(r);
  else if (op === 2 && keys.length) {
    const k = r.pick(keys);
    (copy as Record<string, unknown>)[k] = mutate(r, (copy as Record<string, unknown>)[k], depth + 1);
  } else (copy as Record<string, unknown>).appData = r.chance(0.5) ? nest(r.pick([8, 9, 30])) : { blob: 'z'.repeat(r.pick([100, 5000, 20000])) };
  return copy;
}

/** One frame; the server must answer every one, binary and text alike. */
export function fuzzFrame(r: Rng, id: number, ids: Parameters<typeof sampleData>[2]): string | Buffer {
  switch (r.int(10)) {
    case 0: return junkString(r);
    case 1: return JSON.stringify(junkValue(r));
    case 2: return Buffer.from(Array.from({ length: r.int(64) }, () => r.int(256)));
    case 3: return JSON.stringify({ type: r.pick(['request', 'response', 'notification', 1]), id: r.pick([id, -1, 'x', null, 1.5, 2 ** 60]), method: r.pick([...METHODS, 'teleport', '', 'x'.repeat(70)]), data: junkValue(r) });
    case 4: {
      // A nesting bomb that still fits in a frame.
      const depth = r.pick([33, 1000, 5000]);
      return `{"type":"request","id":${id},"method":"${r.pick(METHODS)}","data":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`;
    }
    default: {
      const method = r.pick(METHODS);
      const data = r.chance(0.15) ? sampleData(r, method, ids) : mutate(r, sampleData(r, method, ids));
      return JSON.stringify({ type: 'request', id, method, data });
    }
  }
}
