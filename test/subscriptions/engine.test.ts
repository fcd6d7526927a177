import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CORE_CONTEXT_URL } from '../../src/jsonld/core-context.js';
import { ContextResolver } from '../../src/jsonld/resolver.js';
import type { LdContext } from '../../src/jsonld/types.js';
import type { Attribute, Entity } from '../../src/model/entity.js';
import type { OutboundNotification } from '../../src/notifications/types.js';
import { parseGeoQuery } from '../../src/query/geo-query.js';
import { parseQ } from '../../src/query/q-parser.js';
import { parseScopeQ } from '../../src/query/scope-q.js';
import type { CompiledSubscription, Trigger } from '../../src/subscriptions/compiled.js';
import { SubscriptionEngine, type SubscriptionEngineDeps } from '../../src/subscriptions/engine.js';
import { useEmbeddedStore } from '../store/helpers.js';

const NS = 'https://example.org/ns#';
const LOCATION = 'https://uri.etsi.org/ngsi-ld/location';
const NULL = 'urn:ngsi-ld:null';
const TERMS = Object.fromEntries(
  ['Vehicle', 'Car', 'Building', 'speed', 'name', 'brand', 'isParked', 'label', 'category', 'config', 'readings', 'stops', 'Sedan'].map((t) => [t, NS + t]),
);
const CONTEXT_URL = 'https://example.org/ctx.jsonld';
const LINK = `<${CONTEXT_URL}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"`;
const T0 = '2024-01-01T00:00:00.000Z';
const T1 = '2024-01-01T00:00:01.000Z';

const fakeFetch = (async (url: string | URL | Request) =>
  String(url) === CONTEXT_URL
    ? new Response(JSON.stringify({ '@context': TERMS }), { headers: { 'content-type': 'application/ld+json' } })
    : new Response('not found', { status: 404 })) as typeof fetch;
const resolver = new ContextResolver({ timeoutMs: 1000, cacheTtlSec: 3600, fetch: fakeFetch });
let ctx: LdContext;
beforeAll(async () => {
  ctx = await resolver.resolve(CONTEXT_URL);
});

// ---- fixtures ----

const expand = (name: string) => (name === 'location' ? LOCATION : NS + name);
const prop = (value: unknown, extra: Partial<Attribute> = {}): Attribute => ({ type: 'Property', value, createdAt: T0, modifiedAt: T0, ...extra });
const rel = (object: string, extra: Partial<Attribute> = {}): Attribute => ({ type: 'Relationship', object, createdAt: T0, modifiedAt: T0, ...extra });
const geoProp = (lon: number, lat: number): Attribute => ({ type: 'GeoProperty', value: { type: 'Point', coordinates: [lon, lat] }, createdAt: T0, modifiedAt: T0 });

function ent(id: string, types: string | string[], attrs: Record<string, Attribute | Attribute[]> = {}, extra: Partial<Entity> = {}): Entity {
  return {
    id,
    type: (Array.isArray(types) ? types : [types]).map((t) => NS + t),
    createdAt: T0,
    modifiedAt: T0,
    attrs: Object.fromEntries(Object.entries(attrs).map(([k, v]) => [expand(k), Array.isArray(v) ? v : [v]])),
    ...extra,
  };
}
const vehicle = (id: string, attrs: Record<string, Attribute | Attribute[]> = {}, extra: Partial<Entity> = {}) => ent(id, 'Vehicle', attrs, extra);

type SubInput = Omit<Partial<CompiledSubscription>, 'notification' | 'triggers'> & {
  triggers?: Trigger[];
  notification?: Partial<CompiledSubscription['notification']>;
};
function sub(input: SubInput = {}): CompiledSubscription {
  const { notification, triggers, ...rest } = input;
  return {
    id: 'urn:ngsi-ld:Subscription:s1',
    tenant: '',
    selection: { entities: [{ types: { op: 'type', iri: NS + 'Vehicle' } }] },
    triggers: new Set(triggers ?? ['attributeCreated', 'attributeUpdated']),
    active: true,
    context: CONTEXT_URL,
    ...rest,
    notification: {
      format: 'normalized',
      sysAttrs: false,
      showChanges: false,
      endpoint: { uri: 'http://receiver.example/notify', accept: 'application/json' },
      ...notification,
    },
  };
}

// ---- harness: a real embedded store, a recording deliver ----

const db = useEmbeddedStore();
let delivered: OutboundNotification[] = [];
const engines: SubscriptionEngine[] = [];
let engine: SubscriptionEngine;

function newEngine(extra: Partial<SubscriptionEngineDeps> = {}): SubscriptionEngine {
  const e = new SubscriptionEngine({
    store: db.store,
    resolver,
    deliver: async (items) => {
      delivered.push(...items);
    },
    ...extra,
  });
  engines.push(e);
  return e;
}

/** A started engine with these subscriptions. */
function run(...subs: CompiledSubscription[]): SubscriptionEngine {
  delivered = [];
  engine = newEngine();
  for (const s of subs) engine.upsert(s);
  engine.start();
  return engine;
}

afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
});

async function put(e: Entity, tenant = ''): Promise<void> {
  await db.store.mutate(tenant, e.id, () => ({ change: { kind: 'put', entity: e }, result: undefined }));
  await engine.idle();
}
async function remove(id: string, tenant = ''): Promise<void> {
  await db.store.mutate(tenant, id, () => ({ change: { kind: 'delete' }, result: undefined }));
  await engine.idle();
}
const bodies = (): Array<Record<string, any>> => delivered.map((n) => JSON.parse(n.body));
const entities = (): Array<Record<string, any>> => bodies().flatMap((b) => b.data);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A change committed without waiting for any engine. */
async function write(e: Entity, tenant = ''): Promise<void> {
  await db.store.mutate(tenant, e.id, () => ({ change: { kind: 'put', entity: e }, result: undefined }));
}
async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(10);
  }
}

// ---- tests ----

describe('Notification (5.3.1) and default triggers (5.2.12)', () => {
  it('5.2.12 default attributeCreated+attributeUpdated: creation and update notify, deletion does not', async () => {
    run(sub());
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(10) }));
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(20, { modifiedAt: T1 }) }, { modifiedAt: T1 }));
    await remove('urn:ngsi-ld:Vehicle:A');
    expect(delivered).toHaveLength(2);
    const [first, second] = bodies();
    expect(first!.id).toMatch(/^urn:ngsi-ld:Notification:[0-9a-f-]{36}$/);
    expect(first!.id).not.toBe(second!.id);
    expect(first).toMatchObject({ type: 'Notification', subscriptionId: 'urn:ngsi-ld:Subscription:s1' });
    expect(new Date(first!.notifiedAt).toISOString()).toBe(first!.notifiedAt);
    expect(first!.data).toEqual([{ id: 'urn:ngsi-ld:Vehicle:A', type: 'Vehicle', speed: { type: 'Property', value: 10 } }]);
    expect(second!.data[0].speed.value).toBe(20);
    expect(delivered[0]).toMatchObject({ id: first!.id, tenant: '', subscriptionId: 'urn:ngsi-ld:Subscription:s1', attempt: 0 });
  });

  it('5.8.6 an attribute written again with the same value (only modifiedAt moves) is not a change; observedAt is', async () => {
    run(sub());
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(10) }));
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(10, { modifiedAt: T1 }) }, { modifiedAt: T1 }));
    expect(delivered).toHaveLength(1);
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(10, { observedAt: T1 }) }));
    expect(delivered).toHaveLength(2);
  });

  it('5.2.12 entityCreated fires on creation only, also for an entity without attributes', async () => {
    run(sub({ triggers: ['entityCreated'] }));
    await put(vehicle('urn:ngsi-ld:Vehicle:A'));
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(1) }));
    await remove('urn:ngsi-ld:Vehicle:A');
    expect(entities()).toEqual([{ id: 'urn:ngsi-ld:Vehicle:A', type: 'Vehicle' }]);
  });

  it('5.2.12 entityDeleted: 5.8.6 only deletedAt besides id and type; sysAttrs adds createdAt and modifiedAt', async () => {
    run(sub({ triggers: ['entityDeleted'] }), sub({ id: 'urn:s2', triggers: ['entityDeleted'], notification: { sysAttrs: true } }));
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(10) }));
    expect(delivered).toHaveLength(0);
    await remove('urn:ngsi-ld:Vehicle:A');
    const byId = Object.fromEntries(bodies().map((b) => [b.subscriptionId, b.data[0]]));
    const plain = byId['urn:ngsi-ld:Subscription:s1'];
    expect(Object.keys(plain).sort()).toEqual(['deletedAt', 'id', 'type']);
    expect(plain).toMatchObject({ id: 'urn:ngsi-ld:Vehicle:A', type: 'Vehicle' });
    expect(Date.parse(plain.deletedAt)).not.toBeNaN();
    expect(byId['urn:s2']).toEqual({ ...plain, createdAt: T0, modifiedAt: T0 });
  });

  it('5.2.12 entityDeleted with showChanges (5.8.6): the attributes as NGSI-LD Null with their previous value', async () => {
    run(sub({ triggers: ['entityDeleted'], notification: { showChanges: true } }));
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(10), isParked: rel('urn:ngsi-ld:Park:1') }));
    await remove('urn:ngsi-ld:Vehicle:A');
    expect(entities()[0]).toMatchObject({
      speed: { type: 'Property', value: NULL, previousValue: 10 },
      isParked: { type: 'Relationship', object: NULL, previousObject: 'urn:ngsi-ld:Park:1' },
    });
  });

  it('5.2.12 attributeDeleted: 5.8.6 the deleted attribute as "urn:ngsi-ld:null", the others as they are', async () => {
    run(sub({ triggers: ['attributeDeleted'] }));
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(10), brand: prop('Mercedes') }));
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(11) }));
    expect(entities()).toEqual([{ id: 'urn:ngsi-ld:Vehicle:A', type: 'Vehicle', speed: { type: 'Property', value: 11 }, brand: NULL }]);
  });

  it('5.8.6 a deleted instance is an object when a datasetId or sysAttrs has to go with it', async () => {
    run(sub({ triggers: ['attributeDeleted'] }), sub({ id: 'urn:s2', triggers: ['attributeDeleted'], notification: { sysAttrs: true } }));
    const ds = 'urn:ngsi-ld:Dataset:french';
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { name: [prop('car'), prop('voiture', { datasetId: ds })], brand: prop('X') }));
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { name: [prop('car')] }));
    const byId = Object.fromEntries(bodies().map((b) => [b.subscriptionId, b.data[0]]));
    expect(byId['urn:ngsi-ld:Subscription:s1']).toEqual({
      id: 'urn:ngsi-ld:Vehicle:A',
      type: 'Vehicle',
      name: [
        { type: 'Property', value: 'car' },
        { type: 'Property', value: NULL, datasetId: ds },
      ],
      brand: NULL,
    });
    const withSys = byId['urn:s2'];
    expect(withSys.brand).toMatchObject({ type: 'Property', value: NULL, createdAt: T0, modifiedAt: T0 });
    expect(Date.parse(withSys.brand.deletedAt)).not.toBeNaN();
  });

  it('TP/NGSI-LD/CI/SUB/046_22_11: attributeDeleted fires when the entity is deleted, with deletedAt and the attributes as Null', async () => {
    run(sub({ triggers: ['attributeDeleted'], watchedAttributes: [NS + 'brand'] }));
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(10) }));
    await remove('urn:ngsi-ld:Vehicle:A');
    expect(delivered).toHaveLength(0); // brand was not there
    await put(vehicle('urn:ngsi-ld:Vehicle:B', { brand: prop('X') }));
    await remove('urn:ngsi-ld:Vehicle:B');
    expect(entities()).toHaveLength(1);
    expect(entities()[0]).toMatchObject({ id: 'urn:ngsi-ld:Vehicle:B', type: 'Vehicle', brand: NULL });
    expect(entities()[0].deletedAt).toBeDefined();
  });
});

describe('watchedAttributes and the selection (5.2.12, 5.8.6)', () => {
  it('5.2.12 watchedAttributes: only changes of the watched attributes notify; the notification shows all attributes', async () => {
    run(sub({ watchedAttributes: [NS + 'speed'] }));
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { brand: prop('X') }));
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { brand: prop('Y') }));
    expect(delivered).toHaveLength(0);
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { brand: prop('Y'), speed: prop(3) }));
    expect(entities()).toEqual([{ id: 'urn:ngsi-ld:Vehicle:A', type: 'Vehicle', brand: { type: 'Property', value: 'Y' }, speed: { type: 'Property', value: 3 } }]);
  });

  it('5.2.33 entity selectors: by type (4.17 selection), by id, by idPattern', async () => {
    run(
      sub({ id: 'urn:by-type', selection: { entities: [{ types: { op: 'and', of: [{ op: 'type', iri: NS + 'Vehicle' }, { op: 'type', iri: NS + 'Car' }] } }] } }),
      sub({ id: 'urn:by-id', selection: { entities: [{ ids: ['urn:ngsi-ld:Vehicle:B'] }] } }),
      sub({ id: 'urn:by-pattern', selection: { entities: [{ idPattern: '^urn:ngsi-ld:Building:' }] } }),
    );
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(1) }));
    await put(ent('urn:ngsi-ld:Vehicle:C', ['Vehicle', 'Car'], { speed: prop(1) }));
    await put(vehicle('urn:ngsi-ld:Vehicle:B', { speed: prop(1) }));
    await put(ent('urn:ngsi-ld:Building:1', 'Building', { name: prop('x') }));
    const got = bodies().map((b) => `${b.subscriptionId} ${b.data[0].id}`);
    expect(got).toEqual(['urn:by-type urn:ngsi-ld:Vehicle:C', 'urn:by-id urn:ngsi-ld:Vehicle:B', 'urn:by-pattern urn:ngsi-ld:Building:1']);
  });

  it('4.9 q: the entity after the change must match', async () => {
    run(sub({ selection: { entities: [{ types: { op: 'type', iri: NS + 'Vehicle' } }], q: parseQ('speed>50', ctx) } }));
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(10) }));
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(60) }));
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(20) }));
    expect(entities().map((e) => e.speed.value)).toEqual([60]);
  });

  it('4.10 geoQ: near;maxDistance around a point (5.2.13)', async () => {
    const geo = parseGeoQuery({ georel: 'near;maxDistance==2000', geometry: 'Point', coordinates: '[13.3777,52.5163]' }, expand)!;
    run(sub({ selection: { entities: [{ types: { op: 'type', iri: NS + 'Vehicle' } }], geo } }));
    await put(vehicle('urn:ngsi-ld:Vehicle:far', { location: geoProp(13.4017, 52.4732) }));
    await put(vehicle('urn:ngsi-ld:Vehicle:near', { location: geoProp(13.38, 52.517) }));
    expect(entities().map((e) => e.id)).toEqual(['urn:ngsi-ld:Vehicle:near']);
  });

  it('4.19 scopeQ', async () => {
    run(sub({ selection: { entities: [{ types: { op: 'type', iri: NS + 'Vehicle' } }], scopeQ: parseScopeQ('/Madrid/#') } }));
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(1) }, { scope: ['/Berlin'] }));
    await put(vehicle('urn:ngsi-ld:Vehicle:B', { speed: prop(1) }, { scope: ['/Madrid/Centro'] }));
    expect(entities().map((e) => [e.id, e.scope])).toEqual([['urn:ngsi-ld:Vehicle:B', '/Madrid/Centro']]);
  });

  it('6.3.14 tenants: a subscription sees its tenant only; NGSILD-Tenant is sent for a non-default tenant', async () => {
    run(sub({ tenant: 'city' }), sub({ id: 'urn:default' }));
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(1) }), 'city');
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toMatchObject({ tenant: 'city', subscriptionId: 'urn:ngsi-ld:Subscription:s1' });
    expect(delivered[0]!.headers['NGSILD-Tenant']).toBe('city');
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(1) }));
    expect(delivered[1]!.subscriptionId).toBe('urn:default');
    expect(delivered[1]!.headers['NGSILD-Tenant']).toBeUndefined();
  });
});

describe('Representation of the entities (5.8.6, 5.2.14)', () => {
  const full = () =>
    vehicle('urn:ngsi-ld:Vehicle:A', {
      speed: prop(10, { unitCode: 'KMH' }),
      brand: prop('Mercedes'),
      isParked: rel('urn:ngsi-ld:Park:1'),
    });

  it('5.2.14 format concise and simplified (4.5.1, 4.5.4)', async () => {
    run(sub({ id: 'urn:concise', notification: { format: 'concise' } }), sub({ id: 'urn:simplified', notification: { format: 'simplified' } }));
    await put(full());
    const byId = Object.fromEntries(bodies().map((b) => [b.subscriptionId, b.data[0]]));
    expect(byId['urn:concise']).toEqual({ id: 'urn:ngsi-ld:Vehicle:A', type: 'Vehicle', speed: { value: 10, unitCode: 'KMH' }, brand: 'Mercedes', isParked: { object: 'urn:ngsi-ld:Park:1' } });
    expect(byId['urn:simplified']).toEqual({ id: 'urn:ngsi-ld:Vehicle:A', type: 'Vehicle', speed: 10, brand: 'Mercedes', isParked: 'urn:ngsi-ld:Park:1' });
  });

  it('5.2.14 attributes, pick and omit (4.21); sysAttrs (6.3.11)', async () => {
    run(
      sub({ id: 'urn:attributes', notification: { attributes: [NS + 'speed'] } }),
      sub({ id: 'urn:pick', notification: { pick: ['id', 'brand'] } }),
      sub({ id: 'urn:omit', notification: { omit: ['type', 'speed', 'isParked'] } }),
      sub({ id: 'urn:sys', notification: { sysAttrs: true, attributes: [NS + 'brand'] } }),
    );
    await put(full());
    const byId = Object.fromEntries(bodies().map((b) => [b.subscriptionId, b.data[0]]));
    expect(byId['urn:attributes']).toEqual({ id: 'urn:ngsi-ld:Vehicle:A', type: 'Vehicle', speed: { type: 'Property', value: 10, unitCode: 'KMH' } });
    expect(byId['urn:pick']).toEqual({ id: 'urn:ngsi-ld:Vehicle:A', brand: { type: 'Property', value: 'Mercedes' } });
    expect(byId['urn:omit']).toEqual({ id: 'urn:ngsi-ld:Vehicle:A', brand: { type: 'Property', value: 'Mercedes' } });
    expect(byId['urn:sys']).toEqual({
      id: 'urn:ngsi-ld:Vehicle:A',
      type: 'Vehicle',
      createdAt: T0,
      modifiedAt: T0,
      brand: { type: 'Property', value: 'Mercedes', createdAt: T0, modifiedAt: T0 },
    });
  });

  it('5.2.12 datasetId: only the selected instances, and only their changes notify (4.5.5)', async () => {
    const ds = 'urn:ngsi-ld:Dataset:a';
    run(sub({ notification: { datasetIds: new Set([ds]) } }));
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: [prop(1), prop(2, { datasetId: ds })] }));
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: [prop(5), prop(2, { datasetId: ds })] }));
    expect(entities()).toEqual([{ id: 'urn:ngsi-ld:Vehicle:A', type: 'Vehicle', speed: { type: 'Property', value: 2, datasetId: ds } }]);
  });

  it('4.15 lang: a LanguageProperty reduced to the chosen string', async () => {
    run(sub({ notification: { lang: 'fr' } }));
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { label: { type: 'LanguageProperty', languageMap: { en: 'car', fr: 'voiture' }, createdAt: T0, modifiedAt: T0 } }));
    expect(entities()[0].label).toEqual({ type: 'Property', value: 'voiture', lang: 'fr' });
  });

  it('5.2.14 showChanges: previousValue/previousObject/previousLanguageMap/previousVocab/previousJson/previousValueList/previousObjectList', async () => {
    run(sub({ notification: { showChanges: true } }));
    const attrs = (n: number): Record<string, Attribute> => ({
      speed: prop(n),
      isParked: rel(`urn:ngsi-ld:Park:${n}`),
      label: { type: 'LanguageProperty', languageMap: { en: `car ${n}` }, createdAt: T0, modifiedAt: T0 },
      category: { type: 'VocabProperty', vocab: n === 1 ? NS + 'Sedan' : NS + 'Car', createdAt: T0, modifiedAt: T0 },
      config: { type: 'JsonProperty', json: { n }, createdAt: T0, modifiedAt: T0 },
      readings: { type: 'ListProperty', valueList: [n, n], createdAt: T0, modifiedAt: T0 },
      stops: { type: 'ListRelationship', objectList: [`urn:ngsi-ld:Stop:${n}`], createdAt: T0, modifiedAt: T0 },
    });
    await put(vehicle('urn:ngsi-ld:Vehicle:A', attrs(1)));
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { ...attrs(2), brand: prop('new') }));
    const [created, updated] = entities();
    expect(JSON.stringify(created)).not.toContain('previous');
    expect(updated).toEqual({
      id: 'urn:ngsi-ld:Vehicle:A',
      type: 'Vehicle',
      speed: { type: 'Property', value: 2, previousValue: 1 },
      isParked: { type: 'Relationship', object: 'urn:ngsi-ld:Park:2', previousObject: 'urn:ngsi-ld:Park:1' },
      label: { type: 'LanguageProperty', languageMap: { en: 'car 2' }, previousLanguageMap: { en: 'car 1' } },
      category: { type: 'VocabProperty', vocab: 'Car', previousVocab: 'Sedan' },
      config: { type: 'JsonProperty', json: { n: 2 }, previousJson: { n: 1 } },
      readings: { type: 'ListProperty', valueList: [2, 2], previousValueList: [1, 1] },
      stops: { type: 'ListRelationship', objectList: [{ object: 'urn:ngsi-ld:Stop:2' }], previousObjectList: [{ object: 'urn:ngsi-ld:Stop:1' }] },
      brand: { type: 'Property', value: 'new' },
    });
  });

  it('4.5.2.3 showChanges in concise form: a changed Property is an object with value and previousValue', async () => {
    run(sub({ notification: { showChanges: true, format: 'concise' } }));
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(1), brand: prop('X') }));
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(2), brand: prop('X') }));
    expect(entities()[1]).toEqual({ id: 'urn:ngsi-ld:Vehicle:A', type: 'Vehicle', speed: { value: 2, previousValue: 1 }, brand: 'X' });
  });

  it('5.8.6 a deleted LanguageProperty with showChanges: languageMap {"@none": "urn:ngsi-ld:null"} and previousLanguageMap', async () => {
    run(sub({ triggers: ['attributeDeleted'], notification: { showChanges: true } }));
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { label: { type: 'LanguageProperty', languageMap: { en: 'car' }, createdAt: T0, modifiedAt: T0 } }));
    await put(vehicle('urn:ngsi-ld:Vehicle:A', {}));
    expect(entities()[0].label).toEqual({ type: 'LanguageProperty', languageMap: { '@none': NULL }, previousLanguageMap: { en: 'car' } });
  });
});

describe('HTTP binding of the notification (6.3.8)', () => {
  it('6.3.8 application/json: no @context in the body, Link header to the subscription @context', async () => {
    run(sub());
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(1) }));
    const n = delivered[0]!;
    expect(n.contentType).toBe('application/json');
    expect(n.headers.Link).toBe(LINK);
    expect(n.body).not.toContain('@context');
  });

  it('6.3.8 application/json with an inline @context: Link to the core context ("default if none available")', async () => {
    run(sub({ context: TERMS }));
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(1) }));
    expect(delivered[0]!.headers.Link).toContain(`<${CORE_CONTEXT_URL}>`);
    expect(entities()[0].speed).toBeDefined(); // still compacted with the inline context
  });

  it('6.3.8 application/ld+json: @context in the Notification and in each entity (TP 046_14_01), no Link', async () => {
    run(sub({ notification: { endpoint: { uri: 'http://r.example/n', accept: 'application/ld+json' } } }));
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(1) }));
    const n = delivered[0]!;
    expect(n.contentType).toBe('application/ld+json');
    expect(n.headers.Link).toBeUndefined();
    const body = bodies()[0]!;
    expect(body['@context']).toBe(CONTEXT_URL);
    expect(body.data[0]['@context']).toBe(CONTEXT_URL);
  });

  it('5.3.1/4.5.16 application/geo+json: data is a FeatureCollection with @context; Prefer: body=json moves it to Link', async () => {
    const geoEndpoint = { uri: 'http://r.example/n', accept: 'application/geo+json' as const };
    run(
      sub({ id: 'urn:geo', notification: { endpoint: geoEndpoint } }),
      sub({ id: 'urn:geo-json', notification: { endpoint: { ...geoEndpoint, receiverInfo: [{ key: 'Prefer', value: 'body=json' }] } } }),
    );
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(1), location: geoProp(13.4, 52.5) }));
    const [geo, geoJson] = delivered;
    expect(geo!.contentType).toBe('application/geo+json');
    expect(geo!.headers.Link).toBeUndefined();
    expect(JSON.parse(geo!.body).data).toEqual({
      type: 'FeatureCollection',
      features: [
        {
          id: 'urn:ngsi-ld:Vehicle:A',
          type: 'Feature',
          geometry: { type: 'Point', coordinates: [13.4, 52.5] },
          properties: {
            type: 'Vehicle',
            speed: { type: 'Property', value: 1 },
            location: { type: 'GeoProperty', value: { type: 'Point', coordinates: [13.4, 52.5] } },
          },
        },
      ],
      '@context': CONTEXT_URL,
    });
    expect(geoJson!.headers.Link).toBe(LINK);
    expect(geoJson!.headers.Prefer).toBe('body=json');
    expect(JSON.parse(geoJson!.body).data['@context']).toBeUndefined();
  });

  it('6.3.8 receiverInfo: one header per key/value pair', async () => {
    run(sub({ notification: { endpoint: { uri: 'http://r.example/n', accept: 'application/json', receiverInfo: [{ key: 'X-Auth-Token', value: 'secret' }, { key: 'X-Additional-Key', value: 'v' }] } } }));
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(1) }));
    expect(delivered[0]!.headers).toMatchObject({ 'X-Auth-Token': 'secret', 'X-Additional-Key': 'v', Link: LINK });
    expect(delivered[0]!.endpoint.uri).toBe('http://r.example/n');
  });
});

describe('Subscription status (5.8.6) and registry', () => {
  it('5.8.6 a paused (isActive false) or expired subscription never notifies', async () => {
    run(sub({ id: 'urn:paused', active: false }), sub({ id: 'urn:expired', expiresAt: new Date(Date.now() - 1000).toISOString() }));
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(1) }));
    expect(delivered).toHaveLength(0);
  });

  it('5.2.12 expiresAt is checked when the change is matched: notifications stop after it', async () => {
    let clock = Date.parse('2030-01-01T00:00:00Z');
    delivered = [];
    engine = newEngine({ now: () => clock });
    engine.upsert(sub({ expiresAt: '2030-01-01T00:00:10Z' }));
    engine.start();
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(1) }));
    clock += 10_000;
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(2) }));
    expect(entities().map((e) => e.speed.value)).toEqual([1]);
    expect(bodies()[0]!.notifiedAt).toBe('2030-01-01T00:00:00.000Z');
  });

  it('change logging is on only while an active change-driven subscription exists', async () => {
    engine = newEngine();
    delivered = [];
    await db.store.mutate('', 'urn:x1', () => ({ change: { kind: 'put', entity: vehicle('urn:x1') }, result: 0 }));
    expect(await db.store.readChanges(0, 10)).toHaveLength(0);
    engine.upsert(sub({ active: false }));
    engine.upsert(sub({ id: 'urn:periodic', timeIntervalMs: 60_000 }));
    await db.store.mutate('', 'urn:x2', () => ({ change: { kind: 'put', entity: vehicle('urn:x2') }, result: 0 }));
    expect(await db.store.readChanges(0, 10)).toHaveLength(0);
    engine.upsert(sub());
    await db.store.mutate('', 'urn:x3', () => ({ change: { kind: 'put', entity: vehicle('urn:x3') }, result: 0 }));
    expect((await db.store.readChanges(0, 10)).map((c) => c.id)).toEqual(['urn:x3']);
    engine.remove('', 'urn:ngsi-ld:Subscription:s1');
    await db.store.mutate('', 'urn:x4', () => ({ change: { kind: 'put', entity: vehicle('urn:x4') }, result: 0 }));
    expect((await db.store.readChanges(0, 10)).map((c) => c.id)).toEqual(['urn:x3']);
  });

  it('upsert replaces a subscription, remove stops it', async () => {
    run(sub());
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(1) }));
    engine.upsert(sub({ notification: { format: 'simplified' } }));
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(2) }));
    engine.remove('', 'urn:ngsi-ld:Subscription:s1');
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(3) }));
    expect(entities().map((e) => e.speed)).toEqual([{ type: 'Property', value: 1 }, 2]);
  });
});

describe('Change log tailing: order, grouping, at-least-once', () => {
  it('restart: changes logged before a crash are notified by the next engine, then acknowledged', async () => {
    delivered = [];
    const first = newEngine();
    first.upsert(sub());
    // Not started: the changes are logged but not processed, as if the broker crashed right after committing them.
    await db.store.mutate('', 'urn:ngsi-ld:Vehicle:A', () => ({ change: { kind: 'put', entity: vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(1) }) }, result: 0 }));
    await db.store.mutate('', 'urn:ngsi-ld:Vehicle:B', () => ({ change: { kind: 'put', entity: vehicle('urn:ngsi-ld:Vehicle:B', { speed: prop(2) }) }, result: 0 }));
    await first.close();
    await db.reopen();
    expect(await db.store.readChanges(0, 10)).toHaveLength(2);
    run(sub());
    await engine.idle();
    expect(entities().map((e) => e.id)).toEqual(['urn:ngsi-ld:Vehicle:A', 'urn:ngsi-ld:Vehicle:B']);
    expect(await db.store.readChanges(0, 10)).toHaveLength(0);
  });

  it('a failing deliver is retried from the same place and nothing is acknowledged before it succeeds', async () => {
    delivered = [];
    let failures = 2;
    engine = newEngine({
      retryMs: 20,
      deliver: async (items) => {
        if (failures-- > 0) throw new Error('queue unavailable');
        delivered.push(...items);
      },
    });
    engine.upsert(sub());
    engine.start();
    await db.store.mutate('', 'urn:ngsi-ld:Vehicle:A', () => ({ change: { kind: 'put', entity: vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(1) }) }, result: 0 }));
    await engine.idle();
    expect(delivered).toHaveLength(0);
    expect(await db.store.readChanges(0, 10)).toHaveLength(1);
    for (let i = 0; i < 50 && delivered.length === 0; i++) await sleep(20);
    await engine.idle();
    expect(entities().map((e) => e.speed.value)).toEqual([1]);
    expect(await db.store.readChanges(0, 10)).toHaveLength(0);
  });

  it('at-least-once across a restart: a change waiting for its throttling window when the broker stops is notified after', async () => {
    run(sub({ throttlingMs: 60_000 }));
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(1) }));
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(2) }));
    expect(entities().map((e) => e.speed.value)).toEqual([1]);
    await engine.close();
    await db.reopen();
    run(sub({ throttlingMs: 60_000 }));
    await engine.idle();
    expect(entities().map((e) => e.speed.value)).toEqual([2]);
    expect(await db.store.readChanges(0, 10)).toHaveLength(0);
  });

  it('an unavailable @context: the notification still goes out, with full IRIs and the core context (5.8.6)', async () => {
    const warnings: unknown[] = [];
    delivered = [];
    engine = newEngine({ logger: { warn: (o: unknown) => warnings.push(o), error: () => undefined } as never });
    engine.upsert(sub({ context: 'https://example.org/missing.jsonld' }));
    engine.start();
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(1) }));
    expect(entities()[0]).toEqual({ id: 'urn:ngsi-ld:Vehicle:A', type: NS + 'Vehicle', [NS + 'speed']: { type: 'Property', value: 1 } });
    expect(delivered[0]!.headers.Link).toContain(`<${CORE_CONTEXT_URL}>`);
    expect(warnings).toHaveLength(1);
  });

  it('one batch: the entities of one subscription share a notification; a second change of an entity starts the next one', async () => {
    delivered = [];
    engine = newEngine();
    engine.upsert(sub());
    const write = (e: Entity) => db.store.mutate('', e.id, () => ({ change: { kind: 'put', entity: e }, result: 0 }));
    await write(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(1) }));
    await write(vehicle('urn:ngsi-ld:Vehicle:B', { speed: prop(1) }));
    await write(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(2) }));
    engine.start();
    await engine.idle();
    expect(bodies().map((b) => b.data.map((e: any) => `${e.id}=${e.speed.value}`))).toEqual([
      ['urn:ngsi-ld:Vehicle:A=1', 'urn:ngsi-ld:Vehicle:B=1'],
      ['urn:ngsi-ld:Vehicle:A=2'],
    ]);
  });

  it('maxEntitiesPerNotification bounds a notification; changes keep their commit order', async () => {
    delivered = [];
    engine = newEngine({ maxEntitiesPerNotification: 2, batchSize: 3 });
    engine.upsert(sub());
    for (let i = 0; i < 5; i++) {
      const e = vehicle(`urn:ngsi-ld:Vehicle:${i}`, { speed: prop(i) });
      await db.store.mutate('', e.id, () => ({ change: { kind: 'put', entity: e }, result: 0 }));
    }
    engine.start();
    await engine.idle();
    expect(bodies().map((b) => b.data.length)).toEqual([2, 1, 2]);
    expect(entities().map((e) => e.speed.value)).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('Throttling (5.2.12)', () => {
  it('5.2.12 throttling under 50 concurrent updates: at most one notification per window, the last state is delivered', async () => {
    const windowMs = 300;
    const times: number[] = [];
    delivered = [];
    engine = newEngine({
      deliver: async (items) => {
        for (const _ of items) times.push(Date.now());
        delivered.push(...items);
      },
    });
    engine.upsert(sub({ throttlingMs: windowMs }));
    engine.start();
    const ids = ['urn:ngsi-ld:Vehicle:0', 'urn:ngsi-ld:Vehicle:1', 'urn:ngsi-ld:Vehicle:2', 'urn:ngsi-ld:Vehicle:3', 'urn:ngsi-ld:Vehicle:4'];
    const started = Date.now();
    let n = 0;
    await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        await sleep((i % 10) * 40);
        const id = ids[i % ids.length]!;
        await db.store.mutate('', id, (cur) => {
          const v = ++n;
          const e = cur ? { ...cur, attrs: { ...cur.attrs, [NS + 'speed']: [prop(v)] } } : vehicle(id, { speed: prop(v) });
          return { change: { kind: 'put', entity: e }, result: 0 };
        });
      }),
    );
    // Let the last window close.
    await sleep(windowMs * 2);
    await engine.idle();
    const elapsed = times[times.length - 1]! - started;
    expect(delivered.length).toBeGreaterThan(1);
    expect(delivered.length).toBeLessThanOrEqual(Math.ceil(elapsed / windowMs) + 1);
    const sent = bodies().map((b) => Date.parse(b.notifiedAt));
    for (let i = 1; i < sent.length; i++) expect(sent[i]! - sent[i - 1]!).toBeGreaterThanOrEqual(windowMs);
    // The last notification of each entity shows its final state.
    for (const id of ids) {
      const last = entities().filter((e) => e.id === id).at(-1);
      const final = await db.store.get('', id);
      expect(last?.speed.value).toBe(final!.attrs[NS + 'speed']![0]!.value);
    }
    expect(await db.store.readChanges(0, 100)).toHaveLength(0);
  });

  it('a change waiting for the window keeps the change log until its notification is queued (at-least-once)', async () => {
    run(sub({ throttlingMs: 800 }));
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(1) }));
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(2) }));
    await put(vehicle('urn:ngsi-ld:Vehicle:B', { speed: prop(7) }));
    expect(delivered).toHaveLength(1);
    expect((await db.store.readChanges(0, 10)).map((c) => c.id)).toEqual(['urn:ngsi-ld:Vehicle:A', 'urn:ngsi-ld:Vehicle:B']);
    await sleep(900);
    await engine.idle();
    expect(bodies().map((b) => b.data.map((e: any) => `${e.id}=${e.speed.value}`))).toEqual([
      ['urn:ngsi-ld:Vehicle:A=1'],
      ['urn:ngsi-ld:Vehicle:A=2', 'urn:ngsi-ld:Vehicle:B=7'],
    ]);
    expect(await db.store.readChanges(0, 10)).toHaveLength(0);
  });

  it('showChanges across a window: previousValue is the value before the first deferred change', async () => {
    run(sub({ throttlingMs: 600, notification: { showChanges: true } }));
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(1) }));
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(2) }));
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(3) }));
    await sleep(700);
    await engine.idle();
    expect(entities().map((e) => e.speed)).toEqual([
      { type: 'Property', value: 1 },
      { type: 'Property', value: 3, previousValue: 1 },
    ]);
  });
});

describe('timeInterval (5.8.6)', () => {
  it('5.8.6 timeInterval: periodic notifications with every matching entity, regardless of changes', async () => {
    const q = parseQ('speed>5', ctx);
    run(sub({ timeIntervalMs: 200, selection: { entities: [{ types: { op: 'type', iri: NS + 'Vehicle' } }], q } }));
    await put(vehicle('urn:ngsi-ld:Vehicle:A', { speed: prop(10) }));
    expect(delivered).toHaveLength(0); // changes do not notify a timeInterval subscription
    await engine.close();
    // The entities are all there before the first tick.
    await write(vehicle('urn:ngsi-ld:Vehicle:B', { speed: prop(20) }));
    await write(vehicle('urn:ngsi-ld:Vehicle:C', { speed: prop(1) }));
    await write(ent('urn:ngsi-ld:Building:1', 'Building', { speed: prop(10) }));
    run(sub({ timeIntervalMs: 200, selection: { entities: [{ types: { op: 'type', iri: NS + 'Vehicle' } }], q } }));
    const started = Date.now();
    await until(() => delivered.length >= 2, 3000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    for (const b of bodies()) expect(b.data.map((e: any) => e.id)).toEqual(['urn:ngsi-ld:Vehicle:A', 'urn:ngsi-ld:Vehicle:B']);
  });

  it('5.8.6 timeInterval: the matching entities are paged, one notification per page', async () => {
    for (let i = 0; i < 5; i++) await write(vehicle(`urn:ngsi-ld:Vehicle:${i}`, { speed: prop(i) }));
    delivered = [];
    engine = newEngine({ maxEntitiesPerNotification: 2 });
    engine.upsert(sub({ timeIntervalMs: 150 }));
    engine.start();
    await until(() => delivered.length >= 3, 3000);
    expect(bodies().slice(0, 3).map((b) => b.data.map((e: any) => e.speed.value))).toEqual([[0, 1], [2, 3], [4]]);
  });

  it('5.8.6 timeInterval: no matching entity, no notification; a paused subscription sends none', async () => {
    run(sub({ timeIntervalMs: 100 }), sub({ id: 'urn:paused', timeIntervalMs: 100, active: false, selection: {} }));
    await put(ent('urn:ngsi-ld:Building:1', 'Building', { name: prop('x') }));
    await sleep(350);
    await engine.idle();
    expect(delivered).toHaveLength(0);
  });
});
