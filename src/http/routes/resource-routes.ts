import type { Context } from 'hono';
import type { Params } from '../../entities/query-params.js';
import type { ContextResolver } from '../../jsonld/resolver.js';
import type { LdContext } from '../../jsonld/types.js';
import { negotiate } from '../negotiation.js';
import { representation } from '../representation.js';
import { readScope, readScopedBody, type BrokerEnv, type HttpScope } from '../request.js';
import { prepareBody, sendCreated, sendNoContent, sendPage, sendPrepared } from '../respond.js';
import type { RouteTable } from '../route-table.js';

/** A page of a Query operation and the parameters of the pages next to it (5.5.9, 6.3.10). */
export interface ResourcePage<T> {
  items: T[];
  count?: number;
  next?: Record<string, string>;
  prev?: Record<string, string>;
}

/** The five operations of a resource kept by the broker under an id (subscriptions, registrations). */
export interface ResourceService<T> {
  create(scope: HttpScope, body: unknown): Promise<string>;
  list(scope: HttpScope, params: Params): Promise<ResourcePage<T>>;
  retrieve(scope: HttpScope, id: string): Promise<T>;
  update(scope: HttpScope, id: string, fragment: unknown): Promise<void>;
  delete(scope: HttpScope, id: string): Promise<void>;
}

export interface ResourceRouteSpec<T> {
  /** The collection's path; a resource is at `${base}/{id}`. */
  base: string;
  service: ResourceService<T>;
  render(item: T, ctx: LdContext, opts: { sysAttrs: boolean }): Record<string, unknown>;
  resolver: ContextResolver;
  maxBodyBytes: number;
}

/**
 * Create (POST base, 201 + Location), Query (GET base), Retrieve, Update (PATCH, 204) and Delete (204) of one kind of
 * resource. Answers are application/json or ld+json: these resources have no GeoJSON representation (406).
 */
export function registerResourceRoutes<T>(routes: RouteTable, spec: ResourceRouteSpec<T>): void {
  const { base, service, render, resolver, maxBodyBytes } = spec;
  const item = `${base}/:id`;
  const id = (c: Context<BrokerEnv>) => c.req.param('id')!;
  // Clause 6.3.11: options=sysAttrs adds createdAt and modifiedAt; other options are InvalidRequest.
  const sysAttrs = (c: Context<BrokerEnv>) => representation(c.req.query(), [], ['sysAttrs']).options.has('sysAttrs');

  routes.add('POST', base, async (c) => {
    const { body, scope } = await readScopedBody(c, resolver, maxBodyBytes);
    return sendCreated(base, await service.create(scope, body));
  });

  routes.add('GET', base, async (c) => {
    const media = negotiate(c.req.header('accept'), false);
    const { scope, linkUrl } = await readScope(c, resolver);
    const opts = { sysAttrs: sysAttrs(c) };
    const page = await service.list(scope, c.req.query());
    return sendPage(c, page.items.map((v) => render(v, scope.ctx, opts)), media, linkUrl, scope.ctx, page);
  });

  routes.add('GET', item, async (c) => {
    const media = negotiate(c.req.header('accept'), false);
    const { scope, linkUrl } = await readScope(c, resolver);
    const opts = { sysAttrs: sysAttrs(c) };
    const found = await service.retrieve(scope, id(c));
    return sendPrepared(c, prepareBody(c, render(found, scope.ctx, opts), media, linkUrl, scope.ctx));
  });

  routes.add('PATCH', item, async (c) => {
    const { body, scope } = await readScopedBody(c, resolver, maxBodyBytes);
    await service.update(scope, id(c), body);
    return sendNoContent(c);
  });

  routes.add('DELETE', item, async (c) => {
    const { scope } = await readScope(c, resolver);
    await service.delete(scope, id(c));
    return sendNoContent(c);
  });
}
