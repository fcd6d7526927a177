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
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MAIN = join(ROOT, 'dist', 'src', 'main.js');
const API = '/ngsi-ld/v1/entities';

function envNumber(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number >= ${min}, got "${raw}"`);
  return n;
}

const DURATION = envNumber('BENCH_DURATION', 10, 1);
const CONNECTIONS = Math.floor(envNumber('BENCH_CONNECTIONS', 10, 1));
const ENTITIES = Math.floor(envNumber('BENCH_ENTITIES', 1000, 1));
const WARMUP = envNumber('BENCH_WARMUP', 2, 0);
const TARGETS = { GET: 0.9, PATCH: 0.8 } as const;

// ---------------------------------------------------------------- child processes

const children = new Set<ChildProcess>();
let tmp: string | undefined;
let stopping = false;

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

async function cleanup(): Promise<void> {
  stopping = true;
  await Promise.all([...children].map(stopChild));
  children.clear();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  tmp = undefined;
}

// Last resort if we exit some other way: never leave a server behind.
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping`);
    void cleanup().finally(() => process.exit(130));
  });
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => res(port));
    });
  });
}

function start(name: string, args: string[]): ChildProcess {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  children.add(child);
  child.once('exit', (code, signal) => {
    if (!stopping) console.error(`${name} exited (code ${code}, signal ${signal})`);
    children.delete(child);
  });
  return child;
}

async function waitHealthy(name: string, child: ChildProcess, base: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited before it was ready`);
    try {
      const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not answer GET /health within ${timeoutMs} ms`);
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function ensureBuilt(): void {
  if (existsSync(MAIN) && statSync(MAIN).mtimeMs >= newestMtime(join(ROOT, 'src'))) return;
  console.error(existsSync(MAIN) ? 'src/ is newer than dist/: building' : 'dist/src/main.js is missing: building');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0 || !existsSync(MAIN)) throw new Error('npm run build failed');
}

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

interface Row {
  operation: string;
  target: 'broker' | 'bare';
  kind: Kind;
  reqPerSec: number;
  p50: number;
  p99: number;
  total: number;
  non2xx: number;
  errors: number;
}

/** Runs autocannon; also hands each 2xx response time (ms, sub-millisecond precision) to `onLatency`. */
function cannon(options: autocannon.Options, onLatency?: (ms: number) => void): Promise<autocannon.Result> {
  return new Promise((res, rej) => {
    const instance = autocannon(options, (err: unknown, result: autocannon.Result) => (err ? rej(err) : res(result)));
    if (onLatency) {
      instance.on('response', (_client, status, _bytes, ms) => {
        if (status >= 200 && status < 300) onLatency(ms);
      });
    }
  });
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function measure(label: string, target: Row['target'], base: string, kind: Kind): Promise<Row> {
  const options = (duration: number): autocannon.Options => ({
    url: base,
    connections: CONNECTIONS,
    duration,
    pipelining: 1,
    requests: requests(kind),
  });
  if (WARMUP > 0) await cannon(options(WARMUP));
  process.stderr.write(`measuring ${label} for ${DURATION} s ... `);
  // autocannon's own histogram keeps whole milliseconds; keep the exact times for p50/p99.
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  const r = await cannon(options(DURATION), (ms) => {
    if (count === latencies.length) {
      const grown = new Float64Array(latencies.length * 2);
      grown.set(latencies);
      latencies = grown;
    }
    latencies[count++] = ms;
  });
  const sorted = latencies.subarray(0, count).sort();
  const row: Row = {
    operation: label,
    target,
    kind,
    reqPerSec: r.requests.average,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    total: r['1xx'] + r['2xx'] + r['3xx'] + r['4xx'] + r['5xx'],
    non2xx: r.non2xx,
    errors: r.errors,
  };
  process.stderr.write(`${Math.round(row.reqPerSec)} req/s\n`);
  return row;
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
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'musubi-bench-'));

  const brokerPort = await freePort();
  const broker = start('broker', [MAIN, '--port', String(brokerPort), '--host', '127.0.0.1', '--data-dir', join(tmp, 'data'), '--log-level', 'silent']);
  const brokerUrl = `http://127.0.0.1:${brokerPort}`;
  await waitHealthy('broker', broker, brokerUrl);

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

let code = 1;
try {
  code = await main();
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  code = 1;
} finally {
  await cleanup();
}
process.exit(code);
