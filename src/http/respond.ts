import type { Context } from 'hono';
import type { UpdateResult } from '../entities/apply.js';
import type { LdContext } from '../jsonld/types.js';
import type { MediaType } from './negotiation.js';
import type { PreparedBody } from './render-cache.js';
import { linkHeader, type BrokerEnv } from './request.js';

/**
 * Successful responses (clause 6.3.6): application/json bodies get the @context as a Link header,
 * application/ld+json and (unless Prefer: body=json) application/geo+json bodies carry it as "@context".
 */
export function prepareBody(c: Context<BrokerEnv>, payload: object, media: MediaType, linkUrl: string, ctx: LdContext): PreparedBody {
  const headers: Record<string, string> = { 'Content-Type': media };
  let body: object = payload;
  const inline = media === 'application/ld+json' || (media === 'application/geo+json' && !preferBodyJson(c));
  if (inline) body = withContext(payload, ctx);
  else headers.Link = linkHeader(linkUrl);
  return { bytes: new Uint8Array(Buffer.from(JSON.stringify(body), 'utf8')), headers };
}

export function sendPrepared(c: Context<BrokerEnv>, prepared: PreparedBody): Response {
  return c.body(prepared.bytes, 200, prepared.headers);
}

function preferBodyJson(c: Context<BrokerEnv>): boolean {
  return /\bbody=json\b/.test(c.req.header('prefer') ?? '');
}

function withContext(payload: object, ctx: LdContext): object {
  if (Array.isArray(payload)) return payload.map((item) => ({ ...item, '@context': ctx.source }));
  return { ...payload, '@context': ctx.source };
}

/**
 * 201 with the Location of what was created (clause 6.3.6). ":" stays unescaped so a URN id reads as in the body;
 * the IoT Agent takes a registration's id from the last path segment.
 */
export function sendCreated(base: string, id: string): Response {
  return new Response(null, { status: 201, headers: { Location: `${base}/${encodeURIComponent(id).replace(/%3A/gi, ':')}` } });
}

/** A page of a query as a JSON array (clauses 6.3.6, 6.3.10, 6.3.13): @context as prepareBody puts it, next/prev links, and the count when asked for. */
export function sendPage(
  c: Context<BrokerEnv>,
  items: object[],
  media: MediaType,
  linkUrl: string,
  ctx: LdContext,
  page: { count?: number; next?: Record<string, string>; prev?: Record<string, string> },
): Response {
  const { bytes, headers } = prepareBody(c, items, media, linkUrl, ctx);
  const links = [...(headers.Link === undefined ? [] : [headers.Link]), ...pagingLinks(c.req.url, media, page)];
  if (links.length > 0) headers.Link = links.join(', ');
  if (page.count !== undefined) headers['NGSILD-Results-Count'] = String(page.count);
  return c.body(bytes, 200, headers);
}

/** 204 carries neither body nor Content-Length (clause 6.3.6). */
export function sendNoContent(c: Context<BrokerEnv>): Response {
  return c.body(null, 204);
}

/** 204 when everything was done, else 207 with the UpdateResult (clauses 6.6.3.1, 6.6.3.2). */
export function sendUpdateResult(c: Context<BrokerEnv>, result: UpdateResult, multiStatus: boolean): Response {
  if (!multiStatus || result.notUpdated.length === 0) return sendNoContent(c);
  return c.body(JSON.stringify(result), 207, { 'Content-Type': 'application/json' });
}

/**
 * Clause 6.3.10: the next and prev pages as Link header values, typed with the media type of the answer. The
 * request's own parameters are kept; the paging ones are replaced by those of the page.
 */
export function pagingLinks(requestUrl: string, media: MediaType, pages: { next?: Record<string, string>; prev?: Record<string, string> }): string[] {
  const url = new URL(requestUrl);
  const links: string[] = [];
  for (const [rel, page] of [['next', pages.next], ['prev', pages.prev]] as const) {
    if (!page) continue;
    const target = new URL(url);
    for (const k of ['offset', 'pageAfter', 'pageBefore']) target.searchParams.delete(k);
    for (const [k, v] of Object.entries(page)) target.searchParams.set(k, v);
    links.push(`<${target.pathname}${target.search}>; rel="${rel}"; type="${media}"`);
  }
  return links;
}
