/**
 * Translation of the query plan (src/query/entity-query.ts) into MongoDB filters over the documents of
 * ../document.ts.
 *
 * The contract, for the store:
 * - Every translated filter is **exact** (selects precisely what `compileSelection` accepts) or a **superset** of it,
 *   and says which (`exact`). Never a subset: a superset costs reading documents the post-filter then drops, a
 *   subset would lose entities.
 * - When the selection is inexact, the store must apply `compileSelection(selection, resolveLinked)` to every
 *   document read, and only then page and count ({@link pageMatches}): skip/limit/count in MongoDB would count
 *   the false positives. {@link planQuery} says which of the two ways a query takes.
 * - User input never becomes an operator or a path: names become path segments only through encodeKey, values
 *   (ids, literals, patterns, scopes) only appear as operands; every `$` key is written by this code.
 *
 * What is exact and what is not is listed in q.ts (q), selection.ts (geo is always inexact, type selection, ids,
 * attrs and scopeQ exact, idPattern exact in the portable regex subset of regex.ts).
 */
import type { EntitySelection } from '../../../query/entity-query.js';
import { andFilters, type Translated } from './filter.js';
import { translateSelection } from './selection.js';

/** The selection of one tenant: the `(tenant, selection) => { filter, exact }` a store's query runner takes. */
export function translateTenantSelection(tenant: string, selection: EntitySelection): Translated {
  const t = translateSelection(selection);
  return { filter: andFilters([{ t: tenant }, t.filter]), exact: t.exact };
}

export { planQuery, pageMatches, nativeSort, type MongoQueryPlan, type SortSpec } from './plan.js';
export { translateSelection, translateGeo, translateScopeQ, translateTypes } from './selection.js';
export { translateQ } from './q.js';
export { portableRegex, type PortableRegex } from './regex.js';
export { nativeGeoFilter } from './geo-native.js';
export { projectionFor, type Projection } from './projection.js';
export { andFilters, orFilters, MATCH_ALL, MATCH_NONE, type Filter, type Translated } from './filter.js';
