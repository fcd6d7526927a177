import type { ContextResolver } from '../../jsonld/resolver.js';
import { renderRegistration } from '../../registrations/render.js';
import type { RegistrationService } from '../../registrations/service.js';
import type { RouteTable } from '../route-table.js';
import { registerResourceRoutes } from './resource-routes.js';

export interface RegistrationRouteDeps {
  service: RegistrationService;
  resolver: ContextResolver;
  maxBodyBytes: number;
}

/** The Context Source Registration resources, clauses 6.8 and 6.9. */
export function registerCSourceRegistrationRoutes(routes: RouteTable, deps: RegistrationRouteDeps): void {
  registerResourceRoutes(routes, {
    base: '/ngsi-ld/v1/csourceRegistrations',
    service: deps.service,
    resolver: deps.resolver,
    maxBodyBytes: deps.maxBodyBytes,
    render: (reg, ctx, { sysAttrs }) => renderRegistration(reg, reg.stats, ctx, { sysAttrs }),
  });
}
