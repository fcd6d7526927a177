/**
 * Rendering of internal entities (src/model/entity.ts) into the NGSI-LD output representations:
 * normalized (clauses 4.5.1, 4.5.2.2, 4.5.3.2, 4.5.18.2, 4.5.20.2, 4.5.21.2, 4.5.22.2, 4.5.24.2),
 * concise (4.5.2.3, 4.5.3.3, 4.5.18.3, 4.5.20.3, 4.5.21.3, 4.5.22.3, 4.5.24.3) and
 * simplified / keyValues (4.5.4), with multi-instance attributes (4.5.5), system attributes (6.3.11) and the
 * language filter (4.15). GeoJSON is in geojson.ts. The @context member is added by the HTTP layer.
 *
 * Names (attribute and sub-attribute names, entity types, vocab values, objectType) are compacted with
 * ctx.compact, compound Property values and ListProperty items with ctx.compactValue; GeoProperty values,
 * languageMaps, JsonProperty json, relationship objects, datasetIds and scopes are output as stored.
 */
import type { Entity } from '../model/entity.js';
import type { LdContext } from '../jsonld/types.js';
import { type RenderState, makeState, renderInstances } from './render-attribute.js';

export type RenderFormat = 'normalized' | 'concise' | 'simplified';

export interface RenderOptions {
  /** Output representation: clauses 4.5.1-4.5.4, 4.5.18-4.5.24. */
  format: RenderFormat;
  /**
   * Include createdAt/modifiedAt (clause 6.3.11): on the entity and on every attribute and sub-attribute instance
   * in normalized and concise form; on the entity only in simplified form (which has no room for metadata).
   */
  sysAttrs: boolean;
  /** Expanded names of the attributes to keep (others dropped); undefined keeps all. Sub-attributes are kept. */
  attrs?: ReadonlySet<string>;
  /**
   * Language filter (clause 4.15), e.g. "fr-CH,fr;q=0.9,en;q=0.8,*;q=0.5": every LanguageProperty (at any
   * depth) is rendered as a Property holding the chosen string, with the non-reified "lang" member giving the
   * chosen tag in normalized and concise form, and as the bare string in simplified form.
   */
  lang?: string;
}

/** Renders one entity; the result has "id" and "type" first, then "scope", system attributes and attributes. */
export function renderEntity(entity: Entity, ctx: LdContext, opts: RenderOptions): Record<string, unknown> {
  const out: Record<string, unknown> = { id: entity.id };
  writeEntityBody(out, entity, makeState(ctx, opts));
  return out;
}

/** Renders several entities with the same options (the options are processed once). */
export function renderEntities(
  entities: Iterable<Entity>,
  ctx: LdContext,
  opts: RenderOptions,
): Array<Record<string, unknown>> {
  const st = makeState(ctx, opts);
  const out: Array<Record<string, unknown>> = [];
  for (const entity of entities) {
    const o: Record<string, unknown> = { id: entity.id };
    writeEntityBody(o, entity, st);
    out.push(o);
  }
  return out;
}

/**
 * Writes every member of an entity except "id" into `out`: type, scope, the system attributes when asked, and
 * the attributes kept by the attrs filter. Shared by renderEntity and the GeoJSON "properties" object (geojson.ts);
 * not meant for other callers.
 */
export function writeEntityBody(out: Record<string, unknown>, entity: Entity, st: RenderState): void {
  const ctx = st.ctx;
  const types = entity.type;
  if (types.length === 1) {
    out.type = ctx.compact(types[0]!);
  } else {
    const t = new Array<string>(types.length);
    for (let i = 0; i < types.length; i++) t[i] = ctx.compact(types[i]!);
    out.type = t;
  }
  const scope = entity.scope;
  if (scope !== undefined && scope.length > 0) out.scope = scope.length === 1 ? scope[0] : scope;
  if (st.sysAttrs) {
    out.createdAt = entity.createdAt;
    out.modifiedAt = entity.modifiedAt;
  }
  const attrs = entity.attrs;
  const keep = st.attrs;
  for (const name in attrs) {
    if (keep !== undefined && !keep.has(name)) continue;
    const rendered = renderInstances(attrs[name]!, st);
    if (rendered !== undefined) out[ctx.compact(name)] = rendered;
  }
}
