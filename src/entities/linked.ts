import { badRequest } from '../common/errors.js';
import { isUri } from '../common/syntax.js';
import type { LdContext } from '../jsonld/types.js';
import type { Entity } from '../model/entity.js';
import { renderEntity, type RenderOptions } from './render.js';

/**
 * Linked Entity retrieval (clause 4.5.23): `join=inline` nests the entities that Relationships point at into the
 * answer ("entity" / "entityList" members, C.2.2), `join=flat` appends them to the result array. Only entities
 * held locally are followed; `joinLevel` bounds the depth and `containedBy` plus a visited set stop loops.
 */
export interface Join {
  mode: 'inline' | 'flat';
  level: number;
  /** Entity ids already seen by the caller (containedBy parameter): never fetched again. */
  seen: Set<string>;
}

export type Fetch = (id: string) => Promise<Entity | undefined>;

const MAX_LEVEL = 10;

export function parseJoin(params: Record<string, string | undefined>): Join | undefined {
  const mode = params.join;
  if (mode === undefined || mode === '@none') {
    if (params.joinLevel !== undefined) throw badRequest('joinLevel needs join=flat or join=inline (clause 4.5.23)');
    return undefined;
  }
  if (mode !== 'inline' && mode !== 'flat') throw badRequest(`join must be flat, inline or @none, got ${JSON.stringify(mode)}`);
  const raw = params.joinLevel ?? '1';
  if (!/^\d{1,2}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_LEVEL) {
    throw badRequest(`joinLevel must be a whole number from 1 to ${MAX_LEVEL}, got ${JSON.stringify(raw)}`);
  }
  const seen = new Set<string>();
  for (const id of (params.containedBy ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!isUri(id)) throw badRequest(`containedBy holds ${JSON.stringify(id)}, which is not a URI`);
    seen.add(id);
  }
  return { mode, level: Number(raw), seen };
}

/** Targets of an entity's Relationships and ListRelationships, per attribute, in order. */
function targets(entity: Entity): Map<string, { list: boolean; ids: string[] }> {
  const out = new Map<string, { list: boolean; ids: string[] }>();
  for (const [name, instances] of Object.entries(entity.attrs)) {
    for (const a of instances) {
      if (a.type === 'Relationship' && a.object !== undefined) {
        out.set(name, { list: false, ids: Array.isArray(a.object) ? a.object : [a.object] });
      } else if (a.type === 'ListRelationship' && a.objectList) {
        out.set(name, { list: true, ids: a.objectList });
      }
    }
  }
  return out;
}

/** Flat join: the linked entities of `entities`, level by level, each once and none of the roots. */
export async function flatLinked(entities: Entity[], join: Join, fetch: Fetch): Promise<Entity[]> {
  const seen = new Set([...join.seen, ...entities.map((e) => e.id)]);
  const found: Entity[] = [];
  let frontier = entities;
  for (let level = 0; level < join.level && frontier.length > 0; level++) {
    const next: Entity[] = [];
    for (const e of frontier) {
      for (const { ids } of targets(e).values()) {
        for (const id of ids) {
          if (seen.has(id)) continue;
          seen.add(id);
          const linked = await fetch(id);
          if (linked) next.push(linked);
        }
      }
    }
    found.push(...next);
    frontier = next;
  }
  return found;
}

/**
 * Inline join: adds the linked entities, rendered like their linking entity, to its rendered Relationships
 * (normalized/concise: an "entity" or "entityList" member; simplified: the entity replaces the target id).
 */
export async function inlineLinked(
  rendered: Record<string, unknown>,
  entity: Entity,
  ctx: LdContext,
  opts: RenderOptions,
  join: Join,
  fetch: Fetch,
  depth = 1,
  path: Set<string> = new Set([...join.seen, entity.id]),
): Promise<void> {
  for (const [name, { list, ids }] of targets(entity)) {
    const key = ctx.compact(name);
    const slot = rendered[key];
    // Filtered out, or several instances (an array in normalized and concise form): left as they are.
    if (slot === undefined || (opts.format !== 'simplified' && Array.isArray(slot))) continue;
    const linked: Record<string, unknown>[] = [];
    for (const id of ids) {
      if (path.has(id)) continue;
      const target = await fetch(id);
      if (!target) continue;
      const out = renderEntity(target, ctx, { ...opts, attrs: undefined });
      if (depth < join.level) await inlineLinked(out, target, ctx, opts, join, fetch, depth + 1, new Set([...path, id]));
      linked.push(out);
    }
    if (linked.length === 0) continue;
    const many = list || ids.length > 1;
    if (opts.format === 'simplified') rendered[key] = many ? linked : linked[0];
    else (slot as Record<string, unknown>)[list ? 'entityList' : 'entity'] = many ? linked : linked[0];
  }
}
