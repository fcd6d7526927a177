import { badRequest, NgsiError } from '../common/errors.js';
import { nowIso } from '../common/syntax.js';
import type { ContextResolver } from '../jsonld/resolver.js';
import type { ContextDefinition, LdContext } from '../jsonld/types.js';
import type { Entity } from '../model/entity.js';
import { compileSelection, type EntityPage, type EntityQuery } from '../query/entity-query.js';
import type { TypeSelector } from '../query/type-selector.js';
import type { ForwardClient, SourceFailure, SourceOutcome, SourceRequest } from './client.js';
import { errorOf, warningOf } from './errors.js';
import { addAuxiliary, mergeEntities } from './merge.js';
import { queryParamsFor, type QueryRequest } from './plan.js';
import { toEntity } from './remote-entity.js';
import type { ContextSource, ForwardContext, SourceLookup } from './types.js';

/** What a consumption request hands to forwarding besides the entity data it found locally. */
export interface ConsumptionRequest {
  tenant: string;
  /** The request's @context. */
  ctx: LdContext;
  fwd: ForwardContext;
}

export interface Distributed<T> {
  value: T;
  /** NGSILD-Warning values (clause 6.3.17) for sources that gave nothing usable. */
  warnings: string[];
}

export interface ForwarderOptions {
  lookup: SourceLookup;
  client: ForwardClient;
  resolver: ContextResolver;
  /** Most entities asked of one source, and kept from the local store, for one distributed query. */
  maxEntities: number;
  /**
   * Longest wait for one source's whole answer, in milliseconds: request, @context resolution and parsing together
   * (--forward-timeout-ms), unless its registration sets management.timeout.
   */
  timeoutMs: number;
}

/** Most distinct @contexts one source answer may use: each may mean a fetch, and a source could name one per entity. */
export const MAX_ANSWER_CONTEXTS = 16;

/**
 * Distributed consumption (clauses 4.3.6, 5.7.1.4, 5.7.2.4): asks the matching context sources, merges their answers
 * with local data, and reports what failed as warnings rather than failing the request.
 */
export class Forwarder {
  constructor(private readonly opts: ForwarderOptions) {}

  get client(): ForwardClient {
    return this.opts.client;
  }

  get lookup(): SourceLookup {
    return this.opts.lookup;
  }

  /** Whether a request surely stays local: local=true, or no source registered for the tenant at all. */
  bypassed(tenant: string, fwd: ForwardContext): boolean {
    return fwd.local || this.opts.lookup.hasNone?.(tenant) === true;
  }

  /**
   * Retrieve Entity (5.7.1.4): local attributes merged with those of inclusive, exclusive and redirect sources
   * (4.5.5), auxiliary data only for attributes nobody else has. Throws ResourceNotFound when nobody has the entity,
   * or the error of 6.3.17 when the only places that could have it failed.
   */
  async retrieve(req: ConsumptionRequest, id: string, local: Entity | undefined, sel: { attrs?: string[]; types?: TypeSelector }): Promise<Distributed<Entity | undefined>> {
    if (req.fwd.local) return { value: local, warnings: [] };
    const sources = await this.opts.lookup.matching(req.tenant, { operation: 'retrieveEntity', ids: [id], types: sel.types, attrs: sel.attrs, via: req.fwd.via });
    if (sources.length === 0) return { value: local, warnings: [] };
    const answers = await Promise.all(sources.map((source) => this.guard(source, () => this.askForEntity(source, req, id, sel))));
    const warnings = answers.flatMap((a) => (a.warning ? [a.warning] : []));
    const primary = [...(local ? [local] : []), ...answers.filter((a) => a.source.mode !== 'auxiliary').flatMap((a) => a.entities)];
    const auxiliary = answers.filter((a) => a.source.mode === 'auxiliary').flatMap((a) => a.entities);
    const entity = addAuxiliary(mergeEntities(primary), auxiliary);
    if (!entity) {
      // 6.3.17: the errors are those of the source holding the data, so an exclusive or redirect one speaks first.
      const failures = answers.filter((a) => a.failure && a.failure.failure !== 'notFound');
      const failed = failures.find((a) => a.source.mode === 'exclusive' || a.source.mode === 'redirect') ?? failures[0];
      if (failed?.failure) throw errorOf(failed.failure.failure, failed.failure.detail);
    }
    return { value: entity, warnings };
  }

  /**
   * Query Entities (5.7.2.4, 4.3.6.7) when sources match: one broad request per source, merged with the local
   * matches by id, the selection applied to the merged entities, then paged in id order in memory (offset or
   * pageAfter/pageBefore). Undefined when no source matches: the caller pages the local store as usual.
   */
  async query(
    req: ConsumptionRequest & { operation: 'queryEntity' | 'queryBatch' },
    query: EntityQuery,
    raw: QueryRequest,
    local: (q: EntityQuery) => Promise<EntityPage>,
  ): Promise<Distributed<EntityPage> | undefined> {
    if (req.fwd.local) return undefined;
    const sources = await this.matchingForQuery(req, query);
    if (sources.length === 0) return undefined;
    if (query.orderBy && query.orderBy.length > 0) throw badRequest('orderBy needs local=true when context sources match the query (clause 5.7.2.4)');
    const max = this.opts.maxEntities;
    const [localPage, ...answers] = await Promise.all([
      local({ selection: query.selection, limit: max, offset: 0, count: false }),
      ...sources.map((source) => this.guard(source, () => this.askForQuery(source, req, query, raw))),
    ]);
    const byId = new Map<string, Entity[]>();
    const aux = new Map<string, Entity[]>();
    for (const e of localPage!.entities) byId.set(e.id, [e]);
    for (const a of answers) {
      const target = a.source.mode === 'auxiliary' ? aux : byId;
      for (const e of a.entities) target.set(e.id, [...(target.get(e.id) ?? []), e]);
    }
    const matches = compileSelection(query.selection);
    const merged: Entity[] = [];
    for (const id of new Set([...byId.keys(), ...aux.keys()])) {
      const e = addAuxiliary(mergeEntities(byId.get(id) ?? []), aux.get(id) ?? []);
      if (e && matches(e)) merged.push(e);
    }
    merged.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
    return { value: pageOf(merged, query), warnings: answers.flatMap((a) => (a.warning ? [a.warning] : [])) };
  }

  private async matchingForQuery(req: ConsumptionRequest & { operation: 'queryEntity' | 'queryBatch' }, query: EntityQuery): Promise<ContextSource[]> {
    const selectors = query.selection.entities?.length ? query.selection.entities : [{}];
    const found = new Map<string, ContextSource>();
    for (const s of selectors) {
      const matched = await this.opts.lookup.matching(req.tenant, {
        operation: req.operation,
        ids: s.ids,
        idPattern: s.idPattern,
        types: s.types,
        attrs: query.selection.attrs,
        via: req.fwd.via,
      });
      for (const m of matched) if (!found.has(m.registrationId)) found.set(m.registrationId, m);
    }
    return [...found.values()];
  }

  /** The @context a source speaks: its registration's jsonldContext, else the one the request came with (forwarded as Link). */
  async sourceContext(source: ContextSource, req: { ctx: LdContext; fwd: ForwardContext }): Promise<LdContext> {
    const url = source.info.find((i) => i.key === 'jsonldContext')?.value;
    if (url) return this.opts.resolver.resolve(url);
    // An inline @context cannot travel as a Link: names then go out as the core context compacts them (full IRIs).
    return req.fwd.link ? req.ctx : this.opts.resolver.resolve();
  }

  /**
   * Sends the request `build` makes in the source's @context; a source whose @context cannot be had is an unreachable
   * source (6.3.17), not a failed request.
   */
  async sendInSourceContext(
    source: ContextSource,
    req: { ctx: LdContext; fwd: ForwardContext; tenant: string },
    build: (sctx: LdContext) => Promise<Omit<SourceRequest, 'link' | 'tenant'>> | Omit<SourceRequest, 'link' | 'tenant'>,
  ): Promise<SourceOutcome> {
    let sctx: LdContext;
    try {
      sctx = await this.sourceContext(source, req);
    } catch (err) {
      if (!(err instanceof NgsiError)) throw err;
      return { ok: false, failure: 'unreachable', detail: `Context source ${source.endpoint} could not be asked: ${err.message}` };
    }
    return this.opts.client.send(source, { ...(await build(sctx)), link: req.fwd.link, tenant: req.tenant }, req.fwd);
  }

  /** GET /entities/{id} of one source, attributes and types narrowed to its registration (4.3.6.1). */
  private async askForEntity(source: ContextSource, req: ConsumptionRequest, id: string, sel: { attrs?: string[] }): Promise<SourceAnswer> {
    const sctx = await this.sourceContext(source, req);
    const query = new URLSearchParams();
    const attrs = narrow(sel.attrs, source.attrs);
    if (attrs) query.set('attrs', attrs.map((a) => sctx.compact(a)).join(','));
    if (source.types) query.set('type', source.types.map((t) => sctx.compact(t)).join(','));
    query.set('options', 'sysAttrs');
    const path = `/entities/${encodeURIComponent(id)}`;
    const outcome = await this.opts.client.send(source, { method: 'GET', path, query, link: req.fwd.link, tenant: req.tenant }, req.fwd);
    return this.entitiesOf(source, outcome, sctx, (body) => [body], id);
  }

  /** GET /entities of one source (plan.ts says with which parameters). */
  private async askForQuery(source: ContextSource, req: ConsumptionRequest, query: EntityQuery, raw: QueryRequest): Promise<SourceAnswer> {
    const sctx = await this.sourceContext(source, req);
    const params = queryParamsFor(source, query.selection, raw, sctx, req.ctx, this.opts.maxEntities);
    const outcome = await this.opts.client.send(source, { method: 'GET', path: '/entities', query: params, link: req.fwd.link, tenant: req.tenant }, req.fwd);
    return this.entitiesOf(source, outcome, sctx, (body) => (Array.isArray(body) ? body : undefined));
  }

  /**
   * One deadline for everything a source's answer takes (the request, then resolving the @contexts it uses): a source
   * cannot hold the request longer by naming slow @contexts. A source past it, or whose @context cannot be had
   * (LdContextNotAvailable), is a failed source, not a failed request.
   */
  private async guard(source: ContextSource, ask: () => Promise<SourceAnswer>): Promise<SourceAnswer> {
    const agent = source.alias ?? hostOf(source.endpoint);
    const timeoutMs = source.timeoutMs ?? this.opts.timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<SourceAnswer>((resolve) => {
      timer = setTimeout(() => {
        const detail = `Context source ${source.endpoint} did not give a usable answer within ${timeoutMs} ms`;
        resolve({ source, entities: [], warning: warningOf('timeout', agent, detail), failure: { failure: 'timeout', detail } });
      }, timeoutMs);
    });
    try {
      return await Promise.race([ask(), expired]);
    } catch (err) {
      if (!(err instanceof NgsiError)) throw err;
      const detail = `Context source ${source.endpoint} could not be asked: ${err.message}`;
      return { source, entities: [], warning: warningOf('unreachable', agent, detail), failure: { failure: 'unreachable', detail } };
    } finally {
      clearTimeout(timer);
    }
  }

  private async entitiesOf(
    source: ContextSource,
    outcome: SourceOutcome,
    sctx: LdContext,
    items: (body: unknown) => unknown[] | undefined,
    expectedId?: string,
  ): Promise<SourceAnswer> {
    const agent = source.alias ?? hostOf(source.endpoint);
    if (!outcome.ok) {
      // 6.3.17: a source without the entity (404) is no abnormal behaviour.
      const warning = outcome.failure === 'notFound' ? undefined : warningOf(outcome.failure, agent, outcome.detail);
      return { source, entities: [], warning, failure: { failure: outcome.failure, detail: outcome.detail } };
    }
    const list = items(outcome.body);
    const invalid = (why: string) => {
      const detail = `Context source ${source.endpoint} answered with an invalid payload: ${why}`;
      return { source, entities: [], warning: warningOf('invalid', agent, detail), failure: { failure: 'invalid' as const, detail } };
    };
    if (!list) return invalid('not an entity array');
    const now = nowIso();
    const entities: Entity[] = [];
    try {
      const contexts = await this.answerContexts(list, outcome.link, sctx);
      for (const [i, item] of list.entries()) {
        const entity = toEntity(item, contexts[i]!, source, now);
        if (expectedId !== undefined && entity.id !== expectedId) return invalid(`entity ${entity.id} instead of ${expectedId}`);
        entities.push(entity);
      }
    } catch (err) {
      if (err instanceof NgsiError) return invalid(err.message);
      throw err;
    }
    return { source, entities };
  }

  /**
   * The @context of each item: an inline @context wins, then the answer's Link header, then the context the request
   * was sent with. The distinct ones are resolved together, at most MAX_ANSWER_CONTEXTS of them (else NgsiError).
   */
  private async answerContexts(items: unknown[], link: string | undefined, sctx: LdContext): Promise<LdContext[]> {
    const fallback: ContextDefinition | undefined = link && link !== sctx.source ? link : undefined;
    const definitions = items.map((item) => {
      const inline = typeof item === 'object' && item !== null ? (item as Record<string, unknown>)['@context'] : undefined;
      return inline !== undefined ? (inline as ContextDefinition) : fallback;
    });
    const distinct = new Map<string, ContextDefinition>();
    for (const d of definitions) if (d !== undefined) distinct.set(JSON.stringify(d), d);
    if (distinct.size > MAX_ANSWER_CONTEXTS) {
      throw badRequest(`the answer uses ${distinct.size} distinct @contexts; at most ${MAX_ANSWER_CONTEXTS} are accepted from one context source`);
    }
    const keys = [...distinct.keys()];
    const resolved = await Promise.all(keys.map((k) => this.opts.resolver.resolve(distinct.get(k))));
    const byKey = new Map(keys.map((k, i) => [k, resolved[i]!]));
    return definitions.map((d) => (d === undefined ? sctx : byKey.get(JSON.stringify(d))!));
  }
}

/** What one source contributed to a consumption request. */
interface SourceAnswer {
  source: ContextSource;
  entities: Entity[];
  warning?: string;
  failure?: { failure: SourceFailure; detail: string };
}

/** The attributes to ask a source for: the request's within the registration's (all of those when the request names none). */
export function narrow(requested: string[] | undefined, registered: string[] | undefined): string[] | undefined {
  if (!registered) return requested;
  if (!requested) return registered;
  const both = requested.filter((a) => registered.includes(a));
  return both.length > 0 ? both : registered;
}

/** store.query's paging over an id-ordered list: after/before, offset, limit (+1 tells the caller a page follows). */
function pageOf(sorted: Entity[], q: EntityQuery): EntityPage {
  let list = sorted;
  if (q.after !== undefined) list = list.filter((e) => e.id > q.after!);
  if (q.before !== undefined) list = list.filter((e) => e.id < q.before!);
  if (q.before !== undefined) list = list.slice(Math.max(0, list.length - q.limit));
  else list = list.slice(q.offset, q.offset + q.limit);
  return { entities: list, count: q.count ? sorted.length : undefined };
}

function hostOf(endpoint: string): string {
  try {
    return new URL(endpoint).host;
  } catch {
    return endpoint;
  }
}
