import type { ContextResolver } from '../../jsonld/resolver.js';
import { renderSubscription } from '../../subscriptions/render.js';
import type { SubscriptionService } from '../../subscriptions/service.js';
import type { RouteTable } from '../route-table.js';
import { registerResourceRoutes } from './resource-routes.js';

export const SUBSCRIPTIONS_PATH = '/ngsi-ld/v1/subscriptions';
/** Clauses 6.12 and 6.13 (5.11): Subscriptions (5.2.12) on registrations, kept apart from entity subscriptions. */
export const CSOURCE_SUBSCRIPTIONS_PATH = '/ngsi-ld/v1/csourceSubscriptions';

export interface SubscriptionRouteDeps {
  service: SubscriptionService;
  resolver: ContextResolver;
  maxBodyBytes: number;
  /** Where the service's subscriptions are served; default SUBSCRIPTIONS_PATH. */
  base?: string;
}

/** The subscription resources, clauses 6.10 and 6.11, or with CSOURCE_SUBSCRIPTIONS_PATH those of 6.12 and 6.13. */
export function registerSubscriptionRoutes(routes: RouteTable, deps: SubscriptionRouteDeps): void {
  registerResourceRoutes(routes, {
    base: deps.base ?? SUBSCRIPTIONS_PATH,
    service: deps.service,
    resolver: deps.resolver,
    maxBodyBytes: deps.maxBodyBytes,
    render: (view, ctx, { sysAttrs }) => renderSubscription(view.subscription, view.delivery, ctx, { sysAttrs, now: view.at }),
  });
}
