import { randomUUID } from 'node:crypto';
import { NgsiError, notFound } from '../common/errors.js';
import { ATTRIBUTE_TYPES, DEFAULT_TENANT, type AttributeType, type Entity } from '../model/entity.js';
import type { EntitySelection } from '../query/entity-query.js';
import type { EntityStore } from '../store/entity-store.js';
import type { RegisteredNames, RegisteredNamesOf } from '../forwarding/registered-names.js';
import type { RequestScope } from './service.js';

/** EntityTypeList (5.2.24, 4.5.10): the entity types of the tenant. */
export interface EntityTypeList {
  id: string;
  type: 'EntityTypeList';
  typeList: string[];
}

/** EntityType (5.2.25, 4.5.11): one element of the detailed entity type list. */
export interface EntityTypeDetail {
  id: string;
  type: 'EntityType';
  typeName: string;
  attributeNames: string[];
}

/** Attribute (5.2.28) as EntityTypeInfo carries it: only id, type, attributeName and attributeTypes. */
export interface TypeAttributeDetail {
  id: string;
  type: 'Attribute';
  attributeName: string;
  attributeTypes: AttributeType[];
}

/** EntityTypeInfo (5.2.26, 4.5.12). */
export interface EntityTypeInfo {
  id: string;
  type: 'EntityTypeInfo';
  typeName: string;
  entityCount: number;
  attributeDetails: TypeAttributeDetail[];
}

/** AttributeList (5.2.27, 4.5.13). */
export interface AttributeList {
  id: string;
  type: 'AttributeList';
  attributeList: string[];
}

/** Attribute (5.2.28) restricted to id, type, attributeName and typeNames: the detailed attribute list (5.7.9, 4.5.14). */
export interface AttributeDetail {
  id: string;
  type: 'Attribute';
  attributeName: string;
  typeNames: string[];
}

/** Attribute (5.2.28) with every member: Retrieve Available Attribute Information (5.7.10, 4.5.15). */
export interface AttributeInfo {
  id: string;
  type: 'Attribute';
  attributeName: string;
  attributeCount: number;
  attributeTypes: AttributeType[];
  typeNames: string[];
}

/** Entities are read in slices of this size, so memory stays flat however many a type or attribute has. */
const SCAN_SLICE = 500;

/**
 * Discovery (5.7.5-5.7.10): which entity types and attributes the entities of a tenant have. Names come out
 * compacted with the request's @context (short name when the @context has one, else the full IRI); `id` members
 * are full IRIs, the lists get a fresh `urn:ngsi-ld:EntityTypeList:<uuid>` / `urn:ngsi-ld:AttributeList:<uuid>`
 * as Orion-LD and Stellio give them. The name lists come from the store's indexes; counts and the details that
 * need the entities themselves are gathered by paging through a store query.
 */
export class DiscoveryService {
  constructor(
    private readonly store: EntityStore,
    /** Types and attributes the tenant's registrations declare, added to the lists unless local=true (5.7.11); absent: local only. */
    private readonly registered?: RegisteredNamesOf,
  ) {}

  /** Retrieve Available Entity Types (5.7.5). */
  async entityTypes(scope: RequestScope): Promise<EntityTypeList> {
    await this.checkTenant(scope.tenant);
    const names = new Set(await this.store.typeNames(scope.tenant));
    for (const t of (await this.registrations(scope))?.types ?? []) names.add(t);
    return { id: `urn:ngsi-ld:EntityTypeList:${randomUUID()}`, type: 'EntityTypeList', typeList: sortedNames([...names].map((t) => scope.ctx.compact(t))) };
  }

  /** Retrieve Details of Available Entity Types (5.7.6): each type with the attribute names its entities have. */
  async entityTypeDetails(scope: RequestScope): Promise<EntityTypeDetail[]> {
    await this.checkTenant(scope.tenant);
    const { ctx } = scope;
    const out: EntityTypeDetail[] = [];
    for (const iri of await this.store.typeNames(scope.tenant)) {
      const attrs = new Set<string>();
      const n = await this.scan(scope.tenant, typeSelection(iri), (e) => {
        for (const [name, instances] of Object.entries(e.attrs)) if (instances.length > 0) attrs.add(name);
      });
      // An entity deleted since the index was read leaves no trace.
      if (n === 0) continue;
      out.push({ id: iri, type: 'EntityType', typeName: ctx.compact(iri), attributeNames: sortedNames([...attrs].map((a) => ctx.compact(a))) });
    }
    mergeRegistered(out, (await this.registrations(scope))?.typeAttrs, (iri, attrs) => ({
      id: iri,
      type: 'EntityType',
      typeName: ctx.compact(iri),
      attributeNames: sortedNames([...attrs].map((a) => ctx.compact(a))),
    }), (d) => d.attributeNames, ctx.compact.bind(ctx));
    return out.sort((a, b) => compareNames(a.typeName, b.typeName));
  }

  /**
   * Retrieve Available Entity Type Information (5.7.7). `type` is a short name of the request's @context or a full
   * IRI (6.26.2); a type no entity has is ResourceNotFound.
   */
  async entityTypeInfo(scope: RequestScope, type: string): Promise<EntityTypeInfo> {
    await this.checkTenant(scope.tenant);
    const { ctx } = scope;
    const iri = ctx.expand(type);
    const kinds = new Map<string, Set<AttributeType>>();
    const entityCount = await this.scan(scope.tenant, typeSelection(iri), (e) => {
      for (const [name, instances] of Object.entries(e.attrs)) {
        if (instances.length === 0) continue;
        let set = kinds.get(name);
        if (!set) kinds.set(name, (set = new Set()));
        for (const a of instances) set.add(a.type);
      }
    });
    if (entityCount === 0) throw notFound(`No entity of type ${type} (${iri}) exists (clause 5.7.7)`);
    const attributeDetails = [...kinds].map(([name, set]): TypeAttributeDetail => ({
      id: name,
      type: 'Attribute',
      attributeName: ctx.compact(name),
      attributeTypes: kindList(set),
    }));
    attributeDetails.sort((a, b) => compareNames(a.attributeName, b.attributeName));
    return { id: iri, type: 'EntityTypeInfo', typeName: ctx.compact(iri), entityCount, attributeDetails };
  }

  /** Retrieve Available Attributes (5.7.8). */
  async attributes(scope: RequestScope): Promise<AttributeList> {
    await this.checkTenant(scope.tenant);
    const names = new Set(await this.store.attributeNames(scope.tenant));
    for (const a of (await this.registrations(scope))?.attrs ?? []) names.add(a);
    return { id: `urn:ngsi-ld:AttributeList:${randomUUID()}`, type: 'AttributeList', attributeList: sortedNames([...names].map((a) => scope.ctx.compact(a))) };
  }

  /** Retrieve Details of Available Attributes (5.7.9): each attribute with the types of the entities that have it. */
  async attributeDetails(scope: RequestScope): Promise<AttributeDetail[]> {
    await this.checkTenant(scope.tenant);
    const { ctx } = scope;
    const out: AttributeDetail[] = [];
    for (const iri of await this.store.attributeNames(scope.tenant)) {
      const types = new Set<string>();
      const n = await this.scan(scope.tenant, { attrs: [iri] }, (e) => {
        for (const t of e.type) types.add(t);
      });
      if (n === 0) continue;
      out.push({ id: iri, type: 'Attribute', attributeName: ctx.compact(iri), typeNames: sortedNames([...types].map((t) => ctx.compact(t))) });
    }
    mergeRegistered(out, (await this.registrations(scope))?.attrTypes, (iri, types) => ({
      id: iri,
      type: 'Attribute',
      attributeName: ctx.compact(iri),
      typeNames: sortedNames([...types].map((t) => ctx.compact(t))),
    }), (d) => d.typeNames, ctx.compact.bind(ctx));
    return out.sort((a, b) => compareNames(a.attributeName, b.attributeName));
  }

  /**
   * Retrieve Available Attribute Information (5.7.10). `attrId` is a short name or a full IRI (6.28.2); an attribute no
   * entity has is ResourceNotFound. attributeCount counts attribute instances (5.2.28): each datasetId instance of a
   * multi-attribute (4.5.5) is one.
   */
  async attributeInfo(scope: RequestScope, attrId: string): Promise<AttributeInfo> {
    await this.checkTenant(scope.tenant);
    const { ctx } = scope;
    const iri = ctx.expand(attrId);
    const types = new Set<string>();
    const kinds = new Set<AttributeType>();
    let attributeCount = 0;
    await this.scan(scope.tenant, { attrs: [iri] }, (e) => {
      const instances = e.attrs[iri] ?? [];
      attributeCount += instances.length;
      for (const a of instances) kinds.add(a.type);
      for (const t of e.type) types.add(t);
    });
    if (attributeCount === 0) throw notFound(`No entity has an attribute ${attrId} (${iri}) (clause 5.7.10)`);
    return {
      id: iri,
      type: 'Attribute',
      attributeName: ctx.compact(iri),
      attributeCount,
      attributeTypes: kindList(kinds),
      typeNames: sortedNames([...types].map((t) => ctx.compact(t))),
    };
  }

  /** Visits every entity the selection matches, a slice at a time in id order; returns how many there were. */
  private async scan(tenant: string, selection: EntitySelection, visit: (entity: Entity) => void): Promise<number> {
    let seen = 0;
    let after: string | undefined;
    for (;;) {
      const { entities } = await this.store.query(tenant, { selection, limit: SCAN_SLICE, offset: 0, after, count: false });
      for (const entity of entities) visit(entity);
      seen += entities.length;
      if (entities.length < SCAN_SLICE) return seen;
      after = entities[entities.length - 1]!.id;
    }
  }

  /** What the registrations declare, unless the request asks for local data only (6.3.18) or there is no registry. */
  private async registrations(scope: RequestScope): Promise<RegisteredNames | undefined> {
    if (!this.registered || scope.forward?.local) return undefined;
    return this.registered(scope.tenant);
  }

  private async checkTenant(tenant: string): Promise<void> {
    if (tenant !== DEFAULT_TENANT && !(await this.store.hasTenant(tenant))) {
      throw new NgsiError('NonexistentTenant', `Tenant "${tenant}" does not exist (clause 6.3.14)`);
    }
  }
}

/**
 * Adds registered names to a detailed list (5.7.11): a name already listed gets the registered related names added
 * to its own list, a new one becomes an element of its own.
 */
function mergeRegistered<D extends { id: string }>(
  out: D[],
  registered: Map<string, Set<string>> | undefined,
  make: (iri: string, related: Set<string>) => D,
  related: (d: D) => string[],
  compact: (iri: string) => string,
): void {
  if (!registered) return;
  const byId = new Map(out.map((d) => [d.id, d]));
  for (const [iri, names] of registered) {
    const known = byId.get(iri);
    if (!known) {
      out.push(make(iri, names));
      continue;
    }
    const list = related(known);
    for (const n of names) {
      const short = compact(n);
      if (!list.includes(short)) list.push(short);
    }
    sortedNames(list);
  }
}

function typeSelection(iri: string): EntitySelection {
  return { entities: [{ types: { op: 'type', iri } }] };
}

/** Attribute kinds in the order of clause 4.5 (Property, Relationship, GeoProperty, ...). */
function kindList(kinds: ReadonlySet<AttributeType>): AttributeType[] {
  return ATTRIBUTE_TYPES.filter((k) => kinds.has(k));
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortedNames(names: string[]): string[] {
  return names.sort(compareNames);
}
