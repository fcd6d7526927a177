import { RE2JS } from 're2js';
import type { Entity } from '../model/entity.js';
import type { GeoQuery, QueryGeometry } from './geo-query.js';
import { geoPropertyValues, geometryDistance, matchesGeoQuery } from './geo-match.js';
import type { QExpression } from './q-ast.js';
import { matchesQ } from './q-eval.js';
import { matchesScopeQ, type parseScopeQ } from './scope-q.js';
import { matchesTypes, type TypeSelector } from './type-selector.js';

export type ScopeQExpression = ReturnType<typeof parseScopeQ>;

/**
 * One entity selector (EntitySelector, 5.2.33): every member present must hold; any of `ids` suffices.
 * GET /entities makes one from id, idPattern and type; a POST query may give several.
 */
export interface EntitySelector {
  ids?: string[];
  /** RE2 syntax, checked to compile in linear time (idPattern, 5.7.2). */
  idPattern?: string;
  types?: TypeSelector;
}

/**
 * Which entities Query Entities (5.7.2) and Purge (5.6.21) select: the query plan. Plain data with every name
 * expanded, so the embedded engine evaluates it and the MongoDB backend translates it without the @context.
 * All members present must hold (AND); any one of `entities` and of `attrs` suffices.
 */
export interface EntitySelection {
  entities?: EntitySelector[];
  /** Expanded names; the entity has at least one of them (5.7.2.4). */
  attrs?: string[];
  q?: QExpression;
  geo?: GeoQuery;
  scopeQ?: ScopeQExpression;
}

/** Clause 4.23 entity ordering: by id, type, scope or an attribute's value, or by distance from a geometry. */
export interface OrderKey {
  /** 'id' | 'type' | 'scope', or an expanded attribute name. */
  member: string;
  direction: 'asc' | 'desc' | 'dist-asc' | 'dist-desc';
  /** For distance orders: the reference geometry (orderFrom / orderGeometry). */
  from?: QueryGeometry;
}

export interface EntityQuery {
  selection: EntitySelection;
  /** At most this many entities (0 with count: only the count). */
  limit: number;
  /** Entities to skip in the order of the result. */
  offset: number;
  /**
   * Keyset paging in id order (musubi's Link headers use it): start after, or end before, this id. Unlike
   * offsets, a page boundary does not move when other clients create or delete entities meanwhile.
   */
  after?: string;
  before?: string;
  /** Also count every match (NGSILD-Results-Count, 6.3.13). */
  count: boolean;
  /** Empty or absent: id order. */
  orderBy?: OrderKey[];
}

export interface EntityPage {
  entities: Entity[];
  /** Set when the query asked for it. */
  count?: number;
}

/**
 * The filter every backend applies after its index look-ups: the full semantics of 5.7.2.4 on one entity.
 * Compiled once per query (id patterns become linear-time RE2 matchers).
 */
export function compileSelection(
  sel: EntitySelection,
  resolveLinked?: (id: string) => Entity | undefined,
): (entity: Entity) => boolean {
  const selectors = sel.entities?.map((s) => ({ ...s, re: s.idPattern === undefined ? undefined : RE2JS.compile(s.idPattern) }));
  return (entity) => {
    if (selectors && !selectors.some((s) => matchesSelector(s, entity))) return false;
    return matchesFilters(sel, entity, resolveLinked);
  };
}

function matchesSelector(s: EntitySelector & { re?: RE2JS }, entity: Entity): boolean {
  if (s.ids && !s.ids.includes(entity.id)) return false;
  if (s.re && !s.re.matcher(entity.id).find()) return false;
  return !s.types || matchesTypes(s.types, entity.type);
}

function matchesFilters(sel: EntitySelection, entity: Entity, resolveLinked?: (id: string) => Entity | undefined): boolean {
  if (sel.attrs && !sel.attrs.some((a) => (entity.attrs[a]?.length ?? 0) > 0)) return false;
  if (sel.scopeQ && !matchesScopeQ(sel.scopeQ, entity.scope)) return false;
  if (sel.q && !matchesQ(sel.q, entity, { resolveLinked })) return false;
  if (sel.geo && !matchesGeoQuery(sel.geo, entity)) return false;
  return true;
}

/** Compares two entities by the order keys, then by id so that the order is total and stable. */
export function compareEntities(a: Entity, b: Entity, keys: readonly OrderKey[]): number {
  for (const key of keys) {
    let c: number;
    if (key.from) {
      // Clause 4.23.2: entities with the GeoProperty first, by haversine distance; the rest by value.
      const da = distanceFrom(a, key.member, key.from);
      const db = distanceFrom(b, key.member, key.from);
      if (da !== undefined && db !== undefined) c = key.direction === 'dist-desc' ? db - da : da - db;
      else if (da !== undefined || db !== undefined) return da !== undefined ? -1 : 1;
      else c = compareValues(sortValue(a, key.member), sortValue(b, key.member));
    } else {
      c = compareValues(sortValue(a, key.member), sortValue(b, key.member));
      if (key.direction === 'desc') c = -c;
    }
    if (c !== 0) return c;
  }
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function distanceFrom(e: Entity, attr: string, from: QueryGeometry): number | undefined {
  let best: number | undefined;
  for (const g of geoPropertyValues(e, attr)) {
    const d = geometryDistance(from, g);
    if (best === undefined || d < best) best = d;
  }
  return best;
}

function sortValue(e: Entity, member: string): unknown {
  if (member === 'id') return e.id;
  if (member === 'type') return e.type[0];
  if (member === 'scope') return e.scope?.[0];
  const instances = e.attrs[member];
  const a = instances?.find((i) => i.datasetId === undefined) ?? instances?.[0];
  if (!a) return undefined;
  return a.value ?? a.object ?? a.vocab ?? a.valueList ?? a.objectList ?? a.json ?? a.languageMap;
}

// Clause 4.23.2: numbers, strings, objects, arrays, booleans, then null, then a missing attribute.
function rank(v: unknown): number {
  if (v === undefined) return 6;
  if (v === null) return 5;
  if (typeof v === 'number') return 0;
  if (typeof v === 'string') return 1;
  if (typeof v === 'boolean') return 4;
  return Array.isArray(v) ? 3 : 2;
}

function compareValues(a: unknown, b: unknown): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 0) return (a as number) - (b as number);
  if (ra === 1 || ra === 4) return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
  if (ra === 2 || ra === 3) {
    const sa = JSON.stringify(a);
    const sb = JSON.stringify(b);
    return sa < sb ? -1 : sa > sb ? 1 : 0;
  }
  return 0;
}
