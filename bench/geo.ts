/**
 * Geo-query micro-benchmark: `npx tsx bench/geo.ts` (GEO_POINTS, GEO_QUERIES to change the sizes).
 *
 * 100k random points over western Europe (lon 2..14, lat 45..53, about 900 km square, roughly one point per
 * 8 km²), loaded into the rbush SpatialIndex; then near;maxDistance==2000 queries around random points,
 * answered through the index (search, then matchesGeoQuery on the candidates) and by brute force
 * (matchesGeoQuery on every entity), checking both give the same ids.
 */
import { performance } from 'node:perf_hooks';
import type { Entity } from '../src/model/entity.js';
import { matchesGeoQuery, queryBoundingBox } from '../src/query/geo-match.js';
import { parseGeoQuery } from '../src/query/geo-query.js';
import { SpatialIndex } from '../src/store/embedded/spatial-index.js';

const N = Number(process.env.GEO_POINTS ?? 100_000);
const QUERIES = Number(process.env.GEO_QUERIES ?? 200);
const LOCATION = 'https://uri.etsi.org/ngsi-ld/location';
const T = '2024-01-01T00:00:00.000Z';

// mulberry32: the same data every run.
let seed = 12345;
function random(): number {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const randomPosition = (): [number, number] => [2 + random() * 12, 45 + random() * 8];

const entities = new Map<string, Entity>();
for (let i = 0; i < N; i++) {
  const id = `urn:ngsi-ld:Sensor:${i}`;
  const value = { type: 'Point', coordinates: randomPosition() };
  entities.set(id, { id, type: ['https://example.org/Sensor'], createdAt: T, modifiedAt: T, attrs: { [LOCATION]: [{ type: 'GeoProperty', value, createdAt: T, modifiedAt: T }] } });
}
const entries = [...entities.values()].map((e) => ({ id: e.id, attr: LOCATION, geometries: e.attrs[LOCATION]!.map((a) => a.value) }));

function time<T>(f: () => T): [T, number] {
  const start = performance.now();
  const result = f();
  return [result, performance.now() - start];
}

const [index, loadMs] = time(() => {
  const idx = new SpatialIndex();
  idx.load(entries);
  return idx;
});
const [, insertMs] = time(() => {
  const idx = new SpatialIndex();
  for (const e of entries) idx.upsert(e.id, e.attr, e.geometries);
  return idx;
});

const queries = Array.from({ length: QUERIES }, () =>
  parseGeoQuery({ georel: 'near;maxDistance==2000', geometry: 'Point', coordinates: JSON.stringify(randomPosition()) }, (t) => t)!,
);
const all = [...entities.values()];

// Warm up both paths so the JIT has settled before timing.
for (const q of queries.slice(0, 20)) {
  for (const id of index.search(LOCATION, queryBoundingBox(q)!)) matchesGeoQuery(q, entities.get(id)!);
  all.filter((e) => matchesGeoQuery(q, e));
}

let candidates = 0;
let matched = 0;
const [viaIndex, indexMs] = time(() =>
  queries.map((q) => {
    const ids = index.search(LOCATION, queryBoundingBox(q)!);
    candidates += ids.size;
    const hits = [...ids].filter((id) => matchesGeoQuery(q, entities.get(id)!));
    matched += hits.length;
    return hits.sort();
  }),
);
const bruteQueries = queries.slice(0, Math.min(QUERIES, 50));
const [viaScan, scanMs] = time(() => bruteQueries.map((q) => all.filter((e) => matchesGeoQuery(q, e)).map((e) => e.id).sort()));
for (let i = 0; i < viaScan.length; i++) {
  if (JSON.stringify(viaScan[i]) !== JSON.stringify(viaIndex[i])) throw new Error(`index and brute force disagree on query ${i}`);
}

const us = (ms: number, n: number): string => ((ms * 1000) / n).toFixed(1);
console.log(`points                      ${N}`);
console.log(`bulk load (SpatialIndex.load) ${loadMs.toFixed(1)} ms`);
console.log(`one-by-one upsert           ${insertMs.toFixed(1)} ms`);
console.log(`near;maxDistance==2000 via index   ${us(indexMs, QUERIES)} µs/query (${(candidates / QUERIES).toFixed(1)} candidates, ${(matched / QUERIES).toFixed(2)} matches on average)`);
console.log(`near;maxDistance==2000 brute force ${us(scanMs, bruteQueries.length)} µs/query (${N} entities each)`);
console.log(`speed-up                    ${((scanMs / bruteQueries.length) / (indexMs / QUERIES)).toFixed(0)}x`);
