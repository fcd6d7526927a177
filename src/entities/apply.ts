import { badRequest, notFound } from '../common/errors.js';
import type { Attribute, Entity } from '../model/entity.js';
import { NGSI_LD_NULL, type AttributeInput } from './parse-attribute.js';
import type { ParsedEntity } from './parse-entity.js';

/**
 * The pure state transitions behind the entity operations (clauses 5.5.8, 5.5.12, 5.6.x): current entity and
 * parsed request in, new entity and outcome out. No I/O here, so the store can retry them under contention.
 */

/** UpdateResult (clause 5.2.18); names are fully qualified, as 207 bodies carry no @context (clause 6.3.6). */
export interface UpdateResult {
  updated: string[];
  notUpdated: { attributeName: string; reason: string }[];
}

const SCOPE = 'https://uri.etsi.org/ngsi-ld/scope';

export function newEntity(parsed: ParsedEntity, now: string): Entity {
  const attrs: Entity['attrs'] = {};
  for (const [name, inputs] of parsed.attrs) attrs[name] = inputs.map((i) => valueOf(i, parsed, name));
  const entity: Entity = { id: parsed.id!, type: parsed.type!, createdAt: now, modifiedAt: now, attrs };
  if (parsed.scope) entity.scope = parsed.scope;
  return entity;
}

function valueOf(input: AttributeInput, parsed: ParsedEntity, name: string): Attribute {
  if (input.kind !== 'value') throw badRequest(`Attribute "${parsed.names.get(name)}" needs a value here`);
  return input.attr;
}

/** Replace Entity (5.6.18): everything but id and the entity's createdAt is replaced. */
export function replacedEntity(current: Entity, parsed: ParsedEntity, now: string): Entity {
  return { ...newEntity({ ...parsed, id: current.id }, now), createdAt: current.createdAt };
}

type InstanceRule = (existing: Attribute | undefined, input: AttributeInput) => Attribute | null | 'skip';

/** Applies a fragment instance by instance; each rule returns the new instance, null to delete, or 'skip'. */
function applyFragment(current: Entity, parsed: ParsedEntity, now: string, rule: InstanceRule, scopeMerge: 'replace' | 'ifPresent') {
  const result: UpdateResult = { updated: [], notUpdated: [] };
  const attrs = { ...current.attrs };
  for (const [name, inputs] of parsed.attrs) {
    let instances = attrs[name] ?? [];
    let changed = false;
    for (const input of inputs) {
      const ds = datasetOf(input);
      const at = instances.findIndex((a) => a.datasetId === ds);
      const existing = at >= 0 ? instances[at] : undefined;
      if (input.kind === 'null' && !existing) {
        result.notUpdated.push({ attributeName: name, reason: describeMissing(ds) });
        continue;
      }
      const next = rule(existing, input);
      if (next === 'skip') {
        result.notUpdated.push({ attributeName: name, reason: 'Attribute already exists and noOverwrite is set' });
        continue;
      }
      changed = true;
      if (next === null) instances = instances.filter((_, i) => i !== at);
      else if (existing) instances = instances.map((a, i) => (i === at ? { ...next, createdAt: existing.createdAt, modifiedAt: now } : a));
      else instances = [...instances, next];
    }
    if (changed) {
      if (instances.length > 0) attrs[name] = instances;
      else delete attrs[name];
      result.updated.push(name);
    }
  }
  const entity: Entity = { ...current, attrs, modifiedAt: now };
  const addedTypes = parsed.type?.filter((t) => !current.type.includes(t)) ?? [];
  if (addedTypes.length > 0) entity.type = [...current.type, ...addedTypes];
  if (parsed.scope === null) delete entity.scope;
  else if (parsed.scope && (scopeMerge === 'replace' || current.scope)) entity.scope = parsed.scope;
  else if (parsed.scope) {
    result.notUpdated.push({ attributeName: SCOPE, reason: 'The entity has no scope, and Update Attributes only replaces an existing one (clause 5.6.2)' });
  }
  const changed = result.updated.length > 0 || addedTypes.length > 0 || entity.scope !== current.scope;
  return { entity, result, changed };
}

const datasetOf = (input: AttributeInput) =>
  input.kind === 'value' ? input.attr.datasetId : input.kind === 'null' ? input.datasetId : undefined;

const describeMissing = (ds: string | undefined) =>
  ds === undefined ? 'Attribute has no default instance to delete' : `Attribute has no instance with datasetId ${ds} to delete`;

function simplifiedInto(existing: Attribute | undefined, value: unknown, now: string): Attribute {
  const type = existing?.type ?? 'Property';
  const attr: Attribute = { ...(existing ?? { type, createdAt: now }), modifiedAt: now };
  switch (type) {
    case 'Relationship':
      attr.object = value as string | string[];
      break;
    case 'LanguageProperty':
      attr.languageMap = typeof value === 'string' ? { ...existing?.languageMap, '@none': value } : (value as Record<string, string>);
      break;
    case 'VocabProperty':
      attr.vocab = value as string;
      break;
    case 'JsonProperty':
      attr.json = value;
      break;
    case 'ListProperty':
      attr.valueList = value as unknown[];
      break;
    case 'ListRelationship':
      attr.objectList = value as string[];
      break;
    default:
      attr.value = value;
  }
  return attr;
}

/** Update Attributes (5.6.2): replace matching instances, append the others, NGSI-LD Null deletes. */
export function updateAttributes(current: Entity, parsed: ParsedEntity, now: string) {
  return applyFragment(current, parsed, now, (_, input) => (input.kind === 'null' ? null : valueOf(input, parsed, '')), 'ifPresent');
}

/** Append Attributes (5.6.3): add new ones; overwrite existing unless noOverwrite. */
export function appendAttributes(current: Entity, parsed: ParsedEntity, now: string, noOverwrite: boolean) {
  return applyFragment(
    current,
    parsed,
    now,
    (existing, input) => {
      if (existing && noOverwrite) return 'skip';
      return input.kind === 'null' ? null : valueOf(input, parsed, '');
    },
    'replace',
  );
}

export interface MergeOptions {
  /** lang query parameter: a plain string merged into a LanguageProperty goes to this key (5.6.17.4). */
  lang?: string;
  /** observedAt query parameter: applied to merged attributes that had observedAt (5.6.17.4). */
  observedAt?: string;
}

/** Merge Entity (5.6.17, 5.5.12): attribute by attribute, members of the fragment win, others stay. */
export function mergeEntity(current: Entity, parsed: ParsedEntity, now: string, opts: MergeOptions) {
  return applyFragment(
    current,
    parsed,
    now,
    (existing, input) => {
      if (input.kind === 'null') return null;
      const incoming = input.kind === 'simplified' ? simplifiedInto(existing, input.value, now) : input.attr;
      if (!existing) return incoming;
      const merged = mergeAttribute(existing, incoming, opts.lang, input.kind === 'value' ? input.removals : undefined);
      if (opts.observedAt && existing.observedAt && (input.kind === 'simplified' || !input.attr.observedAt)) {
        merged.observedAt = opts.observedAt;
      }
      return merged;
    },
    'replace',
  );
}

function mergeAttribute(existing: Attribute, incoming: Attribute, lang?: string, removals?: string[]): Attribute {
  // A string merged into a LanguageProperty updates one language only (5.6.17.4).
  if (existing.type === 'LanguageProperty' && incoming.type === 'Property' && typeof incoming.value === 'string') {
    return { ...existing, languageMap: { ...existing.languageMap, [lang ?? '@none']: incoming.value } };
  }
  if (incoming.type !== existing.type) {
    // Changing the kind of an attribute replaces it: members of the old kind must not linger.
    return { ...incoming, createdAt: existing.createdAt };
  }
  const merged: Attribute = { ...existing, ...incoming, createdAt: existing.createdAt };
  if (incoming.type === 'Property' && isPlainObject(existing.value) && isPlainObject(incoming.value)) {
    merged.value = mergeJson(existing.value, incoming.value);
  }
  if (existing.sub || incoming.sub) merged.sub = { ...existing.sub, ...incoming.sub };
  for (const member of removals ?? []) {
    if (merged.sub && member in merged.sub) {
      const { [member]: _removed, ...rest } = merged.sub;
      merged.sub = rest;
    } else {
      delete (merged as unknown as Record<string, unknown>)[member];
    }
  }
  return merged;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** JSON Merge Patch (IETF RFC 7396) with NGSI-LD Null as the removal marker, as clause 5.5.12 adapts it. */
function mergeJson(target: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (value === NGSI_LD_NULL) delete out[key];
    else if (isPlainObject(value) && isPlainObject(out[key])) out[key] = mergeJson(out[key] as Record<string, unknown>, value);
    else out[key] = value;
  }
  return out;
}

/** Partial Attribute Update (5.6.4): members of the fragment overwrite those of the target instance. */
export function partialAttributeUpdate(current: Entity, name: string, label: string, input: Attribute, now: string): Entity {
  const instances = current.attrs[name];
  const at = instances?.findIndex((a) => a.datasetId === input.datasetId) ?? -1;
  if (!instances || at < 0) throw notFound(missingInstance(current.id, label, input.datasetId));
  const existing = instances[at]!;
  if (input.type !== existing.type) {
    throw badRequest(`Attribute "${label}" is a ${existing.type}; a partial update cannot change it to ${input.type} (clause 5.6.4)`);
  }
  const updated: Attribute = { ...existing, ...input, createdAt: existing.createdAt, modifiedAt: now };
  if (existing.sub || input.sub) updated.sub = { ...existing.sub, ...input.sub };
  return withInstance(current, name, at, updated, now);
}

/** Replace Attribute (5.6.19): the target instance is replaced whole, keeping its createdAt. */
export function replaceAttribute(current: Entity, name: string, label: string, input: Attribute, now: string): Entity {
  const instances = current.attrs[name];
  const at = instances?.findIndex((a) => a.datasetId === input.datasetId) ?? -1;
  if (!instances || at < 0) throw notFound(missingInstance(current.id, label, input.datasetId));
  return withInstance(current, name, at, { ...input, createdAt: instances[at]!.createdAt, modifiedAt: now }, now);
}

function withInstance(current: Entity, name: string, at: number, attr: Attribute, now: string): Entity {
  const instances = current.attrs[name]!.map((a, i) => (i === at ? attr : a));
  return { ...current, attrs: { ...current.attrs, [name]: instances }, modifiedAt: now };
}

export interface DeleteAttributeOptions {
  datasetId?: string;
  deleteAll: boolean;
}

/** Delete Attribute (5.6.5): the default instance, the one of a datasetId, or all of them. */
export function deleteAttribute(current: Entity, name: string, label: string, opts: DeleteAttributeOptions, now: string): Entity {
  const instances = current.attrs[name];
  if (!instances) throw notFound(`Entity ${current.id} has no attribute "${label}"`);
  const remaining = opts.deleteAll ? [] : instances.filter((a) => a.datasetId !== opts.datasetId);
  if (remaining.length === instances.length) throw notFound(missingInstance(current.id, label, opts.datasetId));
  const attrs = { ...current.attrs };
  if (remaining.length > 0) attrs[name] = remaining;
  else delete attrs[name];
  return { ...current, attrs, modifiedAt: now };
}

function missingInstance(id: string, label: string, datasetId: string | undefined): string {
  return datasetId === undefined
    ? `Entity ${id} has no default instance of attribute "${label}"`
    : `Entity ${id} has no instance of attribute "${label}" with datasetId ${datasetId}`;
}
