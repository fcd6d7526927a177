import { badRequest, NgsiError } from '../common/errors.js';
import { nowIso } from '../common/syntax.js';
import { DEFAULT_TENANT, type Entity } from '../model/entity.js';
import { compileSelection, type EntityPage, type EntityQuery } from '../query/entity-query.js';
import type { EntityStore, Mutation } from '../store/entity-store.js';
import {
  list,
  parseOrderBy,
  offsetLinks,
  parsePaging,
  parseSelection,
  parseSelectors,
  queryBodyToParams,
  type PagingLimits,
  type Params,
} from './query-params.js';
import type { RequestScope } from './service.js';
import type { Forwarder } from '../forwarding/forwarder.js';

/** A page of Query Entities, with the parameters that lead to the pages next to it (5.5.9). */
export interface QueryResult {
  entities: Entity[];
  count?: number;
  next?: Record<string, string>;
  prev?: Record<string, string>;
}

/** Purge works through matches in slices of this size, so memory stays flat however many entities go. */
const PURGE_SLICE = 500;

/** Query Entities (5.7.2) and Purge Entities (5.6.21) over the store's query plan. */
export class QueryService {
  constructor(
    private readonly store: EntityStore,
    private readonly limits: PagingLimits,
    /** Distributes queries to registered context sources; absent: local only. */
    private readonly forwarder?: Forwarder,
  ) {}

  readonly bodyToParams = queryBodyToParams;

  /** An entity of the tenant, for following relationships (Linked Entity retrieval, 4.5.23). */
  find(tenant: string, id: string): Promise<Entity | undefined> {
    return this.store.get(tenant, id);
  }

  async query(scope: RequestScope, params: Params, selectors?: unknown[], projectedAttrs?: string[]): Promise<QueryResult> {
    const { ctx } = scope;
    // A POST query's entity selectors narrow it when one of them names a type, "*" included (5.7.2.4 a).
    const selected = selectors && parseSelectors(selectors, ctx);
    const typed = selectors?.some((s) => typeof (s as { type?: unknown })?.type === 'string');
    const selection = parseSelection(params, ctx, { requireNarrowing: !typed });
    if (selected) selection.entities = selected;
    if (projectedAttrs) selection.attrs = projectedAttrs;
    const paging = parsePaging(params, this.limits);
    const orderBy = parseOrderBy(params, ctx);
    if (orderBy && (paging.after || paging.before)) throw badRequest('pageAfter/pageBefore page in id order; they cannot be used with orderBy');
    // A tenant known only through its registrations holds nothing locally, but its sources may answer.
    const exists = await this.tenantExists(scope.tenant);
    const nonexistent = () => new NgsiError('NonexistentTenant', `Tenant "${scope.tenant}" does not exist (clause 6.3.14)`);
    if (!exists && !(this.forwarder && scope.forward)) throw nonexistent();
    // One more than asked tells whether a further page exists.
    const query: EntityQuery = {
      selection,
      limit: paging.limit === 0 ? 0 : paging.limit + 1,
      offset: paging.offset,
      after: paging.after,
      before: paging.before,
      count: paging.count,
      orderBy,
    };
    const local = async (q: EntityQuery): Promise<EntityPage> => (exists ? this.store.query(scope.tenant, q) : { entities: [] });
    const forward = scope.forward;
    const distributed =
      this.forwarder && forward
        ? await this.forwarder.query({ tenant: scope.tenant, ctx, fwd: forward, operation: selectors ? 'queryBatch' : 'queryEntity' }, query, params, local)
        : undefined;
    if (!distributed && !exists) throw nonexistent();
    for (const w of distributed?.warnings ?? []) forward!.warn(w);
    const page = distributed ? distributed.value : await local(query);
    const more = page.entities.length > paging.limit;
    const backwards = paging.before !== undefined;
    const entities = more ? (backwards ? page.entities.slice(1) : page.entities.slice(0, paging.limit)) : page.entities;
    const result: QueryResult = { entities, count: page.count };
    if (paging.limit === 0 || entities.length === 0) return result;
    const limit = String(paging.limit);
    if (orderBy) return { ...result, ...offsetLinks(paging, more) };
    // Keyset links: a page boundary is an entity id, so writes elsewhere in the result never shift it.
    const first = entities[0]!.id;
    const last = entities[entities.length - 1]!.id;
    if (backwards) {
      result.next = { limit, pageAfter: last };
      if (more) result.prev = { limit, pageBefore: first };
    } else {
      if (more) result.next = { limit, pageAfter: last };
      if (paging.offset > 0 || paging.after !== undefined) result.prev = { limit, pageBefore: first };
    }
    return result;
  }

  /**
   * Purge Entities (5.6.21): deletes the matching entities, or with drop/keep only some of their attributes. Each
   * entity is one atomic store mutation; the selection is re-checked inside it, so an entity changed meanwhile
   * so as not to match any more is left alone.
   */
  async purge(scope: RequestScope, params: Params): Promise<number> {
    const { ctx } = scope;
    const selection = parseSelection(params, ctx, { requireNarrowing: true });
    const drop = list(params, 'drop')?.map((n) => ctx.expand(n));
    const keep = list(params, 'keep')?.map((n) => ctx.expand(n));
    if (drop && keep) throw badRequest('drop and keep cannot be used together (clause 5.6.21)');
    if (!(await this.tenantExists(scope.tenant))) {
      throw new NgsiError('NonexistentTenant', `Tenant "${scope.tenant}" does not exist (clause 6.3.14)`);
    }
    const stillMatches = compileSelection(selection);
    let purged = 0;
    let after: string | undefined;
    for (;;) {
      const query: EntityQuery = { selection, limit: PURGE_SLICE, offset: 0, after, count: false };
      const { entities } = await this.store.query(scope.tenant, query);
      for (const entity of entities) {
        const now = nowIso();
        purged += await this.store.mutate(scope.tenant, entity.id, (current): Mutation<number> => {
          if (!current || !stillMatches(current)) return { change: { kind: 'none' }, result: 0 };
          if (!drop && !keep) return { change: { kind: 'delete' }, result: 1 };
          const attrs = Object.fromEntries(
            Object.entries(current.attrs).filter(([name]) => (drop ? !drop.includes(name) : keep!.includes(name))),
          );
          return { change: { kind: 'put', entity: { ...current, attrs, modifiedAt: now } }, result: 1 };
        });
      }
      if (entities.length < PURGE_SLICE) return purged;
      after = entities[entities.length - 1]!.id;
    }
  }

  private async tenantExists(tenant: string): Promise<boolean> {
    return tenant === DEFAULT_TENANT || this.store.hasTenant(tenant);
  }
}
