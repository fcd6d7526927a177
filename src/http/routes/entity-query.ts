import type { Context } from 'hono';
import { renderFeatureCollection } from '../../entities/geojson.js';
import type { QueryService } from '../../entities/query-service.js';
import { flatLinked, inlineLinked, parseJoin } from '../../entities/linked.js';
import { renderEntities } from '../../entities/render.js';
import type { Params } from '../../entities/query-params.js';
import { CORE_CONTEXT_URL } from '../../jsonld/core-context.js';
import type { ContextResolver } from '../../jsonld/resolver.js';
import type { LdContext } from '../../jsonld/types.js';
import { negotiate, type MediaType } from '../negotiation.js';
import { onlyDatasets, project } from '../../entities/projection.js';
import { readOutputParams } from '../representation.js';
import { linkHeader, readBodyAndContext, readContext, type BrokerEnv } from '../request.js';
import { pagingLinks, sendNoContent } from '../respond.js';
import type { RouteTable } from '../route-table.js';
import { forwardContext } from './forward-context.js';

export interface EntityQueryRouteDeps {
  queries: QueryService;
  resolver: ContextResolver;
  maxBodyBytes: number;
}

/** Query Entities (GET /entities, POST /entityOperations/query; 6.4.3.2, 6.23) and Purge (DELETE /entities, 6.4.3.3). */
export function registerEntityQueryRoutes(routes: RouteTable, deps: EntityQueryRouteDeps): void {
  const { queries, resolver, maxBodyBytes } = deps;

  routes.add('GET', '/ngsi-ld/v1/entities', async (c) => {
    const media = negotiate(c.req.header('accept'), true);
    const { ctx, linkUrl } = await readContext(c, resolver);
    return answer(c, queries, c.req.query(), undefined, ctx, media, linkUrl);
  });

  routes.add('POST', '/ngsi-ld/v1/entityOperations/query', async (c) => {
    const media = negotiate(c.req.header('accept'), true);
    const { body, ctx } = await readBodyAndContext(c, resolver, maxBodyBytes);
    const { params, selectors } = queries.bodyToParams(body);
    // URL parameters (paging, format) complete the body. An inline @context has no URL for a Link header to name,
    // so JSON answers then point at the core context.
    const linkUrl = typeof ctx.source === 'string' ? ctx.source : CORE_CONTEXT_URL;
    return answer(c, queries, { ...c.req.query(), ...params }, selectors, ctx, media, linkUrl);
  });

  routes.add('DELETE', '/ngsi-ld/v1/entities', async (c) => {
    const { ctx } = await readContext(c, resolver);
    await queries.purge({ tenant: c.get('tenant'), ctx }, c.req.query());
    return sendNoContent(c);
  });
}

async function answer(
  c: Context<BrokerEnv>,
  queries: QueryService,
  params: Params,
  selectors: unknown[] | undefined,
  ctx: LdContext,
  media: MediaType,
  linkUrl: string,
): Promise<Response> {
  const out = readOutputParams(params, ctx, media);
  const forward = forwardContext(c, linkUrl === CORE_CONTEXT_URL ? undefined : ctx.source, params);
  const result = await queries.query({ tenant: c.get('tenant'), ctx, forward }, params, selectors, out.attrs);
  const entities = out.datasetIds ? result.entities.map((e) => onlyDatasets(e, out.datasetIds!)) : result.entities;
  const geo = media === 'application/geo+json';
  let payload: object;
  if (geo) {
    const collection = renderFeatureCollection(entities, ctx, out.render);
    if (out.pick || out.omit) for (const f of collection.features) project(f as unknown as Record<string, unknown>, true, ctx, out.pick, out.omit);
    payload = collection;
  } else {
    const rendered = renderEntities(entities, ctx, out.render);
    if (out.pick || out.omit) for (const e of rendered) project(e, false, ctx, out.pick, out.omit);
    const join = parseJoin(params);
    if (join) {
      const fetch = (id: string) => queries.find(c.get('tenant'), id);
      if (join.mode === 'inline') for (let i = 0; i < entities.length; i++) await inlineLinked(rendered[i]!, entities[i]!, ctx, out.render, join, fetch);
      else rendered.push(...renderEntities(await flatLinked(entities, join, fetch), ctx, { ...out.render, attrs: undefined }));
    }
    payload = rendered;
  }

  const headers: Record<string, string> = { 'Content-Type': media };
  const links: string[] = [];
  const inline = media === 'application/ld+json' || (geo && !/\bbody=json\b/.test(c.req.header('prefer') ?? ''));
  if (inline) payload = Array.isArray(payload) ? payload.map((e) => ({ ...e, '@context': ctx.source })) : { ...payload, '@context': ctx.source };
  else links.push(linkHeader(linkUrl));
  links.push(...pagingLinks(c.req.url, media, result));
  if (links.length > 0) headers.Link = links.join(', ');
  if (result.count !== undefined) headers['NGSILD-Results-Count'] = String(result.count);
  const response = c.body(JSON.stringify(payload), 200, headers);
  for (const w of forward.warnings) response.headers.append('NGSILD-Warning', w);
  return response;
}
