/**
 * The Conflict rules for proxied registrations (clause 4.3.6.3, 5.9.2.4, 5.9.3.4): an exclusive registration may not
 * overlap an exclusive or redirect one for the same Entity id and Attribute, nor an Entity held here with one of its
 * Attributes; a redirect registration may not cover an Entity held here. Inclusive and auxiliary registrations never
 * conflict (4.3.6.2).
 */
import { NgsiError } from '../common/errors.js';
import type { Entity } from '../model/entity.js';
import { effectiveMode, isExpired, type RegistrationSpec, type StoredRegistration } from '../model/registration.js';
import type { EntityPage, EntityQuery, EntitySelection } from '../query/entity-query.js';
import type { TypeSelector } from '../query/type-selector.js';
import { matchesRegistration, registeredAttributes } from './match.js';

/** The part of the entity store the rules read. */
export interface EntityLookup {
  get(tenant: string, id: string): Promise<Entity | undefined>;
  query(tenant: string, query: EntityQuery): Promise<EntityPage>;
}

const conflict = (detail: string) => new NgsiError('Conflict', detail);

/** Throws Conflict when `spec` (registration `id` of `tenant`) breaks a rule against `others` or the entities. */
export async function checkConflicts(
  tenant: string,
  id: string,
  spec: RegistrationSpec,
  others: readonly StoredRegistration[],
  entities: EntityLookup,
  now: number,
): Promise<void> {
  const mode = effectiveMode(spec);
  if (mode === 'exclusive') await checkExclusive(tenant, id, spec, others, entities, now);
  else if (mode === 'redirect') await checkRedirect(tenant, spec, entities);
}

async function checkExclusive(tenant: string, id: string, spec: RegistrationSpec, others: readonly StoredRegistration[], entities: EntityLookup, now: number): Promise<void> {
  const proxied = others.filter((o) => o.id !== id && !isExpired(o.spec, now) && ['exclusive', 'redirect'].includes(effectiveMode(o.spec)));
  for (const info of spec.information) {
    const attrs = registeredAttributes(info) ?? [];
    // parse.ts made sure every EntityInfo of an exclusive registration has an id.
    for (const e of info.entities ?? []) {
      const types: TypeSelector = e.type.length === 1 ? { op: 'type', iri: e.type[0]! } : { op: 'or', of: e.type.map((iri) => ({ op: 'type', iri })) };
      for (const attr of attrs) {
        const clash = proxied.find((o) => matchesRegistration(o.spec, { ids: [e.id!], types, attrs: [attr] }, now));
        if (clash) {
          throw conflict(
            `The ${effectiveMode(clash.spec)} registration ${clash.id} already covers Attribute ${attr} of Entity ${e.id}; an exclusive registration cannot overlap it (clauses 4.3.6.3, 5.9.2.4)`,
          );
        }
      }
      const entity = await entities.get(tenant, e.id!);
      const held = entity && attrs.find((a) => a in entity.attrs);
      if (held) {
        throw conflict(`Entity ${e.id} is held here with Attribute ${held}; an exclusive registration for it cannot be created (clauses 4.3.6.3, 5.9.2.4)`);
      }
    }
  }
}

async function checkRedirect(tenant: string, spec: RegistrationSpec, entities: EntityLookup): Promise<void> {
  for (const info of spec.information) {
    const attrs = registeredAttributes(info);
    const selection: EntitySelection = {};
    if (info.entities) {
      selection.entities = info.entities.map((e) => ({
        ...(e.id !== undefined ? { ids: [e.id] } : e.idPattern !== undefined ? { idPattern: e.idPattern } : {}),
        types: e.type.length === 1 ? { op: 'type', iri: e.type[0]! } : { op: 'or', of: e.type.map((iri) => ({ op: 'type' as const, iri })) },
      }));
    }
    if (attrs) selection.attrs = attrs;
    const page = await entities.query(tenant, { selection, limit: 1, offset: 0, count: false });
    const found = page.entities[0];
    if (found) {
      throw conflict(`Entity ${found.id} is held here and matches the redirect registration; its data cannot be redirected elsewhere (clauses 4.3.6.3, 5.9.2.4)`);
    }
  }
}
