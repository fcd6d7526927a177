import type { StoredRegistration } from '../model/registration.js';
import { effectiveMode, effectiveOperations } from '../model/registration.js';
import { matchesEntityInfo, matchesInfo, matchesRegistration, registeredAttributes, type RegistrationFilter } from '../registrations/match.js';
import { viaPseudonyms } from './client.js';
import type { ContextSource, SourceLookup, SourceQuery } from './types.js';

/** Where the registrations of a tenant come from (the registration service or its store). */
export type RegistrationList = (tenant: string) => Promise<readonly StoredRegistration[]>;

/**
 * SourceLookup over stored registrations and the matching of clause 5.12 (src/registrations/match.ts): each matching
 * registration becomes a ContextSource saying which attributes, types and ids it offers for this request.
 */
export class RegistrationSources implements SourceLookup {
  constructor(
    private readonly list: RegistrationList,
    /** Synchronous "the tenant has no registration" (RegistrationService.hasNone), when the list has one. */
    private readonly none?: (tenant: string) => boolean,
  ) {}

  hasNone(tenant: string): boolean {
    return this.none?.(tenant) ?? false;
  }

  async matching(tenant: string, query: SourceQuery): Promise<ContextSource[]> {
    const registrations = await this.list(tenant);
    if (registrations.length === 0) return [];
    const filter: RegistrationFilter = {
      ids: query.ids,
      idPattern: query.idPattern,
      types: query.types,
      attrs: query.attrs,
      operation: query.operation,
      visitedAliases: [...viaPseudonyms(query.via ?? '')],
    };
    const now = Date.now();
    const out: ContextSource[] = [];
    for (const stored of registrations) {
      const reg = query.untyped ? withoutTypeOnlyInfos(stored) : stored;
      if (!reg || !matchesRegistration(reg.spec, filter, now)) continue;
      out.push(toSource(reg, filter));
    }
    return out;
  }
}

/**
 * The registration as seen by a request whose entity type is unknown: EntityInfos naming only a type are left out,
 * since they match an id only for an entity of that type (5.12); undefined when nothing of the registration is left.
 */
function withoutTypeOnlyInfos(reg: StoredRegistration): StoredRegistration | undefined {
  const information = reg.spec.information.flatMap((info) => {
    if (!info.entities) return [info];
    const entities = info.entities.filter((e) => e.id !== undefined || e.idPattern !== undefined);
    return entities.length > 0 ? [{ ...info, entities }] : [];
  });
  if (information.length === reg.spec.information.length && information.every((info, i) => info === reg.spec.information[i])) return reg;
  return information.length > 0 ? { ...reg, spec: { ...reg.spec, information } } : undefined;
}

function toSource(reg: StoredRegistration, filter: RegistrationFilter): ContextSource {
  const { spec } = reg;
  let attrs: Set<string> | undefined = new Set();
  let types: Set<string> | undefined = new Set();
  const ids = new Set<string>();
  const idPatterns = new Set<string>();
  let anyId = false;
  for (const info of spec.information) {
    if (!matchesInfo(info, filter)) continue;
    const names = registeredAttributes(info);
    if (names === undefined) attrs = undefined;
    else if (attrs) for (const n of names) attrs.add(n);
    if (!info.entities) {
      types = undefined;
      anyId = true;
      continue;
    }
    for (const e of info.entities) {
      if (!matchesEntityInfo(e, filter)) continue;
      if (types) for (const t of e.type) types.add(t);
      if (e.id !== undefined) ids.add(e.id);
      else if (e.idPattern !== undefined) idPatterns.add(e.idPattern);
      else anyId = true;
    }
  }
  return {
    registrationId: reg.id,
    endpoint: spec.endpoint,
    mode: effectiveMode(spec),
    tenant: spec.tenant,
    info: spec.contextSourceInfo ?? [],
    alias: spec.contextSourceAlias,
    attrs: attrs ? [...attrs] : undefined,
    types: types && types.size > 0 ? [...types] : undefined,
    ids: !anyId && ids.size > 0 ? [...ids] : undefined,
    idPatterns: !anyId && idPatterns.size > 0 ? [...idPatterns] : undefined,
    operations: effectiveOperations(spec),
    timeoutMs: validTimeout(spec.management?.timeout),
  };
}

function validTimeout(ms: number | undefined): number | undefined {
  return typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? Math.ceil(ms) : undefined;
}
