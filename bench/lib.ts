/**
 * What the HTTP benchmarks (bench/entities.ts, bench/queries.ts) share: settings from the environment, the
 * compiled broker and other servers as child processes (killed on exit, error and Ctrl-C, with their temporary
 * directories removed), autocannon runs with exact p50/p99, and plain-text tables.
 *
 * Importing this module installs the exit and signal handlers that stop the children.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const MAIN = join(ROOT, 'dist', 'src', 'main.js');

/** A number from the environment, `fallback` when unset or empty; anything below `min` or not a number throws. */
export function envNumber(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number >= ${min}, got "${raw}"`);
  return n;
}

// ---------------------------------------------------------------- child processes and temporary directories

const children = new Set<ChildProcess>();
/** Children being stopped on purpose: their exit is not reported. */
const stopped = new WeakSet<ChildProcess>();
const tempDirs = new Set<string>();
let stopping = false;

export async function stopChild(child: ChildProcess): Promise<void> {
  stopped.add(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

/** A new temporary directory, removed by `removeTempDir` or at the latest by `cleanup` / process exit. */
export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** Stops every child and removes every temporary directory. */
export async function cleanup(): Promise<void> {
  stopping = true;
  await Promise.all([...children].map(stopChild));
  children.clear();
  for (const dir of [...tempDirs]) removeTempDir(dir);
}

// Last resort if we exit some other way: never leave a server behind.
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping`);
    void cleanup().finally(() => process.exit(130));
  });
}

export function freePort(): Promise<number> {
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

/** Runs `node <args>` from the repository root; its stderr goes to ours. */
export function start(name: string, args: string[]): ChildProcess {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  children.add(child);
  child.once('exit', (code, signal) => {
    if (!stopping && !stopped.has(child)) console.error(`${name} exited (code ${code}, signal ${signal})`);
    children.delete(child);
  });
  return child;
}

export async function waitHealthy(name: string, child: ChildProcess, base: string, timeoutMs = 30_000): Promise<void> {
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

/** Runs `npm run build` when dist/src/main.js is missing or older than a file in src/. */
export function ensureBuilt(): void {
  if (existsSync(MAIN) && statSync(MAIN).mtimeMs >= newestMtime(join(ROOT, 'src'))) return;
  console.error(existsSync(MAIN) ? 'src/ is newer than dist/: building' : 'dist/src/main.js is missing: building');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0 || !existsSync(MAIN)) throw new Error('npm run build failed');
}

export interface Broker {
  child: ChildProcess;
  url: string;
}

/**
 * Starts the compiled broker on a free loopback port with its store in `dataDir`, silent, plus `extraArgs`;
 * resolves once GET /health answers 200.
 */
export async function startBroker(dataDir: string, extraArgs: string[] = []): Promise<Broker> {
  const port = await freePort();
  const child = start('broker', [MAIN, '--port', String(port), '--host', '127.0.0.1', '--data-dir', dataDir, '--log-level', 'silent', ...extraArgs]);
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy('broker', child, url);
  return { child, url };
}

/** Resident memory of a process in bytes (VmRSS of /proc/<pid>/status); undefined where there is no /proc. */
export function residentBytes(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- measurements

export interface MeasureSettings {
  /** Seconds measured. */
  duration: number;
  connections: number;
  /** Seconds of unrecorded load first (0: none). */
  warmup: number;
  /** Seconds before autocannon gives up on a response and counts an error (autocannon's default: 10). */
  timeout?: number;
}

export interface Stats {
  /** autocannon's average over the seconds of the run. */
  reqPerSec: number;
  /** Latency of the 2xx responses, ms, from every response time. */
  p50: number;
  p99: number;
  /** Responses received. */
  total: number;
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
}

/** Runs autocannon; also hands each 2xx response time (ms, sub-millisecond precision) to `onLatency`. */
export function cannon(options: autocannon.Options, onLatency?: (ms: number) => void): Promise<autocannon.Result> {
  return new Promise((res, rej) => {
    const instance = autocannon(options, (err: unknown, result: autocannon.Result) => (err ? rej(err) : res(result)));
    if (onLatency) {
      instance.on('response', (_client, status, _bytes, ms) => {
        if (status >= 200 && status < 300) onLatency(ms);
      });
    }
  });
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * A warm-up (when `settings.warmup` > 0), then the measured run, with `requests()` called afresh for each so that
 * every run starts its own rotation. Progress goes to stderr.
 */
export async function measure(label: string, base: string, requests: () => autocannon.Request[], settings: MeasureSettings): Promise<Stats> {
  const options = (duration: number): autocannon.Options => ({
    url: base,
    connections: settings.connections,
    duration,
    pipelining: 1,
    ...(settings.timeout === undefined ? {} : { timeout: settings.timeout }),
    requests: requests(),
  });
  if (settings.warmup > 0) await cannon(options(settings.warmup));
  process.stderr.write(`measuring ${label} for ${settings.duration} s ... `);
  // autocannon's own histogram keeps whole milliseconds; keep the exact times for p50/p99.
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  const r = await cannon(options(settings.duration), (ms) => {
    if (count === latencies.length) {
      const grown = new Float64Array(latencies.length * 2);
      grown.set(latencies);
      latencies = grown;
    }
    latencies[count++] = ms;
  });
  const sorted = latencies.subarray(0, count).sort();
  const stats: Stats = {
    reqPerSec: r.requests.average,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    total: r['1xx'] + r['2xx'] + r['3xx'] + r['4xx'] + r['5xx'],
    non2xx: r.non2xx,
    errors: r.errors,
  };
  process.stderr.write(`${Math.round(stats.reqPerSec)} req/s\n`);
  return stats;
}

/** A plain-text table: the first column left-aligned, the others right-aligned. */
export function formatTable(head: string[], body: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** Runs a bench's main, always cleans up (children, temp dirs), and exits with its code (1 on a throw). */
export async function runBench(main: () => Promise<number>): Promise<never> {
  let code = 1;
  try {
    code = await main();
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
  } finally {
    await cleanup();
  }
  process.exit(code);
}
