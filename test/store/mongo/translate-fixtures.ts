import fc from 'fast-check';
import { find } from 'mingo';
import type { Attribute, Entity } from '../../../src/model/entity.js';
import type { EntityPage, EntityQuery } from '../../../src/query/entity-query.js';
import { fromDocument, toDocument, type EntityDocument } from '../../../src/store/mongo/document.js';
import { pageMatches, planQuery, type Filter } from '../../../src/store/mongo/translate/index.js';

/**
 * Fixtures for the differential tests of the MongoDB translation: generated entities whose attributes hold every
 * kind of value the q evaluator distinguishes (numbers, strings on both sides of U+D800, Dates, DateTimes written
 * two ways, Times, booleans, null, arrays, nested arrays, compound values, JSON-LD value objects), and the
 * machinery that runs a translated filter with mingo over their documents.
 */

export const D = 'https://uri.etsi.org/ngsi-ld/default-context/';
export const LOCATION = 'https://uri.etsi.org/ngsi-ld/location';
export const NAMES = ['temperature', 'a', 'b', 'x', 'humidity', 'name'] as const;
export const TENANT = 'tenant1';
const T0 = '2024-01-01T00:00:00.000Z';

export const SCALARS = [
  1, -2.5, 100, 0, 'red', 'Red', 'x', 'e1', 'urn:a', 'ab\nc', '\ue000z', '\u{1f600}', '2024-01-01', '2024-02-30', '2024-01-01T00:00:00Z',
  '2024-01-01T01:00:00+01:00', '12:00:00Z', '12:00:00.5Z', true, false, null, D + 'Male', D + 'red',
] as const;

export const valueArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...SCALARS) },
  { weight: 1, arbitrary: fc.array(fc.constantFrom(...SCALARS), { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom([[1]], [[{ [D + 'x']: 1 }]], [{ [D + 'x']: 'red' }, 5], [1, 100], ['Red', 'x'], [{ '@value': 1 }, { '@value': 100 }]) },
  {
    weight: 2,
    arbitrary: fc
      .record({ k: fc.constantFrom(D + 'x', 'x', 'type', 'value', 'en', '@value'), v: fc.constantFrom(...SCALARS, [1, 'red'], { [D + 'y']: 2, y: 3 }) })
      .map(({ k, v }) => ({ [k]: v, ...(k === '@value' ? { '@type': 'DateTime' } : {}) })),
  },
  { weight: 1, arbitrary: fc.constantFrom({ '@value': [1] }, { '@value': { a: 1 } }, [{ '@value': 'red' }, 'x']) },
);

const tags = fc.constantFrom('en', 'EN', 'fr', '@none', 'En-gb');
const geometries = [
  { type: 'Point', coordinates: [1, 1] },
  { type: 'Point', coordinates: [10, 10] },
  { type: 'LineString', coordinates: [[0, 0], [2, 2]] },
  { type: 'Polygon', coordinates: [[[0, 0], [3, 0], [3, 3], [0, 3], [0, 0]]] },
];

export function attributeArb(ids: readonly string[]): fc.Arbitrary<Attribute> {
  return fc
    .tuple(
      fc.oneof(
        { weight: 4, arbitrary: valueArb.map((value) => ({ type: 'Property' as const, value })) },
        valueArb.map((json) => ({ type: 'JsonProperty' as const, json })),
        fc.array(valueArb, { maxLength: 3 }).map((valueList) => ({ type: 'ListProperty' as const, valueList })),
        fc.oneof(fc.constantFrom(...ids), fc.constant([...ids.slice(0, 2)])).map((object) => ({ type: 'Relationship' as const, object })),
        fc.array(fc.constantFrom(...ids), { maxLength: 2 }).map((objectList) => ({ type: 'ListRelationship' as const, objectList })),
        fc.dictionary(tags, fc.oneof(fc.constantFrom('red', 'x', 'Red'), fc.constantFrom(['red', 'blue'])), { maxKeys: 3 }).map((languageMap) => ({
          type: 'LanguageProperty' as const,
          languageMap,
        })),
        fc.constantFrom(D + 'Male', [D + 'red', D + 'x'], 'red').map((vocab) => ({ type: 'VocabProperty' as const, vocab })),
        fc.constantFrom(...geometries).map((value) => ({ type: 'GeoProperty' as const, value })),
      ),
      fc.option(fc.constantFrom('urn:ds:1', 'urn:ds:2'), { nil: undefined }),
      fc.option(fc.constantFrom('2024-01-01T00:00:00Z', '2025-06-01T12:00:00Z'), { nil: undefined }),
      fc.option(valueArb, { nil: undefined }),
    )
    .map(([a, datasetId, observedAt, subValue]) => ({
      ...a,
      createdAt: T0,
      modifiedAt: T0,
      ...(datasetId ? { datasetId } : {}),
      ...(observedAt ? { observedAt } : {}),
      ...(subValue === undefined ? {} : { sub: { [D + 'c']: { type: 'Property' as const, value: subValue, createdAt: T0, modifiedAt: T0 } } }),
    }) as Attribute);
}

/** Up to `max` entities with distinct ids, relationships pointing among them. */
export function entitiesArb(max = 8): fc.Arbitrary<Entity[]> {
  const ids = Array.from({ length: max }, (_, i) => `urn:ngsi-ld:E:${i}`);
  const entity = (id: string): fc.Arbitrary<Entity> =>
    fc
      .record({
        types: fc.subarray([D + 'T1', D + 'T2', D + 'T3'], { minLength: 1 }),
        scope: fc.option(fc.subarray(['/Madrid/Gran_Via', '/Madrid/Cibeles/Norte', 'Spain', '/'], { minLength: 1 }), { nil: undefined }),
        attrs: fc.dictionary(
          fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...['temperature', 'a', 'name', 'x'].map((n) => D + n)) }, fc.constantFrom(...NAMES.map((n) => D + n), LOCATION)),
          fc.array(attributeArb(ids), { minLength: 1, maxLength: 2 }).map(distinctDatasets),
          { maxKeys: 4 },
        ),
      })
      .map(({ types, scope, attrs }) => ({
        id,
        type: types,
        ...(scope ? { scope } : {}),
        createdAt: T0,
        modifiedAt: T0,
        attrs: { ...attrs },
      }));
  return fc.subarray(ids, { minLength: 1 }).chain((chosen) => fc.tuple(...chosen.map(entity)));
}

/** At most one default instance and distinct datasetIds (clause 4.5.5), as the model promises. */
function distinctDatasets(instances: Attribute[]): Attribute[] {
  const seen = new Set<string | undefined>();
  return instances.filter((a) => !seen.has(a.datasetId) && (seen.add(a.datasetId), true));
}

export const docsOf = (entities: Entity[]): EntityDocument[] => entities.map((e) => toDocument(TENANT, e, 1));

/** Ids of the documents mingo selects with the filter, in id order. */
export function mingoIds(docs: EntityDocument[], filter: Filter): string[] {
  return find(docs, filter)
    .all()
    .map((d) => (d as unknown as EntityDocument).id)
    .sort();
}

/** Runs planQuery's plan the way a store would, with mingo in place of MongoDB. */
export function runPlan(docs: EntityDocument[], query: EntityQuery, postFilter: (e: Entity) => boolean): EntityPage & { mode: string } {
  const plan = planQuery(TENANT, query);
  if (plan.mode === 'memory') {
    const matches = find(docs, plan.filter)
      .all()
      .map((d) => fromDocument(d as unknown as EntityDocument))
      .filter(postFilter);
    return { ...pageMatches(matches, query), mode: plan.mode };
  }
  const found =
    plan.limit === 0
      ? []
      : find(docs, plan.filter).sort(plan.sort).skip(plan.skip).limit(plan.limit).all().map((d) => fromDocument(d as unknown as EntityDocument));
  if (plan.reverse) found.reverse();
  const count = query.count ? find(docs, plan.countFilter).all().length : undefined;
  return { entities: found, count, mode: plan.mode };
}

/** Every operator key of a filter (keys starting with "$"), with the path of keys leading to it. */
export function operatorKeys(filter: unknown, path: string[] = [], out: { key: string; path: string[] }[] = []): { key: string; path: string[] }[] {
  if (Array.isArray(filter)) filter.forEach((f) => operatorKeys(f, path, out));
  else if (filter !== null && typeof filter === 'object') {
    for (const [k, v] of Object.entries(filter)) {
      if (k.startsWith('$')) out.push({ key: k, path });
      operatorKeys(v, [...path, k], out);
    }
  }
  return out;
}
