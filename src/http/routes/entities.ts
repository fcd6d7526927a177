import type { Context } from 'hono';
import { badRequest, notFound } from '../../common/errors.js';
import { renderFeature } from '../../entities/geojson.js';
import { flatLinked, inlineLinked, parseJoin } from '../../entities/linked.js';
import { renderEntities, renderEntity } from '../../entities/render.js';
import type { BatchEntityError, EntityService, RequestScope } from '../../entities/service.js';
import type { ContextResolver } from '../../jsonld/resolver.js';
import type { LdContext } from '../../jsonld/types.js';
import { matchesTypes, parseTypeSelector, type TypeSelector } from '../../query/type-selector.js';
import { RenderCache } from '../render-cache.js';
import { negotiate } from '../negotiation.js';
import { readContext, readScopedBody, type BrokerEnv } from '../request.js';
import { onlyDatasets, project } from '../../entities/projection.js';
import { readOutputParams, representation } from '../representation.js';
import { prepareBody, sendCreated, sendNoContent, sendPrepared, sendUpdateResult } from '../respond.js';
import type { RouteTable } from '../route-table.js';
import { forwardContext, withWarnings } from './forward-context.js';

export interface EntityRouteDeps {
  service: EntityService;
  resolver: ContextResolver;
  maxBodyBytes: number;
}

const BASE = '/ngsi-ld/v1/entities';

/** Entity and attribute resources, clauses 6.4-6.7. */
export function registerEntityRoutes(routes: RouteTable, deps: EntityRouteDeps): void {
  const { service, resolver, maxBodyBytes } = deps;
  const withBody = (c: Context<BrokerEnv>) => readScopedBody(c, resolver, maxBodyBytes);
  // Updates that registrations may distribute (5.6.2.4, 5.6.3.4, 5.6.4, 5.6.17, 5.6.19).
  const withForwarding = async (c: Context<BrokerEnv>) => {
    const { body, scope } = await withBody(c);
    const fwd = forwardContext(c, scope.ctx.source);
    return { body, fwd, scope: { ...scope, forward: fwd } satisfies RequestScope };
  };
  const types = (c: Context<BrokerEnv>, ctx: LdContext): TypeSelector | undefined => {
    const t = c.req.query('type');
    return t === undefined ? undefined : parseTypeSelector(t, (term) => ctx.expand(term));
  };
  const entityId = (c: Context<BrokerEnv>) => c.req.param('entityId')!;

  // Create and Replace Entity may be split between this broker and context sources (5.6.1.4, 5.6.18.4).
  routes.add('POST', BASE, async (c) => {
    const { body, scope } = await withForwarding(c);
    const { id, errors } = await service.create(scope, body);
    const created = sendCreated(BASE, id);
    if (errors.length === 0) return created;
    // 6.4.3.1: a partial success is 207 with the Location header as well.
    const partial = sendPartial(c, id, errors);
    partial.headers.set('Location', created.headers.get('Location')!);
    return partial;
  });

  // Retrieve Entity is the hottest path: a repeated request for an unchanged entity is answered from the
  // rendered bytes of the previous one. The key holds everything the rendering depends on besides entity and @context.
  const rendered = new RenderCache();
  routes.add('GET', `${BASE}/:entityId`, async (c) => {
    const media = negotiate(c.req.header('accept'), true);
    const context = readContext(c, resolver);
    const { ctx, linkUrl } = context instanceof Promise ? await context : context;
    // One parse of the query string serves local, type, attrs and the output parameters below.
    const params = c.req.query();
    const fwd = forwardContext(c, linkUrl, params);
    const scope = { tenant: c.get('tenant'), ctx, forward: fwd };
    const requested = params.attrs?.split(',').map((a) => a.trim()).filter((a) => a !== '').map((a) => ctx.expand(a));
    const selector = params.type === undefined ? undefined : parseTypeSelector(params.type, (term) => ctx.expand(term));
    const stored = await service.retrieve(scope, entityId(c), selector, requested);
    const url = c.req.url;
    const variant = `${media}\n${linkUrl}\n${c.req.header('prefer') ?? ''}\n${url.slice(url.indexOf('?') + 1 || url.length)}`;
    // Joined answers depend on other entities too, so they are never served from the cache.
    const join = parseJoin(params);
    const hit = join ? undefined : rendered.get(stored, variant, ctx);
    if (hit) return withWarnings(sendPrepared(c, hit), fwd);

    const out = readOutputParams(params, ctx, media);
    if (selector && !matchesTypes(selector, stored.type)) throw notFound(`No entity ${stored.id} of the requested type`);
    if (out.attrs && !out.attrs.some((a) => stored.attrs[a])) {
      throw notFound(`Entity ${stored.id} has none of the requested attributes`);
    }
    const entity = out.datasetIds ? onlyDatasets(stored, out.datasetIds) : stored;
    const geo = media === 'application/geo+json';
    const payload = geo ? (renderFeature(entity, ctx, out.render) as unknown as Record<string, unknown>) : renderEntity(entity, ctx, out.render);
    if (out.pick || out.omit) project(payload, geo, ctx, out.pick, out.omit);
    if (join && !geo) {
      const fetch = (id: string) => service.find(scope.tenant, id);
      if (join.mode === 'inline') await inlineLinked(payload, entity, ctx, out.render, join, fetch);
      else {
        const linked = await flatLinked([entity], join, fetch);
        return withWarnings(sendPrepared(c, prepareBody(c, [payload, ...renderEntities(linked, ctx, { ...out.render, attrs: undefined })], media, linkUrl, ctx)), fwd);
      }
      return withWarnings(sendPrepared(c, prepareBody(c, payload, media, linkUrl, ctx)), fwd);
    }
    const prepared = prepareBody(c, payload, media, linkUrl, ctx);
    rendered.set(stored, variant, ctx, prepared);
    return withWarnings(sendPrepared(c, prepared), fwd);
  });

  routes.add('PUT', `${BASE}/:entityId`, async (c) => {
    const { body, scope } = await withForwarding(c);
    return sendPartial(c, entityId(c), await service.replace(scope, entityId(c), body, types(c, scope.ctx)));
  });

  routes.add('PATCH', `${BASE}/:entityId`, async (c) => {
    const { body, scope } = await withForwarding(c);
    const format = representation(c.req.query(), ['normalized', 'concise', 'simplified', 'keyValues'], []);
    const observedAt = c.req.query('observedAt');
    if (observedAt !== undefined && Number.isNaN(Date.parse(observedAt))) throw badRequest(`observedAt ${observedAt} is not a DateTime`);
    const result = await service.merge(
      scope,
      entityId(c),
      body,
      { simplified: format.format === 'simplified', lang: c.req.query('lang'), observedAt },
      types(c, scope.ctx),
    );
    // A merge distributed to context sources reports what they did not take as 207 (6.3.17).
    return sendUpdateResult(c, result, result.distributed === true);
  });

  // Deletions that registrations may distribute (5.6.5.4, 5.6.6.4); sources that failed beside a success make a 207.
  routes.add('DELETE', `${BASE}/:entityId`, async (c) => {
    const { ctx, linkUrl } = await readContext(c, resolver);
    const errors = await service.delete({ tenant: c.get('tenant'), ctx, forward: forwardContext(c, linkUrl) }, entityId(c), types(c, ctx));
    return sendPartial(c, entityId(c), errors);
  });

  routes.add('POST', `${BASE}/:entityId/attrs`, async (c) => {
    const { body, scope } = await withForwarding(c);
    const { options } = representation(c.req.query(), [], ['noOverwrite']);
    const result = await service.appendAttributes(scope, entityId(c), body, options.has('noOverwrite'), types(c, scope.ctx));
    return sendUpdateResult(c, result, true);
  });

  routes.add('PATCH', `${BASE}/:entityId/attrs`, async (c) => {
    const { body, scope } = await withForwarding(c);
    const result = await service.updateAttributes(scope, entityId(c), body, types(c, scope.ctx));
    return sendUpdateResult(c, result, true);
  });

  routes.add('PATCH', `${BASE}/:entityId/attrs/:attrId`, async (c) => {
    const { body, scope } = await withForwarding(c);
    await service.partialAttributeUpdate(scope, entityId(c), c.req.param('attrId')!, body, types(c, scope.ctx));
    return sendNoContent(c);
  });

  routes.add('PUT', `${BASE}/:entityId/attrs/:attrId`, async (c) => {
    const { body, scope } = await withForwarding(c);
    await service.replaceAttribute(scope, entityId(c), c.req.param('attrId')!, body, types(c, scope.ctx));
    return sendNoContent(c);
  });

  routes.add('DELETE', `${BASE}/:entityId/attrs/:attrId`, async (c) => {
    const { ctx, linkUrl } = await readContext(c, resolver);
    const deleteAll = booleanParam(c, 'deleteAll');
    const datasetId = c.req.query('datasetId');
    const scope = { tenant: c.get('tenant'), ctx, forward: forwardContext(c, linkUrl) };
    return sendPartial(c, entityId(c), await service.deleteAttribute(scope, entityId(c), c.req.param('attrId')!, { datasetId, deleteAll }, types(c, ctx)));
  });
}

/**
 * 204, or 207 with a BatchOperationResult (5.2.16) when some context sources failed a distributed operation that
 * succeeded elsewhere (6.4.3.1, 6.5.3.2, 6.5.3.3, 6.7.3.2).
 */
function sendPartial(c: Context<BrokerEnv>, id: string, errors: BatchEntityError[]): Response {
  if (errors.length === 0) return sendNoContent(c);
  return c.body(JSON.stringify({ success: [id], errors }), 207, { 'Content-Type': 'application/json' });
}

function booleanParam(c: Context<BrokerEnv>, name: string): boolean {
  const v = c.req.query(name);
  if (v === undefined || v === 'false') return false;
  if (v === 'true' || v === '') return true;
  throw badRequest(`Parameter ${name} must be true or false, got ${v}`);
}
