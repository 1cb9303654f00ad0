import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ConfigError } from '../config/load.js';

const DEFAULT_REGIONS_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../config/regions.json');

const RegionTable = Type.Object({
  regions: Type.Record(Type.String(), Type.Object({ name: Type.String(), lat: Type.Number({ minimum: -90, maximum: 90 }), lon: Type.Number({ minimum: -180, maximum: 180 }) })),
  latencyMs: Type.Optional(Type.Record(Type.String(), Type.Record(Type.String(), Type.Number({ minimum: 0 })))),
});
type RegionTable = Static<typeof RegionTable>;

/** Unknown regions sort after every known one. */
const UNKNOWN = Number.MAX_SAFE_INTEGER;

/**
 * How far apart two regions are, as an estimated round-trip time in ms: a measured
 * latency from the table when there is one, else 1 ms per 100 km of great-circle distance.
 */
export class Regions {
  constructor(private readonly table: RegionTable) {}

  static load(file: string): Regions {
    let raw: unknown;
    try {
      raw = JSON.parse(fs.readFileSync(file || DEFAULT_REGIONS_FILE, 'utf8'));
    } catch (err) {
      throw new ConfigError(`config cluster.regionsFile (REGIONS_FILE): ${(err as Error).message}`);
    }
    if (!Value.Check(RegionTable, raw)) {
      const e = Value.Errors(RegionTable, raw).First();
      throw new ConfigError(`config cluster.regionsFile (REGIONS_FILE): ${e?.path} ${e?.message}`);
    }
    return new Regions(raw);
  }

  has(region: string) {
    return Object.hasOwn(this.table.regions, region);
  }

  /** The region's name for people ("Frankfurt, DE"). */
  name(region: string): string | undefined {
    return this.table.regions[region]?.name;
  }

  rttMs(a: string, b: string): number {
    if (a === b) return 0;
    const measured = this.table.latencyMs?.[a]?.[b] ?? this.table.latencyMs?.[b]?.[a];
    if (measured !== undefined) return measured;
    const ra = this.table.regions[a];
    const rb = this.table.regions[b];
    if (!ra || !rb) return UNKNOWN;
    return haversineKm(ra, rb) / 100;
  }
}

function haversineKm(a: { lat: number; lon: number }, b: { lat: number; lon: number }) {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.sqrt(h));
}
