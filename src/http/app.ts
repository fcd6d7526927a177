import { Hono } from 'hono';
import { NgsiError } from '../common/errors.js';
import type { DiscoveryService } from '../entities/discovery-service.js';
import type { QueryService } from '../entities/query-service.js';
import type { EntityService } from '../entities/service.js';
import type { ContextResolver } from '../jsonld/resolver.js';
import type { Logger } from '../logger.js';
import type { SubscriptionService } from '../subscriptions/service.js';
import type { TemporalService } from '../temporal/service.js';
import { NotAcceptable, PayloadTooLarge } from './negotiation.js';
import { errorResponse, methodNotAllowed, problemResponse } from './problem.js';
import { tenantOf, type BrokerEnv } from './request.js';
import { RouteTable } from './route-table.js';
import { registerDeadLetterRoutes, type DeadLetterRouteDeps } from './routes/dead-letters.js';
import { registerDiscoveryRoutes } from './routes/discovery.js';
import { registerEntityOperationRoutes } from './routes/entity-operations.js';
import { registerEntityQueryRoutes } from './routes/entity-query.js';
import { registerEntityRoutes } from './routes/entities.js';
import { CSOURCE_SUBSCRIPTIONS_PATH, registerSubscriptionRoutes } from './routes/subscriptions.js';
import { registerCSourceRegistrationRoutes } from './routes/csource-registrations.js';
import type { RegistrationService } from '../registrations/service.js';
import { registerSystemRoutes, type SystemInfo } from './routes/system.js';
import { registerTemporalRoutes } from './routes/temporal.js';

export interface AppDeps {
  entities: EntityService;
  queries: QueryService;
  discovery: DiscoveryService;
  subscriptions: SubscriptionService;
  resolver: ContextResolver;
  logger: Logger;
  maxBodyBytes: number;
  /** Most elements in one batch request (default 10000, the --max-batch-entities default). */
  maxBatchEntities?: number;
  system: SystemInfo;
  /** The dead letter extension (/ngsi-ld/ex/v1/deadLetters); absent, those routes are not served. */
  deadLetters?: DeadLetterRouteDeps;
  /** Temporal Evolution of Entities (/ngsi-ld/v1/temporal/..., clauses 6.18-6.24); absent, those routes are not served. */
  temporal?: TemporalService;
  /** Context Source Registrations (/ngsi-ld/v1/csourceRegistrations, clauses 6.8-6.9); absent, not served. */
  registrations?: RegistrationService;
  /** CSource subscriptions (/ngsi-ld/v1/csourceSubscriptions, clauses 6.12-6.13); absent, not served. */
  csourceSubscriptions?: SubscriptionService;
}

/** The NGSI-LD HTTP binding (clause 6): middleware for tenant, logging and errors, then the resources. */
export function createApp(deps: AppDeps): Hono<BrokerEnv> {
  const { logger } = deps;
  const app = new Hono<BrokerEnv>({ strict: false });

  app.use(async (c, next) => {
    const logging = logger.isLevelEnabled('info');
    const started = logging ? performance.now() : 0;
    const tenantHeader = c.req.header('ngsild-tenant') ?? c.req.header('fiware-service');
    c.set('tenant', tenantOf(tenantHeader));
    await next();
    // Clause 6.3.14: a tenant named in the request is named in the response.
    if (tenantHeader) c.res.headers.set('NGSILD-Tenant', tenantHeader);
    if (logging) {
      logger.info(
        { method: c.req.method, url: c.req.url, status: c.res.status, ms: Math.round((performance.now() - started) * 100) / 100, tenant: c.get('tenant') },
        'request',
      );
    }
  });

  app.onError((err, c) => {
    const headers: Record<string, string> = {};
    const tenant = c.req.header('ngsild-tenant') ?? c.req.header('fiware-service');
    if (tenant) headers['NGSILD-Tenant'] = tenant;
    if (err instanceof NotAcceptable) {
      // Clause 6.3.4: 406 with the list of representations the resource has.
      return problemResponse(
        { type: 'https://uri.etsi.org/ngsi-ld/errors/InvalidRequest', title: 'Not acceptable', status: 406, detail: err.message, accept: err.available },
        headers,
      );
    }
    if (err instanceof PayloadTooLarge) {
      return problemResponse({ type: 'https://uri.etsi.org/ngsi-ld/errors/InvalidRequest', title: 'Payload too large', status: 413, detail: err.message }, headers);
    }
    return errorResponse(err, headers, (e) => logger.error({ err: e, method: c.req.method, url: c.req.url }, 'request failed'));
  });

  const routes = new RouteTable(app);
  registerEntityRoutes(routes, { service: deps.entities, resolver: deps.resolver, maxBodyBytes: deps.maxBodyBytes });
  registerEntityOperationRoutes(routes, { service: deps.entities, resolver: deps.resolver, logger, maxBodyBytes: deps.maxBodyBytes, maxBatchEntities: deps.maxBatchEntities ?? 10_000 });
  registerEntityQueryRoutes(routes, { queries: deps.queries, resolver: deps.resolver, maxBodyBytes: deps.maxBodyBytes });
  registerDiscoveryRoutes(routes, { discovery: deps.discovery, resolver: deps.resolver });
  registerSubscriptionRoutes(routes, { service: deps.subscriptions, resolver: deps.resolver, maxBodyBytes: deps.maxBodyBytes });
  if (deps.deadLetters) registerDeadLetterRoutes(routes, deps.deadLetters);
  if (deps.registrations) registerCSourceRegistrationRoutes(routes, { service: deps.registrations, resolver: deps.resolver, maxBodyBytes: deps.maxBodyBytes });
  if (deps.csourceSubscriptions) registerSubscriptionRoutes(routes, { base: CSOURCE_SUBSCRIPTIONS_PATH, service: deps.csourceSubscriptions, resolver: deps.resolver, maxBodyBytes: deps.maxBodyBytes });
  if (deps.temporal) registerTemporalRoutes(routes, { service: deps.temporal, resolver: deps.resolver, maxBodyBytes: deps.maxBodyBytes });
  registerSystemRoutes(routes, deps.system);
  app.notFound((c) => {
    const path = new URL(c.req.url).pathname;
    const allow = routes.allowedMethods(path);
    if (allow) return methodNotAllowed(c.req.method, path, allow, {});
    return problemResponse(new NgsiError('ResourceNotFound', `There is no resource ${c.req.method} ${path}`).toProblem());
  });
  return app;
}
