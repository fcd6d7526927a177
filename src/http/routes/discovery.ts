import type { Context } from 'hono';
import { badRequest } from '../../common/errors.js';
import type { DiscoveryService } from '../../entities/discovery-service.js';
import type { RequestScope } from '../../entities/service.js';
import type { ContextResolver } from '../../jsonld/resolver.js';
import { negotiate } from '../negotiation.js';
import { readContext, type BrokerEnv } from '../request.js';
import { prepareBody, sendPrepared } from '../respond.js';
import type { RouteTable } from '../route-table.js';
import { forwardContext } from './forward-context.js';

export interface DiscoveryRouteDeps {
  discovery: DiscoveryService;
  resolver: ContextResolver;
}

const API = '/ngsi-ld/v1';

/**
 * Discovery resources, clauses 6.25-6.28: /types, /types/{type}, /attributes, /attributes/{attrId}. JSON or
 * JSON-LD only (no GeoJSON: these are not entities); the @context goes in a Link header or in the body (6.3.6).
 */
export function registerDiscoveryRoutes(routes: RouteTable, deps: DiscoveryRouteDeps): void {
  const { discovery, resolver } = deps;

  const answer = async (c: Context<BrokerEnv>, run: (scope: RequestScope) => Promise<object>): Promise<Response> => {
    const media = negotiate(c.req.header('accept'), false);
    const { ctx, linkUrl } = await readContext(c, resolver);
    // Only local=true is read: the lists add what registrations declare rather than asking the sources (5.7.11).
    const payload = await run({ tenant: c.get('tenant'), ctx, forward: forwardContext(c, linkUrl) });
    return sendPrepared(c, prepareBody(c, payload, media, linkUrl, ctx));
  };

  routes.add('GET', `${API}/types`, (c) =>
    answer(c, (scope) => (details(c) ? discovery.entityTypeDetails(scope) : discovery.entityTypes(scope))),
  );
  routes.add('GET', `${API}/types/:type`, (c) => answer(c, (scope) => discovery.entityTypeInfo(scope, c.req.param('type')!)));
  routes.add('GET', `${API}/attributes`, (c) =>
    answer(c, (scope) => (details(c) ? discovery.attributeDetails(scope) : discovery.attributes(scope))),
  );
  routes.add('GET', `${API}/attributes/:attrId`, (c) => answer(c, (scope) => discovery.attributeInfo(scope, c.req.param('attrId')!)));
}

/** The `details` URL parameter (tables 6.25.3.1-1, 6.27.3.1-1): a Boolean. */
function details(c: Context<BrokerEnv>): boolean {
  const value = c.req.query('details');
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw badRequest(`details must be true or false, not ${JSON.stringify(value)}`);
}
