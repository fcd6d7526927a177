import type { Context } from 'hono';
import { badRequest } from '../../common/errors.js';
import { CORE_CONTEXT_URL } from '../../jsonld/core-context.js';
import type { ContextResolver } from '../../jsonld/resolver.js';
import type { ContentRange, TemporalService } from '../../temporal/service.js';
import { negotiate } from '../negotiation.js';
import { linkHeader, readScope, readScopedBody, type BrokerEnv } from '../request.js';
import { pagingLinks, sendCreated, sendNoContent } from '../respond.js';
import type { RouteTable } from '../route-table.js';

export interface TemporalRouteDeps {
  service: TemporalService;
  resolver: ContextResolver;
  maxBodyBytes: number;
}

const BASE = '/ngsi-ld/v1/temporal/entities';

/** Temporal Evolution of Entities, clauses 6.18-6.24. */
export function registerTemporalRoutes(routes: RouteTable, deps: TemporalRouteDeps): void {
  const { service, resolver, maxBodyBytes } = deps;
  const entityId = (c: Context<BrokerEnv>) => c.req.param('entityId')!;
  const withBody = (c: Context<BrokerEnv>) => readScopedBody(c, resolver, maxBodyBytes);
  const scopeOf = (c: Context<BrokerEnv>) => readScope(c, resolver);

  routes.add('POST', BASE, async (c) => {
    const { body, scope } = await withBody(c);
    const created = await service.upsert(scope, body);
    if (!created) return sendNoContent(c);
    const id = String((body as Record<string, unknown>).id ?? (body as Record<string, unknown>)['@id']);
    return sendCreated(BASE, id);
  });

  routes.add('GET', BASE, async (c) => {
    const media = negotiate(c.req.header('accept'), false);
    const { scope, linkUrl } = await scopeOf(c);
    const result = await service.query(scope, c.req.query());
    return send(c, result.entities, media, linkUrl, scope.ctx.source, result.range, pagingLinks(c.req.url, media, { next: result.next }), result.count);
  });

  routes.add('POST', '/ngsi-ld/v1/temporal/entityOperations/query', async (c) => {
    const media = negotiate(c.req.header('accept'), false);
    const { body, scope } = await withBody(c);
    const { params, selectors } = service.bodyToParams(body);
    const linkUrl = typeof scope.ctx.source === 'string' ? scope.ctx.source : CORE_CONTEXT_URL;
    const result = await service.query(scope, { ...c.req.query(), ...params }, selectors);
    return send(c, result.entities, media, linkUrl, scope.ctx.source, result.range, pagingLinks(c.req.url, media, { next: result.next }), result.count);
  });

  routes.add('GET', `${BASE}/:entityId`, async (c) => {
    const media = negotiate(c.req.header('accept'), false);
    const { scope, linkUrl } = await scopeOf(c);
    const result = await service.retrieve(scope, entityId(c), c.req.query());
    return send(c, result.body, media, linkUrl, scope.ctx.source, result.range, []);
  });

  routes.add('DELETE', `${BASE}/:entityId`, async (c) => {
    const { scope } = await scopeOf(c);
    await service.deleteEntity(scope, entityId(c));
    return sendNoContent(c);
  });

  routes.add('POST', `${BASE}/:entityId/attrs`, async (c) => {
    const { body, scope } = await withBody(c);
    await service.addAttributes(scope, entityId(c), body);
    return sendNoContent(c);
  });

  routes.add('DELETE', `${BASE}/:entityId/attrs/:attrId`, async (c) => {
    const { scope } = await scopeOf(c);
    const v = c.req.query('deleteAll');
    if (v !== undefined && v !== 'true' && v !== 'false') throw badRequest(`Parameter deleteAll must be true or false, got ${v}`);
    await service.deleteAttribute(scope, entityId(c), c.req.param('attrId')!, { datasetId: c.req.query('datasetId'), deleteAll: v === 'true' });
    return sendNoContent(c);
  });

  routes.add('PATCH', `${BASE}/:entityId/attrs/:attrId/:instanceId`, async (c) => {
    const { body, scope } = await withBody(c);
    await service.modifyInstance(scope, entityId(c), c.req.param('attrId')!, c.req.param('instanceId')!, body);
    return sendNoContent(c);
  });

  routes.add('DELETE', `${BASE}/:entityId/attrs/:attrId/:instanceId`, async (c) => {
    const { scope } = await scopeOf(c);
    await service.deleteInstance(scope, entityId(c), c.req.param('attrId')!, c.req.param('instanceId')!);
    return sendNoContent(c);
  });
}

/**
 * 200, or 206 with Content-Range "DateTime <start>-<end>/<size>" when a history was cut (6.3.10); with count=true
 * the NGSILD-Results-Count header (6.3.13).
 */
function send(
  c: Context<BrokerEnv>,
  payload: object,
  media: string,
  linkUrl: string,
  source: unknown,
  range: ContentRange | undefined,
  links: string[],
  count?: number,
): Response {
  const headers: Record<string, string> = { 'Content-Type': media };
  let body: unknown = payload;
  if (media === 'application/ld+json') {
    body = Array.isArray(payload) ? payload.map((e) => ({ ...e, '@context': source })) : { ...payload, '@context': source };
  } else links = [linkHeader(linkUrl), ...links];
  if (links.length > 0) headers.Link = links.join(', ');
  if (count !== undefined) headers['NGSILD-Results-Count'] = String(count);
  if (range) headers['Content-Range'] = `DateTime ${range.start}-${range.end}/${range.size}`;
  return c.body(JSON.stringify(body), range ? 206 : 200, headers);
}
