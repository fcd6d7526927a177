import type { Attribute, Entity } from '../model/entity.js';

/**
 * Combining one entity's parts from this broker and from context sources (clauses 4.3.6.2, 4.5.5, 5.7.1.4).
 * Pure functions over the internal model.
 */

/**
 * Merges parts of one entity held in several places (local data first, then inclusive, exclusive and redirect
 * sources): types and scopes are united; attribute instances are told apart by datasetId, and where two places give
 * the same instance, the one observed last wins, else the one modified last (4.5.5.3), else the earlier part.
 */
export function mergeEntities(parts: readonly Entity[]): Entity | undefined {
  if (parts.length === 0) return undefined;
  let merged: Entity = { ...parts[0]!, attrs: { ...parts[0]!.attrs } };
  for (const part of parts.slice(1)) merged = mergeTwo(merged, part);
  return merged;
}

/**
 * Adds auxiliary data (4.3.6.2): an attribute of an auxiliary source is added only when no other place gave that
 * attribute at all; such data never overrides what the broker or its other sources hold.
 */
export function addAuxiliary(base: Entity | undefined, auxiliary: readonly Entity[]): Entity | undefined {
  let out = base;
  for (const aux of auxiliary) {
    if (!out) {
      out = { ...aux, attrs: { ...aux.attrs } };
      continue;
    }
    const attrs = { ...out.attrs };
    let added = false;
    for (const [name, instances] of Object.entries(aux.attrs)) {
      if (attrs[name]) continue;
      attrs[name] = instances;
      added = true;
    }
    if (added) out = { ...out, attrs, type: union(out.type, aux.type) };
  }
  return out;
}

function mergeTwo(a: Entity, b: Entity): Entity {
  const attrs = { ...a.attrs };
  for (const [name, instances] of Object.entries(b.attrs)) {
    const existing = attrs[name];
    attrs[name] = existing ? mergeInstances(existing, instances) : instances;
  }
  const out: Entity = {
    ...a,
    type: union(a.type, b.type),
    createdAt: a.createdAt < b.createdAt ? a.createdAt : b.createdAt,
    modifiedAt: a.modifiedAt > b.modifiedAt ? a.modifiedAt : b.modifiedAt,
    attrs,
  };
  const scope = a.scope || b.scope ? union(a.scope ?? [], b.scope ?? []) : undefined;
  if (scope) out.scope = scope;
  return out;
}

function mergeInstances(a: Attribute[], b: Attribute[]): Attribute[] {
  const out = [...a];
  for (const candidate of b) {
    const at = out.findIndex((x) => x.datasetId === candidate.datasetId);
    if (at < 0) out.push(candidate);
    else if (newer(candidate, out[at]!)) out[at] = candidate;
  }
  return out;
}

/** 4.5.5.3: the most recent observedAt if both have one, otherwise the most recent modifiedAt. */
function newer(candidate: Attribute, current: Attribute): boolean {
  if (candidate.observedAt !== undefined && current.observedAt !== undefined) return Date.parse(candidate.observedAt) > Date.parse(current.observedAt);
  return Date.parse(candidate.modifiedAt) > Date.parse(current.modifiedAt);
}

function union(a: readonly string[], b: readonly string[]): string[] {
  const out = [...a];
  for (const x of b) if (!out.includes(x)) out.push(x);
  return out;
}
