import type { LdContext } from '../jsonld/types.js';
import { matchesTypes, type TypeSelector } from '../query/type-selector.js';
import type { EntitySelection } from '../query/entity-query.js';
import { qAttributes } from '../query/q-eval.js';
import type { ContextSource } from './types.js';

/** The query parameters of the triggering request as received (GET) or derived from the body (POST query). */
export type QueryRequest = Record<string, string | undefined>;

// Filters whose names are only valid in the request's own @context; forwarded only when the source is sent that one.
const FILTER_PARAMS = ['q', 'georel', 'geometry', 'coordinates', 'geoproperty', 'scopeQ', 'lang', 'datasetId'];

/**
 * The query to send a source for a distributed Query Entities (4.3.6.1, 4.3.6.7): narrowed to what the registration
 * offers (types, ids, attributes), names compacted with the source's @context (4.3.6.6), normalized with sysAttrs so
 * that answers can be merged (4.5.5.3), as many entities as one page may hold. q, geo-query and scopeQ go along only
 * when the source reads the request's own @context; otherwise the broker applies them after merging.
 */
export function queryParamsFor(source: ContextSource, selection: EntitySelection, raw: QueryRequest, sctx: LdContext, reqCtx: LdContext, limit: number): URLSearchParams {
  const params = new URLSearchParams();
  const selectors = selection.entities ?? [];
  const types = typesFor(source, selectors.map((s) => s.types));
  if (types) params.set('type', types(sctx));
  const ids = idsFor(source, selectors.flatMap((s) => s.ids ?? []));
  if (ids) params.set('id', ids.join(','));
  const pattern = selectors.find((s) => s.idPattern !== undefined)?.idPattern ?? source.idPatterns?.[0];
  if (!ids && pattern !== undefined && selectors.length <= 1) params.set('idPattern', pattern);
  const attrs = selection.attrs ? withFilterAttributes(selection.attrs, selection) : source.attrs;
  if (attrs) {
    const narrowed = source.attrs && selection.attrs ? attrs.filter((a) => source.attrs!.includes(a)) : attrs;
    params.set('attrs', (narrowed.length > 0 ? narrowed : attrs).map((a) => sctx.compact(a)).join(','));
  }
  if (sctx === reqCtx) for (const p of FILTER_PARAMS) if (raw[p] !== undefined) params.set(p, raw[p]!);
  params.set('limit', String(limit));
  params.set('options', 'sysAttrs');
  return params;
}

/**
 * The query's attrs plus those its q and geo-query test: the broker filters the merged entities again, so they need
 * the tested attributes too (the response is projected to attrs when rendered).
 */
function withFilterAttributes(attrs: string[], selection: EntitySelection): string[] {
  const tested = [...(selection.q ? qAttributes(selection.q) : []), ...(selection.geo ? [selection.geo.geoproperty] : [])];
  return [...new Set([...attrs, ...tested])];
}

/** A type parameter: the registered types the query selects (4.3.6.1: never more than registered), else the query's selection. */
function typesFor(source: ContextSource, selections: Array<TypeSelector | undefined>): ((ctx: LdContext) => string) | undefined {
  const given = selections.filter((s): s is TypeSelector => s !== undefined);
  if (source.types) {
    const picked = given.length === 0 ? source.types : source.types.filter((t) => given.some((g) => matchesTypes(g, [t])));
    const list = picked.length > 0 ? picked : source.types;
    return (ctx) => list.map((t) => ctx.compact(t)).join(',');
  }
  if (given.length === 0) return undefined;
  return (ctx) => given.map((g) => formatTypeSelector(g, ctx)).join(',');
}

function idsFor(source: ContextSource, requested: string[]): string[] | undefined {
  if (!source.ids) return requested.length > 0 ? requested : undefined;
  if (requested.length === 0) return source.ids;
  const both = requested.filter((id) => source.ids!.includes(id));
  return both.length > 0 ? both : requested;
}

/** Clause 4.17 syntax of a type selection, names compacted. */
export function formatTypeSelector(sel: TypeSelector, ctx: LdContext): string {
  switch (sel.op) {
    case 'type':
      return ctx.compact(sel.iri);
    case 'and':
      return sel.of.map((s) => (s.op === 'or' ? `(${formatTypeSelector(s, ctx)})` : formatTypeSelector(s, ctx))).join(';');
    case 'or':
      return sel.of.map((s) => formatTypeSelector(s, ctx)).join(',');
  }
}
