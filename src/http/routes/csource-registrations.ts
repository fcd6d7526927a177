import type { Context } from 'hono';
import type { ContextResolver } from '../../jsonld/resolver.js';
import { renderRegistration } from '../../registrations/render.js';
import type { RegistrationService } from '../../registrations/service.js';
import { negotiate } from '../negotiation.js';
import { representation } from '../representation.js';
import { linkHeader, readBodyAndContext, readContext, type BrokerEnv } from '../request.js';
import { pagingLinks, prepareBody, sendNoContent, sendPrepared } from '../respond.js';
import type { RouteTable } from '../route-table.js';

export interface RegistrationRouteDeps {
  service: RegistrationService;
  resolver: ContextResolver;
  maxBodyBytes: number;
}

const BASE = '/ngsi-ld/v1/csourceRegistrations';

/** The Context Source Registration resources, clauses 6.8 and 6.9. Answers are application/json or ld+json (no GeoJSON: 406). */
export function registerCSourceRegistrationRoutes(routes: RouteTable, deps: RegistrationRouteDeps): void {
  const { service, resolver, maxBodyBytes } = deps;
  const withBody = async (c: Context<BrokerEnv>) => {
    const { body, ctx } = await readBodyAndContext(c, resolver, maxBodyBytes);
    return { body, scope: { tenant: c.get('tenant'), ctx } };
  };
  const registrationId = (c: Context<BrokerEnv>) => c.req.param('registrationId')!;
  // Clause 6.3.11: options=sysAttrs adds createdAt and modifiedAt; other options are InvalidRequest.
  const sysAttrs = (c: Context<BrokerEnv>) => representation(c.req.query(), [], ['sysAttrs']).options.has('sysAttrs');

  routes.add('POST', BASE, async (c) => {
    const { body, scope } = await withBody(c);
    const id = await service.create(scope, body);
    // The IoT Agent takes the registration id from the last path segment of Location.
    return new Response(null, { status: 201, headers: { Location: `${BASE}/${encodeURIComponent(id).replace(/%3A/gi, ':')}` } });
  });

  routes.add('GET', BASE, async (c) => {
    const media = negotiate(c.req.header('accept'), false);
    const { ctx, linkUrl } = await readContext(c, resolver);
    const withSysAttrs = sysAttrs(c);
    const result = await service.list({ tenant: c.get('tenant'), ctx }, c.req.query());
    let payload = result.items.map((r) => renderRegistration(r, r.stats, ctx, { sysAttrs: withSysAttrs }));
    const headers: Record<string, string> = { 'Content-Type': media };
    const links: string[] = [];
    if (media === 'application/ld+json') payload = payload.map((r) => ({ ...r, '@context': ctx.source }));
    else links.push(linkHeader(linkUrl));
    links.push(...pagingLinks(c.req.url, media, result));
    headers.Link = links.join(', ');
    if (result.count !== undefined) headers['NGSILD-Results-Count'] = String(result.count);
    return c.body(JSON.stringify(payload), 200, headers);
  });

  routes.add('GET', `${BASE}/:registrationId`, async (c) => {
    const media = negotiate(c.req.header('accept'), false);
    const { ctx, linkUrl } = await readContext(c, resolver);
    const withSysAttrs = sysAttrs(c);
    const reg = await service.retrieve({ tenant: c.get('tenant'), ctx }, registrationId(c));
    return sendPrepared(c, prepareBody(c, renderRegistration(reg, reg.stats, ctx, { sysAttrs: withSysAttrs }), media, linkUrl, ctx));
  });

  routes.add('PATCH', `${BASE}/:registrationId`, async (c) => {
    const { body, scope } = await withBody(c);
    await service.update(scope, registrationId(c), body);
    return sendNoContent(c);
  });

  routes.add('DELETE', `${BASE}/:registrationId`, async (c) => {
    const { ctx } = await readContext(c, resolver);
    await service.delete({ tenant: c.get('tenant'), ctx }, registrationId(c));
    return sendNoContent(c);
  });
}
