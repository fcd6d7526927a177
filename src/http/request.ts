import type { Context } from 'hono';
import { badRequest } from '../common/errors.js';
import type { ContextResolver } from '../jsonld/resolver.js';
import { parseLinkHeader } from '../jsonld/resolver.js';
import { CORE_CONTEXT_URL } from '../jsonld/core-context.js';
import type { LdContext } from '../jsonld/types.js';
import { DEFAULT_TENANT } from '../model/entity.js';
import { readJsonBody, requestMediaType } from './negotiation.js';

/** What every handler needs to know about the request, set by the app's middleware. */
export type BrokerEnv = { Variables: { tenant: string } };

const TENANT = /^[\w.:/-]{1,128}$/;

/**
 * Tenant of the request (clause 6.3.14). IoT Agents send Fiware-Service, so it stands in when NGSILD-Tenant is absent.
 */
export function tenantOf(headers: Headers): string {
  const raw = headers.get('ngsild-tenant') ?? headers.get('fiware-service');
  if (raw === null || raw.trim() === '') return DEFAULT_TENANT;
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
export async function readContext(c: Context, resolver: ContextResolver): Promise<RequestContext> {
  const link = c.req.header('link');
  const url = link ? parseLinkHeader(link) : undefined;
  return { ctx: await resolver.resolve(url), linkUrl: url ?? CORE_CONTEXT_URL };
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

export function linkHeader(url: string): string {
  return `<${url}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"`;
}
