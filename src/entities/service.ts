import { alreadyExists, badRequest, NgsiError, notFound } from '../common/errors.js';
import { isUri, isValidName, nowIso } from '../common/syntax.js';
import type { LdContext } from '../jsonld/types.js';
import { DEFAULT_TENANT, type Entity } from '../model/entity.js';
import { matchesTypes, type TypeSelector } from '../query/type-selector.js';
import type { EntityStore, Mutation } from '../store/entity-store.js';
import * as apply from './apply.js';
import { parseAttributeMember, VALUE_MEMBER_OF } from './parse-attribute.js';
import { parseEntity, type ParsedEntity } from './parse-entity.js';
import { validateAgainstSchema } from './schemas.js';

/** Who is asking: tenant and @context of the request. */
export interface RequestScope {
  tenant: string;
  ctx: LdContext;
}

/**
 * Entity and attribute operations (clauses 5.6.1-5.6.6, 5.6.17-5.6.19, 5.7.1). Parses and validates input,
 * then runs the pure transition from apply.ts inside one atomic store mutation.
 */
export class EntityService {
  constructor(private readonly store: EntityStore) {}

  async create(scope: RequestScope, body: unknown): Promise<string> {
    const now = nowIso();
    const parsed = parseEntity(body, { ctx: scope.ctx, now, mode: 'entity', nulls: 'none', requireId: true });
    const entity = apply.newEntity(parsed, now);
    await this.store.mutate(scope.tenant, entity.id, (current): Mutation<void> => {
      if (current) throw alreadyExists(`Entity ${entity.id} already exists`);
      return { change: { kind: 'put', entity }, result: undefined };
    });
    return entity.id;
  }

  async retrieve(scope: RequestScope, id: string, types?: TypeSelector): Promise<Entity> {
    checkId(id);
    await this.requireTenant(scope.tenant);
    const entity = await this.store.get(scope.tenant, id);
    if (!entity || (types && !matchesTypes(types, entity.type))) throw notFound(describe(id, types));
    return entity;
  }

  async delete(scope: RequestScope, id: string, types?: TypeSelector): Promise<void> {
    await this.change(scope, id, types, () => ({ change: { kind: 'delete' }, result: undefined }));
  }

  async replace(scope: RequestScope, id: string, body: unknown, types?: TypeSelector): Promise<void> {
    const now = nowIso();
    const parsed = parseEntity(body, { ctx: scope.ctx, now, mode: 'entity', nulls: 'none', requireId: false });
    if (parsed.id !== undefined && parsed.id !== id) {
      throw badRequest(`The body's id ${parsed.id} differs from the entity id ${id} in the URL`);
    }
    await this.change(scope, id, types, (current) => put(apply.replacedEntity(current, parsed, now)));
  }

  async merge(scope: RequestScope, id: string, body: unknown, opts: apply.MergeOptions & { simplified: boolean }, types?: TypeSelector) {
    const now = nowIso();
    const parsed = this.fragment(scope, id, body, now, 'member', opts.simplified);
    return this.change(scope, id, types, (current) => putWith(apply.mergeEntity(current, parsed, now, opts)));
  }

  async appendAttributes(scope: RequestScope, id: string, body: unknown, noOverwrite: boolean, types?: TypeSelector) {
    const now = nowIso();
    const parsed = this.fragment(scope, id, body, now, 'none', false);
    return this.change(scope, id, types, (current) => putWith(apply.appendAttributes(current, parsed, now, noOverwrite)));
  }

  async updateAttributes(scope: RequestScope, id: string, body: unknown, types?: TypeSelector) {
    const now = nowIso();
    const parsed = this.fragment(scope, id, body, now, 'attribute', false);
    return this.change(scope, id, types, (current) => putWith(apply.updateAttributes(current, parsed, now)));
  }

  async partialAttributeUpdate(scope: RequestScope, id: string, attrName: string, body: unknown, types?: TypeSelector) {
    const name = this.attributeName(scope, attrName, 'partially updated');
    const now = nowIso();
    await this.change(scope, id, types, (current) => {
      // The fragment may leave out the value member (e.g. only unitCode): parse it over the current instance.
      const target = current.attrs[name]?.find((a) => a.datasetId === datasetIdOf(body));
      if (target && isObject(body) && body.type !== undefined && body.type !== target.type) {
        throw badRequest(`Attribute "${attrName}" is a ${target.type}; a partial update cannot change its type (clause 5.6.4)`);
      }
      const base = target ? { type: target.type, [VALUE_MEMBER_OF[target.type]]: target[VALUE_MEMBER_OF[target.type]] } : {};
      const fragment = isObject(body) ? body : { value: body };
      if (Object.keys(fragment).length === 0) throw badRequest(`The fragment for attribute "${attrName}" is empty`);
      const input = this.singleInstance(scope, attrName, { ...base, ...fragment }, now, 'attribute');
      // NGSI-LD Null as the value deletes the instance (clauses 5.6.4, 5.5.8).
      if (input.kind === 'null') return put(apply.deleteAttribute(current, name, attrName, { datasetId: input.datasetId, deleteAll: false }, now));
      return put(apply.partialAttributeUpdate(current, name, attrName, input.attr, now));
    });
  }

  async replaceAttribute(scope: RequestScope, id: string, attrName: string, body: unknown, types?: TypeSelector) {
    const name = this.attributeName(scope, attrName, 'replaced');
    const now = nowIso();
    const input = this.singleInstance(scope, attrName, body, now, 'none');
    if (input.kind !== 'value') throw badRequest(`The body must be an instance of attribute "${attrName}"`);
    const attr = input.attr;
    await this.change(scope, id, types, (current) => put(apply.replaceAttribute(current, name, attrName, attr, now)));
  }

  async deleteAttribute(scope: RequestScope, id: string, attrName: string, opts: apply.DeleteAttributeOptions, types?: TypeSelector) {
    if (!isValidName(attrName)) throw badRequest(`Attribute name ${JSON.stringify(attrName)} is not valid (clause 4.6.2)`);
    if (opts.datasetId !== undefined && !isUri(opts.datasetId)) throw badRequest(`datasetId ${JSON.stringify(opts.datasetId)} is not a URI`);
    const now = nowIso();
    await this.change(scope, id, types, (current) => {
      if (attrName === 'scope') {
        if (!current.scope) throw notFound(`Entity ${id} has no scope`);
        const { scope: _dropped, ...rest } = current;
        return put({ ...rest, modifiedAt: now });
      }
      return put(apply.deleteAttribute(current, scope.ctx.expand(attrName), attrName, opts, now));
    });
  }

  private fragment(scope: RequestScope, id: string, body: unknown, now: string, nulls: 'none' | 'attribute' | 'member', simplified: boolean): ParsedEntity {
    checkId(id);
    const parsed = parseEntity(body, { ctx: scope.ctx, now, mode: 'fragment', nulls, requireId: false, simplified });
    if (parsed.id !== undefined && parsed.id !== id) {
      throw badRequest(`The body's id ${parsed.id} differs from the entity id ${id} in the URL`);
    }
    return parsed;
  }

  private attributeName(scope: RequestScope, attrName: string, verb: string): string {
    if (!isValidName(attrName)) throw badRequest(`Attribute name ${JSON.stringify(attrName)} is not valid (clause 4.6.2)`);
    if (attrName === 'scope') throw badRequest(`scope cannot be ${verb} through the attribute resource (clauses 5.6.4, 5.6.19)`);
    return scope.ctx.expand(attrName);
  }

  private singleInstance(scope: RequestScope, attrName: string, body: unknown, now: string, nulls: 'none' | 'attribute') {
    if (Array.isArray(body)) throw badRequest(`The body must be one instance of attribute "${attrName}", not an array`);
    validateAgainstSchema('attribute', body, `Attribute "${attrName}"`);
    const [input] = parseAttributeMember(attrName, body, { ctx: scope.ctx, now, nulls, simplified: false });
    if (input === undefined || input.kind === 'simplified') throw badRequest(`The body must be an instance of attribute "${attrName}"`);
    return input;
  }

  /** Runs a transition on an existing entity of the tenant; 404 when tenant, entity or type selection do not match. */
  private async change<R>(
    scope: RequestScope,
    id: string,
    types: TypeSelector | undefined,
    transition: (current: Entity) => Mutation<R>,
  ): Promise<R> {
    checkId(id);
    await this.requireTenant(scope.tenant);
    return this.store.mutate(scope.tenant, id, (current) => {
      if (!current || (types && !matchesTypes(types, current.type))) throw notFound(describe(id, types));
      return transition(current);
    });
  }

  private async requireTenant(tenant: string): Promise<void> {
    if (tenant !== DEFAULT_TENANT && !(await this.store.hasTenant(tenant))) {
      throw new NgsiError('NonexistentTenant', `Tenant "${tenant}" does not exist (clause 6.3.14)`);
    }
  }
}

const put = (entity: Entity): Mutation<void> => ({ change: { kind: 'put', entity }, result: undefined });

function putWith(outcome: { entity: Entity; result: apply.UpdateResult; changed: boolean }): Mutation<apply.UpdateResult> {
  const change = outcome.changed ? { kind: 'put' as const, entity: outcome.entity } : { kind: 'none' as const };
  return { change, result: outcome.result };
}

function checkId(id: string): void {
  if (!isUri(id)) throw badRequest(`Entity id ${JSON.stringify(id)} is not a valid URI`);
}

function describe(id: string, types?: TypeSelector): string {
  return types ? `No entity ${id} of the requested type` : `Entity ${id} not found`;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function datasetIdOf(body: unknown): string | undefined {
  return isObject(body) && typeof body.datasetId === 'string' ? body.datasetId : undefined;
}
