/**
 * Attribute-level rendering of the internal model (src/model/entity.ts) into the three NGSI-LD output
 * representations. Internal to src/entities: the public API is in render.ts and geojson.ts.
 *
 * Output objects are built member by member; stored sub-objects that need no compaction (GeoJSON geometries,
 * languageMaps, json, relationship objects) are shared with the input rather than copied.
 */
import type { Attribute } from '../model/entity.js';
import type { LdContext } from '../jsonld/types.js';
import type { RenderFormat, RenderOptions } from './render.js';
import { type LangFilter, parseLangFilter, pickLanguage } from './render-lang.js';

/** Per-call rendering settings, built once per entity (or once per collection). */
export interface RenderState {
  readonly ctx: LdContext;
  readonly format: RenderFormat;
  readonly sysAttrs: boolean;
  readonly attrs: ReadonlySet<string> | undefined;
  readonly lang: LangFilter | undefined;
}

export function makeState(ctx: LdContext, opts: RenderOptions): RenderState {
  return {
    ctx,
    format: opts.format,
    sysAttrs: opts.sysAttrs,
    attrs: opts.attrs,
    lang: opts.lang === undefined || opts.lang === '' ? undefined : parseLangFilter(opts.lang),
  };
}

const GEOMETRY_TYPES: ReadonlySet<string> = new Set([
  'Point',
  'MultiPoint',
  'LineString',
  'MultiLineString',
  'Polygon',
  'MultiPolygon',
  'GeometryCollection',
]);

/** A GeoJSON geometry object (clause 4.7): an object whose "type" is one of the seven RFC 7946 geometry types. */
export function isGeometry(v: unknown): v is Record<string, unknown> {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    GEOMETRY_TYPES.has((v as { type?: unknown }).type as string)
  );
}

/**
 * Keys that make a bare concise value be read back as an attribute object rather than as a Property Value:
 * "type" (the whole attribute is then taken as normalized, clause 4.5.2.3) and the value members of every
 * attribute kind.
 */
const ATTRIBUTE_MEMBERS: ReadonlySet<string> = new Set([
  'type',
  'value',
  'object',
  'objectList',
  'valueList',
  'languageMap',
  'vocab',
  'json',
]);

/** Whether a (compacted) Property Value can stand alone in concise form without being misread. */
function bareSafe(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return true;
  if (Array.isArray(v)) {
    // an array of objects would be read as several attribute instances (clause 4.5.5)
    for (let i = 0; i < v.length; i++) {
      const e = v[i];
      if (typeof e === 'object' && e !== null) return false;
    }
    return true;
  }
  for (const k in v) if (ATTRIBUTE_MEMBERS.has(k)) return false;
  return true;
}

function compactValue(ctx: LdContext, v: unknown): unknown {
  return typeof v === 'object' && v !== null ? ctx.compactValue(v) : v;
}

function compactList(ctx: LdContext, list: readonly unknown[]): unknown[] {
  const out = new Array<unknown>(list.length);
  for (let i = 0; i < list.length; i++) out[i] = compactValue(ctx, list[i]);
  return out;
}

function compactIris(ctx: LdContext, v: string | string[]): string | string[] {
  if (typeof v === 'string') return ctx.compact(v);
  const out = new Array<string>(v.length);
  for (let i = 0; i < v.length; i++) out[i] = ctx.compact(v[i]!);
  return out;
}

/** Whether an instance carries anything beyond its value, so that its concise form has to be an object. */
function hasMetadata(a: Attribute, st: RenderState): boolean {
  if (st.sysAttrs || a.datasetId !== undefined || a.observedAt !== undefined || a.unitCode !== undefined || a.valueType !== undefined) {
    return true;
  }
  const sub = a.sub;
  if (sub !== undefined) for (const _ in sub) return true;
  return false;
}

/** datasetId, observedAt, unitCode, system attributes and sub-attributes (clauses 4.5.2.2 / 4.5.3.2). */
function writeMetadata(o: Record<string, unknown>, a: Attribute, st: RenderState): void {
  if (a.datasetId !== undefined) o.datasetId = a.datasetId;
  if (a.observedAt !== undefined) o.observedAt = a.observedAt;
  if (a.unitCode !== undefined) o.unitCode = a.unitCode;
  if (a.valueType !== undefined) o.valueType = st.ctx.compact(a.valueType);
  if (st.sysAttrs) {
    o.createdAt = a.createdAt;
    o.modifiedAt = a.modifiedAt;
  }
  const sub = a.sub;
  if (sub !== undefined) {
    const ctx = st.ctx;
    const normalized = st.format === 'normalized';
    for (const name in sub) {
      o[ctx.compact(name)] = normalized ? renderNormalized(sub[name]!, st) : renderConcise(sub[name]!, st, true);
    }
  }
}

/** Normalized representation of one instance (clauses 4.5.2.2, 4.5.3.2, 4.5.18.2, 4.5.20.2-4.5.24.2). */
export function renderNormalized(a: Attribute, st: RenderState): Record<string, unknown> {
  const ctx = st.ctx;
  const o: Record<string, unknown> = {};
  switch (a.type) {
    case 'Property':
      o.type = 'Property';
      o.value = compactValue(ctx, a.value);
      break;
    case 'GeoProperty':
      o.type = 'GeoProperty';
      o.value = a.value;
      break;
    case 'LanguageProperty': {
      const choice = st.lang !== undefined ? pickLanguage(a.languageMap ?? {}, st.lang) : undefined;
      if (choice !== undefined) {
        // clause 4.15 / C.2.2: reduced to a Property holding the chosen string, plus the non-reified "lang"
        o.type = 'Property';
        o.value = choice.value;
        o.lang = choice.tag;
      } else {
        o.type = 'LanguageProperty';
        o.languageMap = a.languageMap;
      }
      break;
    }
    case 'VocabProperty':
      o.type = 'VocabProperty';
      o.vocab = compactIris(ctx, a.vocab ?? []);
      break;
    case 'JsonProperty':
      o.type = 'JsonProperty';
      o.json = a.json;
      break;
    case 'ListProperty':
      o.type = 'ListProperty';
      o.valueList = compactList(ctx, a.valueList ?? []);
      break;
    case 'Relationship':
      o.type = 'Relationship';
      o.object = a.object;
      if (a.objectType !== undefined) o.objectType = compactIris(ctx, a.objectType);
      break;
    case 'ListRelationship': {
      o.type = 'ListRelationship';
      // clause 4.5.22.2: each item is {"object": URI}
      const ids = a.objectList ?? [];
      const list = new Array<{ object: string }>(ids.length);
      for (let i = 0; i < ids.length; i++) list[i] = { object: ids[i]! };
      o.objectList = list;
      if (a.objectType !== undefined) o.objectType = compactIris(ctx, a.objectType);
      break;
    }
  }
  writeMetadata(o, a, st);
  return o;
}

/**
 * Concise representation of one instance (clauses 4.5.2.3, 4.5.3.3, 4.5.18.3, 4.5.20.3-4.5.24.3 and C.2.2).
 * `bare` allows the shortened form (the value alone) for a Property or GeoProperty without metadata; it is off
 * for the members of a multi-instance array, where a bare value could not be told apart from the array.
 */
export function renderConcise(a: Attribute, st: RenderState, bare: boolean): unknown {
  const ctx = st.ctx;
  const o: Record<string, unknown> = {};
  switch (a.type) {
    case 'Property': {
      const v = compactValue(ctx, a.value);
      if (bare && bareSafe(v) && !hasMetadata(a, st)) return v;
      // a GeoJSON-looking value would be inferred as a GeoProperty (clause 4.5.2.3): keep the type then
      if (isGeometry(v)) o.type = 'Property';
      o.value = v;
      break;
    }
    case 'GeoProperty':
      if (isGeometry(a.value)) {
        if (bare && !hasMetadata(a, st)) return a.value;
      } else {
        o.type = 'GeoProperty';
      }
      o.value = a.value;
      break;
    case 'LanguageProperty': {
      const choice = st.lang !== undefined ? pickLanguage(a.languageMap ?? {}, st.lang) : undefined;
      if (choice !== undefined) {
        o.value = choice.value;
        o.lang = choice.tag;
      } else {
        o.languageMap = a.languageMap;
      }
      break;
    }
    case 'VocabProperty':
      o.vocab = compactIris(ctx, a.vocab ?? []);
      break;
    case 'JsonProperty':
      o.json = a.json;
      break;
    case 'ListProperty':
      o.valueList = compactList(ctx, a.valueList ?? []);
      break;
    case 'Relationship':
      o.object = a.object;
      if (a.objectType !== undefined) o.objectType = compactIris(ctx, a.objectType);
      break;
    case 'ListRelationship':
      // clause 4.5.22.3: the array-of-URIs form
      o.objectList = a.objectList ?? [];
      if (a.objectType !== undefined) o.objectType = compactIris(ctx, a.objectType);
      break;
  }
  writeMetadata(o, a, st);
  return o;
}

/** Simplified (keyValues) value of one instance (clause 4.5.4). */
export function renderSimplified(a: Attribute, st: RenderState): unknown {
  const ctx = st.ctx;
  switch (a.type) {
    case 'Property':
      return compactValue(ctx, a.value);
    case 'GeoProperty':
      return a.value;
    case 'LanguageProperty': {
      const choice = st.lang !== undefined ? pickLanguage(a.languageMap ?? {}, st.lang) : undefined;
      return choice !== undefined ? choice.value : { languageMap: a.languageMap };
    }
    case 'VocabProperty':
      return { vocab: compactIris(ctx, a.vocab ?? []) };
    case 'JsonProperty':
      return { json: a.json };
    case 'ListProperty':
      return compactList(ctx, a.valueList ?? []);
    case 'Relationship':
      return a.object;
    case 'ListRelationship':
      return a.objectList ?? [];
  }
}

/**
 * All instances of one attribute in the state's format: a single instance as its own rendering, several as an
 * array (normalized, concise; clause 4.5.1) or as {"dataset": {datasetId | "@none": value}} (simplified, 4.5.4).
 * Undefined when there is no instance.
 */
export function renderInstances(instances: readonly Attribute[], st: RenderState): unknown {
  const n = instances.length;
  if (n === 0) return undefined;
  const format = st.format;
  if (n === 1) {
    const a = instances[0]!;
    return format === 'normalized'
      ? renderNormalized(a, st)
      : format === 'concise'
        ? renderConcise(a, st, true)
        : renderSimplified(a, st);
  }
  if (format === 'simplified') {
    const dataset: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const a = instances[i]!;
      dataset[a.datasetId ?? '@none'] = renderSimplified(a, st);
    }
    return { dataset };
  }
  const out = new Array<unknown>(n);
  for (let i = 0; i < n; i++) {
    out[i] = format === 'normalized' ? renderNormalized(instances[i]!, st) : renderConcise(instances[i]!, st, false);
  }
  return out;
}
