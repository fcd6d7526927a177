import { isExpired } from '../model/registration.js';
import type { RegistrationList } from './sources.js';

/**
 * Entity types and attribute names the registrations of a tenant declare (clause 5.7.11: discovery may derive what is
 * "possibly available" from the Context Registry). Names expanded; `typeAttrs` holds, per type, the attributes
 * registered together with it, `attrTypes` the reverse. Registrations of any mode count, expired ones do not.
 */
export interface RegisteredNames {
  types: Set<string>;
  attrs: Set<string>;
  typeAttrs: Map<string, Set<string>>;
  attrTypes: Map<string, Set<string>>;
}

export type RegisteredNamesOf = (tenant: string) => Promise<RegisteredNames>;

export function registeredNamesOf(list: RegistrationList): RegisteredNamesOf {
  return async (tenant) => {
    const out: RegisteredNames = { types: new Set(), attrs: new Set(), typeAttrs: new Map(), attrTypes: new Map() };
    const now = Date.now();
    for (const reg of await list(tenant)) {
      if (isExpired(reg.spec, now)) continue;
      for (const info of reg.spec.information) {
        const attrs = [...(info.propertyNames ?? []), ...(info.relationshipNames ?? [])];
        const types = (info.entities ?? []).flatMap((e) => e.type);
        for (const a of attrs) out.attrs.add(a);
        for (const t of types) out.types.add(t);
        // 5.7.11: a type registered without attributes still is one, with an empty attribute list (and vice versa).
        for (const t of types) if (!out.typeAttrs.has(t)) out.typeAttrs.set(t, new Set());
        for (const a of attrs) if (!out.attrTypes.has(a)) out.attrTypes.set(a, new Set());
        for (const t of types) for (const a of attrs) add(out.typeAttrs, t, a);
        for (const a of attrs) for (const t of types) add(out.attrTypes, a, t);
      }
    }
    return out;
  };
}

function add(map: Map<string, Set<string>>, key: string, value: string): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(value);
}
