/**
 * Notifications end to end: PATCHes against entities watched by one subscription, each PATCH a distinct value
 * that is traced to the notification that carries it.
 *
 *   npm run bench:notifications                          # 2000 PATCHes, 20 in flight
 *   BENCH_PATCHES=10000 BENCH_CONCURRENCY=50 npm run bench:notifications
 *
 * The broker runs compiled (dist/src/main.js, rebuilt when missing or older than src/) in a child process; the
 * notification receiver (node:http, answering 204) and the PATCH client (fetch) run here. 100 Sensor entities
 * are created, then one subscription on type Sensor watching `seq` (keyValues, application/json) that points
 * at the receiver, then PATCH k (k = 1..BENCH_PATCHES) sets `seq` = k on entity (k-1) % 100. The receiver
 * records when each value k arrives; the delay of k is its first arrival minus the time its PATCH response
 * arrived (negative when the notification came first). See bench/README.md.
 *
 * Settings (environment):
 *   BENCH_PATCHES      PATCH requests, one distinct value each (default 2000)
 *   BENCH_CONCURRENCY  PATCH requests in flight at once (default 20)
 *   BENCH_ENTITIES     entities the PATCHes rotate over (default 100)
 *   BENCH_WAIT         seconds to wait after the last PATCH response for missing notifications (default 60)
 *   BENCH_JSON         write the results as JSON to this file
 *
 * Exits 1 if a PATCH fails, if any value never arrives, or if a value arrives for the wrong entity.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ensureBuilt, envNumber, formatTable, makeTempDir, percentile, residentBytes, startBroker, stopChild, runBench } from './lib.js';

const API = '/ngsi-ld/v1';
const PATCHES = Math.floor(envNumber('BENCH_PATCHES', 2000, 1));
const CONCURRENCY = Math.floor(envNumber('BENCH_CONCURRENCY', 20, 1));
const ENTITIES = Math.floor(envNumber('BENCH_ENTITIES', 100, 1));
const WAIT_S = envNumber('BENCH_WAIT', 60, 0);
/** After every value has arrived, how long to keep listening for late duplicates. */
const SETTLE_MS = 1000;

const entityId = (i: number) => `urn:ngsi-ld:Sensor:${i}`;
/** The entity PATCH k writes to: round-robin, so every PATCH changes the value of its entity. */
const entityOf = (k: number) => (k - 1) % ENTITIES;

// ---------------------------------------------------------------- the receiver

interface Receiver {
  url: string;
  /** Notification requests received. */
  requests: number;
  /** Entities over all notifications (data elements). */
  entities: number;
  /** Largest data array seen. */
  maxBatch: number;
  /** First arrival (performance.now()) of each value k, index k; 0 when not yet arrived. */
  firstArrival: Float64Array;
  /** Times each value k arrived. */
  seen: Uint16Array;
  distinct: number;
  /** Values outside 1..PATCHES (e.g. the initial 0), or entities without a numeric seq. */
  unexpected: number;
  /** Values k that arrived for another entity than the one PATCH k wrote. */
  wrongEntity: number;
  /** Requests that were not POST or whose body was not a Notification. */
  malformed: number;
  firstAt: number;
  lastAt: number;
  /** Resolves when all PATCHES values have arrived. */
  complete: Promise<void>;
  close: () => Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  let onComplete!: () => void;
  const r: Receiver = {
    url: '',
    requests: 0,
    entities: 0,
    maxBatch: 0,
    firstArrival: new Float64Array(PATCHES + 1),
    seen: new Uint16Array(PATCHES + 1),
    distinct: 0,
    unexpected: 0,
    wrongEntity: 0,
    malformed: 0,
    firstAt: 0,
    lastAt: 0,
    complete: new Promise<void>((res) => (onComplete = res)),
    close: async () => {},
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const now = performance.now();
      res.writeHead(204).end();
      r.requests++;
      if (r.firstAt === 0) r.firstAt = now;
      r.lastAt = now;
      let data: unknown;
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { type?: unknown; data?: unknown };
        if (req.method !== 'POST' || body.type !== 'Notification' || !Array.isArray(body.data)) throw new Error('not a notification');
        data = body.data;
      } catch {
        r.malformed++;
        return;
      }
      const items = data as Array<{ id?: unknown; seq?: unknown }>;
      r.entities += items.length;
      r.maxBatch = Math.max(r.maxBatch, items.length);
      for (const item of items) {
        const k = item.seq;
        if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > PATCHES) {
          r.unexpected++;
          continue;
        }
        if (item.id !== entityId(entityOf(k))) r.wrongEntity++;
        if (r.seen[k] === 0) {
          r.firstArrival[k] = now;
          if (++r.distinct === PATCHES) onComplete();
        }
        if (r.seen[k]! < 65535) r.seen[k]!++;
      }
    });
  };

  const server = createServer({ keepAliveTimeout: 60_000 }, handle);
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => res());
  });
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/notify`;
  r.close = () =>
    new Promise<void>((res) => {
      server.closeAllConnections();
      server.close(() => res());
    });
  return r;
}

// ---------------------------------------------------------------- setup

async function expectStatus(res: Response, status: number, what: string): Promise<void> {
  const text = await res.text();
  if (res.status !== status) throw new Error(`${what}: HTTP ${res.status} ${text.slice(0, 500)}`);
}

async function createEntities(base: string): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < ENTITIES) {
      const i = next++;
      const res = await fetch(`${base}${API}/entities`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: entityId(i), type: 'Sensor', seq: { type: 'Property', value: 0 } }),
      });
      await expectStatus(res, 201, `creating ${entityId(i)}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, ENTITIES) }, worker));
}

async function subscribe(base: string, receiverUrl: string): Promise<string> {
  const res = await fetch(`${base}${API}/subscriptions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      type: 'Subscription',
      entities: [{ type: 'Sensor' }],
      watchedAttributes: ['seq'],
      notification: { endpoint: { uri: receiverUrl, accept: 'application/json' }, format: 'keyValues', attributes: ['seq'] },
    }),
  });
  await expectStatus(res, 201, 'creating the subscription');
  return res.headers.get('location') ?? '';
}

// ---------------------------------------------------------------- the PATCHes

interface PatchRun {
  /** performance.now() when the response of PATCH k was complete, index k. */
  responded: Float64Array;
  /** Response time of each PATCH, ms, index k. */
  latency: Float64Array;
  startedAt: number;
  endedAt: number;
}

async function patchAll(base: string): Promise<PatchRun> {
  const run: PatchRun = { responded: new Float64Array(PATCHES + 1), latency: new Float64Array(PATCHES + 1), startedAt: performance.now(), endedAt: 0 };
  let next = 1;
  const worker = async () => {
    while (next <= PATCHES) {
      const k = next++;
      const t0 = performance.now();
      const res = await fetch(`${base}${API}/entities/${encodeURIComponent(entityId(entityOf(k)))}/attrs`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ seq: { type: 'Property', value: k } }),
      });
      await expectStatus(res, 204, `PATCH ${k}`);
      const t1 = performance.now();
      run.responded[k] = t1;
      run.latency[k] = t1 - t0;
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, PATCHES) }, worker));
  run.endedAt = performance.now();
  return run;
}

// ---------------------------------------------------------------- main

const mib = (bytes: number | undefined) => (bytes === undefined ? 'n/a' : `${(bytes / 1024 / 1024).toFixed(0)} MiB`);
const ms = (x: number) => (Number.isNaN(x) ? 'n/a' : x.toFixed(1));

function sortedOf(values: Float64Array): Float64Array {
  return Float64Array.from(values).sort();
}

async function main(): Promise<number> {
  ensureBuilt();
  const tmp = makeTempDir('musubi-bench-notifications-');
  const receiver = await startReceiver();
  try {
    const broker = await startBroker(join(tmp, 'data'));
    try {
      console.error(`creating ${ENTITIES} entities and the subscription ...`);
      await createEntities(broker.url);
      const location = await subscribe(broker.url, receiver.url);
      // Anything the subscription sends on its own (an initial notification) is not part of the measurement.
      await new Promise((r) => setTimeout(r, 200));
      const rssBefore = residentBytes(broker.child.pid);

      console.error(`${PATCHES} PATCHes, ${CONCURRENCY} in flight ...`);
      const run = await patchAll(broker.url);
      const patchSeconds = (run.endedAt - run.startedAt) / 1000;
      console.error(`PATCHes done in ${patchSeconds.toFixed(2)} s; ${receiver.distinct}/${PATCHES} values arrived so far, waiting up to ${WAIT_S} s ...`);

      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        receiver.complete.then(() => false),
        new Promise<boolean>((res) => (timer = setTimeout(() => res(true), WAIT_S * 1000))),
      ]);
      clearTimeout(timer);
      const completeAt = performance.now();
      if (!timedOut) await new Promise((r) => setTimeout(r, SETTLE_MS));
      const rssAfter = residentBytes(broker.child.pid);
      if (broker.child.exitCode !== null || broker.child.signalCode !== null) {
        throw new Error(`the broker exited during the run (code ${broker.child.exitCode}, signal ${broker.child.signalCode}); its stderr is above`);
      }
      await stopChild(broker.child);

      // Delay of each delivered value: first arrival minus its PATCH response.
      const delays: number[] = [];
      let beforeResponse = 0;
      let duplicates = 0;
      for (let k = 1; k <= PATCHES; k++) {
        if (receiver.seen[k]! > 1) duplicates += receiver.seen[k]! - 1;
        if (receiver.seen[k] === 0) continue;
        const d = receiver.firstArrival[k]! - run.responded[k]!;
        if (d < 0) beforeResponse++;
        delays.push(d);
      }
      const delay = sortedOf(Float64Array.from(delays));
      const latency = sortedOf(run.latency.subarray(1));
      const missing = PATCHES - receiver.distinct;
      const lastArrivalAfterPatches = receiver.lastAt > 0 ? receiver.lastAt - run.endedAt : NaN;
      const deliverySpan = receiver.firstAt > 0 ? (Math.min(receiver.lastAt, completeAt) - run.startedAt) / 1000 : NaN;

      const rows: string[][] = [
        ['PATCH requests', String(PATCHES)],
        ['PATCH req/s', (PATCHES / patchSeconds).toFixed(0)],
        ['PATCH latency p50 / p99 ms', `${ms(percentile(latency, 50))} / ${ms(percentile(latency, 99))}`],
        ['notifications received (HTTP requests)', String(receiver.requests)],
        ['entities per notification (avg / max)', receiver.requests ? `${(receiver.entities / receiver.requests).toFixed(1)} / ${receiver.maxBatch}` : 'n/a'],
        ['distinct values delivered', `${receiver.distinct} of ${PATCHES}${missing > 0 ? `  (${missing} MISSING)` : ''}`],
        ['duplicate deliveries', String(duplicates)],
        ['other values (not 1..N)', String(receiver.unexpected)],
        ['values for the wrong entity', String(receiver.wrongEntity)],
        ['malformed requests', String(receiver.malformed)],
        ['arrived before the PATCH response', String(beforeResponse)],
        ['delay p50 ms', ms(percentile(delay, 50))],
        ['delay p90 ms', ms(percentile(delay, 90))],
        ['delay p99 ms', ms(percentile(delay, 99))],
        ['delay max ms', ms(delay.length ? delay[delay.length - 1]! : NaN)],
        ['last arrival after the last PATCH response ms', ms(lastArrivalAfterPatches)],
        ['values delivered per s (first PATCH to last arrival)', receiver.distinct && deliverySpan > 0 ? (receiver.distinct / deliverySpan).toFixed(0) : 'n/a'],
        ['broker RSS before / after the PATCHes', `${mib(rssBefore)} / ${mib(rssAfter)}`],
      ];

      console.log('');
      console.log(
        `musubi notification benchmark: ${PATCHES} PATCHes over ${ENTITIES} entities, ${CONCURRENCY} in flight, one subscription (node ${process.version})`,
      );
      console.log('');
      console.log(formatTable(['', 'value'], rows));
      if (timedOut) console.log(`\nFAILED: ${missing} of ${PATCHES} values did not arrive within ${WAIT_S} s after the last PATCH`);
      if (receiver.wrongEntity > 0) console.log(`\nFAILED: ${receiver.wrongEntity} values arrived for another entity than the one PATCHed`);

      if (process.env.BENCH_JSON) {
        writeFileSync(
          process.env.BENCH_JSON,
          JSON.stringify(
            {
              patches: PATCHES,
              concurrency: CONCURRENCY,
              entities: ENTITIES,
              node: process.version,
              subscription: location,
              patchReqPerSec: PATCHES / patchSeconds,
              patchLatencyMs: { p50: percentile(latency, 50), p99: percentile(latency, 99) },
              notifications: receiver.requests,
              maxEntitiesPerNotification: receiver.maxBatch,
              distinct: receiver.distinct,
              missing,
              duplicates,
              unexpected: receiver.unexpected,
              wrongEntity: receiver.wrongEntity,
              malformed: receiver.malformed,
              arrivedBeforeResponse: beforeResponse,
              delayMs: {
                p50: percentile(delay, 50),
                p90: percentile(delay, 90),
                p99: percentile(delay, 99),
                max: delay.length ? delay[delay.length - 1] : null,
              },
              rssBefore,
              rssAfter,
            },
            null,
            2,
          ),
        );
      }
      return missing > 0 || receiver.wrongEntity > 0 ? 1 : 0;
    } finally {
      await stopChild(broker.child);
    }
  } finally {
    await receiver.close();
  }
}

await runBench(main);
