import type { Entity } from '../../../model/entity.js';
import { compareEntities, type EntityPage, type EntityQuery, type OrderKey } from '../../../query/entity-query.js';
import { encodeKey } from '../document.js';
import { andFilters, type Filter } from './filter.js';
import { translateSelection } from './selection.js';

export type SortSpec = Record<string, 1 | -1>;

/**
 * How the store runs a query plan on MongoDB:
 * - `database`: the filter is exact and the order is one MongoDB sorts natively, so MongoDB pages and counts:
 *   `find(filter).sort(sort).skip(skip).limit(limit)` (skip the find when `limit` is 0: MongoDB reads 0 as "no
 *   limit"), reverse the page when `reverse`, and `countDocuments(countFilter)` when the query asks for the count.
 * - `memory`: the filter is a superset, or the order needs the evaluator (distance orders), so the store reads every
 *   document of `filter`, keeps the entities `compileSelection(query.selection, resolveLinked)` accepts and hands
 *   them to {@link pageMatches}, which pages and counts exactly as the embedded engine does.
 */
export type MongoQueryPlan =
  | { mode: 'database'; filter: Filter; countFilter: Filter; sort: SortSpec; skip: number; limit: number; reverse: boolean }
  | { mode: 'memory'; filter: Filter };

export function planQuery(tenant: string, query: EntityQuery): MongoQueryPlan {
  const selection = translateSelection(query.selection);
  const filter = andFilters([{ t: tenant }, selection.filter]);
  const orderBy = query.orderBy ?? [];
  const sort = nativeSort(orderBy);
  if (!selection.exact || !sort) return { mode: 'memory', filter };
  if (orderBy.length > 0) {
    // As the embedded engine: an ordered query pages by offset only.
    return { mode: 'database', filter, countFilter: filter, sort, skip: query.offset, limit: query.limit, reverse: false };
  }
  const bounds: Filter[] = [];
  if (query.after !== undefined) bounds.push({ id: { $gt: query.after } });
  if (query.before !== undefined) bounds.push({ id: { $lt: query.before } });
  const paged = andFilters([filter, ...bounds]);
  // A page ending before a cursor: the `limit` matches nearest to it, read backwards.
  const reverse = query.before !== undefined;
  return { mode: 'database', filter: paged, countFilter: filter, sort: { id: reverse ? -1 : 1 }, skip: query.offset, limit: query.limit, reverse };
}

/**
 * Clause 4.23 order over the document's sort keys (document.ts SortKey), then id; undefined for distance orders,
 * which only the evaluator computes. Ids and strings sort by UTF-8 bytes in MongoDB, by UTF-16 units here: the
 * same order unless the strings mix characters above U+FFFF with ones in U+E000-U+FFFF.
 */
export function nativeSort(keys: readonly OrderKey[]): SortSpec | undefined {
  const sort: SortSpec = {};
  for (const key of keys) {
    if (key.from || key.direction === 'dist-asc' || key.direction === 'dist-desc') return undefined;
    const up = key.direction === 'asc';
    if (key.member === 'id') {
      // A member ordered twice: the first key decides, the later one never breaks a tie.
      if (!('id' in sort)) sort.id = up ? 1 : -1;
      continue;
    }
    const base = key.member === 'type' ? 'ordType' : key.member === 'scope' ? 'ordScope' : `ord.${encodeKey(key.member)}`;
    if (`${base}.r` in sort) continue;
    // Ranks are stored negated, so that a missing key (lowest in MongoDB) comes last ascending.
    sort[`${base}.r`] = up ? -1 : 1;
    sort[`${base}.v`] = up ? 1 : -1;
  }
  if (!('id' in sort)) sort.id = 1;
  return sort;
}

/**
 * Paging and counting of the matches of a memory-mode plan, the way the embedded engine does them (query-engine.ts):
 * ordered queries by offset over the whole order; otherwise id order with the keyset cursors. `matches` may come
 * in any order.
 */
export function pageMatches(matches: Entity[], query: EntityQuery): EntityPage {
  const count = query.count ? matches.length : undefined;
  if (query.orderBy && query.orderBy.length > 0) {
    const all = [...matches].sort((a, b) => compareEntities(a, b, query.orderBy!));
    return { entities: all.slice(query.offset, query.offset + query.limit), count };
  }
  const ids = [...matches].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const inRange = ids.filter((e) => (query.after === undefined || e.id > query.after) && (query.before === undefined || e.id < query.before));
  if (query.before !== undefined) {
    const end = inRange.length - query.offset;
    return { entities: inRange.slice(Math.max(0, end - query.limit), Math.max(0, end)), count };
  }
  return { entities: inRange.slice(query.offset, query.offset + query.limit), count };
}
