import { describe, expect, it } from 'vitest';
import type { NodeInfo } from '../../src/cluster/node-info.js';
import { nearestLeastLoaded } from '../../src/cluster/node-selector.js';
import { Regions } from '../../src/cluster/regions.js';

const places = {
  'us-west': { name: 'San Jose', lat: 37.34, lon: -121.89 },
  'us-east': { name: 'Ashburn', lat: 39.04, lon: -77.49 },
  'cn-south': { name: 'Shenzhen', lat: 22.54, lon: 114.06 },
  'ap-east': { name: 'Hong Kong', lat: 22.32, lon: 114.17 },
  'eu-west': { name: 'London', lat: 51.51, lon: -0.13 },
};
const regions = new Regions({ regions: places, latencyMs: { 'us-west': { 'cn-south': 165 }, 'eu-west': { 'ap-east': 250 } } });

const node = (id: string, region: string, peers = 0, extra: Partial<NodeInfo> = {}): NodeInfo => ({
  id, region, url: `http://${id}`, mediaAddress: '127.0.0.1', capacity: 100, peers, rooms: 0, draining: false, startedAt: 0, heartbeatAt: 0, ...extra,
});
const pick = (nodes: NodeInfo[], region: string) => nearestLeastLoaded(nodes, { region }, regions)?.id;

describe('Regions.rttMs', () => {
  it('is 0 within a region and symmetric between two', () => {
    expect(regions.rttMs('us-west', 'us-west')).toBe(0);
    expect(regions.rttMs('us-west', 'us-east')).toBe(regions.rttMs('us-east', 'us-west'));
  });

  it('estimates 1 ms per 100 km of great-circle distance when nothing was measured', () => {
    // San Jose to Ashburn is about 3,870 km.
    expect(regions.rttMs('us-west', 'us-east')).toBeGreaterThan(37);
    expect(regions.rttMs('us-west', 'us-east')).toBeLessThan(40);
  });

  it('prefers a measured latency, in either direction, over the distance', () => {
    expect(regions.rttMs('us-west', 'cn-south')).toBe(165);
    expect(regions.rttMs('cn-south', 'us-west')).toBe(165);
    // Hong Kong and London are ~9,600 km apart (96 ms by distance); the measurement says 250.
    expect(regions.rttMs('ap-east', 'eu-west')).toBe(250);
  });

  it('puts unknown regions after every known one', () => {
    expect(regions.has('mars-1')).toBe(false);
    expect(regions.rttMs('mars-1', 'us-west')).toBeGreaterThan(regions.rttMs('eu-west', 'cn-south'));
  });
});

describe('nearestLeastLoaded', () => {
  it('picks the buyer’s own region first, then the nearest with capacity', () => {
    const nodes = [node('w1', 'us-west'), node('e1', 'us-east'), node('c1', 'cn-south')];
    expect(pick(nodes, 'us-west')).toBe('w1');
    expect(pick(nodes, 'cn-south')).toBe('c1');
    // No node in ap-east: Shenzhen is ~25 km away.
    expect(pick(nodes, 'ap-east')).toBe('c1');
  });

  it('takes the least-loaded node in a region, by share of capacity', () => {
    const nodes = [node('a', 'us-west', 60), node('b', 'us-west', 30, { capacity: 40 }), node('c', 'us-west', 50)];
    // a: 60%, b: 75%, c: 50%.
    expect(pick(nodes, 'us-west')).toBe('c');
  });

  it('never places on a draining or full node, and falls back to the next region', () => {
    const nodes = [node('w-full', 'us-west', 100), node('w-drain', 'us-west', 0, { draining: true }), node('e1', 'us-east', 99)];
    expect(pick(nodes, 'us-west')).toBe('e1');
    expect(pick([node('full', 'us-west', 100)], 'us-west')).toBeUndefined();
    expect(pick([], 'us-west')).toBeUndefined();
  });

  it('uses measured latency to order regions: with a measurement, farther by distance can be nearer', () => {
    // By distance, San Jose is nearer Shenzhen than Ashburn is; a (made-up) measured route says otherwise.
    const measured = new Regions({ regions: places, latencyMs: { 'cn-south': { 'us-east': 20 } } });
    const nodes = [node('w1', 'us-west'), node('e1', 'us-east')];
    expect(nearestLeastLoaded(nodes, { region: 'cn-south' }, measured)?.id).toBe('e1');
  });

  it('breaks exact ties by node id, so every node computes the same answer', () => {
    const nodes = [node('zeta', 'us-west', 10), node('alpha', 'us-west', 10), node('mid', 'us-west', 10)];
    expect(pick(nodes, 'us-west')).toBe('alpha');
    expect(pick([...nodes].reverse(), 'us-west')).toBe('alpha');
  });
});
