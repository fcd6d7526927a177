/**
 * Helpers for Query Entities (5.7.2: GET /entities, POST /entityOperations/query), Purge Entities (5.6.21,
 * DELETE /entities) and pagination (5.5.9, 6.3.10). Import from './lib/query.js' (not re-exported by index.ts).
 */
import { expect } from 'vitest';
import { describeRes, headerOf, parseLinks } from './assert.js';
import { API, ENTITIES, ERROR_BASE, brokerUrl, del, get, linkHeader, mediaTypeOf, post, type ReqOptions, type RawRes, type Res } from './http.js';
import { createEntity } from './entities.js';

/** POST /entityOperations/query (clause 6.23). */
export const QUERY_OP = `${API}/entityOperations/query`;

export type Params = Record<string, string | number | boolean | undefined>;

/**
 * Serializes query parameters with RFC 3986 percent-encoding (clause 4.9: the q string is URI-encoded), so a space is
 * %20 and a literal "+" is %2B (URLSearchParams would turn spaces into "+").
 */
export function qs(params: Params): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  }
  return parts.length > 0 ? `?${parts.join('&')}` : '';
}

/** GET /ngsi-ld/v1/entities?<params>. */
export function queryRes(params: Params, opts: ReqOptions = {}): Promise<Res> {
  return get(ENTITIES + qs(params), opts);
}

/** GET /ngsi-ld/v1/entities and expect 200 with a JSON array; returns the array. */
export async function query(params: Params, opts: ReqOptions = {}): Promise<any[]> {
  const res = await queryRes(params, opts);
  expect(res.status, `query ${qs(params)} -> ${describeRes(res)}`).toBe(200);
  expect(Array.isArray(res.body), `an Entity array (5.7.2.5): ${describeRes(res)}`).toBe(true);
  return res.body;
}

/** Sorted ids of the entities of a query answer (array of entities or a Res holding one). */
export function idsOf(x: Res | any[]): string[] {
  const arr: any[] = Array.isArray(x) ? x : (x as Res).body;
  expect(Array.isArray(arr), `an Entity array: ${Array.isArray(x) ? '' : describeRes(x as Res)}`).toBe(true);
  return arr.map((e) => e.id as string).sort();
}

/** Ids returned by GET /entities?<params>, sorted. */
export async function queryIds(params: Params, opts: ReqOptions = {}): Promise<string[]> {
  return idsOf(await query(params, opts));
}

/** POST /entityOperations/query with a Query body (5.2.23); URL parameters (limit, format, ...) go in `params`. */
export function postQuery(body: Record<string, unknown>, params: Params = {}, opts: ReqOptions = {}): Promise<Res> {
  return post(QUERY_OP + qs(params), { json: body, ...opts });
}

/** POST /entityOperations/query, expect 200 and return the sorted ids. */
export async function postQueryIds(body: Record<string, unknown>, params: Params = {}, opts: ReqOptions = {}): Promise<string[]> {
  const res = await postQuery(body, params, opts);
  expect(res.status, `POST query ${JSON.stringify(body)} -> ${describeRes(res)}`).toBe(200);
  return idsOf(res);
}

/** DELETE /ngsi-ld/v1/entities?<params> (Purge Entities, 6.4.3.3). */
export function purge(params: Params, opts: ReqOptions = {}): Promise<Res> {
  return del(ENTITIES + qs(params), opts);
}

/** Creates the entities concurrently (Create Entity, expecting 201 for each). */
export async function createAll(entities: Array<Record<string, unknown>>, opts: ReqOptions = {}): Promise<void> {
  await Promise.all(entities.map((e) => createEntity(e, opts)));
}

/** Sorted copy. */
export const sorted = (xs: string[]): string[] => [...xs].sort();

/** An NGSI-LD error (like expectProblem) whose type is any of `typeSuffixes`. */
export function expectProblemOneOf(res: Res | RawRes, status: number, typeSuffixes: string[]): void {
  expect(res.status, describeRes(res)).toBe(status);
  expect(res.mediaType, `error Content-Type (6.3.3): ${describeRes(res)}`).toBe('application/json');
  expect(res.body, `ProblemDetails body (5.5.3): ${describeRes(res)}`).toBeTypeOf('object');
  expect(typeSuffixes.map((t) => ERROR_BASE + t), describeRes(res)).toContain(res.body.type);
  expect(typeof res.body.title === 'string' && res.body.title.length > 0, `non-empty title: ${describeRes(res)}`).toBe(true);
  expect(typeof res.body.detail === 'string' && res.body.detail.length > 0, `non-empty detail: ${describeRes(res)}`).toBe(true);
  if (res.body.status !== undefined) expect(res.body.status, 'ProblemDetails.status matches the HTTP status').toBe(status);
  expect(headerOf(res, 'link'), 'error responses carry no Link header (6.3.6)').toBeNull();
}

export interface PageLink {
  /** Absolute URL of the target, resolved against the request URL (RFC 8288 / RFC 3986 section 5). */
  url: string;
  /** The raw target as sent by the broker. */
  raw: string;
  type: string | undefined;
}

/** The rel="next" and rel="prev" pagination links of a response (6.3.10), resolved against `requestUrl`. */
export function pageLinks(res: Res, requestUrl: string): { next?: PageLink; prev?: PageLink } {
  const out: { next?: PageLink; prev?: PageLink } = {};
  for (const l of parseLinks(res.headers.get('link'))) {
    if (l.rel !== 'next' && l.rel !== 'prev') continue;
    expect(out[l.rel], `at most one rel="${l.rel}" link: ${res.headers.get('link')}`).toBeUndefined();
    out[l.rel] = { url: new URL(l.uri, requestUrl).toString(), raw: l.uri, type: l.type };
  }
  return out;
}

/** Absolute URL of a path on the broker. */
export function absolute(path: string): string {
  return brokerUrl() + path;
}

/** GET on an absolute URL (a resolved Link target), with the same header options as the other helpers. */
export async function getUrl(url: string, opts: ReqOptions = {}): Promise<Res> {
  const headers: Record<string, string> = {};
  if (opts.accept !== undefined) headers['accept'] = opts.accept;
  if (opts.link !== undefined) headers['link'] = linkHeader(opts.link);
  if (opts.tenant !== undefined) headers['ngsild-tenant'] = opts.tenant;
  for (const [k, v] of Object.entries(opts.headers ?? {})) headers[k.toLowerCase()] = v;
  const response = await fetch(url, { method: 'GET', headers, redirect: 'manual' });
  const text = await response.text();
  let body: unknown;
  try {
    body = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, text, body, mediaType: mediaTypeOf(response.headers.get('content-type')) };
}

export interface Page {
  url: string;
  res: Res;
  ids: string[];
  next?: PageLink;
  prev?: PageLink;
}

/**
 * Follows rel="next" from `firstPath` until a page has none (at most `maxPages`). `between(pagesSoFar)` runs after
 * each page that has a next link, before the next page is requested.
 */
export async function walkPages(
  firstPath: string,
  opts: ReqOptions = {},
  maxPages = 200,
  between?: (pagesSoFar: Page[]) => Promise<void>,
): Promise<Page[]> {
  const pages: Page[] = [];
  let url: string | undefined = absolute(firstPath);
  while (url !== undefined) {
    expect(pages.length, `more than ${maxPages} pages: the next links do not end`).toBeLessThan(maxPages);
    const res = await getUrl(url, opts);
    expect(res.status, `page ${pages.length + 1} ${url} -> ${describeRes(res)}`).toBe(200);
    expect(Array.isArray(res.body), `page ${pages.length + 1} is an array`).toBe(true);
    const links = pageLinks(res, url);
    pages.push({ url, res, ids: (res.body as any[]).map((e) => e.id), next: links.next, prev: links.prev });
    if (between && links.next) await between(pages);
    url = links.next?.url;
  }
  return pages;
}

/** Parses the NGSILD-Results-Count header (6.3.13); undefined when absent. */
export function resultsCount(res: Res): number | undefined {
  const v = res.headers.get('ngsild-results-count');
  if (v === null) return undefined;
  expect(v.trim(), 'NGSILD-Results-Count is a non-negative integer').toMatch(/^\d+$/);
  return Number(v.trim());
}
