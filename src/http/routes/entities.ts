import type { Context } from 'hono';
import { badRequest, invalidRequest, notFound } from '../../common/errors.js';
import { isUri } from '../../common/syntax.js';
import { renderFeature } from '../../entities/geojson.js';
import { renderEntity, type RenderFormat } from '../../entities/render.js';
import type { EntityService, RequestScope } from '../../entities/service.js';
import type { UpdateResult } from '../../entities/apply.js';
import type { ContextResolver } from '../../jsonld/resolver.js';
import type { LdContext } from '../../jsonld/types.js';
import type { Entity } from '../../model/entity.js';
import { matchesTypes, parseTypeSelector, type TypeSelector } from '../../query/type-selector.js';
import { RenderCache } from '../render-cache.js';
import { negotiate } from '../negotiation.js';
import { readBodyAndContext, readContext, type BrokerEnv } from '../request.js';
import { prepareBody, sendNoContent, sendPrepared, sendUpdateResult } from '../respond.js';
import type { RouteTable } from '../route-table.js';

export interface EntityRouteDeps {
  service: EntityService;
  resolver: ContextResolver;
  maxBodyBytes: number;
}

const BASE = '/ngsi-ld/v1/entities';

/** Entity and attribute resources, clauses 6.4-6.7. */
export function registerEntityRoutes(routes: RouteTable, deps: EntityRouteDeps): void {
  const { service, resolver, maxBodyBytes } = deps;
  const withBody = async (c: Context<BrokerEnv>) => {
    const { body, ctx } = await readBodyAndContext(c, resolver, maxBodyBytes);
    return { body, scope: { tenant: c.get('tenant'), ctx } satisfies RequestScope };
  };
  const types = (c: Context<BrokerEnv>, ctx: LdContext): TypeSelector | undefined => {
    const t = c.req.query('type');
    return t === undefined ? undefined : parseTypeSelector(t, (term) => ctx.expand(term));
  };
  const entityId = (c: Context<BrokerEnv>) => c.req.param('entityId')!;

  routes.add('POST', BASE, async (c) => {
    const { body, scope } = await withBody(c);
    const id = await service.create(scope, body);
    return new Response(null, { status: 201, headers: { Location: `${BASE}/${encodeURIComponent(id).replace(/%3A/gi, ':')}` } });
  });

  // Retrieve Entity is the hottest path: a repeated request for an unchanged entity is answered from the
  // rendered bytes of the previous one. The key holds everything the rendering depends on besides entity and @context.
  const rendered = new RenderCache();
  routes.add('GET', `${BASE}/:entityId`, async (c) => {
    const media = negotiate(c.req.header('accept'), true);
    const { ctx, linkUrl } = await readContext(c, resolver);
    const scope = { tenant: c.get('tenant'), ctx };
    const stored = await service.retrieve(scope, entityId(c));
    const url = c.req.url;
    const variant = `${media}\n${linkUrl}\n${c.req.header('prefer') ?? ''}\n${url.slice(url.indexOf('?') + 1 || url.length)}`;
    const hit = rendered.get(stored, variant, ctx);
    if (hit) return sendPrepared(c, hit);

    const q = readRetrieveParams(c, ctx);
    if (q.geometryProperty !== undefined && media !== 'application/geo+json') {
      throw badRequest('geometryProperty is only allowed when the Accept header asks for application/geo+json (clause 5.7.1.4)');
    }
    const selector = types(c, ctx);
    if (selector && !matchesTypes(selector, stored.type)) throw notFound(`No entity ${stored.id} of the requested type`);
    let entity = stored;
    if (q.attrs && !q.attrs.some((a) => entity.attrs[a])) {
      throw notFound(`Entity ${entity.id} has none of the requested attributes`);
    }
    if (q.datasetIds) entity = onlyDatasets(entity, q.datasetIds);
    const opts = { format: q.format, sysAttrs: q.sysAttrs, attrs: q.attrs && new Set(q.attrs), lang: q.lang };
    const payload: Record<string, unknown> =
      media === 'application/geo+json'
        ? (renderFeature(entity, ctx, { ...opts, geometryProperty: q.geometryProperty && ctx.expand(q.geometryProperty) }) as unknown as Record<string, unknown>)
        : renderEntity(entity, ctx, opts);
    if (q.pick || q.omit) project(payload, media === 'application/geo+json', ctx, q.pick, q.omit);
    const prepared = prepareBody(c, payload, media, linkUrl, ctx);
    rendered.set(stored, variant, ctx, prepared);
    return sendPrepared(c, prepared);
  });

  routes.add('PUT', `${BASE}/:entityId`, async (c) => {
    const { body, scope } = await withBody(c);
    await service.replace(scope, entityId(c), body, types(c, scope.ctx));
    return sendNoContent(c);
  });

  routes.add('PATCH', `${BASE}/:entityId`, async (c) => {
    const { body, scope } = await withBody(c);
    const format = representation(c, ['normalized', 'concise', 'simplified', 'keyValues'], []);
    const observedAt = c.req.query('observedAt');
    if (observedAt !== undefined && Number.isNaN(Date.parse(observedAt))) throw badRequest(`observedAt ${observedAt} is not a DateTime`);
    const result = await service.merge(
      scope,
      entityId(c),
      body,
      { simplified: format.format === 'simplified', lang: c.req.query('lang'), observedAt },
      types(c, scope.ctx),
    );
    return sendUpdateResult(c, result, false);
  });

  routes.add('DELETE', `${BASE}/:entityId`, async (c) => {
    const { ctx } = await readContext(c, resolver);
    await service.delete({ tenant: c.get('tenant'), ctx }, entityId(c), types(c, ctx));
    return sendNoContent(c);
  });

  routes.add('POST', `${BASE}/:entityId/attrs`, async (c) => {
    const { body, scope } = await withBody(c);
    const { options } = representation(c, [], ['noOverwrite']);
    const result = await service.appendAttributes(scope, entityId(c), body, options.has('noOverwrite'), types(c, scope.ctx));
    return sendUpdateResult(c, result, true);
  });

  routes.add('PATCH', `${BASE}/:entityId/attrs`, async (c) => {
    const { body, scope } = await withBody(c);
    const result = await service.updateAttributes(scope, entityId(c), body, types(c, scope.ctx));
    return sendUpdateResult(c, result, true);
  });

  routes.add('PATCH', `${BASE}/:entityId/attrs/:attrId`, async (c) => {
    const { body, scope } = await withBody(c);
    await service.partialAttributeUpdate(scope, entityId(c), c.req.param('attrId')!, body, types(c, scope.ctx));
    return sendNoContent(c);
  });

  routes.add('PUT', `${BASE}/:entityId/attrs/:attrId`, async (c) => {
    const { body, scope } = await withBody(c);
    await service.replaceAttribute(scope, entityId(c), c.req.param('attrId')!, body, types(c, scope.ctx));
    return sendNoContent(c);
  });

  routes.add('DELETE', `${BASE}/:entityId/attrs/:attrId`, async (c) => {
    const { ctx } = await readContext(c, resolver);
    const deleteAll = booleanParam(c, 'deleteAll');
    const datasetId = c.req.query('datasetId');
    await service.deleteAttribute({ tenant: c.get('tenant'), ctx }, entityId(c), c.req.param('attrId')!, { datasetId, deleteAll }, types(c, ctx));
    return sendNoContent(c);
  });
}

interface RetrieveParams {
  format: RenderFormat;
  sysAttrs: boolean;
  attrs?: string[];
  pick?: string[];
  omit?: string[];
  lang?: string;
  geometryProperty?: string;
  datasetIds?: Set<string | undefined>;
}

function readRetrieveParams(c: Context<BrokerEnv>, ctx: LdContext): RetrieveParams {
  const { format, options } = representation(c, ['normalized', 'concise', 'simplified', 'keyValues'], ['sysAttrs']);
  const list = (name: string) => {
    const v = c.req.query(name);
    if (v === undefined) return undefined;
    const items = v.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (items.length === 0) throw badRequest(`Parameter ${name} is empty`);
    return items;
  };
  const pick = list('pick');
  const omit = list('omit');
  if (pick && omit) throw invalidRequest('pick and omit cannot be used together (clause 4.21)');
  const datasetIds = list('datasetId');
  for (const ds of datasetIds ?? []) if (ds !== '@none' && !isUri(ds)) throw badRequest(`datasetId ${ds} is not a URI`);
  return {
    format,
    sysAttrs: options.has('sysAttrs'),
    attrs: list('attrs')?.map((a) => ctx.expand(a)),
    pick,
    omit,
    lang: c.req.query('lang'),
    geometryProperty: c.req.query('geometryProperty'),
    datasetIds: datasetIds && new Set(datasetIds.map((d) => (d === '@none' ? undefined : d))),
  };
}

/**
 * format= and the deprecated options= (clauses 6.3.7, 6.3.11, 6.3.20): format wins over options; an option the
 * operation does not know is InvalidRequest.
 */
function representation(c: Context<BrokerEnv>, formats: string[], flags: string[]) {
  const options = new Set((c.req.query('options') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== ''));
  for (const o of options) {
    if (!formats.includes(o) && !flags.includes(o)) {
      throw invalidRequest(`options=${o} is not supported by this operation; supported: ${[...formats, ...flags].join(', ') || 'none'}`);
    }
  }
  const fromOptions = formats.find((f) => options.has(f));
  const requested = c.req.query('format') ?? fromOptions ?? 'normalized';
  if (formats.length > 0 && !formats.includes(requested)) {
    throw badRequest(`format=${requested} is not supported; use one of ${formats.join(', ')}`);
  }
  const format: RenderFormat = requested === 'keyValues' ? 'simplified' : (requested as RenderFormat);
  return { format, options };
}

function booleanParam(c: Context<BrokerEnv>, name: string): boolean {
  const v = c.req.query(name);
  if (v === undefined || v === 'false') return false;
  if (v === 'true' || v === '') return true;
  throw badRequest(`Parameter ${name} must be true or false, got ${v}`);
}

function onlyDatasets(entity: Entity, datasetIds: Set<string | undefined>): Entity {
  const attrs: Entity['attrs'] = {};
  for (const [name, instances] of Object.entries(entity.attrs)) {
    const kept = instances.filter((a) => datasetIds.has(a.datasetId));
    if (kept.length > 0) attrs[name] = kept;
  }
  return { ...entity, attrs };
}

/** pick/omit (clause 4.21) over the rendered members: id, type, scope or attribute names. */
function project(payload: Record<string, unknown>, geo: boolean, ctx: LdContext, pick?: string[], omit?: string[]): void {
  const wanted = new Set((pick ?? omit)!.map((n) => (n === 'id' || n === 'type' || n === 'scope' ? n : ctx.expand(n))));
  const target = geo ? (payload.properties as Record<string, unknown>) : payload;
  const keep = (key: string) => {
    const name = key === 'id' || key === 'type' || key === 'scope' ? key : ctx.expand(key);
    return pick ? wanted.has(name) : !wanted.has(name);
  };
  for (const key of Object.keys(target)) {
    if (key === 'createdAt' || key === 'modifiedAt') continue;
    if (!keep(key)) delete target[key];
  }
  if (geo && !keep('id')) delete payload.id;
}

export type { UpdateResult };
