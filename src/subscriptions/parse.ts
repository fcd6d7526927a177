import { badRequest } from '../common/errors.js';
import { isUri, requireFutureDateTime, requireHttpUrl, requireUri } from '../common/syntax.js';
import { NGSI_LD_NULL } from '../entities/parse-attribute.js';
import { parseSelectors } from '../entities/query-params.js';
import { validateAgainstSchema } from '../entities/schemas.js';
import type { LdContext } from '../jsonld/types.js';
import { parseGeoQuery } from '../query/geo-query.js';
import { qUsesLinkedEntities } from '../query/q-eval.js';
import { parseQ } from '../query/q-parser.js';
import { parseScopeQ } from '../query/scope-q.js';
import { parseTemporalQMember } from '../query/temporal-q.js';
import type { Trigger } from './compiled.js';
import { statusOf, type GeoQSpec, type SubscriptionQueries, type SubscriptionSpec } from '../model/subscription.js';
import { applyNotification, checkNotification, expandNames, type Deletions, type RawNotification } from './parse-notification.js';

/**
 * Subscriptions and Subscription Fragments (clauses 5.2.12-5.2.15, 5.2.33, 5.8.1, 5.8.2) into the stored form. The
 * JSON schema (spec/schemas/subscription.schema.json) checks the shape first; what it cannot say (URIs, dates in the
 * future, the query languages, rules between members) is checked here, each with a detail naming the member and clause.
 */

/** The body as the schema lets it through. */
interface RawSubscription {
  id?: string;
  type?: string;
  subscriptionName?: string;
  description?: string;
  entities?: Array<{ id?: string | string[]; idPattern?: string; type: string }>;
  watchedAttributes?: string[];
  notificationTrigger?: Trigger[];
  q?: string;
  geoQ?: GeoQSpec;
  scopeQ?: string;
  temporalQ?: unknown;
  csf?: string;
  datasetId?: string | string[];
  lang?: string;
  expandValues?: string | string[];
  jsonKeys?: string | string[];
  expiresAt?: string;
  isActive?: boolean;
  throttling?: number;
  timeInterval?: number;
  jsonldContext?: string;
  localOnly?: boolean;
  splitEntities?: boolean;
  ngsildConformance?: string;
  notification?: RawNotification;
}

/** Members copied as given once the schema has checked their type. */
const PLAIN = ['subscriptionName', 'description', 'notificationTrigger', 'isActive', 'throttling', 'timeInterval', 'localOnly', 'splitEntities', 'ngsildConformance'] as const;

export interface ParsedSubscription {
  /** Absent: the broker makes one up (5.8.1.4). */
  id?: string;
  spec: SubscriptionSpec;
  queries: SubscriptionQueries;
}

/** Create Subscription input (5.8.1.4): BadRequestData when clause 5.2.12 is not met. `now` in epoch ms. */
export function parseSubscription(body: unknown, ctx: LdContext, now: number): ParsedSubscription {
  validateAgainstSchema('subscription', body, 'The subscription');
  const raw = body as RawSubscription;
  if (raw.id !== undefined) requireUri(raw.id, 'Subscription id');
  const noDeletions: Deletions = { top: new Set(), notification: new Set(), endpoint: new Set() };
  return { id: raw.id, ...apply(undefined, raw, noDeletions, ctx, now) };
}

/**
 * Update Subscription (5.8.2.4): the fragment's members replace the current ones (5.5.8), NGSI-LD Null (or JSON null)
 * deletes one; notification and its endpoint are merged member by member. The result is checked as a whole.
 */
export function mergeSubscription(
  current: { id: string; spec: SubscriptionSpec; queries: SubscriptionQueries },
  fragment: unknown,
  ctx: LdContext,
  now: number,
): { spec: SubscriptionSpec; queries: SubscriptionQueries } {
  if (typeof fragment !== 'object' || fragment === null || Array.isArray(fragment)) {
    throw badRequest('The body must be a Subscription Fragment: a JSON object (clause 5.8.2)');
  }
  const { members, deletions } = splitDeletions(fragment as Record<string, unknown>);
  validateAgainstSchema('subscription-fragment', members, 'The Subscription Fragment');
  const raw = members as RawSubscription;
  if (raw.id !== undefined && raw.id !== current.id) {
    throw badRequest(`The fragment's id ${raw.id} differs from the subscription id ${current.id}; a subscription id cannot be changed (clause 5.2.12)`);
  }
  const changes = Object.keys(members).filter((k) => k !== 'id' && k !== 'type').length + deletions.top.size;
  if (changes === 0) throw badRequest('The Subscription Fragment changes nothing: give at least one member besides id and type (clause 5.8.2)');
  const merged = apply(current, raw, deletions, ctx, now);
  // 5.8.2.4: a future expiresAt given alone turns an expired subscription active again.
  if (raw.expiresAt !== undefined && raw.isActive === undefined && statusOf(current.spec, now) === 'expired' && merged.spec.isActive === false) {
    merged.spec.isActive = true;
  }
  return merged;
}

const MANDATORY: Record<keyof Deletions, string[]> = { top: ['id', 'type', 'notification'], notification: ['endpoint'], endpoint: ['uri'] };

function splitDeletions(fragment: Record<string, unknown>): { members: Record<string, unknown>; deletions: Deletions } {
  const deletions: Deletions = { top: new Set(), notification: new Set(), endpoint: new Set() };
  const strip = (obj: Record<string, unknown>, level: keyof Deletions, path: string): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(obj)) {
      if (value === null || value === NGSI_LD_NULL) {
        if (MANDATORY[level].includes(key)) throw badRequest(`${path}${key} is mandatory and cannot be deleted (clauses 5.2.12, 5.8.2)`);
        deletions[level].add(key);
      } else if (level === 'top' && key === 'notification' && isObject(value)) out[key] = strip(value, 'notification', 'notification.');
      else if (level === 'notification' && key === 'endpoint' && isObject(value)) out[key] = strip(value, 'endpoint', 'notification.endpoint.');
      else out[key] = value;
    }
    return out;
  };
  return { members: strip(fragment, 'top', ''), deletions };
}

function apply(
  base: { spec: SubscriptionSpec; queries: SubscriptionQueries } | undefined,
  raw: RawSubscription,
  deletions: Deletions,
  ctx: LdContext,
  now: number,
): { spec: SubscriptionSpec; queries: SubscriptionQueries } {
  const spec: Partial<SubscriptionSpec> = { ...base?.spec };
  const queries: SubscriptionQueries = { ...base?.queries };
  for (const name of deletions.top) delete spec[name as keyof SubscriptionSpec];
  if (deletions.top.has('q')) delete queries.q;
  if (deletions.top.has('geoQ')) delete queries.geo;
  if (deletions.top.has('scopeQ')) delete queries.scopeQ;

  for (const key of PLAIN) if (raw[key] !== undefined) (spec as Record<string, unknown>)[key] = raw[key];
  if (raw.entities) {
    // parseSelectors checks ids, idPattern (RE2, linear time) and type selections (clause 4.17) as Query Entities does.
    const parsed = parseSelectors(raw.entities, ctx);
    spec.entities = raw.entities.map((s, i) => ({
      ...(s.id !== undefined && { id: s.id }),
      ...(s.idPattern !== undefined && { idPattern: s.idPattern }),
      type: s.type === '*' ? '*' : parsed[i]!.types!,
    }));
  }
  if (raw.watchedAttributes) spec.watchedAttributes = expandNames(raw.watchedAttributes, ctx, 'watchedAttributes');
  if (raw.expandValues !== undefined) spec.expandValues = expandNames(nameList(raw.expandValues), ctx, 'expandValues');
  if (raw.jsonKeys !== undefined) spec.jsonKeys = expandNames(nameList(raw.jsonKeys), ctx, 'jsonKeys');
  if (raw.q !== undefined) spec.q = raw.q;
  // A changed expandValues or jsonKeys changes what the q means, so q is parsed again (with this request's @context).
  if (spec.q !== undefined && (raw.q !== undefined || raw.expandValues !== undefined || raw.jsonKeys !== undefined)) {
    queries.q = parseQ(spec.q, ctx, { expandValues: spec.expandValues, jsonKeys: spec.jsonKeys });
  }
  if (raw.geoQ) {
    const g = raw.geoQ;
    queries.geo = parseGeoQuery(g, (t) => ctx.expand(t))!;
    spec.geoQ = { georel: g.georel, geometry: g.geometry, coordinates: g.coordinates, ...(g.geoproperty !== undefined && { geoproperty: queries.geo.geoproperty }) };
  }
  if (raw.scopeQ !== undefined) {
    queries.scopeQ = parseScopeQ(raw.scopeQ);
    spec.scopeQ = raw.scopeQ;
  }
  // Only CSource subscriptions use temporalQ (5.2.12); the entity subscription engine ignores it.
  if (raw.temporalQ !== undefined) spec.temporalQ = parseTemporalQMember(raw.temporalQ);
  if (raw.csf !== undefined) {
    parseQ(raw.csf, ctx); // only its syntax matters: musubi has no Context Source Registrations to filter
    spec.csf = raw.csf;
  }
  if (raw.datasetId !== undefined) spec.datasetId = datasetIds(raw.datasetId);
  if (raw.lang !== undefined) spec.lang = languageFilter(raw.lang);
  if (raw.expiresAt !== undefined) spec.expiresAt = requireFutureDateTime(raw.expiresAt, 'expiresAt', now, 'clauses 5.8.1.4, 5.8.2.4');
  if (raw.jsonldContext !== undefined) spec.jsonldContext = requireHttpUrl(raw.jsonldContext, 'jsonldContext', 'clause 5.2.12');
  const notification = applyNotification(base?.spec.notification, raw.notification, deletions, ctx);
  if (!notification.endpoint) throw badRequest('The subscription has no notification.endpoint (clause 5.2.14)');
  spec.notification = { ...notification, endpoint: notification.endpoint };
  const whole = spec as SubscriptionSpec;
  checkWhole(whole, queries);
  return { spec: whole, queries };
}

/** Table 5.2.12-1 restrictions between members. */
function checkWhole(spec: SubscriptionSpec, queries: SubscriptionQueries): void {
  const local = spec.localOnly === true;
  if (!spec.entities && !spec.watchedAttributes && !local) {
    throw badRequest('The subscription needs entities or watchedAttributes (or both), unless localOnly is true (clause 5.2.12)');
  }
  if (spec.timeInterval !== undefined) {
    if (spec.watchedAttributes) throw badRequest('timeInterval and watchedAttributes cannot be used together: a periodic subscription does not watch changes (clause 5.2.12)');
    if (spec.throttling !== undefined) throw badRequest('timeInterval and throttling cannot be used together (clause 5.2.12)');
    if (!spec.entities && !local) throw badRequest('A subscription with timeInterval needs entities, unless localOnly is true (clause 5.2.12)');
  }
  if (spec.localOnly === false && spec.entities?.some((s) => s.type === '*')) {
    throw badRequest('An entity type "*" implies local scope; it cannot go with localOnly false (clause 5.2.33)');
  }
  if (queries.q && qUsesLinkedEntities(queries.q) && spec.notification.join !== 'flat' && spec.notification.join !== 'inline') {
    throw badRequest('The q uses linked-entity paths ({...}); they need notification.join "flat" or "inline" (clauses 4.9, 5.2.14)');
  }
  checkNotification(spec.notification);
}

function nameList(value: string | string[]): string[] {
  const names = (typeof value === 'string' ? value.split(',') : value).map((s) => s.trim());
  if (names.some((n) => n === '')) throw badRequest(`The attribute name list ${JSON.stringify(value)} has an empty item (clause 5.2.12)`);
  return names;
}

function datasetIds(value: string | string[]): string[] {
  const ids = typeof value === 'string' ? [value] : value;
  for (const id of ids) if (id !== '@none' && !isUri(id)) throw badRequest(`datasetId ${JSON.stringify(id)} is neither a URI nor "@none" (clauses 4.5.5, 5.2.12)`);
  return [...new Set(ids)];
}

// RFC 7231 Accept-Language: ranges ("*" or language tags) with optional weights, comma-separated (clause 4.15).
const LANGUAGE_RANGE = /^\s*(\*|[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*)\s*(;\s*q\s*=\s*(0(\.\d{0,3})?|1(\.0{0,3})?))?\s*$/;

function languageFilter(lang: string): string {
  for (const part of lang.split(',')) {
    if (!LANGUAGE_RANGE.test(part)) throw badRequest(`lang ${JSON.stringify(lang)} is not a language filter such as "fr-CH,fr;q=0.9,*;q=0.5" (clause 4.15)`);
  }
  return lang;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
