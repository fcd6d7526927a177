/**
 * Query Entities and batch upsert against a loaded store, at several store sizes.
 *
 *   npm run bench:queries                                # 1000 and 100000 entities, 10 s per measurement
 *   BENCH_SIZES=1000 BENCH_DURATION=3 npm run bench:queries
 *
 * For each size: a fresh broker (compiled, dist/src/main.js, rebuilt when missing or older than src/) on a fresh
 * temporary store, loaded with that many Vehicle entities through batch upsert (timed), then autocannon against
 * a type query, a q query, a geo-query, a q query with count=true and batch upserts of 50 entities. See
 * bench/README.md.
 *
 * Settings (environment):
 *   BENCH_SIZES        comma-separated store sizes (default 1000,100000)
 *   BENCH_DURATION     seconds per measurement (default 10)
 *   BENCH_CONNECTIONS  concurrent connections (default 10)
 *   BENCH_WARMUP       seconds of unrecorded load before each measurement (default 2, 0 for none)
 *   BENCH_JSON         write the results as JSON to this file
 *
 * Exits 1 if any measured request got a non-2xx answer or a connection error.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type autocannon from 'autocannon';
import { ensureBuilt, envNumber, formatTable, makeTempDir, measure, removeTempDir, residentBytes, startBroker, stopChild, type Broker, type Stats, runBench } from './lib.js';

const API = '/ngsi-ld/v1';
const DURATION = envNumber('BENCH_DURATION', 10, 1);
const CONNECTIONS = Math.floor(envNumber('BENCH_CONNECTIONS', 10, 1));
const WARMUP = envNumber('BENCH_WARMUP', 2, 0);
const SIZES = sizes(process.env.BENCH_SIZES ?? '1000,100000');
/** Entities per upsert request while loading, and batch upserts in flight at once. */
const LOAD_BATCH = 500;
const LOAD_IN_FLIGHT = 4;
/** Entities per request of the measured batch upsert. */
const UPSERT_BATCH = 50;
/** Most entities a query page may hold (--max-limit of the broker). */
const MAX_LIMIT = 1000;
/**
 * Seconds autocannon waits for a response before it counts an error. Longer than its default of 10: with 10
 * connections the count=true queries over 100000 entities queue for seconds, which the p99 shows anyway.
 */
const TIMEOUT = 30;

function sizes(raw: string): number[] {
  const list = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (list.length === 0) throw new Error('BENCH_SIZES is empty');
  return list.map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_SIZES must be whole numbers >= 1, got "${s}"`);
    return n;
  });
}

// ---------------------------------------------------------------- data

/** mulberry32: the same data every run. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Madrid, and a box of about 20 km x 20 km around it: 0.18° of latitude, 0.236° of longitude at 40.42° N. */
const CENTER: [number, number] = [-3.7, 40.42];
const HALF_LAT = 0.09;
const HALF_LON = 0.118;
const CATEGORIES = ['car', 'bus', 'truck', 'van', 'motorbike'];

const vehicleId = (n: number) => `urn:ngsi-ld:Vehicle:bench-${n}`;
const round = (x: number, digits: number) => Number(x.toFixed(digits));

function position(random: () => number): [number, number] {
  return [round(CENTER[0] + (random() * 2 - 1) * HALF_LON, 6), round(CENTER[1] + (random() * 2 - 1) * HALF_LAT, 6)];
}

function vehicle(n: number, random: () => number): Record<string, unknown> {
  return {
    id: vehicleId(n),
    type: 'Vehicle',
    speed: { type: 'Property', value: round(random() * 120, 1) },
    location: { type: 'GeoProperty', value: { type: 'Point', coordinates: position(random) } },
    name: { type: 'Property', value: `Vehicle ${n}` },
    category: { type: 'Property', value: CATEGORIES[n % CATEGORIES.length] },
  };
}

/** What a tracker sends: a new speed and position for an existing vehicle (upsert with options=update keeps the rest). */
function vehicleUpdate(n: number, random: () => number): Record<string, unknown> {
  return {
    id: vehicleId(n),
    type: 'Vehicle',
    speed: { type: 'Property', value: round(random() * 120, 1) },
    location: { type: 'GeoProperty', value: { type: 'Point', coordinates: position(random) } },
  };
}

async function load(base: string, size: number): Promise<void> {
  const random = prng(size);
  const batches = Math.ceil(size / LOAD_BATCH);
  let next = 0;
  const worker = async () => {
    while (next < batches) {
      const b = next++;
      const body = [];
      for (let n = b * LOAD_BATCH; n < Math.min(size, (b + 1) * LOAD_BATCH); n++) body.push(vehicle(n, random));
      const res = await fetch(`${base}${API}/entityOperations/upsert`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      if (res.status !== 201 && res.status !== 204) throw new Error(`loading batch ${b}: HTTP ${res.status} ${text.slice(0, 500)}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(LOAD_IN_FLIGHT, batches) }, worker));
}

// ---------------------------------------------------------------- operations

interface Operation {
  label: string;
  /** GET: the query string of /entities; upsert: undefined. */
  query?: Record<string, string>;
  /** Entities each request writes (the batch upsert). */
  entitiesPerRequest?: number;
}

const OPERATIONS: Operation[] = [
  { label: 'GET type=Vehicle', query: { type: 'Vehicle', limit: '20' } },
  { label: 'GET type=Vehicle&q=speed>50', query: { type: 'Vehicle', q: 'speed>50', limit: '20' } },
  {
    label: 'GET near;maxDistance==2000',
    query: { type: 'Vehicle', georel: 'near;maxDistance==2000', geometry: 'Point', coordinates: `[${CENTER[0].toFixed(2)},${CENTER[1].toFixed(2)}]`, limit: '20' },
  },
  { label: 'GET q=speed>50&count=true', query: { type: 'Vehicle', q: 'speed>50', count: 'true', limit: '20' } },
  { label: `POST upsert?options=update (${UPSERT_BATCH}/req)`, entitiesPerRequest: UPSERT_BATCH },
];

const queryPath = (query: Record<string, string>) => `${API}/entities?${new URLSearchParams(query).toString()}`;

function requests(op: Operation, size: number): autocannon.Request[] {
  if (op.query) return [{ method: 'GET', path: queryPath(op.query), headers: { accept: 'application/json' } }];
  // Rotate over the loaded ids, UPSERT_BATCH consecutive ones per request; different data each run.
  const random = prng(Date.now() >>> 0);
  let first = 0;
  return [
    {
      method: 'POST',
      path: `${API}/entityOperations/upsert?options=update`,
      headers: { 'content-type': 'application/json' },
      setupRequest: (req) => {
        const body = [];
        for (let i = 0; i < UPSERT_BATCH; i++) body.push(vehicleUpdate((first + i) % size, random));
        first = (first + UPSERT_BATCH) % size;
        return { ...req, body: JSON.stringify(body) };
      },
    },
  ];
}

/** One request of each query before measuring: it must answer 200 with a page; also how many entities match. */
async function check(base: string, op: Operation): Promise<number | undefined> {
  if (!op.query) return undefined;
  const res = await fetch(`${base}${queryPath(op.query)}`, { headers: { accept: 'application/json' } });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`${op.label}: HTTP ${res.status} ${body.slice(0, 500)}`);
  const page = JSON.parse(body) as unknown[];
  if (!Array.isArray(page) || page.length === 0) throw new Error(`${op.label}: expected a non-empty page, got ${body.slice(0, 200)}`);
  const counted = await fetch(`${base}${queryPath({ ...op.query, count: 'true', limit: '0' })}`, { headers: { accept: 'application/json' } });
  await counted.arrayBuffer();
  const total = counted.headers.get('ngsild-results-count');
  if (counted.status !== 200 || total === null) throw new Error(`${op.label} with count=true&limit=0: HTTP ${counted.status}, NGSILD-Results-Count ${total}`);
  return Number(total);
}

/** After a measurement: a broker that died or hangs makes every later number meaningless, so stop there. */
async function checkAlive(broker: Broker, after: string): Promise<void> {
  const { child, url } = broker;
  if (child.exitCode !== null || child.signalCode !== null) {
    throw new Error(`the broker exited during "${after}" (code ${child.exitCode}, signal ${child.signalCode}); its stderr is above`);
  }
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    if (res.ok) return;
    throw new Error(`HTTP ${res.status}`);
  } catch (err) {
    throw new Error(`the broker does not answer GET /health after "${after}" (${err instanceof Error ? err.message : String(err)}); its stderr, if any, is above`);
  }
}

// ---------------------------------------------------------------- a size

interface Row extends Stats {
  operation: string;
  /** Entities the query matches (NGSILD-Results-Count), for the GETs. */
  matches?: number;
  /** For the batch upsert: entities written per second. */
  entitiesPerSec?: number;
}

interface SizeResult {
  size: number;
  loadSeconds: number;
  rssAfterLoad?: number;
  rssAfterRun?: number;
  rows: Row[];
}

const mib = (bytes: number | undefined) => (bytes === undefined ? 'n/a' : `${(bytes / 1024 / 1024).toFixed(0)} MiB`);

async function runSize(size: number): Promise<SizeResult> {
  const tmp = makeTempDir('musubi-bench-queries-');
  try {
    const broker = await startBroker(join(tmp, 'data'), ['--max-limit', String(MAX_LIMIT)]);
    try {
      console.error(`\n${size} entities: loading in batches of ${LOAD_BATCH} ...`);
      const t0 = performance.now();
      await load(broker.url, size);
      const loadSeconds = (performance.now() - t0) / 1000;
      const rssAfterLoad = residentBytes(broker.child.pid);
      console.error(`loaded in ${loadSeconds.toFixed(1)} s (${Math.round(size / loadSeconds)} entities/s), broker RSS ${mib(rssAfterLoad)}`);

      const rows: Row[] = [];
      for (const op of OPERATIONS) {
        const matches = await check(broker.url, op);
        const stats = await measure(`${op.label} (${size})`, broker.url, () => requests(op, size), {
          duration: DURATION,
          connections: CONNECTIONS,
          warmup: WARMUP,
          timeout: TIMEOUT,
        });
        const row: Row = { operation: op.label, ...stats };
        if (matches !== undefined) row.matches = matches;
        if (op.entitiesPerRequest) row.entitiesPerSec = stats.reqPerSec * op.entitiesPerRequest;
        rows.push(row);
        try {
          await checkAlive(broker, op.label);
        } catch (err) {
          // Show what was measured up to the failure, then give up on this run.
          console.log('');
          console.log(`${report({ size, loadSeconds, rssAfterLoad, rows })}\n(incomplete)`);
          throw err;
        }
      }
      return { size, loadSeconds, rssAfterLoad, rssAfterRun: residentBytes(broker.child.pid), rows };
    } finally {
      await stopChild(broker.child);
    }
  } finally {
    removeTempDir(tmp);
  }
}

function report(r: SizeResult): string {
  const head = ['operation', 'matches', 'req/s', 'entities/s', 'p50 ms', 'p99 ms', 'requests', 'non-2xx', 'errors'];
  const body = r.rows.map((row) => [
    row.operation,
    row.matches === undefined ? '' : String(row.matches),
    row.reqPerSec.toFixed(0),
    row.entitiesPerSec === undefined ? '' : row.entitiesPerSec.toFixed(0),
    row.p50.toFixed(2),
    row.p99.toFixed(2),
    String(row.total),
    String(row.non2xx),
    String(row.errors),
  ]);
  return [
    `${r.size} Vehicle entities: loaded in ${r.loadSeconds.toFixed(1)} s (${Math.round(r.size / r.loadSeconds)} entities/s, batches of ${LOAD_BATCH}); ` +
      `broker RSS ${mib(r.rssAfterLoad)} after loading, ${mib(r.rssAfterRun)} after the measurements`,
    '',
    formatTable(head, body),
  ].join('\n');
}

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  ensureBuilt();
  console.error(`sizes ${SIZES.join(', ')}; ${CONNECTIONS} connections, ${DURATION} s per measurement, ${WARMUP} s warm-up each`);
  console.log(`musubi query benchmark: ${CONNECTIONS} connections, ${DURATION} s per measurement, limit=20 (node ${process.version})`);
  const results: SizeResult[] = [];
  // Each size's table as soon as it is done, so a later failure does not lose it.
  for (const size of SIZES) {
    const result = await runSize(size);
    results.push(result);
    console.log('');
    console.log(report(result));
  }
  const failures = results.flatMap((r) => r.rows.filter((row) => row.non2xx > 0 || row.errors > 0).map((row) => ({ size: r.size, row })));
  if (failures.length > 0) console.log('');
  for (const { size, row } of failures) {
    console.log(`FAILED: ${row.operation} (${size}) had ${row.non2xx} non-2xx responses and ${row.errors} errors`);
  }

  if (process.env.BENCH_JSON) {
    writeFileSync(
      process.env.BENCH_JSON,
      JSON.stringify({ connections: CONNECTIONS, duration: DURATION, warmup: WARMUP, node: process.version, sizes: results }, null, 2),
    );
  }
  return failures.length > 0 ? 1 : 0;
}

await runBench(main);
