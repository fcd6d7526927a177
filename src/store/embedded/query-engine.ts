import type { Entity } from '../../model/entity.js';
import { queryBoundingBox } from '../../query/geo-match.js';
import { qCandidateAttributes } from '../../query/q-eval.js';
import {
  compareEntities,
  compileSelection,
  type EntityPage,
  type EntityQuery,
  type EntitySelection,
  type EntitySelector,
} from '../../query/entity-query.js';
import type { TypeSelector } from '../../query/type-selector.js';
import type { TenantIndex } from './tenant-index.js';

/**
 * Runs a query plan over one tenant of the embedded store. Indexes narrow the candidates (ids, types, attributes,
 * the attributes a q needs, the spatial tree); the full selection then runs on each candidate, in id order, so
 * that a query over 100k entities touches only what its most selective index lets through.
 */
export function runQuery(index: TenantIndex, read: (id: string) => Entity | undefined, query: EntityQuery): EntityPage {
  const sel = query.selection;
  const sets = candidateSets(index, sel);
  const { ids, admits } = orderedCandidates(index, sets);
  // Linked-entity paths in q (clause 4.9) follow relationships to entities of the same tenant.
  const selected = compileSelection(sel, read);
  // Index membership first (a Set look-up), the entity and the full selection only for what passes.
  const matches = (id: string): Entity | undefined => {
    if (!admits(id)) return undefined;
    const e = read(id);
    return e && selected(e) ? e : undefined;
  };

  if (query.orderBy && query.orderBy.length > 0) {
    // Ordering by values needs every match before the first page can be cut.
    const all: Entity[] = [];
    for (const id of ids) {
      const e = matches(id);
      if (e) all.push(e);
    }
    all.sort((a, b) => compareEntities(a, b, query.orderBy!));
    return { entities: all.slice(query.offset, query.offset + query.limit), count: query.count ? all.length : undefined };
  }

  const start = query.after === undefined ? 0 : upperBound(ids, query.after);
  if (query.before !== undefined) {
    // A page that ends before a cursor: the `limit` matches nearest to it, in id order.
    const end = lowerBound(ids, query.before);
    const page: Entity[] = [];
    let skipped = 0;
    for (let i = end - 1; i >= start && page.length < query.limit; i--) {
      const e = matches(ids[i]!);
      if (e && skipped++ >= query.offset) page.push(e);
    }
    return { entities: page.reverse(), count: query.count ? countMatches(ids, 0, matches) : undefined };
  }

  const page: Entity[] = [];
  let seen = 0;
  let i = start;
  for (; i < ids.length && page.length < query.limit; i++) {
    const e = matches(ids[i]!);
    if (e && seen++ >= query.offset) page.push(e);
  }
  if (!query.count) return { entities: page };
  // The count is of every match (6.3.13), wherever the page starts.
  if (decidedByIndexes(sel)) return { entities: page, count: countByIndexes(sets, index) };
  return { entities: page, count: start === 0 ? seen + countMatches(ids, i, matches) : countMatches(ids, 0, matches) };
}

/** Whether index membership alone decides a match: type selectors and attrs only (no ids, patterns or filters). */
function decidedByIndexes(sel: EntitySelection): boolean {
  if (sel.q || sel.geo || sel.scopeQ) return false;
  return (sel.entities ?? []).every((s) => !s.ids && !s.idPattern);
}

/** Counts without reading any entity: the size of one index set, or the intersection walked from the smallest. */
function countByIndexes(sets: IdSet[], index: TenantIndex): number {
  if (sets.length === 0) return index.size;
  if (sets.length === 1 && sets[0] instanceof Set) return sets[0].size;
  const smallest = sets.reduce((a, b) => (a.size <= b.size ? a : b));
  let n = 0;
  for (const id of new Set(smallest)) if (sets.every((s) => s.has(id))) n++;
  return n;
}

function countMatches(ids: readonly string[], from: number, matches: (id: string) => Entity | undefined): number {
  let n = 0;
  for (let i = from; i < ids.length; i++) if (matches(ids[i]!)) n++;
  return n;
}

/** Ids that may match as a set-like: unions stay lazy, so an OR over big index sets is never copied. */
interface IdSet {
  readonly size: number;
  has(id: string): boolean;
  [Symbol.iterator](): Iterator<string>;
}

/**
 * Index sets every match is in (empty: no index narrows the query). They are intersected lazily: a query over a
 * large set walks the sorted id list and stops once the page is full, instead of building the intersection.
 */
export function candidateSets(index: TenantIndex, sel: EntitySelection): IdSet[] {
  const sets: IdSet[] = [];
  const fromSelectors = sel.entities && selectorCandidates(index, sel.entities);
  if (fromSelectors) sets.push(fromSelectors);
  if (sel.attrs) sets.push(union(sel.attrs.map((a) => index.idsByAttribute(a))));
  // Entities a q matches hold at least one of these attributes (clause 4.9: a term needs its target element).
  const qAttrs = sel.q && qCandidateAttributes(sel.q);
  if (qAttrs) sets.push(union(qAttrs.map((a) => index.idsByAttribute(a))));
  if (sel.geo) {
    const box = queryBoundingBox(sel.geo);
    sets.push(box ? index.spatial.search(sel.geo.geoproperty, box) : index.spatial.ids(sel.geo.geoproperty));
  }
  return sets;
}

/** The ids to walk, in id order, and the membership test each must pass. */
function orderedCandidates(index: TenantIndex, sets: IdSet[]): { ids: readonly string[]; admits: (id: string) => boolean } {
  const all = index.allIds();
  if (sets.length === 0) return { ids: all, admits: () => true };
  const admits = (id: string) => sets.every((s) => s.has(id));
  const smallest = sets.reduce((a, b) => (a.size <= b.size ? a : b));
  // A small candidate set is sorted on its own; a large one filters the sorted id list as the walk goes.
  if (smallest.size * 16 < all.length) {
    const ids = [...new Set(smallest)].filter((id) => index.has(id) && admits(id)).sort();
    return { ids, admits: () => true };
  }
  return { ids: all, admits };
}

/** Union over the selectors; a selector with neither ids nor types (idPattern alone) cannot narrow. */
function selectorCandidates(index: TenantIndex, selectors: EntitySelector[]): IdSet | undefined {
  const parts: IdSet[] = [];
  for (const s of selectors) {
    if (s.ids) parts.push(new Set(s.ids.filter((id) => index.has(id) && (!s.types || typeCandidates(index, s.types).has(id)))));
    else if (s.types) parts.push(typeCandidates(index, s.types));
    else return undefined;
  }
  return union(parts);
}

function typeCandidates(index: TenantIndex, sel: TypeSelector): IdSet {
  switch (sel.op) {
    case 'type':
      return index.idsByType(sel.iri);
    case 'or':
      return union(sel.of.map((s) => typeCandidates(index, s)));
    case 'and': {
      const sets = sel.of.map((s) => typeCandidates(index, s)).sort((a, b) => a.size - b.size);
      const out = new Set<string>();
      for (const id of sets[0]!) if (sets.every((s) => s.has(id))) out.add(id);
      return out;
    }
  }
}

function union(sets: IdSet[]): IdSet {
  if (sets.length === 1) return sets[0]!;
  return {
    size: sets.reduce((n, s) => n + s.size, 0),
    has: (id) => sets.some((s) => s.has(id)),
    *[Symbol.iterator]() {
      for (const s of sets) yield* s;
    },
  };
}

function lowerBound(ids: readonly string[], id: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid]! < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound(ids: readonly string[], id: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid]! <= id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
