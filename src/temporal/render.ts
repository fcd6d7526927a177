/**
 * Temporal representations of an entity (clauses 4.5.6-4.5.9, 4.5.19) from the history kept by a TemporalStore:
 * normalized (each attribute an array of instances with instanceId, 4.5.7, 4.5.8), simplified "temporalValues"
 * (4.5.9) and aggregated "aggregatedValues" (4.5.19). Names compacted with the request @context.
 */
import type { RenderState } from '../entities/render-attribute.js';
import { makeState, renderNormalized } from '../entities/render-attribute.js';
import { NGSI_LD_NULL } from '../entities/parse-attribute.js';
import { parseLangFilter, pickLanguage, type LangFilter } from '../entities/render-lang.js';
import type { LdContext } from '../jsonld/types.js';
import type { Attribute } from '../model/entity.js';
import type { TemporalEntity, TemporalInstance, TimeProperty } from '../store/temporal-store.js';
import { addDuration, isZeroDuration, type AggrMethod, type Duration, type TemporalFormat } from './params.js';

export interface TemporalRenderOptions {
  format: TemporalFormat;
  sysAttrs: boolean;
  timeproperty: TimeProperty;
  lang?: string;
  aggrMethods?: AggrMethod[];
  aggrPeriod?: Duration;
  /** Time range of the query: the first aggregation period starts at `from` (else at the oldest instance). */
  from?: string;
  to?: string;
}

/** The time of an instance under the time property of the query; undefined when it has none. */
export function instanceTime(instance: TemporalInstance, timeproperty: TimeProperty): string | undefined {
  return timeproperty === 'deletedAt' ? instance.deletedAt : instance.attribute[timeproperty];
}

/** Renders one temporal entity; `attrs` maps expanded attribute names to their instances (any order). */
export function renderTemporalEntity(
  entity: TemporalEntity,
  attrs: ReadonlyMap<string, readonly TemporalInstance[]>,
  ctx: LdContext,
  opts: TemporalRenderOptions,
): Record<string, unknown> {
  const out: Record<string, unknown> = { id: entity.id };
  out.type = entity.type.length === 1 ? ctx.compact(entity.type[0]!) : entity.type.map((t) => ctx.compact(t));
  if (entity.scope && entity.scope.length > 0) out.scope = entity.scope.length === 1 ? entity.scope[0] : entity.scope;
  if (opts.sysAttrs) {
    out.createdAt = entity.createdAt;
    out.modifiedAt = entity.modifiedAt;
    if (entity.deletedAt !== undefined) out.deletedAt = entity.deletedAt;
  }
  const st = makeState(ctx, { format: 'normalized', sysAttrs: opts.sysAttrs, lang: opts.lang });
  for (const [name, instances] of attrs) {
    if (instances.length === 0) continue;
    const sorted = sortByTime(instances, opts.timeproperty);
    let rendered: unknown;
    if (opts.format === 'normalized') rendered = sorted.map((i) => renderInstance(i, st));
    else {
      const lang = opts.lang === undefined || opts.lang === '' ? undefined : parseLangFilter(opts.lang);
      rendered = perDataset(sorted, (group) => (opts.format === 'temporalValues' ? renderValues(group, st, opts.timeproperty, lang) : renderAggregated(group, opts, lang)));
    }
    out[ctx.compact(name)] = rendered;
  }
  return out;
}

/** Oldest first by the time property; instances without it last, in their given order. */
function sortByTime(instances: readonly TemporalInstance[], tp: TimeProperty): TemporalInstance[] {
  return instances
    .map((inst, i) => ({ inst, i, t: instanceTime(inst, tp) }))
    .sort((a, b) => (a.t === undefined ? (b.t === undefined ? a.i - b.i : 1) : b.t === undefined ? -1 : Date.parse(a.t) - Date.parse(b.t) || a.i - b.i))
    .map((x) => x.inst);
}

/** One instance of the normalized temporal representation (4.5.7, 4.5.8): the attribute plus instanceId. */
function renderInstance(instance: TemporalInstance, st: RenderState): Record<string, unknown> {
  const o = renderNormalized(instance.attribute, st);
  o.instanceId = instance.instanceId;
  if (instance.deletedAt !== undefined) o.deletedAt = instance.deletedAt;
  return o;
}

/**
 * The simplified and aggregated forms have one object per attribute; several datasets (4.5.5) give an array of
 * such objects, each naming its datasetId.
 */
function perDataset(instances: TemporalInstance[], render: (group: TemporalInstance[]) => Record<string, unknown>): unknown {
  const groups = new Map<string | undefined, TemporalInstance[]>();
  for (const i of instances) {
    const ds = i.attribute.datasetId;
    let g = groups.get(ds);
    if (!g) groups.set(ds, (g = []));
    g.push(i);
  }
  const out = [...groups].map(([ds, group]) => {
    const o = render(group);
    if (ds !== undefined) o.datasetId = ds;
    return o;
  });
  return out.length === 1 ? out[0] : out;
}

/** Member name of the simplified temporal representation per attribute type (4.5.9). */
export const VALUES_MEMBER: Record<Attribute['type'], string> = {
  Property: 'values',
  GeoProperty: 'values',
  LanguageProperty: 'languageMaps',
  ListProperty: 'valueLists',
  JsonProperty: 'jsons',
  VocabProperty: 'vocabs',
  Relationship: 'objects',
  ListRelationship: 'objectLists',
};

/** The first element of a [value, time] pair of 4.5.9 for one instance. */
function simplifiedValue(a: Attribute, st: RenderState): unknown {
  const ctx = st.ctx;
  const compact = (v: unknown) => (typeof v === 'object' && v !== null ? ctx.compactValue(v) : v);
  switch (a.type) {
    case 'Property':
      return compact(a.value);
    case 'GeoProperty':
      return a.value;
    case 'LanguageProperty':
      return { languageMap: a.languageMap };
    case 'ListProperty':
      return (a.valueList ?? []).map(compact);
    case 'JsonProperty':
      return { json: a.json };
    case 'VocabProperty':
      return { vocab: typeof a.vocab === 'string' ? ctx.compact(a.vocab) : (a.vocab ?? []).map((v) => ctx.compact(v)) };
    case 'Relationship':
      return a.object;
    case 'ListRelationship':
      return a.objectList ?? [];
  }
}

/**
 * With a language filter (4.15) a LanguageProperty becomes a Property whose values are the chosen strings, and
 * "lang" names the language chosen for its newest instance.
 */
function renderValues(group: TemporalInstance[], st: RenderState, tp: TimeProperty, lang: LangFilter | undefined): Record<string, unknown> {
  const type = group[group.length - 1]!.attribute.type;
  const reduce = lang !== undefined && type === 'LanguageProperty';
  const pairs: unknown[] = [];
  let chosen: string | undefined;
  for (const inst of group) {
    const t = instanceTime(inst, tp);
    if (t === undefined) continue;
    const a = inst.attribute;
    const choice = reduce && a.type === 'LanguageProperty' ? pickLanguage(a.languageMap ?? {}, lang) : undefined;
    if (choice) chosen = choice.tag;
    pairs.push([choice ? choice.value : simplifiedValue(a, st), t]);
  }
  if (reduce) {
    const out: Record<string, unknown> = { type: 'Property', values: pairs };
    if (chosen !== undefined) out.lang = chosen;
    return out;
  }
  return { type, [VALUES_MEMBER[type]]: pairs };
}

/** The raw value an aggregation works on: Property value, relationship object(s), list, ... */
function aggregandOf(a: Attribute): unknown {
  switch (a.type) {
    case 'Relationship':
      return a.object;
    case 'ListRelationship':
      return a.objectList;
    case 'LanguageProperty':
      return a.languageMap;
    case 'VocabProperty':
      return a.vocab;
    case 'JsonProperty':
      return a.json;
    case 'ListProperty':
      return a.valueList;
    default:
      return a.value;
  }
}

function isDeleted(inst: TemporalInstance): boolean {
  return inst.deletedAt !== undefined || aggregandOf(inst.attribute) === NGSI_LD_NULL;
}

/**
 * Aggregated temporal representation of one attribute (4.5.19): per method an array of [value, start, end] for
 * every period holding at least one instance. Periods start at the query's lower bound (timeAt of after and
 * between), else at the oldest instance, and last aggrPeriodDuration; a zero duration is one period over the
 * whole range (4.5.19.1), ending at the query's upper bound or else just after the newest instance.
 */
function renderAggregated(group: TemporalInstance[], opts: TemporalRenderOptions, lang?: LangFilter): Record<string, unknown> {
  const tp = opts.timeproperty;
  const last = group[group.length - 1]!.attribute.type;
  const type = lang !== undefined && last === 'LanguageProperty' ? 'Property' : last;
  const points: Array<{ t: number; v: unknown }> = [];
  for (const inst of group) {
    const t = instanceTime(inst, tp);
    if (t === undefined || isDeleted(inst)) continue;
    const a = inst.attribute;
    // a language filter (4.15) aggregates the chosen strings rather than whole languageMaps
    const v = lang !== undefined && a.type === 'LanguageProperty' ? pickLanguage(a.languageMap ?? {}, lang)?.value : aggregandOf(a);
    points.push({ t: Date.parse(t), v });
  }
  const methods = opts.aggrMethods ?? [];
  const out: Record<string, unknown> = { type };
  for (const m of methods) out[m] = [];
  if (points.length === 0) return out;
  const periods = periodsOf(points, opts);
  const relationship = type === 'Relationship' || type === 'ListRelationship';
  for (const p of periods) {
    const values = p.values;
    for (const m of methods) {
      (out[m] as unknown[]).push([aggregate(m, values, relationship), new Date(p.start).toISOString(), new Date(p.end).toISOString()]);
    }
  }
  return out;
}

interface Period {
  start: number;
  end: number;
  values: unknown[];
}

/** Points (oldest first) grouped into the periods of the query (only those with points). */
export function periodsOf(points: ReadonlyArray<{ t: number; v: unknown }>, opts: { aggrPeriod?: Duration; from?: string; to?: string }): Period[] {
  const d = opts.aggrPeriod;
  const origin = opts.from !== undefined ? Date.parse(opts.from) : points[0]!.t;
  if (!d || isZeroDuration(d)) {
    const end = opts.to !== undefined ? Date.parse(opts.to) : points[points.length - 1]!.t + 1;
    return [{ start: origin, end, values: points.map((p) => p.v) }];
  }
  const periods: Period[] = [];
  let index = 0;
  let start = origin;
  let end = addDuration(origin, d, 1);
  for (const p of points) {
    if (p.t < start) continue;
    while (p.t >= end) {
      index++;
      start = end;
      end = addDuration(origin, d, index + 1);
    }
    let current = periods[periods.length - 1];
    if (!current || current.start !== start) periods.push((current = { start, end, values: [] }));
    current.values.push(p.v);
  }
  return periods;
}

const isNumeric = (v: unknown): v is number | boolean => typeof v === 'number' || typeof v === 'boolean';

/**
 * One aggregation over the values of a period, per tables 4.5.19.1-1..3: numbers and booleans (true 1, false 0)
 * for all methods, arrays by their sizes (avg, sum, min, max), strings (and so DateTimes) lexicographically for
 * min and max; relationships only totalCount and distinctCount. A method not applicable to any value is null.
 */
export function aggregate(method: AggrMethod, values: readonly unknown[], relationship = false): unknown {
  if (method === 'totalCount') return values.length;
  if (method === 'distinctCount') return new Set(values.map((v) => JSON.stringify(v))).size;
  if (relationship) return null;
  if (method === 'min' || method === 'max') {
    const strings = values.filter((v): v is string => typeof v === 'string');
    const nums = values.flatMap((v) => (isNumeric(v) ? [Number(v)] : Array.isArray(v) ? [v.length] : []));
    if (nums.length > 0) return method === 'min' ? Math.min(...nums) : Math.max(...nums);
    if (strings.length === 0) return null;
    return strings.reduce((a, b) => ((method === 'min' ? b < a : b > a) ? b : a));
  }
  const sizesToo = method === 'avg' || method === 'sum';
  const nums = values.flatMap((v) => (isNumeric(v) ? [Number(v)] : sizesToo && Array.isArray(v) ? [v.length] : []));
  if (nums.length === 0) return null;
  const sum = nums.reduce((a, b) => a + b, 0);
  switch (method) {
    case 'sum':
      return sum;
    case 'avg':
      return sum / nums.length;
    case 'sumsq':
      return nums.reduce((a, b) => a + b * b, 0);
    case 'stddev': {
      // population standard deviation
      const mean = sum / nums.length;
      return Math.sqrt(nums.reduce((a, b) => a + (b - mean) ** 2, 0) / nums.length);
    }
  }
}
