import { alreadyExists, badRequest, NgsiError, notFound, type ProblemDetails } from '../common/errors.js';
import { isUri, nowIso, requireAttributeName, requireUri } from '../common/syntax.js';
import type { LdContext } from '../jsonld/types.js';
import { ATTRIBUTE_TYPES, DEFAULT_TENANT, type Entity } from '../model/entity.js';
import { matchesTypes, type TypeSelector } from '../query/type-selector.js';
import type { EntityStore, Mutation } from '../store/entity-store.js';
import * as apply from './apply.js';
import { parseAttributeMember, VALUE_MEMBER_OF } from './parse-attribute.js';
import { parseEntity, type ParsedEntity } from './parse-entity.js';
import { validateAgainstSchema } from './schemas.js';
import type { BatchEntityError, BatchItem, BatchOperation, BatchOutcome, UpsertOutcome } from './batch-types.js';
import type { Forwarder } from '../forwarding/forwarder.js';
import {
  APPEND_ATTRIBUTES,
  CREATE_ENTITY,
  distributeFragment,
  forwardAttribute,
  forwardFragment,
  MERGE_ENTITY,
  REPLACE_ENTITY,
  typeSelectorOf,
  UPDATE_ATTRIBUTES,
  type FragmentOperation,
  type ProvisionRequest,
} from '../forwarding/provision.js';
import type { ForwardContext } from '../forwarding/types.js';
import { forwardAttributeRemoval, forwardEntityRemoval } from '../forwarding/removal.js';
import { errorFromParts, provisionEntity, removalQuery, settleRemoval, tolerateMissing } from '../forwarding/outcome.js';

export type { BatchEntityError, BatchItem, BatchOperation, BatchOutcome, UpsertOutcome } from './batch-types.js';

/** Who is asking: tenant and @context of the request. */
export interface RequestScope {
  tenant: string;
  ctx: LdContext;
  /** The time the operation happens at; a batch passes one for all its entities (clause 5.5.11.0). */
  now?: string;
  /** Set when the operation may be distributed to context sources (clause 4.3.6); absent: local only. */
  forward?: ForwardContext;
}

/**
 * Entity and attribute operations (clauses 5.6.1-5.6.6, 5.6.17-5.6.19, 5.7.1). Parses and validates input,
 * then runs the pure transition from apply.ts inside one atomic store mutation.
 */
export class EntityService {
  constructor(
    private readonly store: EntityStore,
    /** Distributes operations to registered context sources; absent: everything is local. */
    private readonly forwarder?: Forwarder,
  ) {}

  /**
   * Create Entity (5.6.1). With registrations in play (5.6.1.4) the attributes an exclusive or redirect registration
   * owns are created at its source, the rest here (nothing here when the sources own every attribute); the parts left
   * undone come back as `errors` (the 207 of 6.4.3.1).
   */
  async create(scope: RequestScope, body: unknown): Promise<{ id: string; errors: BatchEntityError[] }> {
    const now = scope.now ?? nowIso();
    const parsed = parseEntity(body, { ctx: scope.ctx, now, mode: 'entity', nulls: 'none', requireId: true });
    const local = async (p: ParsedEntity) => {
      const entity = apply.newEntity(p, now);
      await this.store.mutate(scope.tenant, entity.id, (current): Mutation<void> => {
        if (current) throw alreadyExists(`Entity ${entity.id} already exists`);
        return { change: { kind: 'put', entity }, result: undefined };
      });
      return true;
    };
    const id = parsed.id!;
    const errors =
      this.forwarder && scope.forward && isObject(body)
        ? await provisionEntity(this.forwarder, { ...scope, fwd: scope.forward }, id, CREATE_ENTITY, body, parsed, local)
        : undefined;
    if (!errors) await local(parsed);
    return { id, errors: errors ?? [] };
  }

  /**
   * Create or update one entity (clause 5.6.8): created when absent, otherwise replaced whole (mode 'replace',
   * clause 5.6.18) or updated attribute by attribute (mode 'update', clause 5.6.2). The body is a whole entity
   * (clause 5.2.4) in both modes. One atomic store mutation, so the tenant is created by it as by create.
   */
  async upsert(scope: RequestScope, body: unknown, mode: 'replace' | 'update'): Promise<UpsertOutcome> {
    const now = scope.now ?? nowIso();
    const whole = parseEntity(body, { ctx: scope.ctx, now, mode: 'entity', nulls: 'none', requireId: true });
    // Attributes a context source owns are sent there as an update of that entity (4.3.6.3); the rest is upserted here.
    const remote =
      this.forwarder && scope.forward && isObject(body)
        ? await forwardFragment(this.forwarder, { ...scope, fwd: scope.forward }, whole.id!, UPDATE_ATTRIBUTES, body, whole.names, whole.type)
        : undefined;
    const parsed = remote ? { ...whole, attrs: new Map([...whole.attrs].filter(([name]) => !remote.owned.has(name))) } : whole;
    const fresh = apply.newEntity(parsed, now);
    const outcome = await this.store.mutate(scope.tenant, fresh.id, (current): Mutation<UpsertOutcome> => {
      if (!current) return { change: { kind: 'put', entity: fresh }, result: { id: fresh.id, created: true } };
      if (mode === 'replace') return { change: { kind: 'put', entity: apply.replacedEntity(current, parsed, now) }, result: { id: fresh.id, created: false } };
      const { change, result } = putWith(apply.updateAttributes(current, parsed, now));
      return { change, result: { id: fresh.id, created: false, result } };
    });
    if (!remote || remote.result.notUpdated.length === 0) return outcome;
    const here = outcome.result ?? { updated: [], notUpdated: [] };
    return { ...outcome, result: { updated: [...remote.result.updated, ...here.updated], notUpdated: [...remote.result.notUpdated, ...here.notUpdated] } };
  }

  async retrieve(scope: RequestScope, id: string, types?: TypeSelector, attrs?: string[]): Promise<Entity> {
    requireUri(id, 'Entity id');
    if (this.forwarder && scope.forward && !this.forwarder.bypassed(scope.tenant, scope.forward)) {
      const stored = await this.store.get(scope.tenant, id);
      const local = stored && (!types || matchesTypes(types, stored.type)) ? stored : undefined;
      const { value, warnings } = await this.forwarder.retrieve({ tenant: scope.tenant, ctx: scope.ctx, fwd: scope.forward }, id, local, { attrs, types });
      for (const w of warnings) scope.forward.warn(w);
      if (value) return value;
      await this.requireTenant(scope.tenant);
      throw notFound(describe(id, types));
    }
    if (scope.tenant !== DEFAULT_TENANT) await this.requireTenant(scope.tenant);
    const entity = await this.store.get(scope.tenant, id);
    if (!entity || (types && !matchesTypes(types, entity.type))) throw notFound(describe(id, types));
    return entity;
  }

  /** The entity if the tenant holds it; for following relationships, where a missing target is no error. */
  async find(tenant: string, id: string): Promise<Entity | undefined> {
    return isUri(id) ? this.store.get(tenant, id) : undefined;
  }

  /**
   * Delete Entity (5.6.6): also at the matching context sources (5.6.6.4), locally as today. What failed at sources
   * beside a deletion that succeeded elsewhere is returned (the 207 BatchOperationResult of 6.5.3.2); `partial`
   * 'error' makes it the error instead (batch elements).
   */
  async delete(scope: RequestScope, id: string, types?: TypeSelector, partial: 'report' | 'error' = 'report'): Promise<BatchEntityError[]> {
    requireUri(id, 'Entity id');
    const local = () => this.change(scope, id, types, (): Mutation<void> => ({ change: { kind: 'delete' }, result: undefined }));
    const remote = this.forwarder && scope.forward ? await forwardEntityRemoval(this.forwarder, await this.provisionOf(scope, scope.forward, id, types), id, types) : undefined;
    if (!remote) {
      await local();
      return [];
    }
    return settleRemoval(id, remote, await tolerateMissing(local), `Entity ${id}`, describe(id, types), partial);
  }

  /**
   * Replace Entity (5.6.18). With registrations in play (5.6.18.4) owned attributes replace the entity at their
   * source, the rest replaces it here if it is held here; undone parts come back as `errors` (6.5.3.3).
   */
  async replace(scope: RequestScope, id: string, body: unknown, types?: TypeSelector): Promise<BatchEntityError[]> {
    const now = scope.now ?? nowIso();
    const parsed = parseEntity(body, { ctx: scope.ctx, now, mode: 'entity', nulls: 'none', requireId: false });
    if (parsed.id !== undefined && parsed.id !== id) {
      throw badRequest(`The body's id ${parsed.id} differs from the entity id ${id} in the URL`);
    }
    const local = (p: ParsedEntity) => this.change(scope, id, types, (current) => put(apply.replacedEntity(current, p, now)));
    requireUri(id, 'Entity id');
    const errors =
      this.forwarder && scope.forward && isObject(body)
        ? await provisionEntity(this.forwarder, { ...scope, fwd: scope.forward }, id, REPLACE_ENTITY, body, parsed, (p) => tolerateMissing(() => local(p)))
        : undefined;
    if (!errors) await local(parsed);
    return errors ?? [];
  }

  async merge(scope: RequestScope, id: string, body: unknown, opts: apply.MergeOptions & { simplified: boolean }, types?: TypeSelector) {
    const now = scope.now ?? nowIso();
    const parsed = this.fragment(scope, id, body, now, 'member', opts.simplified);
    return this.distributed(scope, id, body, parsed, MERGE_ENTITY, types, (rest) =>
      this.change(scope, id, types, (current) => putWith(apply.mergeEntity(current, rest, now, opts))),
    );
  }

  /** `forwardAs`: how owned attributes reach their source; batch update elements go as Update Attributes, as IoT Agents serve them. */
  async appendAttributes(scope: RequestScope, id: string, body: unknown, noOverwrite: boolean, types?: TypeSelector, forwardAs: FragmentOperation = APPEND_ATTRIBUTES) {
    const now = scope.now ?? nowIso();
    const parsed = this.fragment(scope, id, body, now, 'none', false);
    return this.distributed(scope, id, body, parsed, forwardAs, types, (rest) =>
      this.change(scope, id, types, (current) => putWith(apply.appendAttributes(current, rest, now, noOverwrite))),
    );
  }

  async updateAttributes(scope: RequestScope, id: string, body: unknown, types?: TypeSelector) {
    const now = scope.now ?? nowIso();
    const parsed = this.fragment(scope, id, body, now, 'attribute', false);
    return this.distributed(scope, id, body, parsed, UPDATE_ATTRIBUTES, types, (rest) =>
      this.change(scope, id, types, (current) => putWith(apply.updateAttributes(current, rest, now))),
    );
  }

  async partialAttributeUpdate(scope: RequestScope, id: string, attrName: string, body: unknown, types?: TypeSelector) {
    const name = this.attributeName(scope, attrName, 'partially updated');
    const now = scope.now ?? nowIso();
    const fragment = isObject(body) ? body : { value: body };
    // Checked before forwarding too: a source owning the attribute must not get what this broker would refuse (5.5.4).
    if (Object.keys(fragment).length === 0) throw badRequest(`The fragment for attribute "${attrName}" is empty`);
    if (fragment.type !== undefined && !(ATTRIBUTE_TYPES as readonly unknown[]).includes(fragment.type)) {
      throw badRequest(`Attribute "${attrName}" has an unknown type ${JSON.stringify(fragment.type)} (clause 4.5)`);
    }
    if (this.forwarder && scope.forward && (await forwardAttribute(this.forwarder, await this.provisionOf(scope, scope.forward, id, types), id, name, 'PATCH', body))) return;
    await this.change(scope, id, types, (current) => {
      // The fragment may leave out the value member (e.g. only unitCode): parse it over the current instance.
      const target = current.attrs[name]?.find((a) => a.datasetId === datasetIdOf(body));
      if (target && isObject(body) && body.type !== undefined && body.type !== target.type) {
        throw badRequest(`Attribute "${attrName}" is a ${target.type}; a partial update cannot change its type (clause 5.6.4)`);
      }
      const base = target ? { type: target.type, [VALUE_MEMBER_OF[target.type]]: target[VALUE_MEMBER_OF[target.type]] } : {};
      const input = this.singleInstance(scope, attrName, { ...base, ...fragment }, now, 'attribute');
      // NGSI-LD Null as the value deletes the instance (clauses 5.6.4, 5.5.8).
      if (input.kind === 'null') return put(apply.deleteAttribute(current, name, attrName, { datasetId: input.datasetId, deleteAll: false }, now));
      return put(apply.partialAttributeUpdate(current, name, attrName, input.attr, now));
    });
  }

  async replaceAttribute(scope: RequestScope, id: string, attrName: string, body: unknown, types?: TypeSelector) {
    const name = this.attributeName(scope, attrName, 'replaced');
    const now = scope.now ?? nowIso();
    const input = this.singleInstance(scope, attrName, body, now, 'none');
    if (input.kind !== 'value') throw badRequest(`The body must be an instance of attribute "${attrName}"`);
    const attr = input.attr;
    if (this.forwarder && scope.forward && (await forwardAttribute(this.forwarder, await this.provisionOf(scope, scope.forward, id, types), id, name, 'PUT', body))) return;
    await this.change(scope, id, types, (current) => put(apply.replaceAttribute(current, name, attrName, attr, now)));
  }

  /** Delete Attribute (5.6.5); like delete, returns what failed at sources beside a success elsewhere (6.7.3.2). */
  async deleteAttribute(scope: RequestScope, id: string, attrName: string, opts: apply.DeleteAttributeOptions, types?: TypeSelector): Promise<BatchEntityError[]> {
    requireAttributeName(attrName);
    if (opts.datasetId !== undefined && !isUri(opts.datasetId)) throw badRequest(`datasetId ${JSON.stringify(opts.datasetId)} is not a URI`);
    const now = scope.now ?? nowIso();
    const local = () => this.change(scope, id, types, (current) => {
      if (attrName === 'scope') {
        if (!current.scope) throw notFound(`Entity ${id} has no scope`);
        const { scope: _dropped, ...rest } = current;
        return put({ ...rest, modifiedAt: now });
      }
      return put(apply.deleteAttribute(current, scope.ctx.expand(attrName), attrName, opts, now));
    });
    requireUri(id, 'Entity id');
    const remote =
      this.forwarder && scope.forward && attrName !== 'scope'
        ? await forwardAttributeRemoval(this.forwarder, await this.provisionOf(scope, scope.forward, id, types), id, scope.ctx.expand(attrName), removalQuery(opts))
        : undefined;
    if (!remote) {
      await local();
      return [];
    }
    // 5.6.5.4: an attribute an exclusive or redirect registration owns is not held here: no further processing.
    const here = remote.owned ? false : await tolerateMissing(local);
    return settleRemoval(id, remote, here, `Attribute ${attrName} of entity ${id}`, `Entity ${id} has no attribute ${attrName} here or at any context source`, 'report');
  }

  /**
   * A batch entity operation (clauses 5.6.7-5.6.10, 5.6.20, 5.5.11). Every element is processed on its own, as
   * if it had arrived in a request of its own: its own atomic store mutation, its error in `errors` without
   * stopping the others. Elements naming the same entity run one after the other in array order; different
   * entities run concurrently (the embedded store then commits them together). All share one timestamp.
   *
   * For create, upsert, update and merge an element is an entity with the @context the HTTP layer resolved
   * for it (or the error that resolution gave); for delete it is an entity id.
   */
  async batch(tenant: string, items: BatchItem[], op: BatchOperation, onUnexpected?: (err: unknown) => void, forward?: ForwardContext): Promise<BatchOutcome> {
    // Only create and upsert write into a tenant that does not exist yet (its first write creates it).
    if (op.kind !== 'create' && op.kind !== 'upsert') await this.requireTenant(tenant);
    const now = nowIso();
    const outcomes: Array<{ id: string; created?: boolean; error?: ProblemDetails }> = new Array(items.length);
    const chains = new Map<string, Promise<void>>();
    const loose: Promise<void>[] = [];
    items.forEach((item, index) => {
      const rawId = op.kind === 'delete' ? item.body : idOf(item.body);
      const id = typeof rawId === 'string' ? rawId : '';
      const step = async (): Promise<void> => {
        try {
          if ('error' in item) throw item.error;
          if (id === '') throw badRequest(`The entity at index ${index} of the batch has no "id" string; an entity needs an id that is a URI (clause 4.5.1)`);
          const created = await this.batchElement({ tenant, ctx: item.ctx, now, forward }, id, item.body, op);
          outcomes[index] = { id, created };
        } catch (err) {
          if (!(err instanceof NgsiError)) onUnexpected?.(err);
          const error = err instanceof NgsiError ? err : new NgsiError('InternalError', `The broker failed to process entity ${id || `at index ${index}`}; the failure has been logged`);
          outcomes[index] = { id, error: error.toProblem() };
        }
      };
      if (id === '' || 'error' in item) {
        loose.push(step());
        return;
      }
      const previous = chains.get(id);
      chains.set(id, previous ? previous.then(step) : step());
    });
    await Promise.all([...loose, ...chains.values()]);

    const success = new Set<string>();
    const created = new Set<string>();
    const errors: BatchEntityError[] = [];
    for (const o of outcomes) {
      if (o.error) errors.push({ entityId: o.id, error: o.error });
      else {
        success.add(o.id);
        if (o.created) created.add(o.id);
      }
    }
    return { success: [...success], errors, created: [...created] };
  }

  /** One element of a batch; true when it created the entity. */
  private async batchElement(scope: RequestScope, id: string, body: unknown, op: BatchOperation): Promise<boolean> {
    switch (op.kind) {
      case 'create': {
        const { errors } = await this.create(scope, body);
        if (errors.length > 0) throw errorFromParts(errors, `Entity ${id} was created only in part: ${errors.map((e) => e.error.detail).join('; ')}`);
        return true;
      }
      case 'upsert': {
        const outcome = await this.upsert(scope, body, op.mode);
        // Update Attributes may leave parts undone (e.g. a scope the entity lacks, clause 5.6.2).
        if (outcome.result) throwIfNotUpdated(id, outcome.result, 'BadRequestData');
        return outcome.created;
      }
      case 'update':
        // Batch Entity Update runs Append Attributes (clause 5.6.9.4); attributes kept by noOverwrite make the
        // entity an error (TP/NGSI-LD/CI/Prov/BE/005_02), the others are written.
        throwIfNotUpdated(id, await this.appendAttributes(scope, id, body, op.noOverwrite, undefined, UPDATE_ATTRIBUTES), 'AlreadyExists');
        return false;
      case 'merge':
        await this.merge(scope, id, body, { simplified: false });
        return false;
      case 'delete':
        await this.delete(scope, id, undefined, 'error');
        return false;
    }
  }

  /** Update, Append and Merge with registrations in play: owned attributes go to their sources (src/forwarding/provision.ts). */
  private async distributed(
    scope: RequestScope,
    id: string,
    body: unknown,
    parsed: ParsedEntity,
    operation: FragmentOperation,
    types: TypeSelector | undefined,
    local: (rest: ParsedEntity) => Promise<apply.UpdateResult>,
  ): Promise<apply.UpdateResult & { distributed?: true }> {
    if (!this.forwarder || !scope.forward || !isObject(body)) return local(parsed);
    return distributeFragment(this.forwarder, await this.provisionOf(scope, scope.forward, id, types, parsed.type), id, operation, body, parsed, local);
  }

  /** A distributed write's request with what is known here of the entity's types: registrations match by type (5.12). */
  private async provisionOf(scope: RequestScope, fwd: ForwardContext, id: string, types?: TypeSelector, bodyTypes?: string[]): Promise<ProvisionRequest> {
    const stored = types || this.forwarder?.bypassed(scope.tenant, fwd) ? undefined : await this.store.get(scope.tenant, id);
    return { ...scope, fwd, entityTypes: types ?? typeSelectorOf([...(stored?.type ?? []), ...(bodyTypes ?? [])]) };
  }

  private fragment(scope: RequestScope, id: string, body: unknown, now: string, nulls: 'none' | 'attribute' | 'member', simplified: boolean): ParsedEntity {
    requireUri(id, 'Entity id');
    const parsed = parseEntity(body, { ctx: scope.ctx, now, mode: 'fragment', nulls, requireId: false, simplified });
    if (parsed.id !== undefined && parsed.id !== id) {
      throw badRequest(`The body's id ${parsed.id} differs from the entity id ${id} in the URL`);
    }
    return parsed;
  }

  private attributeName(scope: RequestScope, attrName: string, verb: string): string {
    requireAttributeName(attrName);
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
    requireUri(id, 'Entity id');
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

function describe(id: string, types?: TypeSelector): string {
  return types ? `No entity ${id} of the requested type` : `Entity ${id} not found`;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function idOf(body: unknown): unknown {
  return isObject(body) ? (body.id ?? body['@id']) : undefined;
}

/** An entity whose UpdateResult lists attributes left undone is an error of the batch, naming what was and was not done. */
function throwIfNotUpdated(id: string, result: apply.UpdateResult, kind: 'AlreadyExists' | 'BadRequestData'): void {
  if (result.notUpdated.length === 0) return;
  const names = result.notUpdated.map((n) => `${n.attributeName} (${n.reason})`).join('; ');
  const done = result.updated.length > 0 ? `; these were updated: ${result.updated.join(', ')}` : '; nothing was changed';
  throw new NgsiError(kind, `Entity ${id}: not updated: ${names}${done}`, { updated: result.updated, notUpdated: result.notUpdated });
}

function datasetIdOf(body: unknown): string | undefined {
  return isObject(body) && typeof body.datasetId === 'string' ? body.datasetId : undefined;
}
