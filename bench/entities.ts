/**
 * Throughput and latency of the entity endpoints, against a bare hono server as the baseline.
 *
 *   npm run bench                                   # 10 connections, 10 s per measurement
 *   BENCH_DURATION=3 BENCH_CONNECTIONS=20 npm run bench
 *
 * The broker runs compiled (dist/src/main.js, rebuilt when missing or older than src/) in a child
 * process, the bare server (bench/bare-hono.ts) in another, and autocannon here, so no two of them
 * share an event loop. See bench/README.md.
 *
 * Settings (environment):
 *   BENCH_DURATION     seconds per measurement (default 10)
 *   BENCH_CONNECTIONS  concurrent connections (default 10)
 *   BENCH_ENTITIES     entities created before measuring, GET and PATCH rotate over them (default 1000)
 *   BENCH_WARMUP       seconds of unrecorded load before each measurement (default 2, 0 for none)
 *   BENCH_JSON         write the results as JSON to this file
 *   BENCH_STRICT       if 1, exit 1 when a ratio is below its target
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type autocannon from 'autocannon';
import { ensureBuilt, envNumber, formatTable, freePort, makeTempDir, measure as run, ROOT, start, startBroker, waitHealthy, type Stats, runBench } from './lib.js';

const API = '/ngsi-ld/v1/entities';

const DURATION = envNumber('BENCH_DURATION', 10, 1);
const CONNECTIONS = Math.floor(envNumber('BENCH_CONNECTIONS', 10, 1));
const ENTITIES = Math.floor(envNumber('BENCH_ENTITIES', 1000, 1));
const WARMUP = envNumber('BENCH_WARMUP', 2, 0);
const TARGETS = { GET: 0.9, PATCH: 0.8 } as const;

// ---------------------------------------------------------------- data

const OBSERVED_AT = '2024-05-01T10:00:00Z';

function entityId(n: number): string {
  return `urn:ngsi-ld:Sensor:bench-${n}`;
}

function entity(id: string, n: number): Record<string, unknown> {
  return {
    id,
    type: 'Sensor',
    temperature: { type: 'Property', value: 20 + (n % 100) / 10, unitCode: 'CEL', observedAt: OBSERVED_AT },
    name: { type: 'Property', value: `Sensor ${n}` },
    isLocatedIn: { type: 'Relationship', object: `urn:ngsi-ld:Building:b${n % 50}` },
    location: { type: 'GeoProperty', value: { type: 'Point', coordinates: [13.35 + (n % 100) / 1000, 52.51 + (n % 70) / 1000] } },
    description: { type: 'LanguageProperty', languageMap: { en: `Sensor number ${n}`, de: `Sensor Nummer ${n}` } },
  };
}

function patchBody(n: number): string {
  return JSON.stringify({
    temperature: { type: 'Property', value: Math.round(n * 7.3) % 400 / 10, unitCode: 'CEL', observedAt: OBSERVED_AT },
  });
}

const entityPath = (n: number) => `${API}/${encodeURIComponent(entityId(n))}`;

async function createEntities(base: string): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < ENTITIES) {
      const n = next++;
      const res = await fetch(`${base}${API}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(entity(entityId(n), n)),
      });
      if (res.status !== 201) throw new Error(`creating ${entityId(n)}: HTTP ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONNECTIONS, ENTITIES) }, worker));
}

/** The response the broker gives to the GET being measured, for the bare server to replay. */
async function captureGet(base: string): Promise<{ body: string; headers: Record<string, string> }> {
  const res = await fetch(`${base}${entityPath(0)}`, { headers: { accept: 'application/json' } });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`GET ${entityPath(0)}: HTTP ${res.status} ${body}`);
  const headers: Record<string, string> = {};
  const skip = new Set(['content-length', 'date', 'connection', 'keep-alive', 'transfer-encoding']);
  res.headers.forEach((value, key) => {
    if (!skip.has(key)) headers[key] = value;
  });
  return { body, headers };
}

// ---------------------------------------------------------------- measurements

type Kind = 'POST' | 'GET' | 'PATCH';

function requests(kind: Kind): autocannon.Request[] {
  if (kind === 'POST') {
    let n = 0;
    const run = `${process.pid}-${Date.now()}`;
    return [
      {
        method: 'POST',
        path: API,
        headers: { 'content-type': 'application/json' },
        setupRequest: (req) => {
          const i = n++;
          return { ...req, body: JSON.stringify(entity(`urn:ngsi-ld:Sensor:new-${run}-${i}`, i)) };
        },
      },
    ];
  }
  if (kind === 'GET') {
    let n = 0;
    return [
      {
        method: 'GET',
        headers: { accept: 'application/json' },
        setupRequest: (req) => ({ ...req, path: entityPath(n++ % ENTITIES) }),
      },
    ];
  }
  let n = 0;
  return [
    {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      setupRequest: (req) => {
        const i = n++;
        return { ...req, path: `${entityPath(i % ENTITIES)}/attrs`, body: patchBody(i) };
      },
    },
  ];
}

interface Row extends Stats {
  operation: string;
  target: 'broker' | 'bare';
  kind: Kind;
}

async function measure(label: string, target: Row['target'], base: string, kind: Kind): Promise<Row> {
  const stats = await run(label, base, () => requests(kind), { duration: DURATION, connections: CONNECTIONS, warmup: WARMUP });
  return { operation: label, target, kind, ...stats };
}

function table(rows: Row[]): string {
  const head = ['operation', 'req/s', 'p50 ms', 'p99 ms', 'requests', 'non-2xx', 'errors'];
  const body = rows.map((r) => [
    r.operation,
    r.reqPerSec.toFixed(0),
    r.p50.toFixed(2),
    r.p99.toFixed(2),
    String(r.total),
    String(r.non2xx),
    String(r.errors),
  ]);
  return formatTable(head, body);
}

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  ensureBuilt();
  const tmp = makeTempDir('musubi-bench-');

  const { url: brokerUrl } = await startBroker(join(tmp, 'data'));

  console.error(`creating ${ENTITIES} entities ...`);
  const t0 = performance.now();
  await createEntities(brokerUrl);
  console.error(`created in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const captured = await captureGet(brokerUrl);
  const responseFile = join(tmp, 'entity-response.json');
  writeFileSync(responseFile, JSON.stringify(captured));

  const barePort = await freePort();
  const bare = start('bare hono', ['--import', 'tsx', join(ROOT, 'bench', 'bare-hono.ts'), String(barePort), responseFile]);
  const bareUrl = `http://127.0.0.1:${barePort}`;
  await waitHealthy('bare hono', bare, bareUrl);
  const check = await fetch(`${bareUrl}${entityPath(1)}`, { headers: { accept: 'application/json' } });
  if ((await check.text()) !== captured.body) throw new Error('bare server does not replay the broker body');

  console.error(`${CONNECTIONS} connections, ${DURATION} s per measurement, ${WARMUP} s warm-up each\n`);
  const rows: Row[] = [];
  rows.push(await measure('POST /entities (broker)', 'broker', brokerUrl, 'POST'));
  rows.push(await measure('GET /entities/{id} (broker)', 'broker', brokerUrl, 'GET'));
  rows.push(await measure('GET /entities/{id} (bare hono)', 'bare', bareUrl, 'GET'));
  rows.push(await measure('PATCH /entities/{id}/attrs (broker)', 'broker', brokerUrl, 'PATCH'));
  rows.push(await measure('PATCH /entities/{id}/attrs (bare hono)', 'bare', bareUrl, 'PATCH'));

  const rate = (target: Row['target'], kind: Kind) => rows.find((r) => r.target === target && r.kind === kind)!.reqPerSec;
  const ratios = (['GET', 'PATCH'] as const).map((kind) => {
    const ratio = rate('broker', kind) / rate('bare', kind);
    return { kind, ratio, target: TARGETS[kind], ok: ratio >= TARGETS[kind] };
  });

  console.log('');
  console.log(`musubi entity benchmark: ${ENTITIES} entities, ${CONNECTIONS} connections, ${DURATION} s each (node ${process.version})`);
  console.log('');
  console.log(table(rows));
  console.log('');
  for (const r of ratios) {
    console.log(`${r.kind.padEnd(5)} broker/bare = ${r.ratio.toFixed(2)}  (target >= ${r.target.toFixed(2)}: ${r.ok ? 'met' : 'NOT met'})`);
  }
  const failures = rows.filter((r) => r.non2xx > 0 || r.errors > 0);
  for (const r of failures) console.log(`warning: ${r.operation} had ${r.non2xx} non-2xx responses and ${r.errors} errors`);

  if (process.env.BENCH_JSON) {
    writeFileSync(
      process.env.BENCH_JSON,
      JSON.stringify({ entities: ENTITIES, connections: CONNECTIONS, duration: DURATION, node: process.version, rows, ratios }, null, 2),
    );
  }
  return process.env.BENCH_STRICT === '1' && (ratios.some((r) => !r.ok) || failures.length > 0) ? 1 : 0;
}

await runBench(main);
