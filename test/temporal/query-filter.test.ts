import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ContextResolver } from '../../src/jsonld/resolver.js';
import type { LdContext } from '../../src/jsonld/types.js';
import { parseQ } from '../../src/query/q-parser.js';
import { openStores, type Stores } from '../../src/store/index.js';
import type { TemporalInstance, TemporalStore } from '../../src/store/temporal-store.js';
import { instancePredicate, parseTemporalFilter, restrictQ } from '../../src/temporal/query-filter.js';
import { TemporalService } from '../../src/temporal/service.js';
import { MemoryTemporalStore } from './memory-temporal-store.js';

const resolver = new ContextResolver({ timeoutMs: 100, cacheTtlSec: 60 });
let ctx: LdContext;
beforeAll(async () => {
  ctx = await resolver.resolve(undefined);
});

const DEFAULT = 'https://uri.etsi.org/ngsi-ld/default-context/';
const day = (d: number) => `2024-01-0${d}T00:00:00Z`;
const speed = (values: Array<number | undefined>) =>
  values.flatMap((v, i) => (v === undefined ? [] : [{ type: 'Property', value: v, observedAt: day(i + 1) }]));
const point = (lon: number, lat: number, d: number) => ({ type: 'GeoProperty', value: { type: 'Point', coordinates: [lon, lat] }, observedAt: day(d) });

describe('restrictQ and instancePredicate (5.7.4.4: instances that meet the query restrictions)', () => {
  const q = (text: string) => parseQ(text, ctx);
  const inst = (value: unknown, deleted = false): TemporalInstance => ({
    instanceId: 'urn:ngsi-ld:i',
    attribute: { type: 'Property', value, createdAt: day(1), modifiedAt: day(1) },
    ...(deleted ? { deletedAt: day(1) } : {}),
  });

  it('keeps the terms on the attribute; terms on others count as met', () => {
    expect(restrictQ(q('speed>50;brand=="X"'), DEFAULT + 'speed')).toMatchObject({ kind: 'compare', op: '>' });
    expect(restrictQ(q('speed>50;brand=="X"'), DEFAULT + 'brand')).toMatchObject({ kind: 'compare', op: '==' });
    expect(restrictQ(q('speed>50|brand=="X"'), DEFAULT + 'speed')).toBe(true);
    expect(restrictQ(q('speed>50;speed<60'), DEFAULT + 'speed')).toMatchObject({ kind: 'and', of: [{ op: '>' }, { op: '<' }] });
    expect(restrictQ(q('(speed>50|speed<5);brand=="X"'), DEFAULT + 'speed')).toMatchObject({ kind: 'or' });
    expect(restrictQ(q('brand=="X"'), DEFAULT + 'speed')).toBe(true);
  });

  it('tests each instance alone; a deletion record has no value (4.5.7)', () => {
    const over50 = instancePredicate({ q: q('speed>50') }, 'urn:e', DEFAULT + 'speed')!;
    expect([inst(60), inst(40), inst('urn:ngsi-ld:null', true)].map(over50)).toEqual([true, false, false]);
    const unequal = instancePredicate({ q: q('speed!=3') }, 'urn:e', DEFAULT + 'speed')!;
    expect([inst(4), inst('urn:ngsi-ld:null', true)].map(unequal)).toEqual([true, false]);
    const absent = instancePredicate({ q: q('!speed') }, 'urn:e', DEFAULT + 'speed')!;
    expect([inst(4), inst('urn:ngsi-ld:null', true)].map(absent)).toEqual([false, true]);
    expect(instancePredicate({ q: q('speed>50') }, 'urn:e', DEFAULT + 'brand')).toBeUndefined();
    expect(instancePredicate({}, 'urn:e', DEFAULT + 'speed')).toBeUndefined();
  });

  it('BadRequestData for a bad q, a bad geo-query and linked-entity paths (4.9, 4.10, 5.7.4.4)', () => {
    for (const params of [
      { q: 'speed>' },
      { q: 'owner{speed}>1' },
      { georel: 'near;maxDistance==1000', geometry: 'Point' },
      { georel: 'close', geometry: 'Point', coordinates: '[0,0]' },
      { georel: 'within', geometry: 'Polygon', coordinates: '[0,0]' },
    ]) {
      expect(() => parseTemporalFilter(params, ctx), JSON.stringify(params)).toThrow(expect.objectContaining({ kind: 'BadRequestData' }));
    }
    expect(parseTemporalFilter({ georel: 'near;maxDistance==10', geometry: 'Point', coordinates: '[1,2]' }, ctx).geo).toMatchObject({ geoproperty: 'https://uri.etsi.org/ngsi-ld/location' });
  });
});

/** The same behaviour over the reference in-memory store and the embedded (lmdb) store. */
describe.each(['memory', 'embedded'] as const)('q, geo-queries and count on temporal queries (5.7.4.4, 6.3.13), %s store', (kind) => {
  let dir: string | undefined;
  let stores: Stores | undefined;
  let service: TemporalService;
  const scope = () => ({ tenant: '', ctx });
  const V = (n: number) => `urn:ngsi-ld:Vehicle:${n}`;
  const ids = (r: { entities: Record<string, unknown>[] }) => r.entities.map((e) => e.id);
  const values = (e: Record<string, unknown>, name: string) => ((e[name] ?? []) as Array<{ value: unknown }>).map((i) => i.value);

  beforeEach(async () => {
    let store: TemporalStore;
    if (kind === 'memory') store = new MemoryTemporalStore();
    else {
      dir = await mkdtemp(join(tmpdir(), 'musubi-temporal-q-'));
      stores = await openStores({ store: 'embedded', dataDir: dir });
      store = stores.temporal;
    }
    service = new TemporalService(store, { defaultLimit: 20, maxLimit: 100, maxInstances: 100 });
    // Vehicle 1: fast on days 2 and 4, at [10,10] from day 3, brand X observed on day 1 only.
    await service.upsert(scope(), { id: V(1), type: 'Vehicle', speed: speed([10, 60, 30, 70, 20]), location: [point(0, 0, 1), point(10, 10, 3)], brand: { type: 'Property', value: 'X', observedAt: day(1) } });
    // Vehicle 2: always slow, at [10,10] on day 1 only.
    await service.upsert(scope(), { id: V(2), type: 'Vehicle', speed: speed([5, 15, 25]), location: [point(10, 10, 1), point(50, 50, 2)] });
    // Vehicle 3: fast on day 1 only.
    await service.upsert(scope(), { id: V(3), type: 'Vehicle', speed: speed([55]) });
  });
  afterEach(async () => {
    await stores?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    stores = undefined;
    dir = undefined;
  });

  const after = (d: number) => ({ type: 'Vehicle', timerel: 'after', timeAt: day(d) });

  it('q selects entities with an instance in range that matches, and shows only the matching instances of its attributes', async () => {
    const r = await service.query(scope(), { ...after(2), q: 'speed>50' });
    // Vehicle 3 was fast only before the range (after is inclusive: 4.11).
    expect(ids(r)).toEqual([V(1)]);
    expect(values(r.entities[0]!, 'speed')).toEqual([60, 70]);
    // Attributes the q does not name keep every instance in range.
    expect((r.entities[0]!.location as unknown[]).length).toBe(1);
    expect(ids(await service.query(scope(), { ...after(1), q: 'speed>50' }))).toEqual([V(1), V(3)]);
    expect(ids(await service.query(scope(), { ...after(1), q: 'speed>500' }))).toEqual([]);
  });

  it('combines terms over the instances in range: ";" both hold, "|" either, "!attr" none has it (4.9)', async () => {
    const both = await service.query(scope(), { ...after(1), q: 'speed>50;brand=="X"' });
    expect(ids(both)).toEqual([V(1)]);
    expect(values(both.entities[0]!, 'speed')).toEqual([60, 70]);
    expect(values(both.entities[0]!, 'brand')).toEqual(['X']);
    // brand X lies before the range
    expect(ids(await service.query(scope(), { ...after(2), q: 'speed>50;brand=="X"' }))).toEqual([]);
    const either = await service.query(scope(), { ...after(2), q: 'speed>1000|speed<10' });
    expect(ids(either)).toEqual([]);
    const alternative = await service.query(scope(), { ...after(1), q: 'speed<10|brand=="X"' });
    expect(ids(alternative)).toEqual([V(1), V(2)]);
    // An alternative on another attribute leaves speed unrestricted: every speed instance in range is shown.
    expect(values(alternative.entities[0]!, 'speed')).toEqual([10, 60, 30, 70, 20]);
    expect(values(alternative.entities[1]!, 'speed')).toEqual([5, 15, 25]);
    // Shown: the instances that satisfy the whole q on their attribute. Selected: each term met by some instance in
    // range, not necessarily the same one (as with datasetId instances, 4.5.5): Vehicle 2 had 5 (<10) and 15 (!=5),
    // so it is in the result, showing its other attributes but no speed instance.
    const narrowed = await service.query(scope(), { ...after(1), q: '(speed<10|speed>65);speed!=5' });
    expect(ids(narrowed)).toEqual([V(1), V(2)]);
    expect(values(narrowed.entities[0]!, 'speed')).toEqual([70]);
    expect(narrowed.entities[1]!.speed).toBeUndefined();
    expect(narrowed.entities[1]!.location).toHaveLength(2);
    expect(ids(await service.query(scope(), { ...after(1), q: '!brand' }))).toEqual([V(2), V(3)]);
    expect(ids(await service.query(scope(), { ...after(2), q: '!brand' }))).toEqual([V(1), V(2)]);
    expect(ids(await service.query(scope(), { ...after(1), q: 'speed.observedAt>=2024-01-04T00:00:00Z' }))).toEqual([V(1)]);
  });

  it('lastN counts the matching instances only (5.7.4.4 "up to lastN")', async () => {
    const r = await service.query(scope(), { ...after(1), q: 'speed>5', lastN: '2', attrs: 'speed' });
    expect(r.entities.map((e) => values(e, 'speed').sort())).toEqual([[20, 70], [15, 25], [55]]);
  });

  it('a geo-query checks the GeoProperty instances in range and shows the matching ones (4.10)', async () => {
    const near = { georel: 'near;maxDistance==1000', geometry: 'Point', coordinates: '[10,10]' };
    const r = await service.query(scope(), { ...after(2), ...near });
    // Vehicle 2 was at [10,10] on day 1 only: before the range.
    expect(ids(r)).toEqual([V(1)]);
    expect((r.entities[0]!.location as Array<{ value: unknown }>).map((i) => i.value)).toEqual([{ type: 'Point', coordinates: [10, 10] }]);
    expect(values(r.entities[0]!, 'speed')).toEqual([60, 30, 70, 20]);
    expect(ids(await service.query(scope(), { ...after(1), ...near }))).toEqual([V(1), V(2)]);
    const within = { georel: 'within', geometry: 'Polygon', coordinates: '[[[40,40],[60,40],[60,60],[40,60],[40,40]]]' };
    expect(ids(await service.query(scope(), { ...after(1), ...within }))).toEqual([V(2)]);
    // With q too, both must hold; a geo-query alone narrows enough (no type needed).
    expect(ids(await service.query(scope(), { ...after(1), ...near, q: 'speed<10' }))).toEqual([V(2)]);
    const { type: _, ...untyped } = after(1);
    expect(ids(await service.query(scope(), { ...untyped, ...within }))).toEqual([V(2)]);
    expect(ids(await service.query(scope(), { ...untyped, q: 'speed>50' }))).toEqual([V(1), V(3)]);
  });

  it('the POST query carries q and geoQ (5.2.23, 6.24)', async () => {
    const body = service.bodyToParams({
      type: 'Query',
      entities: [{ type: 'Vehicle' }],
      q: 'speed>50',
      geoQ: { georel: 'near;maxDistance==1000', geometry: 'Point', coordinates: [10, 10] },
      temporalQ: { timerel: 'after', timeAt: day(1) },
    });
    expect(ids(await service.query(scope(), body.params, body.selectors))).toEqual([V(1)]);
  });

  it('count is the number of entities in the result, and the pages hold exactly those (6.3.13, 5.5.9)', async () => {
    // Only Vehicle 1 has instances on or after day 4.
    const late = await service.query(scope(), { ...after(4), count: 'true' });
    expect(ids(late)).toEqual([V(1)]);
    expect(late.count).toBe(1);
    expect(late.next).toBeUndefined();
    expect((await service.query(scope(), { ...after(1), q: 'speed>50', count: 'true', limit: '0' })).count).toBe(2);
    expect((await service.query(scope(), { ...after(1), q: 'speed>50', count: 'true', limit: '0', georel: 'near;maxDistance==1000', geometry: 'Point', coordinates: '[10,10]' })).count).toBe(1);
    // Walking the pages one entity at a time yields the counted entities, none twice, and then stops.
    const seen: unknown[] = [];
    let params: Record<string, string> = { ...after(2), limit: '1', count: 'true' };
    for (let i = 0; i < 5; i++) {
      const page = await service.query(scope(), params);
      expect(page.count).toBe(2);
      seen.push(...ids(page));
      if (!page.next) break;
      params = { ...params, ...page.next };
    }
    expect(seen).toEqual([V(1), V(2)]);
  });

  it('datasetId narrows what is shown: an entity with nothing left to show is not in the result (5.7.4.4)', async () => {
    await service.addAttributes(scope(), V(3), { speed: { type: 'Property', value: 99, observedAt: day(3), datasetId: 'urn:ngsi-ld:ds:radar' } });
    const r = await service.query(scope(), { ...after(1), datasetId: 'urn:ngsi-ld:ds:radar', count: 'true' });
    expect(ids(r)).toEqual([V(3)]);
    expect(r.count).toBe(1);
    expect(values(r.entities[0]!, 'speed')).toEqual([99]);
  });
});
