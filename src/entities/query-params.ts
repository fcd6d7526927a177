import { badRequest, NgsiError } from '../common/errors.js';
import { isUri } from '../common/syntax.js';
import type { LdContext } from '../jsonld/types.js';
import type { EntitySelection, EntitySelector, OrderKey } from '../query/entity-query.js';
import { parseGeoQuery } from '../query/geo-query.js';
import { compilePattern } from '../query/q-ast.js';
import { qUsesLinkedEntities } from '../query/q-eval.js';
import { parseQ } from '../query/q-parser.js';
import { parseScopeQ } from '../query/scope-q.js';
import { parseTypeSelector } from '../query/type-selector.js';

/**
 * Query Entities input (5.7.2, 6.4.3.2 URL parameters, 5.2.23 Query body) turned into the query plan. The URL and
 * the POST body share this: `Params` is the flat text form, the body is converted to it first.
 */
export type Params = Record<string, string | undefined>;

export interface PagingLimits {
  defaultLimit: number;
  maxLimit: number;
}

export interface Paging {
  limit: number;
  offset: number;
  count: boolean;
  after?: string;
  before?: string;
}

/** A comma-separated parameter; `pipe` also splits on "|", which projection lists allow (clause 4.21). */
export function list(params: Params, name: string, pipe = false): string[] | undefined {
  const v = params[name];
  if (v === undefined) return undefined;
  const items = v.split(pipe ? /[,|]/ : ',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw badRequest(`Parameter ${name} is empty`);
  return items;
}

/** The selection of Query Entities and Purge; BadRequestData when it selects too widely (5.7.2.4). */
export function parseSelection(params: Params, ctx: LdContext, opts: { requireNarrowing: boolean }): EntitySelection {
  const expand = (t: string) => ctx.expand(t);
  const sel: EntitySelection = {};
  const selector: EntitySelector = {};
  const ids = list(params, 'id');
  if (ids) {
    for (const id of ids) if (!isUri(id)) throw badRequest(`id ${JSON.stringify(id)} is not a valid URI`);
    selector.ids = ids;
  }
  if (params.idPattern !== undefined) selector.idPattern = checkIdPattern(params.idPattern);
  const type = params.type;
  // type=* selects every type (clause 4.17) and still counts as narrowing the query.
  if (type !== undefined && type !== '*') selector.types = parseTypeSelector(type, expand);
  if (selector.ids || selector.idPattern || selector.types) sel.entities = [selector];

  const attrs = list(params, 'attrs');
  if (attrs) sel.attrs = attrs.map(expand);
  if (params.q !== undefined) {
    sel.q = parseQ(params.q, ctx, { expandValues: list(params, 'expandValues'), jsonKeys: list(params, 'jsonKeys') });
    if (qUsesLinkedEntities(sel.q) && params.join !== 'flat' && params.join !== 'inline') {
      throw badRequest('The q uses linked-entity paths ({...}); they need Linked Entity retrieval: add join=flat or join=inline (clause 5.7.2.4)');
    }
  }
  const geo = parseGeoQuery(
    { georel: params.georel, geometry: params.geometry, coordinates: params.coordinates, geoproperty: params.geoproperty },
    expand,
  );
  if (geo) sel.geo = geo;
  if (params.scopeQ !== undefined) sel.scopeQ = parseScopeQ(params.scopeQ);

  const local = params.local === 'true';
  if (opts.requireNarrowing && type === undefined && !attrs && !sel.q && !geo && !local) {
    throw badRequest('Too wide a query: give at least one of type (type=* for all), attrs, q, a geo-query or local=true (clause 5.7.2.4)');
  }
  return sel;
}

function checkIdPattern(pattern: string): string {
  const compiled = compilePattern(pattern);
  if (typeof compiled === 'string') throw badRequest(`idPattern ${JSON.stringify(pattern)} is not usable: ${compiled}`);
  return pattern;
}

/** limit, offset, count and musubi's keyset cursors (clauses 5.5.9, 6.3.10, 6.3.13). */
/**
 * The next/prev page parameters of offset paging (5.5.9): `more` says whether results follow this page. Only for a
 * non-empty page with a limit above 0; callers skip it otherwise.
 */
export function offsetLinks(paging: Pick<Paging, 'limit' | 'offset'>, more: boolean): { next?: Record<string, string>; prev?: Record<string, string> } {
  const limit = String(paging.limit);
  return {
    ...(more ? { next: { limit, offset: String(paging.offset + paging.limit) } } : {}),
    ...(paging.offset > 0 ? { prev: { limit, offset: String(Math.max(0, paging.offset - paging.limit)) } } : {}),
  };
}

export function parsePaging(params: Params, limits: PagingLimits): Paging {
  const count = booleanParam(params, 'count');
  const limit = params.limit === undefined ? limits.defaultLimit : wholeNumber(params, 'limit');
  const offset = params.offset === undefined ? 0 : wholeNumber(params, 'offset');
  if (limit === 0 && !count) throw badRequest('limit=0 is only allowed together with count=true (clause 6.3.13)');
  if (limit > limits.maxLimit) {
    throw new NgsiError('TooManyResults', `limit=${limit} is over the maximum page size of this broker, ${limits.maxLimit}; page through the results instead (clause 5.5.9)`);
  }
  const paging: Paging = { limit, offset, count };
  for (const cursor of ['pageAfter', 'pageBefore'] as const) {
    const v = params[cursor];
    if (v === undefined) continue;
    if (!isUri(v)) throw badRequest(`${cursor} must be an entity id (use the Link headers of the previous page)`);
    if (cursor === 'pageAfter') paging.after = v;
    else paging.before = v;
  }
  return paging;
}

/**
 * orderBy (clause 4.23): id, type, scope or attribute names, each optionally ;asc, ;desc, ;dist-asc or ;dist-desc,
 * the distance orders measured from orderFrom (coordinates) of orderGeometry (default Point). Ordering applies to
 * local queries only (5.7.2.4).
 */
export function parseOrderBy(params: Params, ctx: LdContext): OrderKey[] | undefined {
  const keys = list(params, 'orderBy');
  if (!keys) return undefined;
  if (params.local !== 'true') throw badRequest('orderBy needs local=true: ordering is never applied to distributed queries (clause 5.7.2.4)');
  return keys.map((key) => {
    const [member, direction = 'asc', ...rest] = key.split(';');
    if (rest.length > 0 || !member) throw badRequest(`orderBy item ${JSON.stringify(key)} is not "name" or "name;asc|desc|dist-asc|dist-desc"`);
    const name = member === 'id' || member === 'type' || member === 'scope' ? member : ctx.expand(member);
    if (direction === 'asc' || direction === 'desc') return { member: name, direction };
    if (direction !== 'dist-asc' && direction !== 'dist-desc') {
      throw badRequest(`orderBy direction ${JSON.stringify(direction)} must be asc, desc, dist-asc or dist-desc (clause 4.23.3)`);
    }
    if (params.orderFrom === undefined) throw badRequest(`orderBy ${key} orders by distance: give the reference coordinates in orderFrom (clause 4.23.3)`);
    // The reference geometry follows the geo-query rules (clause 4.10): reuse their parser with a neutral georel.
    const from = parseGeoQuery({ georel: 'intersects', geometry: params.orderGeometry ?? 'Point', coordinates: params.orderFrom }, (t) => ctx.expand(t))!;
    return { member: name, direction, from: from.geometry };
  });
}

export function booleanParam(params: Params, name: string): boolean {
  const v = params[name];
  if (v === undefined || v === 'false') return false;
  if (v === 'true') return true;
  throw badRequest(`Parameter ${name} must be true or false, got ${JSON.stringify(v)}`);
}

function wholeNumber(params: Params, name: string): number {
  const v = params[name]!;
  if (!/^\d{1,9}$/.test(v)) throw badRequest(`Parameter ${name} must be a whole number of 0 or more, got ${JSON.stringify(v)}`);
  return Number(v);
}

/**
 * The Query data type of POST /entityOperations/query (5.2.23) as the flat parameters of GET /entities: one
 * code path for both. Several entity selectors are returned apart, since the URL form has room for one.
 */
export function queryBodyToParams(body: unknown): { params: Params; selectors: unknown[] | undefined } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('The body must be a Query object (clause 5.2.23)');
  }
  const b = body as Record<string, unknown>;
  if (b.type !== undefined && b.type !== 'Query') throw badRequest(`The body's type must be "Query", got ${JSON.stringify(b.type)}`);
  const params: Params = {};
  const text = (name: string, v: unknown) => {
    if (v === undefined) return;
    if (typeof v !== 'string') throw badRequest(`Query member ${name} must be a string`);
    params[name] = v;
  };
  const names = (name: string, v: unknown) => {
    if (v === undefined) return;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw badRequest(`Query member ${name} must be an array of strings`);
    params[name] = v.join(',');
  };
  names('attrs', b.attrs);
  names('pick', b.pick);
  names('omit', b.omit);
  text('q', b.q);
  text('scopeQ', b.scopeQ);
  text('lang', b.lang);
  text('csf', b.csf);
  names('expandValues', b.expandValues);
  names('jsonKeys', b.jsonKeys);
  if (b.datasetId !== undefined) names('datasetId', Array.isArray(b.datasetId) ? b.datasetId : [b.datasetId]);
  if (b.local !== undefined) {
    if (typeof b.local !== 'boolean') throw badRequest('Query member local must be a boolean');
    params.local = String(b.local);
  }
  if (b.geoQ !== undefined) {
    if (typeof b.geoQ !== 'object' || b.geoQ === null) throw badRequest('Query member geoQ must be a GeoQuery object (clause 5.2.13)');
    const g = b.geoQ as Record<string, unknown>;
    text('georel', g.georel);
    text('geometry', g.geometry);
    text('geoproperty', g.geoproperty);
    if (g.coordinates !== undefined) params.coordinates = typeof g.coordinates === 'string' ? g.coordinates : JSON.stringify(g.coordinates);
  }
  if (b.entities !== undefined && !Array.isArray(b.entities)) throw badRequest('Query member entities must be an array of EntitySelector');
  return { params, selectors: b.entities as unknown[] | undefined };
}

/** EntitySelector objects of a POST query (5.2.33): {id?, idPattern?, type}. */
export function parseSelectors(selectors: unknown[], ctx: LdContext): EntitySelector[] {
  if (selectors.length === 0) throw badRequest('Query member entities must not be empty');
  return selectors.map((raw, i) => {
    if (typeof raw !== 'object' || raw === null) throw badRequest(`entities[${i}] must be an EntitySelector object`);
    const s = raw as Record<string, unknown>;
    const out: EntitySelector = {};
    if (s.id !== undefined) {
      const ids = Array.isArray(s.id) ? s.id : [s.id];
      if (ids.length === 0 || !ids.every(isUri)) throw badRequest(`entities[${i}].id must be a URI or a non-empty array of URIs`);
      out.ids = ids as string[];
    }
    // "id takes precedence over idPattern" (5.2.33): a pattern beside ids is checked but not applied.
    if (s.idPattern !== undefined) {
      if (typeof s.idPattern !== 'string') throw badRequest(`entities[${i}].idPattern must be a string`);
      const pattern = checkIdPattern(s.idPattern);
      if (!out.ids) out.idPattern = pattern;
    }
    if (s.type !== undefined) {
      if (typeof s.type !== 'string') throw badRequest(`entities[${i}].type must be a string`);
      if (s.type !== '*') out.types = parseTypeSelector(s.type, (t) => ctx.expand(t));
    }
    return out;
  });
}
