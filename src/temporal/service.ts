import { randomUUID } from 'node:crypto';
import { badRequest, NgsiError, notFound } from '../common/errors.js';
import { isUri, nowIso, requireAttributeName, requireUri } from '../common/syntax.js';
import { parseAttributeMember } from '../entities/parse-attribute.js';
import { parseTypes } from '../entities/parse-entity.js';
import { list, parsePaging, parseSelectors, queryBodyToParams, type PagingLimits, type Params } from '../entities/query-params.js';
import type { RequestScope } from '../entities/service.js';
import { DEFAULT_TENANT } from '../model/entity.js';
import { compilePattern } from '../query/q-ast.js';
import { project } from '../entities/projection.js';
import { parseTypeSelector } from '../query/type-selector.js';
import type { TemporalEntity, TemporalEntityFilter, TemporalInstance, TemporalStore } from '../store/temporal-store.js';
import { parseTemporalParams, type TemporalParams } from './params.js';
import { mergeCut, trimAt, type ContentRange, type Cut } from './paging.js';
import { parseTemporalFilter } from './query-filter.js';
import { TemporalReader } from './reader.js';
import { renderTemporalEntity } from './render.js';

export interface TemporalLimits extends PagingLimits {
  /** Most instances of one attribute in one response (--temporal-max-instances); more gives 206 (6.3.10). */
  maxInstances: number;
}

/** Clause 6.3.10: the time range a 206 answer covers. */
export interface TemporalResult {
  body: Record<string, unknown>;
  /** Set when some attribute's history was cut (206 Partial Content). */
  range?: ContentRange;
}

export interface TemporalQueryResult {
  entities: Record<string, unknown>[];
  range?: ContentRange;
  next?: Record<string, string>;
  /** With count=true (6.3.13): the number of entities in the result, over all pages. */
  count?: number;
}

export interface TemporalServiceOptions {
  /** Whether a tenant exists (e.g. EntityStore.hasTenant); by default: the tenant has history. */
  tenantExists?: (tenant: string) => Promise<boolean>;
}

const ENTITY_MEMBERS = new Set(['id', 'type', 'scope', '@context', 'createdAt', 'modifiedAt', 'deletedAt', '@id', '@type']);

/** Temporal Evolution of Entities: retrieve (5.7.3), query (5.7.4) and writes (5.6.11-5.6.16). */
export type { ContentRange };

export class TemporalService {
  private readonly reader: TemporalReader;

  constructor(
    private readonly store: TemporalStore,
    private readonly limits: TemporalLimits,
    private readonly options: TemporalServiceOptions = {},
  ) {
    this.reader = new TemporalReader(store, limits.maxInstances);
  }

  readonly bodyToParams = temporalBodyToParams;

  /** Retrieve Temporal Evolution of an Entity (5.7.3). */
  async retrieve(scope: RequestScope, id: string, params: Params): Promise<TemporalResult> {
    requireUri(id, 'Entity id');
    const p = parseTemporalParams(params, scope.ctx, { requireTemporalQuery: false });
    await this.checkTenant(scope.tenant);
    const entity = await this.store.getEntity(scope.tenant, id);
    if (!entity) throw notFound(`There is no temporal evolution of entity ${id}`);
    const { attrs, cut } = await this.reader.readAttributes(scope.tenant, entity, p);
    const range = cut && trimAt([attrs], p, cut);
    return { body: render(entity, attrs, scope.ctx, p), range };
  }

  /** Query Temporal Evolution of Entities (5.7.4): GET /temporal/entities and POST /temporal/entityOperations/query. */
  async query(scope: RequestScope, params: Params, selectors?: unknown[]): Promise<TemporalQueryResult> {
    const { ctx } = scope;
    const p = parseTemporalParams(params, ctx, { requireTemporalQuery: true });
    const valuesFilter = parseTemporalFilter(params, ctx);
    const filter: TemporalEntityFilter = {};
    const ids = list(params, 'id');
    if (ids) {
      for (const i of ids) requireUri(i, 'Entity id');
      filter.ids = ids;
    }
    if (params.idPattern !== undefined) {
      const compiled = compilePattern(params.idPattern);
      if (typeof compiled === 'string') throw badRequest(`idPattern ${JSON.stringify(params.idPattern)} is not usable: ${compiled}`);
      filter.idPattern = params.idPattern;
    }
    if (params.type !== undefined && params.type !== '*') filter.types = parseTypeSelector(params.type, (t) => ctx.expand(t));
    const selected = selectors && parseSelectors(selectors, ctx);
    if (selected) {
      if (selected.length > 1) throw new NgsiError('OperationNotSupported', 'Only one entity selector per temporal query is supported');
      const s = selected[0]!;
      if (s.ids) filter.ids = s.ids;
      if (s.idPattern) filter.idPattern = s.idPattern;
      if (s.types) filter.types = s.types;
    }
    if (p.attrs) filter.attrs = p.attrs;
    const typed = params.type !== undefined || selectors?.some((s) => typeof (s as { type?: unknown })?.type === 'string');
    if (!typed && !p.attrs && !valuesFilter.q && !valuesFilter.geo && params.local !== 'true') {
      throw badRequest('Too wide a query: give at least one of type (type=* for all), attrs, q, a geo-query or local=true (clause 5.7.4.4)');
    }
    const paging = parsePaging(params, this.limits);
    await this.checkTenant(scope.tenant);
    const inResult = (e: TemporalEntity) => this.reader.inResult(scope.tenant, e, p, valuesFilter);
    const page = await this.reader.select(scope.tenant, filter, inResult, paging.offset + paging.limit + 1, paging.after);
    const more = page.length > paging.offset + paging.limit;
    const entities = page.slice(paging.offset, paging.offset + paging.limit);
    const read = [];
    let cut: Cut | undefined;
    for (const entity of entities) {
      const r = await this.reader.readAttributes(scope.tenant, entity, p, valuesFilter);
      read.push({ entity, attrs: r.attrs });
      if (r.cut) cut = mergeCut(cut, r.cut, p.query.lastN !== undefined);
    }
    const range = cut && trimAt(read.map((r) => r.attrs), p, cut);
    const result: TemporalQueryResult = {
      // Every selected entity has instances to show; one whose instances all lie past a 206 cut (6.3.10) is left to
      // the next time range, like the instances themselves.
      entities: read.filter((r) => [...r.attrs.values()].some((i) => i.length > 0)).map((r) => render(r.entity, r.attrs, ctx, p)),
      range,
    };
    if (paging.count) result.count = await this.reader.count(scope.tenant, filter, inResult);
    if (more && entities.length > 0) result.next = { limit: String(paging.limit), pageAfter: entities[entities.length - 1]!.id };
    return result;
  }

  /** Create or Update (Upsert) Temporal Evolution of an Entity (5.6.11); true when created. */
  async upsert(scope: RequestScope, body: unknown): Promise<boolean> {
    const parsed = this.parseFragment(scope, body, true);
    const existing = await this.store.getEntity(scope.tenant, parsed.id!);
    const type = mergeTypes(existing?.type, parsed.type);
    await this.store.append(scope.tenant, { id: parsed.id!, type, scope: parsed.scope ?? existing?.scope }, parsed.instances);
    return !existing;
  }

  /** Add Attributes to Temporal Evolution of an Entity (5.6.12). */
  async addAttributes(scope: RequestScope, id: string, body: unknown): Promise<void> {
    requireUri(id, 'Entity id');
    const parsed = this.parseFragment(scope, body, false);
    if (parsed.id !== undefined && parsed.id !== id) throw badRequest(`The body's id ${parsed.id} is not the entity ${id} of the URL`);
    await this.checkTenant(scope.tenant);
    const existing = await this.store.getEntity(scope.tenant, id);
    if (!existing) throw notFound(`There is no temporal evolution of entity ${id}`);
    await this.store.append(scope.tenant, { id, type: mergeTypes(existing.type, parsed.type), scope: parsed.scope ?? existing.scope }, parsed.instances);
  }

  /** Modify Attribute instance (5.6.14): the body is a fragment holding the attribute with one instance. */
  async modifyInstance(scope: RequestScope, id: string, attrId: string, instanceId: string, body: unknown): Promise<void> {
    requireUri(id, 'Entity id');
    requireAttributeName(attrId);
    if (!isUri(instanceId)) throw badRequest(`instanceId ${JSON.stringify(instanceId)} is not a URI (clause 5.6.14.4)`);
    const attr = scope.ctx.expand(attrId);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('The body must be a JSON object: an EntityTemporal fragment with the attribute (clause 5.6.14.3)');
    const b = body as Record<string, unknown>;
    const key = Object.keys(b).find((k) => !ENTITY_MEMBERS.has(k) && scope.ctx.expand(k) === attr);
    let raw: unknown = key !== undefined ? b[key] : b;
    if (key === undefined && b.type === undefined) throw badRequest(`The body has no attribute ${attrId}`);
    if (Array.isArray(raw)) {
      if (raw.length !== 1) throw badRequest(`Attribute ${attrId} must hold exactly one instance (clause 5.6.14.3)`);
      raw = raw[0];
    }
    const inputs = parseAttributeMember(attrId, raw, { ctx: scope.ctx, now: nowIso(), nulls: 'none', simplified: false });
    const input = inputs[0]!;
    if (input.kind !== 'value') throw badRequest(`Attribute ${attrId} must be an attribute instance`);
    await this.checkTenant(scope.tenant);
    if (!(await this.store.getEntity(scope.tenant, id))) throw notFound(`There is no temporal evolution of entity ${id}`);
    if (!(await this.store.updateInstance(scope.tenant, id, attr, instanceId, input.attr))) {
      throw notFound(`Attribute ${attrId} of entity ${id} has no instance ${instanceId}`);
    }
  }

  /** Delete Attribute from Temporal Evolution (5.6.13): the default instance, one dataset, or with deleteAll every one. */
  async deleteAttribute(scope: RequestScope, id: string, attrId: string, target: { datasetId?: string; deleteAll: boolean }): Promise<void> {
    requireUri(id, 'Entity id');
    requireAttributeName(attrId);
    if (target.datasetId !== undefined && !isUri(target.datasetId)) throw badRequest(`datasetId ${JSON.stringify(target.datasetId)} is not a URI`);
    await this.checkTenant(scope.tenant);
    if (!(await this.store.getEntity(scope.tenant, id))) throw notFound(`There is no temporal evolution of entity ${id}`);
    const done = await this.store.deleteAttribute(scope.tenant, id, scope.ctx.expand(attrId), { datasetId: target.datasetId, all: target.deleteAll });
    if (!done) throw notFound(`Entity ${id} has no history of attribute ${attrId}${target.datasetId ? ` with datasetId ${target.datasetId}` : ''}`);
  }

  /** Delete Attribute instance (5.6.15). */
  async deleteInstance(scope: RequestScope, id: string, attrId: string, instanceId: string): Promise<void> {
    requireUri(id, 'Entity id');
    requireAttributeName(attrId);
    if (!isUri(instanceId)) throw badRequest(`instanceId ${JSON.stringify(instanceId)} is not a URI (clause 5.6.15.4)`);
    await this.checkTenant(scope.tenant);
    if (!(await this.store.getEntity(scope.tenant, id))) throw notFound(`There is no temporal evolution of entity ${id}`);
    if (!(await this.store.deleteInstance(scope.tenant, id, scope.ctx.expand(attrId), instanceId))) {
      throw notFound(`Attribute ${attrId} of entity ${id} has no instance ${instanceId}`);
    }
  }

  /** Delete Temporal Evolution of an Entity (5.6.16). */
  async deleteEntity(scope: RequestScope, id: string): Promise<void> {
    requireUri(id, 'Entity id');
    await this.checkTenant(scope.tenant);
    if (!(await this.store.deleteEntity(scope.tenant, id))) throw notFound(`There is no temporal evolution of entity ${id}`);
  }

  private parseFragment(scope: RequestScope, body: unknown, requireId: boolean) {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('The body must be a JSON object: an EntityTemporal (clause 5.2.20)');
    const b = body as Record<string, unknown>;
    const id = b.id ?? b['@id'];
    if (id !== undefined || requireId) {
      if (id === undefined) throw badRequest('The temporal entity has no "id" (clause 5.6.11.4)');
      requireUri(id, 'Entity id');
    }
    const rawType = b.type ?? b['@type'];
    if (requireId && rawType === undefined) throw badRequest('The temporal entity has no "type" (clause 5.2.20)');
    const type = rawType === undefined ? undefined : parseTypes(rawType, scope.ctx);
    let entityScope: string[] | undefined;
    if (b.scope !== undefined) {
      const s = Array.isArray(b.scope) ? b.scope : [b.scope];
      if (!s.every((x) => typeof x === 'string' && /^\/[^/\s]+(\/[^/\s]+)*$/.test(x))) throw badRequest('scope must be a path like "/Madrid/Gardens" or an array of them (clause 4.18)');
      entityScope = s as string[];
    }
    const now = nowIso();
    const instances: Record<string, TemporalInstance[]> = {};
    for (const [name, raw] of Object.entries(b)) {
      if (ENTITY_MEMBERS.has(name)) continue;
      requireAttributeName(name);
      const expanded = scope.ctx.expand(name);
      // Several instances of one attribute are its history: they may all be default instances (no datasetId).
      const elements = Array.isArray(raw) && raw.length > 0 && raw.every((x) => typeof x === 'object' && x !== null && !Array.isArray(x)) ? raw : [raw];
      const target = (instances[expanded] ??= []);
      for (const element of elements) {
        for (const input of parseAttributeMember(name, element, { ctx: scope.ctx, now, nulls: 'none', simplified: false })) {
          if (input.kind !== 'value') throw badRequest(`Attribute ${name} must hold attribute instances`);
          target.push({ instanceId: `urn:ngsi-ld:${randomUUID()}`, attribute: input.attr });
        }
      }
    }
    if (!requireId && Object.keys(instances).length === 0) throw badRequest('The fragment has no attribute instances to add (clause 5.6.12)');
    return { id: id as string | undefined, type, scope: entityScope, instances };
  }

  private async tenantExists(tenant: string): Promise<boolean> {
    if (tenant === DEFAULT_TENANT) return true;
    if (this.options.tenantExists) return this.options.tenantExists(tenant);
    return (await this.store.listEntities(tenant, {}, { limit: 1 })).length > 0;
  }

  private async checkTenant(tenant: string): Promise<void> {
    if (!(await this.tenantExists(tenant))) throw new NgsiError('NonexistentTenant', `Tenant "${tenant}" does not exist (clause 6.3.14)`);
  }
}

function mergeTypes(existing: string[] | undefined, added: string[] | undefined): string[] {
  const out = [...(existing ?? [])];
  for (const t of added ?? []) if (!out.includes(t)) out.push(t);
  return out;
}

/** The temporal representation of one entity, then pick / omit (4.21) over its members. */
function render(entity: TemporalEntity, attrs: Map<string, TemporalInstance[]>, ctx: RequestScope['ctx'], p: TemporalParams): Record<string, unknown> {
  const out = renderTemporalEntity(entity, attrs, ctx, renderOptions(p));
  if (p.pick || p.omit) {
    const deletedAt = out.deletedAt;
    project(out, false, ctx, p.pick, p.omit);
    // a system attribute like createdAt and modifiedAt, which project keeps
    if (deletedAt !== undefined) out.deletedAt = deletedAt;
  }
  return out;
}

function renderOptions(p: TemporalParams) {
  return {
    format: p.format,
    sysAttrs: p.sysAttrs,
    timeproperty: p.query.timeproperty,
    lang: p.lang,
    aggrMethods: p.aggrMethods,
    aggrPeriod: p.aggrPeriod,
    from: p.query.from,
    to: p.query.to,
  };
}

/** The Query body of POST /temporal/entityOperations/query (5.2.23) with its temporalQ (5.2.21) as URL parameters. */
export function temporalBodyToParams(body: unknown): { params: Params; selectors: unknown[] | undefined } {
  const { params, selectors } = queryBodyToParams(body);
  const tq = (body as Record<string, unknown>).temporalQ;
  if (tq !== undefined) {
    if (typeof tq !== 'object' || tq === null || Array.isArray(tq)) throw badRequest('Query member temporalQ must be a TemporalQuery object (clause 5.2.21)');
    for (const [k, v] of Object.entries(tq as Record<string, unknown>)) {
      if (!['timerel', 'timeAt', 'endTimeAt', 'timeproperty', 'lastN'].includes(k)) throw badRequest(`temporalQ member ${k} is not known (clause 5.2.21)`);
      if (typeof v !== 'string' && typeof v !== 'number') throw badRequest(`temporalQ member ${k} must be a string`);
      params[k] = String(v);
    }
  }
  return { params, selectors };
}
