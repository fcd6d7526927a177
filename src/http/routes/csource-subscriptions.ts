import type { Context } from 'hono';
import type { ContextResolver } from '../../jsonld/resolver.js';
import { renderSubscription } from '../../subscriptions/render.js';
import type { SubscriptionService } from '../../subscriptions/service.js';
import { negotiate } from '../negotiation.js';
import { representation } from '../representation.js';
import { linkHeader, readBodyAndContext, readContext, type BrokerEnv } from '../request.js';
import { pagingLinks, prepareBody, sendNoContent, sendPrepared } from '../respond.js';
import type { RouteTable } from '../route-table.js';

export interface CSourceSubscriptionRouteDeps {
  service: SubscriptionService;
  resolver: ContextResolver;
  maxBodyBytes: number;
}

const BASE = '/ngsi-ld/v1/csourceSubscriptions';

/** The Context Source Registration Subscription resources, clauses 6.12 and 6.13 (5.11): Subscriptions (5.2.12) kept apart from entity subscriptions. */
export function registerCSourceSubscriptionRoutes(routes: RouteTable, deps: CSourceSubscriptionRouteDeps): void {
  const { service, resolver, maxBodyBytes } = deps;
  const withBody = async (c: Context<BrokerEnv>) => {
    const { body, ctx } = await readBodyAndContext(c, resolver, maxBodyBytes);
    return { body, scope: { tenant: c.get('tenant'), ctx } };
  };
  const subscriptionId = (c: Context<BrokerEnv>) => c.req.param('subscriptionId')!;
  // Clause 6.3.11: options=sysAttrs adds createdAt and modifiedAt; other options are InvalidRequest.
  const sysAttrs = (c: Context<BrokerEnv>) => representation(c.req.query(), [], ['sysAttrs']).options.has('sysAttrs');

  routes.add('POST', BASE, async (c) => {
    const { body, scope } = await withBody(c);
    const id = await service.create(scope, body);
    return new Response(null, { status: 201, headers: { Location: `${BASE}/${encodeURIComponent(id).replace(/%3A/gi, ':')}` } });
  });

  routes.add('GET', BASE, async (c) => {
    const media = negotiate(c.req.header('accept'), false);
    const { ctx, linkUrl } = await readContext(c, resolver);
    const withSysAttrs = sysAttrs(c);
    const result = await service.list({ tenant: c.get('tenant'), ctx }, c.req.query());
    let payload = result.items.map((v) => renderSubscription(v.subscription, v.delivery, ctx, { sysAttrs: withSysAttrs, now: v.at }));
    const headers: Record<string, string> = { 'Content-Type': media };
    const links: string[] = [];
    if (media === 'application/ld+json') payload = payload.map((s) => ({ ...s, '@context': ctx.source }));
    else links.push(linkHeader(linkUrl));
    links.push(...pagingLinks(c.req.url, media, result));
    headers.Link = links.join(', ');
    if (result.count !== undefined) headers['NGSILD-Results-Count'] = String(result.count);
    return c.body(JSON.stringify(payload), 200, headers);
  });

  routes.add('GET', `${BASE}/:subscriptionId`, async (c) => {
    const media = negotiate(c.req.header('accept'), false);
    const { ctx, linkUrl } = await readContext(c, resolver);
    const withSysAttrs = sysAttrs(c);
    const view = await service.retrieve({ tenant: c.get('tenant'), ctx }, subscriptionId(c));
    const payload = renderSubscription(view.subscription, view.delivery, ctx, { sysAttrs: withSysAttrs, now: view.at });
    return sendPrepared(c, prepareBody(c, payload, media, linkUrl, ctx));
  });

  routes.add('PATCH', `${BASE}/:subscriptionId`, async (c) => {
    const { body, scope } = await withBody(c);
    await service.update(scope, subscriptionId(c), body);
    return sendNoContent(c);
  });

  routes.add('DELETE', `${BASE}/:subscriptionId`, async (c) => {
    const { ctx } = await readContext(c, resolver);
    await service.delete({ tenant: c.get('tenant'), ctx }, subscriptionId(c));
    return sendNoContent(c);
  });
}
