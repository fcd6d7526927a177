import type { Context } from 'hono';
import { badRequest, NgsiError } from '../common/errors.js';
import type { ContextResolver } from '../jsonld/resolver.js';
import { parseLinkHeader } from '../jsonld/resolver.js';
import { CORE_CONTEXT_URL } from '../jsonld/core-context.js';
import type { ContextDefinition, LdContext } from '../jsonld/types.js';
import { DEFAULT_TENANT } from '../model/entity.js';
import { readJsonBody, requestMediaType, type RequestMedia } from './negotiation.js';

/** What every handler needs to know about the request, set by the app's middleware. */
export type BrokerEnv = { Variables: { tenant: string } };

const TENANT = /^[\w.:/-]{1,128}$/;

/**
 * Tenant of the request (clause 6.3.14). IoT Agents send Fiware-Service, so it stands in when NGSILD-Tenant is absent.
 */
export function tenantOf(raw: string | undefined): string {
  if (raw === undefined || raw.trim() === '') return DEFAULT_TENANT;
  const tenant = raw.trim();
  if (!TENANT.test(tenant)) {
    throw badRequest(`Tenant ${JSON.stringify(tenant)} is not valid: use up to 128 letters, digits and . _ - : /`);
  }
  return tenant;
}

/** The @context of a request, and the URL to give back in a Link header for application/json answers. */
export interface RequestContext {
  ctx: LdContext;
  linkUrl: string;
}

/** GET and DELETE take their @context from the Link header only (clause 6.3.5). */
export function readContext(c: Context, resolver: ContextResolver): RequestContext | Promise<RequestContext> {
  const link = c.req.header('link');
  const url = link ? parseLinkHeader(link) : undefined;
  const linkUrl = url ?? CORE_CONTEXT_URL;
  // Nearly every request names a context already processed: answer without a promise on the hot path.
  const ready = resolver.cached(url);
  return ready ? { ctx: ready, linkUrl } : resolver.resolve(url).then((ctx) => ({ ctx, linkUrl }));
}

/**
 * POST/PATCH/PUT: reads the JSON body and its @context by the rules of clause 6.3.5 — Link header with
 * application/json, inline @context with application/ld+json, never both. The @context member is removed.
 */
export async function readBodyAndContext(
  c: Context,
  resolver: ContextResolver,
  maxBytes: number,
): Promise<{ body: unknown; ctx: LdContext }> {
  const media = requestMediaType(c.req.header('content-type'), c.req.method);
  const body = await readJsonBody(c.req.raw, maxBytes);
  const link = c.req.header('link');
  const inline = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>)['@context'] : undefined;
  if (media === 'json') {
    if (inline !== undefined) {
      throw badRequest('The body has an @context but the Content-Type is application/json: send it as application/ld+json, or give the @context in a Link header (clause 6.3.5)');
    }
    return { body, ctx: await resolver.resolve(link ? parseLinkHeader(link) : undefined) };
  }
  if (link) {
    throw badRequest('A Link header with a JSON-LD @context is not allowed when the Content-Type is application/ld+json; put the @context in the body (clause 6.3.5)');
  }
  if (inline === undefined || inline === null) {
    throw badRequest('The body is application/ld+json but has no @context member (clause 6.3.5)');
  }
  const { ['@context']: _ctx, ...rest } = body as Record<string, unknown>;
  return { body: rest, ctx: await resolver.resolve(inline as never) };
}

/** Tenant and @context of a request: what a service call is scoped to. */
export interface HttpScope {
  tenant: string;
  ctx: LdContext;
}

/** readContext for a GET or DELETE, as the scope for the service and the Link header URL for the answer. */
export async function readScope(c: Context<BrokerEnv>, resolver: ContextResolver): Promise<{ scope: HttpScope; linkUrl: string }> {
  const { ctx, linkUrl } = await readContext(c, resolver);
  return { scope: { tenant: c.get('tenant'), ctx }, linkUrl };
}

/** readBodyAndContext for a POST, PATCH or PUT, with the scope for the service. */
export async function readScopedBody(c: Context<BrokerEnv>, resolver: ContextResolver, maxBytes: number): Promise<{ body: unknown; scope: HttpScope }> {
  const { body, ctx } = await readBodyAndContext(c, resolver, maxBytes);
  return { body, scope: { tenant: c.get('tenant'), ctx } };
}

/** One entity of a batch body, with the @context it is read with, or the reason it cannot be read (clause 6.3.5). */
export type BatchEntity = { body: Record<string, unknown>; ctx: LdContext } | { body: Record<string, unknown>; error: NgsiError };

/**
 * The body of a batch operation that takes entities (clauses 5.6.7-5.6.9, 5.6.20): a non-empty JSON array of
 * at most `maxEntities` objects, else BadRequestData for the whole request (5.6.7.4). Each entity's @context
 * follows clause 6.3.5 per element: with application/json the Link header gives it to all and no entity may
 * carry "@context"; with application/ld+json each entity carries its own and a Link header is not allowed.
 * What is wrong with one entity's @context (missing, forbidden, unresolvable) is that entity's error only, as
 * TP/NGSI-LD/CI/Prov/BE/003_06, 003_08 and TP/NGSI-LD/CB/HTTP/043_01_04 expect (207), while the Link header
 * with application/ld+json fails the request (BE/003_09). Each distinct @context is resolved once per request.
 */
export async function readBatchBody(c: Context, resolver: ContextResolver, maxBytes: number, maxEntities: number): Promise<BatchEntity[]> {
  const { media, items, link } = await readBatchArray(c, maxBytes, maxEntities);
  items.forEach((item, i) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw badRequest(`Element ${i} of the batch is ${describeJson(item)}; every element must be a JSON object representing an entity (clause 5.2.4)`);
    }
  });
  const entities = items as Record<string, unknown>[];
  if (media === 'json') {
    // The Link header's @context is the request's: if it cannot be had, no entity can be read.
    const ctx = await resolver.resolve(link ? parseLinkHeader(link) : undefined);
    return entities.map((body) =>
      body['@context'] !== undefined
        ? { body, error: badRequest('The entity has an @context but the Content-Type is application/json: send it as application/ld+json, or give the @context in a Link header (clause 6.3.5)') }
        : { body, ctx },
    );
  }
  const resolved = new Map<string, Promise<LdContext>>();
  return Promise.all(
    entities.map(async (entity): Promise<BatchEntity> => {
      const { ['@context']: inline, ...body } = entity;
      if (inline === undefined || inline === null) {
        return { body, error: badRequest('The entity is application/ld+json but has no @context member; each entity of the array needs its own (clause 6.3.5)') };
      }
      const key = typeof inline === 'string' ? inline : JSON.stringify(inline);
      let ctx = resolved.get(key);
      if (!ctx) resolved.set(key, (ctx = resolver.resolve(inline as ContextDefinition)));
      try {
        return { body, ctx: await ctx };
      } catch (err) {
        if (err instanceof NgsiError) return { body, error: err };
        throw err;
      }
    }),
  );
}

/** The body of Batch Entity Delete (clause 5.6.10): a non-empty JSON array of at most `maxEntities` entity ids (strings). */
export async function readBatchIds(c: Context, maxBytes: number, maxEntities: number): Promise<string[]> {
  const { items } = await readBatchArray(c, maxBytes, maxEntities);
  items.forEach((item, i) => {
    if (typeof item !== 'string') throw badRequest(`Element ${i} of the batch is ${describeJson(item)}; Batch Entity Delete takes an array of entity ids (strings)`);
  });
  return items as string[];
}

async function readBatchArray(c: Context, maxBytes: number, maxEntities: number): Promise<{ media: RequestMedia; items: unknown[]; link?: string }> {
  const media = requestMediaType(c.req.header('content-type'), c.req.method);
  const body = await readJsonBody(c.req.raw, maxBytes);
  const link = c.req.header('link');
  if (media === 'ld+json' && link) {
    throw badRequest('A Link header with a JSON-LD @context is not allowed when the Content-Type is application/ld+json; put the @context in each entity of the array (clause 6.3.5)');
  }
  if (!Array.isArray(body)) throw badRequest(`The body of a batch operation must be a JSON array, not ${describeJson(body)}`);
  if (body.length === 0) throw badRequest('The batch is empty: give at least one element (clause 5.6.7.4)');
  if (body.length > maxEntities) {
    throw badRequest(`The batch has ${body.length} elements; this broker takes at most ${maxEntities} per request (setting --max-batch-entities)`);
  }
  return { media, items: body, link };
}

function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

export function linkHeader(url: string): string {
  return `<${url}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"`;
}
