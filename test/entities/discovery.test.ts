import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NgsiError } from '../../src/common/errors.js';
import { DiscoveryService } from '../../src/entities/discovery-service.js';
import { ContextResolver } from '../../src/jsonld/resolver.js';
import type { LdContext } from '../../src/jsonld/types.js';
import type { Attribute, AttributeType, Entity } from '../../src/model/entity.js';
import type { EntityQuery, EntityPage } from '../../src/query/entity-query.js';
import type { EntityStore } from '../../src/store/entity-store.js';
import { openStore } from '../../src/store/index.js';

/** Discovery (5.7.5-5.7.10) over a real embedded store. */
const NS = 'https://example.org/ns#';
const VOCAB = 'https://uri.etsi.org/ngsi-ld/default-context/';
const LOCATION = 'https://uri.etsi.org/ngsi-ld/location';
const T = '2026-01-01T00:00:00.000Z';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const attr = (type: AttributeType, extra: Partial<Attribute> = {}): Attribute => {
  const value: Partial<Attribute> =
    type === 'Relationship' ? { object: 'urn:ngsi-ld:X:1' } : type === 'GeoProperty' ? { value: { type: 'Point', coordinates: [1, 2] } } : { value: 1 };
  return { type, ...value, createdAt: T, modifiedAt: T, ...extra };
};

function entity(id: string, types: string[], attrs: Record<string, Attribute[]>): Entity {
  return { id, type: types, createdAt: T, modifiedAt: T, attrs };
}

let dir: string;
let store: EntityStore;
let resolver: ContextResolver;
let core: LdContext;
/** Maps the short names of NS (Building, Car, owner, temperature, ...) as a user @context would. */
let user: LdContext;

beforeAll(async () => {
  resolver = new ContextResolver({ timeoutMs: 200, cacheTtlSec: 60 });
  core = await resolver.resolve();
  user = await resolver.resolve({
    Building: `${NS}Building`,
    Car: `${NS}Car`,
    Shop: `${NS}Shop`,
    owner: `${NS}owner`,
    temperature: `${NS}temperature`,
    name: `${NS}name`,
  });
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'musubi-discovery-'));
  store = await openStore({ store: 'embedded', dataDir: dir });
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const put = (tenant: string, e: Entity) => store.mutate(tenant, e.id, () => ({ change: { kind: 'put', entity: e }, result: undefined }));
const remove = (tenant: string, id: string) => store.mutate(tenant, id, () => ({ change: { kind: 'delete' }, result: undefined }));
const scope = (ctx: LdContext, tenant = '') => ({ tenant, ctx });

/**
 * Two Buildings (one also a Shop), a Car. `temperature` is a Property on one Building and a multi-attribute with two
 * instances on the Car; `owner` a Relationship on a Building and a Property on the Car; `location` a GeoProperty.
 */
async function seed(tenant = ''): Promise<void> {
  await put(
    tenant,
    entity('urn:ngsi-ld:Building:1', [`${NS}Building`], {
      [`${NS}temperature`]: [attr('Property')],
      [`${NS}owner`]: [attr('Relationship')],
      [LOCATION]: [attr('GeoProperty')],
    }),
  );
  await put(tenant, entity('urn:ngsi-ld:Building:2', [`${NS}Building`, `${NS}Shop`], { [`${NS}name`]: [attr('LanguageProperty', { value: undefined, languageMap: { en: 'x' } })] }));
  await put(
    tenant,
    entity('urn:ngsi-ld:Car:1', [`${NS}Car`], {
      [`${NS}temperature`]: [attr('Property'), attr('Property', { datasetId: 'urn:ngsi-ld:Dataset:b' })],
      [`${NS}owner`]: [attr('Property')],
      [`${VOCAB}speed`]: [attr('Property')],
    }),
  );
}

describe('Retrieve Available Entity Types (5.7.5)', () => {
  it('lists every type an entity has, compacted with the request @context, in an EntityTypeList (5.2.24)', async () => {
    await seed();
    const list = await new DiscoveryService(store).entityTypes(scope(user));
    expect(list).toEqual({ id: expect.stringMatching(/^urn:ngsi-ld:EntityTypeList:/), type: 'EntityTypeList', typeList: ['Building', 'Car', 'Shop'] });
    expect(list.id.slice('urn:ngsi-ld:EntityTypeList:'.length)).toMatch(UUID);
  });

  it('gives full IRIs for types the @context has no term for', async () => {
    await seed();
    expect((await new DiscoveryService(store).entityTypes(scope(core))).typeList).toEqual([`${NS}Building`, `${NS}Car`, `${NS}Shop`]);
  });

  it('is empty for a tenant without entities, and forgets a type when its last entity goes', async () => {
    const discovery = new DiscoveryService(store);
    expect((await discovery.entityTypes(scope(user))).typeList).toEqual([]);
    await seed();
    await remove('', 'urn:ngsi-ld:Car:1');
    expect((await discovery.entityTypes(scope(user))).typeList).toEqual(['Building', 'Shop']);
  });

  it('each list gets its own id', async () => {
    const discovery = new DiscoveryService(store);
    expect((await discovery.entityTypes(scope(user))).id).not.toBe((await discovery.entityTypes(scope(user))).id);
  });
});

describe('Retrieve Details of Available Entity Types (5.7.6)', () => {
  it('gives each type with the attribute names its entities have (5.2.25)', async () => {
    await seed();
    expect(await new DiscoveryService(store).entityTypeDetails(scope(user))).toEqual([
      { id: `${NS}Building`, type: 'EntityType', typeName: 'Building', attributeNames: ['location', 'name', 'owner', 'temperature'] },
      { id: `${NS}Car`, type: 'EntityType', typeName: 'Car', attributeNames: ['owner', 'speed', 'temperature'] },
      { id: `${NS}Shop`, type: 'EntityType', typeName: 'Shop', attributeNames: ['name'] },
    ]);
  });

  it('compacts with the core context only when no user @context is given', async () => {
    await seed();
    const details = await new DiscoveryService(store).entityTypeDetails(scope(core));
    expect(details.find((d) => d.id === `${NS}Car`)).toEqual({
      id: `${NS}Car`,
      type: 'EntityType',
      typeName: `${NS}Car`,
      attributeNames: [`${NS}owner`, `${NS}temperature`, 'speed'],
    });
  });
});

describe('Retrieve Available Entity Type Information (5.7.7)', () => {
  it('counts the entities of the type and gives each attribute with its kinds (5.2.26)', async () => {
    await seed();
    expect(await new DiscoveryService(store).entityTypeInfo(scope(user), 'Building')).toEqual({
      id: `${NS}Building`,
      type: 'EntityTypeInfo',
      typeName: 'Building',
      entityCount: 2,
      attributeDetails: [
        { id: LOCATION, type: 'Attribute', attributeName: 'location', attributeTypes: ['GeoProperty'] },
        { id: `${NS}name`, type: 'Attribute', attributeName: 'name', attributeTypes: ['LanguageProperty'] },
        { id: `${NS}owner`, type: 'Attribute', attributeName: 'owner', attributeTypes: ['Relationship'] },
        { id: `${NS}temperature`, type: 'Attribute', attributeName: 'temperature', attributeTypes: ['Property'] },
      ],
    });
  });

  it('takes the full IRI as well as the short name (6.26.2)', async () => {
    await seed();
    const discovery = new DiscoveryService(store);
    expect(await discovery.entityTypeInfo(scope(core), `${NS}Shop`)).toEqual({
      id: `${NS}Shop`,
      type: 'EntityTypeInfo',
      typeName: `${NS}Shop`,
      entityCount: 1,
      attributeDetails: [{ id: `${NS}name`, type: 'Attribute', attributeName: `${NS}name`, attributeTypes: ['LanguageProperty'] }],
    });
    expect((await discovery.entityTypeInfo(scope(user), `${NS}Shop`)).typeName).toBe('Shop');
  });

  it('a type no entity has, or a short name the @context does not know, is ResourceNotFound', async () => {
    await seed();
    const discovery = new DiscoveryService(store);
    await expect(discovery.entityTypeInfo(scope(user), 'Bicycle')).rejects.toMatchObject({ kind: 'ResourceNotFound', status: 404 });
    // Without the user @context, Building expands under the core @vocab, which no entity has.
    await expect(discovery.entityTypeInfo(scope(core), 'Building')).rejects.toMatchObject({ kind: 'ResourceNotFound' });
  });
});

describe('Retrieve Available Attributes (5.7.8)', () => {
  it('lists every attribute name in an AttributeList (5.2.27)', async () => {
    await seed();
    const list = await new DiscoveryService(store).attributes(scope(user));
    expect(list).toEqual({
      id: expect.stringMatching(/^urn:ngsi-ld:AttributeList:/),
      type: 'AttributeList',
      attributeList: ['location', 'name', 'owner', 'speed', 'temperature'],
    });
    expect(list.id.slice('urn:ngsi-ld:AttributeList:'.length)).toMatch(UUID);
  });

  it('drops an attribute once no entity has it', async () => {
    await seed();
    await remove('', 'urn:ngsi-ld:Car:1');
    expect((await new DiscoveryService(store).attributes(scope(user))).attributeList).toEqual(['location', 'name', 'owner', 'temperature']);
  });
});

describe('Retrieve Details of Available Attributes (5.7.9)', () => {
  it('gives each attribute with the types of the entities that have it, and nothing else (5.2.28)', async () => {
    await seed();
    expect(await new DiscoveryService(store).attributeDetails(scope(user))).toEqual([
      { id: LOCATION, type: 'Attribute', attributeName: 'location', typeNames: ['Building'] },
      { id: `${NS}name`, type: 'Attribute', attributeName: 'name', typeNames: ['Building', 'Shop'] },
      { id: `${NS}owner`, type: 'Attribute', attributeName: 'owner', typeNames: ['Building', 'Car'] },
      { id: `${VOCAB}speed`, type: 'Attribute', attributeName: 'speed', typeNames: ['Car'] },
      { id: `${NS}temperature`, type: 'Attribute', attributeName: 'temperature', typeNames: ['Building', 'Car'] },
    ]);
  });
});

describe('Retrieve Available Attribute Information (5.7.10)', () => {
  it('counts attribute instances (each datasetId instance is one) and gives kinds and entity types (5.2.28)', async () => {
    await seed();
    expect(await new DiscoveryService(store).attributeInfo(scope(user), 'temperature')).toEqual({
      id: `${NS}temperature`,
      type: 'Attribute',
      attributeName: 'temperature',
      attributeCount: 3,
      attributeTypes: ['Property'],
      typeNames: ['Building', 'Car'],
    });
  });

  it('lists every kind the attribute has across entities, in the order of clause 4.5', async () => {
    await seed();
    const info = await new DiscoveryService(store).attributeInfo(scope(core), `${NS}owner`);
    expect(info).toEqual({
      id: `${NS}owner`,
      type: 'Attribute',
      attributeName: `${NS}owner`,
      attributeCount: 2,
      attributeTypes: ['Property', 'Relationship'],
      typeNames: [`${NS}Building`, `${NS}Car`],
    });
  });

  it('core terms compact under any @context', async () => {
    await seed();
    const info = await new DiscoveryService(store).attributeInfo(scope(user), 'location');
    expect(info).toMatchObject({ id: LOCATION, attributeName: 'location', attributeCount: 1, attributeTypes: ['GeoProperty'], typeNames: ['Building'] });
  });

  it('an attribute no entity has is ResourceNotFound', async () => {
    await seed();
    await expect(new DiscoveryService(store).attributeInfo(scope(user), 'airQualityLevel')).rejects.toMatchObject({ kind: 'ResourceNotFound', status: 404 });
  });
});

describe('tenants (6.3.14)', () => {
  it('every operation on a tenant that does not exist is NonexistentTenant', async () => {
    const discovery = new DiscoveryService(store);
    const s = scope(user, 'nowhere');
    const calls: Array<() => Promise<unknown>> = [
      () => discovery.entityTypes(s),
      () => discovery.entityTypeDetails(s),
      () => discovery.entityTypeInfo(s, 'Building'),
      () => discovery.attributes(s),
      () => discovery.attributeDetails(s),
      () => discovery.attributeInfo(s, 'temperature'),
    ];
    for (const call of calls) {
      const err = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(NgsiError);
      expect(err).toMatchObject({ kind: 'NonexistentTenant', status: 404 });
    }
  });

  it('each tenant sees only its own types and attributes', async () => {
    await seed('city');
    await put('', entity('urn:ngsi-ld:Car:9', [`${NS}Car`], { [`${NS}name`]: [attr('Property')] }));
    const discovery = new DiscoveryService(store);
    expect((await discovery.entityTypes(scope(user, 'city'))).typeList).toEqual(['Building', 'Car', 'Shop']);
    expect((await discovery.entityTypes(scope(user))).typeList).toEqual(['Car']);
    expect((await discovery.attributes(scope(user))).attributeList).toEqual(['name']);
    expect((await discovery.entityTypeInfo(scope(user), 'Car')).entityCount).toBe(1);
    expect((await discovery.entityTypeInfo(scope(user, 'city'), 'Car')).attributeDetails.map((a) => a.attributeName)).toEqual([
      'owner',
      'speed',
      'temperature',
    ]);
  });
});

describe('reading entities in slices', () => {
  /** Records every query the service makes, so the test can see how it pages. */
  function spying(inner: EntityStore): { store: EntityStore; queries: EntityQuery[] } {
    const queries: EntityQuery[] = [];
    // A proxy keeps the spy in step with the interface: only query is intercepted.
    const wrapped = new Proxy(inner, {
      get(target, prop, receiver) {
        if (prop === 'query') {
          return (t: string, q: EntityQuery): Promise<EntityPage> => {
            queries.push(q);
            return target.query(t, q);
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    return { store: wrapped, queries };
  }

  it('counts past one slice, paging with the keyset cursor and never asking for more than 500', async () => {
    const n = 1234;
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        put(
          '',
          entity(`urn:ngsi-ld:Car:${String(i).padStart(5, '0')}`, [`${NS}Car`], {
            [`${NS}temperature`]: i % 2 === 0 ? [attr('Property')] : [attr('Property'), attr('Property', { datasetId: 'urn:ngsi-ld:Dataset:x' })],
            ...(i === n - 1 ? { [`${NS}owner`]: [attr('Relationship')] } : {}),
          }),
        ),
      ),
    );
    const spy = spying(store);
    const discovery = new DiscoveryService(spy.store);

    const info = await discovery.entityTypeInfo(scope(user), 'Car');
    expect(info.entityCount).toBe(n);
    // The attribute only the last entity has is found: the scan reached the last slice.
    expect(info.attributeDetails.map((a) => a.attributeName)).toEqual(['owner', 'temperature']);
    expect(spy.queries).toHaveLength(3);
    expect(spy.queries.every((q) => q.limit <= 500 && q.offset === 0 && !q.count)).toBe(true);
    expect(spy.queries.map((q) => q.after)).toEqual([undefined, 'urn:ngsi-ld:Car:00499', 'urn:ngsi-ld:Car:00999']);

    spy.queries.length = 0;
    const temperature = await discovery.attributeInfo(scope(user), 'temperature');
    expect(temperature.attributeCount).toBe(n + Math.floor(n / 2));
    expect(spy.queries).toHaveLength(3);
    expect(spy.queries[0]!.selection).toEqual({ attrs: [`${NS}temperature`] });
  });
});
