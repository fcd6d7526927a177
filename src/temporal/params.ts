import { badRequest, invalidRequest } from '../common/errors.js';
import { isUri } from '../common/syntax.js';
import { booleanParam, list, type Params } from '../entities/query-params.js';
import type { LdContext } from '../jsonld/types.js';
import { parseScopeQ, type ScopeQuery } from '../query/scope-q.js';
import type { TimeProperty } from '../store/temporal-store.js';

/**
 * Parameters of the temporal operations (5.7.3, 5.7.4; URL parameters of 6.18.3.2 and 6.19.3.1): the temporal
 * query (4.11), lastN, the representation (4.5.6-4.5.9, 4.5.19) and the aggregation settings (4.5.19.1).
 */

export type TemporalFormat = 'normalized' | 'temporalValues' | 'aggregatedValues';
export type Timerel = 'before' | 'after' | 'between';

export const AGGR_METHODS = ['totalCount', 'distinctCount', 'sum', 'avg', 'min', 'max', 'stddev', 'sumsq'] as const;
export type AggrMethod = (typeof AGGR_METHODS)[number];

/** An ISO 8601 duration (4.5.19.1): calendar parts apart from the fixed-length ones. */
export interface Duration {
  years: number;
  months: number;
  /** Days, weeks and time parts, in milliseconds. */
  ms: number;
}

export interface TemporalQuery {
  timerel?: Timerel;
  timeAt?: string;
  endTimeAt?: string;
  timeproperty: TimeProperty;
  /** Inclusive lower / exclusive upper bound derived from timerel (4.11). */
  from?: string;
  to?: string;
  lastN?: number;
}

export interface TemporalParams {
  query: TemporalQuery;
  format: TemporalFormat;
  sysAttrs: boolean;
  aggrMethods?: AggrMethod[];
  aggrPeriod?: Duration;
  /** Expanded attribute names asked for (attrs, or pick minus id/type/scope). */
  attrs?: string[];
  /** datasetId filter; undefined in the set is the default instance ("@none"). */
  datasetIds?: Set<string | undefined>;
  lang?: string;
  /** pick / omit (4.21) as given: id, type, scope or attribute names, applied to the rendered entity. */
  pick?: string[];
  omit?: string[];
  /** scopeQ (4.19): only entities whose scope matches. */
  scopeQ?: ScopeQuery;
}

const TIMERELS: readonly string[] = ['before', 'after', 'between'];
const TIME_PROPERTIES: readonly string[] = ['observedAt', 'createdAt', 'modifiedAt', 'deletedAt'];
const FORMATS: readonly string[] = ['normalized', 'temporalValues', 'aggregatedValues'];
// A DateTime per clause 4.6.3 (ISO 8601 with a time and an optional zone).
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** A DateTime parameter normalized to UTC ISO form, or BadRequestData naming the parameter. */
function dateTime(params: Params, name: string): string | undefined {
  const v = params[name];
  if (v === undefined) return undefined;
  if (!DATE_TIME.test(v) || Number.isNaN(Date.parse(v))) {
    throw badRequest(`${name}=${JSON.stringify(v)} is not a DateTime such as 2024-01-01T00:00:00Z (clauses 4.6.3, 4.11)`);
  }
  return new Date(v).toISOString();
}

/** The temporal query of 4.11; `required` for Query Temporal Evolution (5.7.4.4). */
export function parseTemporalQuery(params: Params, opts: { required: boolean }): TemporalQuery {
  const timeproperty = params.timeproperty ?? 'observedAt';
  if (!TIME_PROPERTIES.includes(timeproperty)) {
    throw badRequest(`timeproperty=${JSON.stringify(timeproperty)} is not known; use observedAt, createdAt, modifiedAt or deletedAt (clause 4.11)`);
  }
  const query: TemporalQuery = { timeproperty: timeproperty as TimeProperty };
  const timerel = params.timerel;
  const timeAt = dateTime(params, 'timeAt');
  const endTimeAt = timerel === 'between' || timerel === undefined ? dateTime(params, 'endTimeAt') : undefined;
  if (timerel === undefined) {
    if (timeAt !== undefined || endTimeAt !== undefined) throw badRequest('timeAt and endTimeAt need a timerel (before, after or between; clause 4.11)');
    if (opts.required) throw badRequest('A temporal query is required: give timerel and timeAt (clauses 4.11, 5.7.4.4)');
  } else {
    if (!TIMERELS.includes(timerel)) throw badRequest(`timerel=${JSON.stringify(timerel)} is not known; use before, after or between (clause 4.11)`);
    if (timeAt === undefined) throw badRequest(`timerel=${timerel} needs a timeAt DateTime (clause 4.11)`);
    query.timerel = timerel as Timerel;
    query.timeAt = timeAt;
    if (timerel === 'between') {
      if (endTimeAt === undefined) throw badRequest('timerel=between needs an endTimeAt DateTime (clause 4.11)');
      if (endTimeAt <= timeAt) throw badRequest(`endTimeAt ${endTimeAt} must be later than timeAt ${timeAt} for timerel=between (clause 4.11)`);
      query.endTimeAt = endTimeAt;
      query.from = timeAt;
      query.to = endTimeAt;
    } else {
      // endTimeAt "is only used for the between relation" (4.11): ignored otherwise (the ETSI suite sends it anyway).
      if (timerel === 'before') query.to = timeAt;
      else query.from = timeAt;
    }
  }
  if (params.lastN !== undefined) {
    if (!/^\d{1,9}$/.test(params.lastN) || Number(params.lastN) < 1) {
      throw badRequest(`lastN=${JSON.stringify(params.lastN)} must be a positive integer (clauses 5.7.3.4, 6.19.3.1)`);
    }
    query.lastN = Number(params.lastN);
  }
  return query;
}

const DURATION = /^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/;

/** An ISO 8601 duration P[n]Y[n]M[n]DT[n]H[n]M[n]S or P[n]W (4.5.19.1); undefined when it is not one. */
export function parseDuration(text: string): Duration | undefined {
  const m = DURATION.exec(text);
  if (!m) return undefined;
  const n = (i: number) => (m[i] === undefined ? 0 : Number(m[i]!.replace(',', '.')));
  // P[n]W stands alone (4.5.19.1)
  if (m[3] !== undefined && [1, 2, 4, 5, 6, 7].some((i) => m[i] !== undefined)) return undefined;
  return {
    years: n(1),
    months: n(2),
    ms: Math.round((((n(3) * 7 + n(4)) * 24 + n(5)) * 60 + n(6)) * 60_000 + n(7) * 1000),
  };
}

export function isZeroDuration(d: Duration): boolean {
  return d.years === 0 && d.months === 0 && d.ms === 0;
}

/** `time` (epoch ms) plus `times` durations, calendar parts in UTC (month ends clamp as in ISO 8601 arithmetic). */
export function addDuration(time: number, d: Duration, times = 1): number {
  let t = time;
  if (d.years !== 0 || d.months !== 0) {
    const date = new Date(time);
    const months = date.getUTCMonth() + (d.years * 12 + d.months) * times;
    const day = date.getUTCDate();
    const target = new Date(Date.UTC(date.getUTCFullYear(), months, 1, date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds(), date.getUTCMilliseconds()));
    const last = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
    target.setUTCDate(Math.min(day, last));
    t = target.getTime();
  }
  return t + d.ms * times;
}

/** Every parameter of a temporal retrieval or query besides the entity selection and paging. */
export function parseTemporalParams(params: Params, ctx: LdContext, opts: { requireTemporalQuery: boolean }): TemporalParams {
  const query = parseTemporalQuery(params, { required: opts.requireTemporalQuery });
  const options = new Set((params.options ?? '').split(',').map((s) => s.trim()).filter((s) => s !== ''));
  for (const o of options) {
    if (!FORMATS.includes(o) && o !== 'sysAttrs') {
      throw badRequest(`options=${o} is not known for temporal operations; use temporalValues, aggregatedValues or sysAttrs (clause 6.3.7)`);
    }
  }
  const requested = params.format ?? FORMATS.find((f) => options.has(f)) ?? 'normalized';
  if (!FORMATS.includes(requested)) {
    throw badRequest(`format=${requested} is not a temporal representation; use normalized, temporalValues or aggregatedValues (clauses 4.5.6-4.5.9, 4.5.19)`);
  }
  const format = requested as TemporalFormat;
  const out: TemporalParams = { query, format, sysAttrs: options.has('sysAttrs') || booleanParamSafe(params, 'sysAttrs') };

  const methods = list(params, 'aggrMethods');
  if (format === 'aggregatedValues') {
    if (!methods) throw badRequest('The aggregated temporal representation needs aggrMethods, e.g. aggrMethods=avg,max (clauses 4.5.19, 6.19.3.1)');
    for (const m of methods) {
      if (!(AGGR_METHODS as readonly string[]).includes(m)) {
        throw badRequest(`aggrMethods: ${JSON.stringify(m)} is not an aggregation method; use ${AGGR_METHODS.join(', ')} (clause 4.5.19.1)`);
      }
    }
    out.aggrMethods = [...new Set(methods)] as AggrMethod[];
    const text = params.aggrPeriodDuration ?? 'PT0S';
    const period = parseDuration(text);
    if (!period) {
      throw badRequest(`aggrPeriodDuration=${JSON.stringify(text)} is not an ISO 8601 duration P[n]Y[n]M[n]DT[n]H[n]M[n]S or P[n]W (clause 4.5.19.1)`);
    }
    out.aggrPeriod = period;
  } else if (methods || params.aggrPeriodDuration !== undefined) {
    throw badRequest('aggrMethods and aggrPeriodDuration apply only with format=aggregatedValues (clause 4.5.19)');
  }

  const attrs = list(params, 'attrs');
  const pick = list(params, 'pick', true);
  const omit = list(params, 'omit', true);
  if (pick && omit) throw invalidRequest('pick and omit cannot be used together (clause 4.21)');
  if (pick) out.pick = pick;
  if (omit) out.omit = omit;
  // Attribute names of pick narrow what is read; a pick of only id, type or scope reads every attribute.
  const pickedAttrs = pick?.filter((n) => n !== 'id' && n !== 'type' && n !== 'scope');
  const names = attrs ?? (pickedAttrs && pickedAttrs.length > 0 ? pickedAttrs : undefined);
  if (names) out.attrs = [...new Set(names.map((n) => ctx.expand(n)))];
  if (params.scopeQ !== undefined) out.scopeQ = parseScopeQ(params.scopeQ);
  const datasetIds = list(params, 'datasetId');
  if (datasetIds) {
    for (const ds of datasetIds) if (ds !== '@none' && !isUri(ds)) throw badRequest(`datasetId ${JSON.stringify(ds)} is not a URI (nor @none) (clause 4.5.5)`);
    out.datasetIds = new Set(datasetIds.map((d) => (d === '@none' ? undefined : d)));
  }
  if (params.lang !== undefined) out.lang = params.lang;
  return out;
}

function booleanParamSafe(params: Params, name: string): boolean {
  return params[name] === undefined ? false : booleanParam(params, name);
}
