/**
 * Which Context Source Registrations a request concerns: the matching of clause 5.12 (entity selection and attribute
 * names against RegistrationInfo), with the operation (clause 4.20), mode, datasetId, loop (contextSourceAlias,
 * 4.3.6.4) and expiry (5.9.2.4) conditions distributed operations add. Pure: no store, no clock of its own.
 */
import { RE2JS } from 're2js';
import { effectiveMode, effectiveOperations, isExpired, type EntityInfo, type OperationName, type RegistrationInfo, type RegistrationMode, type RegistrationSpec } from '../model/registration.js';
import { matchesTypes, type TypeSelector } from '../query/type-selector.js';

/** What a request says about the entities and attributes it concerns; every name expanded. Absent = no restriction. */
export interface RegistrationFilter {
  /** Entity ids the request names; a registration matches when it may provide one of them. */
  ids?: readonly string[];
  /** RE2 id pattern of the request (checked by the caller). */
  idPattern?: string;
  /** Type selection (clause 4.17) of the request. */
  types?: TypeSelector;
  /** Attribute names; absent or empty means every attribute (5.12). */
  attrs?: readonly string[];
  /** The operation to distribute: registrations that do not offer it do not match (4.3.6.1, 4.20). */
  operation?: OperationName;
  /** Only registrations in one of these modes. */
  modes?: readonly RegistrationMode[];
  /** datasetIds the request names ("@none" for the default instance): matches when the registration has none or shares one (5.12). */
  datasetIds?: readonly string[];
  /** contextSourceAlias values the request already went through (Via header, 4.3.6.4): those never match (5.12). */
  visitedAliases?: readonly string[];
}

/** Whether the registration concerns the request at `now` (epoch ms): at least one RegistrationInfo matches. */
export function matchesRegistration(spec: RegistrationSpec, filter: RegistrationFilter, now: number): boolean {
  if (isExpired(spec, now)) return false;
  if (filter.modes && !filter.modes.includes(effectiveMode(spec))) return false;
  if (filter.operation && !effectiveOperations(spec).has(filter.operation)) return false;
  if (filter.datasetIds?.length && spec.datasetId?.length && !filter.datasetIds.some((d) => spec.datasetId!.includes(d))) return false;
  if (filter.visitedAliases && spec.contextSourceAlias !== undefined && filter.visitedAliases.includes(spec.contextSourceAlias)) return false;
  return spec.information.some((info) => matchesInfo(info, filter));
}

/** The RegistrationInfo elements the filter matches (for filtered CSourceNotifications, 5.11.7). */
export function matchingInfos(spec: RegistrationSpec, filter: RegistrationFilter): RegistrationInfo[] {
  return spec.information.filter((info) => matchesInfo(info, filter));
}

/** Clause 5.12: the entity selection matches one EntityInfo (or there is none), and the attribute names match. */
export function matchesInfo(info: RegistrationInfo, filter: RegistrationFilter): boolean {
  const entityPart = !info.entities || info.entities.some((e) => matchesEntityInfo(e, filter));
  return entityPart && attributesMatch(info, filter.attrs);
}

/**
 * Clause 5.12: the type selector matches the EntityInfo's types and the ids / id pattern fit its id / idPattern.
 * A request with neither ids nor a pattern restricts no id, so it fits every EntityInfo of a matching type.
 */
export function matchesEntityInfo(e: EntityInfo, filter: Pick<RegistrationFilter, 'ids' | 'idPattern' | 'types'>): boolean {
  if (filter.types && !matchesTypes(filter.types, e.type)) return false;
  const ids = filter.ids?.length ? filter.ids : undefined;
  if (!ids && filter.idPattern === undefined) return true;
  if (e.id === undefined && e.idPattern === undefined) return true;
  // 5.2.8: id takes precedence over idPattern.
  if (e.id !== undefined) {
    if (ids?.includes(e.id)) return true;
    return !ids && filter.idPattern !== undefined && patternMatches(filter.idPattern, e.id);
  }
  if (ids) return ids.some((id) => patternMatches(e.idPattern!, id));
  // Both sides are patterns: whether some id fits both cannot be decided in general, so they match (5.12).
  return true;
}

function attributesMatch(info: RegistrationInfo, attrs: readonly string[] | undefined): boolean {
  if (!attrs || attrs.length === 0) return true;
  const registered = [...(info.propertyNames ?? []), ...(info.relationshipNames ?? [])];
  if (registered.length === 0) return true;
  return attrs.some((a) => registered.includes(a));
}

/** The registered attributes of a RegistrationInfo, or undefined when it registers whole entities. */
export function registeredAttributes(info: RegistrationInfo): string[] | undefined {
  const names = [...(info.propertyNames ?? []), ...(info.relationshipNames ?? [])];
  return names.length === 0 ? undefined : names;
}

const patterns = new Map<string, RE2JS | null>();

/** RE2 (linear time) with a small cache: registrations are matched on every distributed request. */
function patternMatches(pattern: string, id: string): boolean {
  let re = patterns.get(pattern);
  if (re === undefined) {
    try {
      re = RE2JS.compile(pattern);
    } catch {
      re = null;
    }
    if (patterns.size > 1000) patterns.clear();
    patterns.set(pattern, re);
  }
  return re !== null && re.matcher(id).find();
}
