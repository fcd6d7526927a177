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
  const candidates = candidateIds(index, sel);
  // Linked-entity paths in q (clause 4.9) follow relationships to entities of the same tenant.
  const selected = compileSelection(sel, read);
  const matches = (id: string): Entity | undefined => {
    const e = read(id);
    return e && selected(e) ? e : undefined;
  };

  if (query.orderBy && query.orderBy.length > 0) {
    // Ordering by values needs every match before the first page can be cut.
    const all: Entity[] = [];
    for (const id of inIdOrder(index, candidates)) {
      const e = matches(id);
      if (e) all.push(e);
    }
    all.sort((a, b) => compareEntities(a, b, query.orderBy!));
    return { entities: all.slice(query.offset, query.offset + query.limit), count: query.count ? all.length : undefined };
  }

  let ids = inIdOrder(index, candidates);
  if (query.after !== undefined) ids = ids.slice(upperBound(ids, query.after));
  if (query.before !== undefined) {
    // A page that ends before a cursor: the `limit` matches nearest to it, in id order.
    const upTo = ids.slice(0, lowerBound(ids, query.before));
    const page: Entity[] = [];
    let skipped = 0;
    for (let i = upTo.length - 1; i >= 0 && page.length < query.limit; i--) {
      const e = matches(upTo[i]!);
      if (e && skipped++ >= query.offset) page.push(e);
    }
    return { entities: page.reverse(), count: query.count ? countMatches(ids, matches) : undefined };
  }

  const page: Entity[] = [];
  let seen = 0;
  let i = 0;
  for (; i < ids.length && page.length < query.limit; i++) {
    const e = matches(ids[i]!);
    if (e && seen++ >= query.offset) page.push(e);
  }
  if (!query.count) return { entities: page };
  return { entities: page, count: seen + countMatches(ids.slice(i), matches) };
}

function countMatches(ids: readonly string[], matches: (id: string) => Entity | undefined): number {
  let n = 0;
  for (const id of ids) if (matches(id)) n++;
  return n;
}

/** Candidate ids from the indexes, or undefined when no index narrows the query (every entity is a candidate). */
export function candidateIds(index: TenantIndex, sel: EntitySelection): ReadonlySet<string> | undefined {
  const sets: ReadonlySet<string>[] = [];
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
  if (sets.length === 0) return undefined;
  // The smallest set drives; the others only prune it (the full selection runs on every survivor anyway).
  sets.sort((a, b) => a.size - b.size);
  const [smallest, ...rest] = sets;
  if (rest.length === 0) return smallest;
  const out = new Set<string>();
  for (const id of smallest!) if (rest.every((s) => s.has(id))) out.add(id);
  return out;
}

/** Union over the selectors; a selector with neither ids nor types (idPattern alone) cannot narrow. */
function selectorCandidates(index: TenantIndex, selectors: EntitySelector[]): ReadonlySet<string> | undefined {
  const parts: ReadonlySet<string>[] = [];
  for (const s of selectors) {
    if (s.ids) parts.push(new Set(s.ids.filter((id) => index.has(id) && (!s.types || typeCandidates(index, s.types).has(id)))));
    else if (s.types) parts.push(typeCandidates(index, s.types));
    else return undefined;
  }
  return union(parts);
}

function typeCandidates(index: TenantIndex, sel: TypeSelector): ReadonlySet<string> {
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

function union(sets: ReadonlySet<string>[]): ReadonlySet<string> {
  if (sets.length === 1) return sets[0]!;
  const out = new Set<string>();
  for (const s of sets) for (const id of s) out.add(id);
  return out;
}

/** Candidates in id order: a small set is sorted, a large one filters the index's sorted id list. */
function inIdOrder(index: TenantIndex, candidates: ReadonlySet<string> | undefined): readonly string[] {
  const all = index.allIds();
  if (!candidates) return all;
  if (candidates.size * 16 < all.length) return [...candidates].filter((id) => index.has(id)).sort();
  return all.filter((id) => candidates.has(id));
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
