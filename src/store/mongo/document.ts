import type { IndexDescription } from 'mongodb';
import type { Attribute, Entity } from '../../model/entity.js';
import { asGeometry, geometryBBox } from '../../query/geo-match.js';

/**
 * How an entity is stored in the MongoDB `entities` collection, and read back. The query translation
 * (./translate) depends on every field here, so the shape is a contract: change it only together with it.
 *
 * Tenancy: **one collection for every tenant**, the tenant in the field `t` that leads every index. Tenant names come
 * from a request header, unbounded and arbitrary; MongoDB database names are short, case-insensitively unique and
 * exclude `/\. "$`, and every database costs its own files and indexes. One collection keeps tenants cheap and lets a
 * single set of indexes serve all of them; every filter the translation builds starts with `{ t: tenant }`.
 *
 * Fields of an {@link EntityDocument}:
 * - `_id: { t, id }` (unique without any extra index, so a racing insert of the same entity fails with a duplicate
 *   key; MongoDB compares embedded documents field by field in order, so always write it as `{ t, id }`); `t`, `id`
 *   repeated at top level for the compound indexes and the keyset paging on `id`.
 * - `version`: incremented on every write; `replaceOne({ _id, version })` is the compare-and-swap of `mutate`.
 * - `types`, `scope`, `createdAt`, `modifiedAt`: as in the entity (`types` is `Entity.type`).
 * - `attrs`: the attributes, names and every user-chosen key inside them encoded with {@link encodeKey} (attribute
 *   names, sub-attribute names, compound value keys, languageMap tags). Expanded IRIs contain `.` and may contain `$`;
 *   encoded, no user input can become a MongoDB path separator, an operator, an array index or `__proto__`. A
 *   JSON-LD `@value` holding an object or array is stored as {@link COMPOUND_AT_VALUE}, an array inside an array
 *   as `{ "%[": [...] }` ({@link NESTED_ARRAY}); LanguageProperty instances carry `lv` ({@link StoredAttribute}).
 * - `names`: expanded names (values, not keys: never encoded) of the attributes present, for `attrs=` and the
 *   attribute list (5.7.8).
 * - `geo`: one entry per usable GeoProperty instance (any attribute, any datasetId): `n` the expanded name, `g` the
 *   geometry (type and coordinates only), `x0 y0 x1 y1` its planar bounding box as turf computes it. Geo-queries
 *   filter on the box (numbers: the same candidates as the embedded spatial index) and post-filter with turf; `g`
 *   may carry a 2dsphere index ({@link GEO_2DSPHERE_INDEX}).
 * - `ord`, `ordType`, `ordScope`: sort keys for clause 4.23 orderBy, per encoded attribute name ({@link SortKey}).
 *
 * {@link fromDocument} ignores every derived field: `toDocument` then `fromDocument` gives back the entity as it was.
 */
export interface EntityDocument {
  _id: { t: string; id: string };
  t: string;
  id: string;
  version: number;
  types: string[];
  scope?: string[];
  createdAt: string;
  modifiedAt: string;
  attrs: Record<string, StoredAttribute[]>;
  names: string[];
  geo: GeoEntry[];
  ord: Record<string, SortKey>;
  ordType: SortKey;
  ordScope?: SortKey;
}

/**
 * An attribute instance with its user-chosen keys encoded (sub-attribute names, value keys, language tags). A
 * LanguageProperty also carries `lv`, every string of its languageMap (when there is one): q terms without a
 * language target all of them (clause 4.9), which a filter cannot enumerate from the keyed map.
 */
export type StoredAttribute = Omit<Attribute, 'sub'> & { sub?: Record<string, StoredAttribute>; lv?: string[] };

export interface GeoEntry {
  /** Expanded attribute name. */
  n: string;
  g: { type: string; coordinates: unknown };
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * Clause 4.23.2 ordering as MongoDB can sort it: `r` is minus the rank of the value's kind (numbers 0, strings -1,
 * objects -2, arrays -3, booleans -4, null -5), `v` the value itself for numbers, strings and booleans, its JSON for
 * objects and arrays. An entity without the attribute has no key; MongoDB sorts a missing field below every value,
 * so ascending order is `r: -1, v: 1` (missing last, as 4.23.2 wants) and descending `r: 1, v: -1`.
 */
export interface SortKey {
  r: number;
  v?: number | string | boolean | null;
}

/** Collection of the entities (indexes.ts lists every collection). */
export const ENTITIES_COLLECTION = 'entities';

/**
 * Indexes of the entities collection. Attribute paths are dynamic, so q terms rely on the wildcard index over
 * `attrs`; everything else leads with the tenant.
 */
export const ENTITY_INDEXES: IndexDescription[] = [
  { key: { t: 1, id: 1 }, name: 'tenant_id', unique: true },
  { key: { t: 1, types: 1, id: 1 }, name: 'tenant_types_id' },
  { key: { t: 1, names: 1, id: 1 }, name: 'tenant_names_id' },
  { key: { t: 1, scope: 1 }, name: 'tenant_scope' },
  { key: { t: 1, modifiedAt: 1 }, name: 'tenant_modified' },
  { key: { t: 1, 'geo.n': 1, 'geo.x0': 1, 'geo.x1': 1 }, name: 'tenant_geo_box' },
  { key: { 'attrs.$**': 1 }, name: 'attrs_wildcard' },
];

/**
 * Optional: a 2dsphere index on the stored geometries, for native `$geoWithin`/`$geoIntersects`/`$nearSphere`
 * (translate/geo-native.ts). Not in {@link ENTITY_INDEXES}: MongoDB refuses to insert a document whose geometry S2
 * finds invalid (a self-intersecting polygon, duplicate vertices), which the broker accepts, so creating it would
 * turn such writes into errors.
 */
export const GEO_2DSPHERE_INDEX: IndexDescription = { key: { 'geo.g': '2dsphere' }, name: 'geo_2dsphere' };

// ---- Key encoding ----

const ESCAPED = /[%.$\u0000]/g;
const NUMERIC = /^\d+$/;
const hex = (c: string): string => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;

/**
 * Reversible encoding of a user-chosen key into a safe MongoDB field name: `%`, `.`, `$` and NUL become `%XX`; a
 * key that is all digits (MongoDB reads it as an array index in a path) or `__proto__` gets its first character
 * escaped too; the empty key is `%`. Every `%` in the result starts an escape, so decoding is unambiguous.
 */
export function encodeKey(key: string): string {
  if (key === '') return '%';
  const out = key.replace(ESCAPED, hex);
  return NUMERIC.test(out) || out === '__proto__' ? hex(out[0]!) + out.slice(1) : out;
}

export function decodeKey(key: string): string {
  if (key === '%') return '';
  return key.replace(/%([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/**
 * The key a JSON-LD `@value` is stored under when it holds an object or array (a `@json` literal): so that the path
 * `x.@value` only ever meets scalars, as the q evaluator only unwraps those. encodeKey never produces it (it
 * would encode a literal `%40value` as `%2540value`), and decodeKey turns it back into `@value`.
 */
export const COMPOUND_AT_VALUE = '%40value';

/**
 * An array directly inside an array is stored as `{ "%[": [...] }`. Query engines disagree on whether operators
 * look into nested arrays (mingo does for $regex and $elemMatch, MongoDB mostly does not) while the q evaluator
 * compares an inner array as one item; wrapped, no engine ever enters it. encodeKey never produces this key.
 */
export const NESTED_ARRAY = '%[';

const storedKey = (k: string, v: unknown): string => (k === '@value' && v !== null && typeof v === 'object' ? COMPOUND_AT_VALUE : encodeKey(k));

/** A value with every key encoded (Object.fromEntries defines own properties: `__proto__` stays a plain key). */
export function encodeValue(value: unknown, inArray = false): unknown {
  if (Array.isArray(value)) {
    const items = value.map((v) => encodeValue(v, true));
    return inArray ? { [NESTED_ARRAY]: items } : items;
  }
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [storedKey(k, v), encodeValue(v)]));
}

function decodeValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeValue);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  if (entries.length === 1 && entries[0]![0] === NESTED_ARRAY) return decodeValue(entries[0]![1]);
  return Object.fromEntries(entries.map(([k, v]) => [decodeKey(k), decodeValue(v)]));
}

// Members of an attribute whose keys the user chose; the others are strings, string arrays or fixed-shape.
const KEYED_MEMBERS = ['value', 'json', 'valueList', 'languageMap'] as const;

function encodeAttribute(a: Attribute): StoredAttribute {
  const out = { ...a } as StoredAttribute;
  for (const m of KEYED_MEMBERS) if (a[m] !== undefined) (out as Record<string, unknown>)[m] = encodeValue(a[m]);
  if (a.sub) out.sub = Object.fromEntries(Object.entries(a.sub).map(([k, s]) => [encodeKey(k), encodeAttribute(s)]));
  if (a.type === 'LanguageProperty' && a.languageMap) {
    const lv = Object.values(a.languageMap).flatMap((v) => (Array.isArray(v) ? v : [v]));
    if (lv.length > 0) out.lv = lv;
  }
  return out;
}

function decodeAttribute(a: StoredAttribute): Attribute {
  const { lv: _, sub, ...rest } = a;
  const out = rest as Attribute;
  for (const m of KEYED_MEMBERS) if (a[m] !== undefined) (out as unknown as Record<string, unknown>)[m] = decodeValue(a[m]);
  if (sub) out.sub = Object.fromEntries(Object.entries(sub).map(([k, s]) => [decodeKey(k), decodeAttribute(s)]));
  return out;
}

// ---- Entity <-> document ----

export function toDocument(tenant: string, entity: Entity, version: number): EntityDocument {
  const attrs: Record<string, StoredAttribute[]> = {};
  const names: string[] = [];
  const geo: GeoEntry[] = [];
  const ord: Record<string, SortKey> = {};
  for (const [name, instances] of Object.entries(entity.attrs)) {
    const encoded = encodeKey(name);
    // encodeKey never yields "__proto__", so plain assignment stays a data property.
    attrs[encoded] = instances.map(encodeAttribute);
    if (instances.length === 0) continue;
    names.push(name);
    geo.push(...geoEntries(name, instances));
    const key = sortKey(attributeSortValue(instances));
    if (key) ord[encoded] = key;
  }
  const doc: EntityDocument = {
    _id: { t: tenant, id: entity.id },
    t: tenant,
    id: entity.id,
    version,
    types: [...entity.type],
    createdAt: entity.createdAt,
    modifiedAt: entity.modifiedAt,
    attrs,
    names,
    geo,
    ord,
    ordType: sortKey(entity.type[0])!,
  };
  if (entity.scope !== undefined) doc.scope = [...entity.scope];
  const scopeKey = sortKey(entity.scope?.[0]);
  if (scopeKey) doc.ordScope = scopeKey;
  return doc;
}

/** The entity a document holds; derived fields are ignored. */
export function fromDocument(doc: EntityDocument): Entity {
  const entity: Entity = {
    id: doc.id,
    type: [...doc.types],
    createdAt: doc.createdAt,
    modifiedAt: doc.modifiedAt,
    attrs: Object.fromEntries(
      // A projection that picked no present attribute may leave no `attrs` at all.
      Object.entries(doc.attrs ?? {}).map(([k, instances]) => [decodeKey(k), instances.map(decodeAttribute)]),
    ),
  };
  if (doc.scope !== undefined) entity.scope = [...doc.scope];
  return entity;
}

function geoEntries(name: string, instances: Attribute[]): GeoEntry[] {
  const out: GeoEntry[] = [];
  for (const a of instances) {
    if (a.type !== 'GeoProperty') continue;
    const g = asGeometry(a.value);
    const box = g && geometryBBox(g);
    if (!g || !box) continue;
    out.push({ n: name, g: { type: g.type, coordinates: g.coordinates }, x0: box[0], y0: box[1], x1: box[2], y1: box[3] });
  }
  return out;
}

/** As compareEntities (src/query/entity-query.ts) picks the value an attribute is ordered by: the default instance. */
function attributeSortValue(instances: Attribute[]): unknown {
  const a = instances.find((i) => i.datasetId === undefined) ?? instances[0];
  if (!a) return undefined;
  return a.value ?? a.object ?? a.vocab ?? a.valueList ?? a.objectList ?? a.json ?? a.languageMap;
}

/** The clause 4.23.2 sort key of a value; undefined (no key) for a missing one. */
export function sortKey(v: unknown): SortKey | undefined {
  if (v === undefined) return undefined;
  if (v === null) return { r: -5, v: null };
  if (typeof v === 'number') return { r: 0, v };
  if (typeof v === 'string') return { r: -1, v };
  if (typeof v === 'boolean') return { r: -4, v };
  return { r: Array.isArray(v) ? -3 : -2, v: JSON.stringify(v) };
}
