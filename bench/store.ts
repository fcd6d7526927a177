/**
 * Embedded store micro-benchmark: `npx tsx bench/store.ts [entities]`.
 * Every mutate here is durable (fdatasync'd) before it resolves, so mutate numbers mostly measure the disk and
 * how well concurrent writes share one commit.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entity } from '../src/model/entity.js';
import { openEmbeddedStore } from '../src/store/embedded/index.js';
import { TenantIndex } from '../src/store/embedded/tenant-index.js';

const N = Number(process.argv[2] ?? 10_000);
const NS = 'https://uri.etsi.org/ngsi-ld/default-context/';
const T = '2024-01-01T00:00:00.000Z';

function vehicle(i: number, speed: number): Entity {
  const prop = (value: unknown) => [{ type: 'Property' as const, value, createdAt: T, modifiedAt: T }];
  return {
    id: `urn:ngsi-ld:Vehicle:${i}`,
    type: [`${NS}Vehicle`],
    createdAt: T,
    modifiedAt: T,
    attrs: {
      [`${NS}speed`]: [{ type: 'Property', value: speed, unitCode: 'KMH', observedAt: T, createdAt: T, modifiedAt: T }],
      [`${NS}brand`]: prop('Mercedes'),
      [`${NS}meta`]: prop({ [`${NS}tags`]: ['a', 'b'], [`${NS}nested`]: { [`${NS}x`]: 1.5 } }),
      'https://uri.etsi.org/ngsi-ld/location': [
        { type: 'GeoProperty', value: { type: 'Point', coordinates: [13.4, 52.5] }, createdAt: T, modifiedAt: T },
      ],
      [`${NS}owner`]: [{ type: 'Relationship', object: 'urn:ngsi-ld:Person:1', createdAt: T, modifiedAt: T }],
    },
  };
}

async function timed(label: string, ops: number, run: () => Promise<void>): Promise<void> {
  const start = performance.now();
  await run();
  const seconds = (performance.now() - start) / 1000;
  console.log(`${label.padEnd(40)} ${Math.round(ops / seconds).toLocaleString('en').padStart(10)} ops/s`);
}

/** Runs `total` tasks with at most `concurrency` in flight. */
async function pool(total: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => { while (next < total) await task(next++); }));
}

const dir = await mkdtemp(join(tmpdir(), 'musubi-bench-'));
try {
  const store = await openEmbeddedStore({ dataDir: dir });
  const putAt = (i: number, speed: number) => store.mutate('', `urn:ngsi-ld:Vehicle:${i}`, () => ({ change: { kind: 'put', entity: vehicle(i, speed) }, result: null }));

  console.log(`embedded store, ${N.toLocaleString('en')} entities, data in ${dir}`);
  await timed('mutate: create, 64 concurrent', N, () => pool(N, 64, (i) => putAt(i, 0)));
  await timed('mutate: update, 1 at a time', 500, () => pool(500, 1, (i) => putAt(i % N, 1)));
  await timed('mutate: update, 16 concurrent', 5_000, () => pool(5_000, 16, (i) => putAt(i % N, 2)));
  await timed('mutate: update, 256 concurrent', 20_000, () => pool(20_000, 256, (i) => putAt(i % N, 3)));
  await timed('mutate: same entity, 64 concurrent', 5_000, () =>
    pool(5_000, 64, () =>
      store.mutate('', 'urn:ngsi-ld:Vehicle:0', (cur) => ({ change: { kind: 'put', entity: vehicle(0, (cur!.attrs[`${NS}speed`][0].value as number) + 1) }, result: null })),
    ),
  );
  const reads = 200_000;
  await timed('get (awaited, random ids)', reads, async () => {
    for (let k = 0; k < reads; k++) await store.get('', `urn:ngsi-ld:Vehicle:${(k * 7919) % N}`);
  });
  await timed('get (missing ids)', reads, async () => {
    for (let k = 0; k < reads; k++) await store.get('', `urn:ngsi-ld:Nope:${k}`);
  });
  // Worst case for the sorted-id snapshot: every read follows a write, so each one merges (O(n)).
  const index = new TenantIndex();
  for (let i = 0; i < N; i++) index.apply(`urn:ngsi-ld:Vehicle:${i}`, undefined, { types: [`${NS}Vehicle`], attrs: [], geo: {} });
  index.allIds();
  await timed('index: insert + allIds (merge)', 2_000, async () => {
    for (let k = 0; k < 2_000; k++) {
      index.apply(`urn:ngsi-ld:Vehicle:${k}x`, undefined, { types: [`${NS}Vehicle`], attrs: [`${NS}speed`], geo: {} });
      if (index.allIds().length === 0) throw new Error('empty index');
    }
  });
  await store.close();
  const start = performance.now();
  const reopened = await openEmbeddedStore({ dataDir: dir });
  console.log(`reopen + index rebuild of ${reopened.count('').toLocaleString('en')} entities: ${Math.round(performance.now() - start)} ms`);
  await reopened.close();
} finally {
  await rm(dir, { recursive: true, force: true });
}
