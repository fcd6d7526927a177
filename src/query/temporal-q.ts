/**
 * The temporal query (clause 4.11) that selects Context Source Registrations by their observationInterval or
 * managementInterval: from the URL parameters of Query CSourceRegistrations (6.8.3.2) or from the `temporalQ` member
 * (a TemporalQuery, 5.2.21) of a CSource subscription (5.2.12, 5.11.2.4). Both give BadRequestData on bad input.
 * Plain data: the parsed form is stored with the subscription as given.
 */
import { badRequest } from '../common/errors.js';
import { isDateTime } from '../common/syntax.js';

export const TIMEPROPERTIES = ['observedAt', 'createdAt', 'modifiedAt', 'deletedAt'] as const;

export interface TemporalQ {
  timerel: 'before' | 'after' | 'between';
  timeAt: string;
  /** Present exactly when timerel is between. */
  endTimeAt?: string;
  /** Which interval is meant: observedAt (the default) the observationInterval, the others the managementInterval. */
  timeproperty: (typeof TIMEPROPERTIES)[number];
}

/** timerel, timeAt, endTimeAt, timeproperty URL parameters; undefined when there is no temporal query. */
export function parseTemporalQParams(params: Record<string, string | undefined>): TemporalQ | undefined {
  const { timerel, timeAt, endTimeAt } = params;
  if (timerel === undefined) {
    if (timeAt !== undefined || endTimeAt !== undefined) throw badRequest('timeAt and endTimeAt need timerel (clause 4.11)');
    return undefined;
  }
  return check({ timerel, timeAt, endTimeAt, timeproperty: params.timeproperty }, '');
}

/** The temporalQ member of a CSource subscription (clauses 5.2.12, 5.2.21). */
export function parseTemporalQMember(value: unknown): TemporalQ {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badRequest('temporalQ must be a TemporalQuery object with timerel and timeAt (clauses 5.2.12, 5.2.21)');
  const v = value as Record<string, unknown>;
  // 5.2.21 lists more members (lastN, aggrMethods, ...) for temporal entity queries; they say nothing about an interval.
  return check({ timerel: v.timerel, timeAt: v.timeAt, endTimeAt: v.endTimeAt, timeproperty: v.timeproperty }, 'temporalQ.');
}

function check(raw: { timerel: unknown; timeAt: unknown; endTimeAt: unknown; timeproperty: unknown }, prefix: string): TemporalQ {
  const { timerel, timeAt, endTimeAt } = raw;
  if (timerel !== 'before' && timerel !== 'after' && timerel !== 'between') {
    throw badRequest(`${prefix}timerel must be before, after or between, not ${JSON.stringify(timerel)} (clause 4.11)`);
  }
  if (!isDateTime(timeAt)) throw badRequest(`${prefix}timeAt ${JSON.stringify(timeAt)} is not a DateTime (clause 4.11)`);
  if (timerel === 'between') {
    if (!isDateTime(endTimeAt)) throw badRequest(`timerel=between needs ${prefix}endTimeAt, a DateTime (clause 4.11)`);
    if (Date.parse(endTimeAt) <= Date.parse(timeAt)) throw badRequest(`${prefix}endTimeAt must be later than ${prefix}timeAt (clause 4.11)`);
  }
  const timeproperty = raw.timeproperty === undefined || raw.timeproperty === '' ? 'observedAt' : raw.timeproperty;
  if (typeof timeproperty !== 'string' || !(TIMEPROPERTIES as readonly string[]).includes(timeproperty)) {
    throw badRequest(`${prefix}timeproperty must be one of ${TIMEPROPERTIES.join(', ')}, not ${JSON.stringify(timeproperty)} (clause 4.11)`);
  }
  return { timerel, timeAt, ...(timerel === 'between' && { endTimeAt: endTimeAt as string }), timeproperty: timeproperty as TemporalQ['timeproperty'] };
}
