/**
 * Attribute history at scale: writes BENCH_T_ENTITIES × BENCH_T_UPDATES attribute instances (default 10k × 100 =
 * 1M) through batch upserts against the compiled broker, each update with a later observedAt, so every write is
 * recorded in the history. Then, when the temporal API answers, measures lastN, a one-hour window and an hourly
 * avg aggregation over single entities. Reports write throughput, query throughput/latency and the broker's RSS.
 *
 *   npm run bench:temporal
 *   BENCH_T_ENTITIES=1000 BENCH_T_UPDATES=20 BENCH_DURATION=3 npm run bench:temporal
 *
 * Settings (environment):
 *   BENCH_T_ENTITIES     entities (default 10000)
 *   BENCH_T_UPDATES      updates per entity, each one new instance (default 100)
 *   BENCH_T_BATCH        entities per upsert request (default 1000)
 *   BENCH_T_PARALLEL     upsert requests in flight (default 4)
 *   BENCH_T_STEP_MIN     minutes between two observations of an entity (default 5)
 *   BENCH_DURATION       seconds per query measurement (default 10)
 *   BENCH_CONNECTIONS    concurrent connections for the queries (default 10)
 *   BENCH_JSON           write the results as JSON to this file
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type autocannon from 'autocannon';
import { ensureBuilt, envNumber, formatTable, makeTempDir, measure, residentBytes, runBench, startBroker, type Stats } from './lib.js';

const ENTITIES = Math.floor(envNumber('BENCH_T_ENTITIES', 10_000, 1));
const UPDATES = Math.floor(envNumber('BENCH_T_UPDATES', 100, 1));
const BATCH = Math.floor(envNumber('BENCH_T_BATCH', 1000, 1));
const PARALLEL = Math.floor(envNumber('BENCH_T_PARALLEL', 4, 1));
const STEP_MIN = envNumber('BENCH_T_STEP_MIN', 5, 0.001);
const DURATION = envNumber('BENCH_DURATION', 10, 1);
const CONNECTIONS = Math.floor(envNumber('BENCH_CONNECTIONS', 10, 1));

const T0 = Date.parse('2024-05-01T00:00:00Z');
const observedAt = (round: number) => new Date(T0 + round * STEP_MIN * 60_000).toISOString();
const entityId = (n: number) => `urn:ngsi-ld:Sensor:t${n}`;
const TEMPORAL = '/ngsi-ld/v1/temporal/entities';

function batchBody(round: number, from: number, to: number): string {
  const list: unknown[] = [];
  for (let n = from; n < to; n++) {
    list.push({
      id: entityId(n),
      type: 'Sensor',
      temperature: { type: 'Property', value: Math.round(((n * 31 + round * 7) % 400) - 100) / 10, unitCode: 'CEL', observedAt: observedAt(round) },
    });
  }
  return JSON.stringify(list);
}

async function post(url: string, body: string): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  if (res.status !== 201 && res.status !== 204) throw new Error(`upsert answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
  await res.arrayBuffer();
}

/** Anonymous resident memory (heap and the like, without lmdb's file-backed map pages); undefined without /proc. */
function anonBytes(pid: number | undefined): number | undefined {
  try {
    const m = /^RssAnon:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

const mb = (bytes: number | undefined) => (bytes === undefined ? 'n/a' : `${(bytes / 1024 / 1024).toFixed(0)} MB`);

async function main(): Promise<number> {
  ensureBuilt();
  const dataDir = makeTempDir('musubi-bench-temporal-');
  const broker = await startBroker(dataDir, ['--max-batch-entities', String(Math.max(BATCH, 1))]);
  const upsert = `${broker.url}/ngsi-ld/v1/entityOperations/upsert?options=update`;
  const total = ENTITIES * UPDATES;
  console.error(`writing ${total} instances: ${ENTITIES} entities x ${UPDATES} updates, ${BATCH} per request, ${PARALLEL} in flight`);

  // Every request of round r carries observation r; rounds run one after another so each entity's history grows in time order.
  const started = performance.now();
  let peakRss = 0;
  for (let round = 0; round < UPDATES; round++) {
    const jobs: [number, number][] = [];
    for (let from = 0; from < ENTITIES; from += BATCH) jobs.push([from, Math.min(ENTITIES, from + BATCH)]);
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(PARALLEL, jobs.length) }, async () => {
        while (next < jobs.length) {
          const [from, to] = jobs[next++]!;
          await post(upsert, batchBody(round, from, to));
        }
      }),
    );
    peakRss = Math.max(peakRss, residentBytes(broker.child.pid) ?? 0);
    if ((round + 1) % Math.max(1, Math.floor(UPDATES / 10)) === 0) {
      const secs = (performance.now() - started) / 1000;
      console.error(`  round ${round + 1}/${UPDATES}: ${Math.round(((round + 1) * ENTITIES) / secs)} instances/s, RSS ${mb(residentBytes(broker.child.pid))} (anon ${mb(anonBytes(broker.child.pid))})`);
    }
  }
  const writeSecs = (performance.now() - started) / 1000;
  const results: Record<string, unknown> = {
    instances: total,
    writeSeconds: writeSecs,
    instancesPerSec: total / writeSecs,
    rssAfterWritesBytes: residentBytes(broker.child.pid),
    anonRssAfterWritesBytes: anonBytes(broker.child.pid),
    peakRssDuringWritesBytes: peakRss,
  };
  console.log(`\nwrites: ${total} instances in ${writeSecs.toFixed(1)} s = ${Math.round(total / writeSecs)} instances/s (${Math.round(total / BATCH / writeSecs)} requests/s)`);
  console.log(
    `broker RSS after writes: ${mb(results.rssAfterWritesBytes as number)} (anonymous ${mb(results.anonRssAfterWritesBytes as number)}, the rest is lmdb's mapped file), peak while writing: ${mb(peakRss)}`,
  );

  const end = observedAt(UPDATES);
  const mid = observedAt(Math.floor(UPDATES / 2));
  const hourLater = new Date(Date.parse(mid) + 3_600_000).toISOString();
  const probe = await fetch(`${broker.url}${TEMPORAL}/${encodeURIComponent(entityId(0))}?lastN=1&timerel=before&timeAt=${end}`);
  await probe.arrayBuffer();
  if (probe.status === 404 || probe.status === 405) {
    console.log(`\nGET ${TEMPORAL}/{id} answered ${probe.status}: the temporal API is not there yet, only writes measured`);
  } else {
    if (probe.status !== 200) console.error(`temporal probe answered ${probe.status}; measuring anyway`);
    const ids = Array.from({ length: Math.min(ENTITIES, 1000) }, (_, k) => entityId(Math.floor((k * ENTITIES) / Math.min(ENTITIES, 1000))));
    const retrieve = (query: string) => (id: string) => `${TEMPORAL}/${encodeURIComponent(id)}?${query}`;
    const queries: [string, (id: string) => string][] = [
      ['lastN=10', retrieve(`attrs=temperature&lastN=10&timerel=before&timeAt=${end}`)],
      ['1-hour window', retrieve(`attrs=temperature&timerel=between&timeAt=${mid}&endTimeAt=${hourLater}`)],
      [
        'hourly avg (all)',
        retrieve(`attrs=temperature&timerel=between&timeAt=${observedAt(0)}&endTimeAt=${end}&aggrMethods=avg&aggrPeriodDuration=PT1H&format=aggregatedValues`),
      ],
      // Query Temporal Evolution (5.7.4) of one entity with a values filter over the instances of the window.
      ['q, 1-hour window', (id) => `${TEMPORAL}?id=${encodeURIComponent(id)}&type=Sensor&q=temperature%3E0&timerel=between&timeAt=${mid}&endTimeAt=${hourLater}`],
    ];
    const rows: string[][] = [];
    const stats: Record<string, Stats> = {};
    for (const [label, path] of queries) {
      const requests = (): autocannon.Request[] => ids.map((id) => ({ method: 'GET', path: path(id) }));
      const s = await measure(label, broker.url, requests, { duration: DURATION, connections: CONNECTIONS, warmup: 1 });
      stats[label] = s;
      rows.push([label, String(Math.round(s.reqPerSec)), s.p50.toFixed(2), s.p99.toFixed(2), String(s.non2xx), String(s.errors)]);
    }
    results.queries = stats;
    results.rssAfterQueriesBytes = residentBytes(broker.child.pid);
    results.anonRssAfterQueriesBytes = anonBytes(broker.child.pid);
    console.log(`\nqueries on one entity each (${UPDATES} instances of temperature per entity), ${CONNECTIONS} connections, ${DURATION} s:\n`);
    console.log(formatTable(['query', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors'], rows));
    console.log(`\nbroker RSS after queries: ${mb(results.rssAfterQueriesBytes as number)} (anonymous ${mb(results.anonRssAfterQueriesBytes as number)})`);
  }
  if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify(results, null, 2));
  return 0;
}

await runBench(main);
