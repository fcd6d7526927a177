/**
 * CSourceRegistrations and their fragments (clauses 5.2.9, 5.2.10, 5.9.2, 5.9.3) into the stored form. The JSON
 * schema checks the shape; here come the rules it cannot express (URIs, future dates, names, operation names,
 * contextSourceInfo keys of 4.3.6.6, the mode restrictions of 4.3.6.3 and 5.9.2.4), each with a detail naming the
 * member and clause. Conflicts with other registrations and with entities are conflicts.ts.
 */
import { badRequest } from '../common/errors.js';
import { validateGeometry } from '../common/geometry.js';
import { isUri, isValidName, requireFutureDateTime, requireHttpUrl, requireUri } from '../common/syntax.js';
import { NGSI_LD_NULL } from '../entities/parse-attribute.js';
import type { LdContext } from '../jsonld/types.js';
import {
  OPERATION_GROUPS,
  OPERATION_NAMES,
  type EntityInfo,
  type Geometry,
  type OperationGroup,
  type OperationName,
  type RegistrationInfo,
  type RegistrationSpec,
  type TimeInterval,
} from '../model/registration.js';
import { compilePattern } from '../query/q-ast.js';
import { validateRegistrationSchema } from './schema.js';

/** Members of Table 5.2.9-1 (besides id and type); anything else but the read-only ones is a Context Source Property. */
const MEMBERS = new Set([
  'registrationName',
  'description',
  'information',
  'tenant',
  'observationInterval',
  'managementInterval',
  'location',
  'observationSpace',
  'operationSpace',
  'expiresAt',
  'endpoint',
  'contextSourceInfo',
  'scope',
  'mode',
  'operations',
  'refreshRate',
  'management',
  'contextSourceAlias',
  'datasetId',
]);

/** Table 5.2.9-2 and system members: "In the event that they are provided ... implementations shall ignore them." */
const IGNORED = new Set(['@context', 'status', 'timesSent', 'timesFailed', 'lastSuccess', 'lastFailure', 'createdAt', 'modifiedAt']);

/** Cannot be deleted by a fragment. */
const VIA_PSEUDONYM = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const MANDATORY = new Set(['id', 'type', 'information', 'endpoint']);

const AUXILIARY_OPERATIONS = new Set(['retrieveOps', 'retrieveEntity', 'queryEntity']);

export interface ParsedRegistration {
  /** Absent: the broker makes one up (5.9.2.4). */
  id?: string;
  spec: RegistrationSpec;
}

/** Register Context Source input (5.9.2.4): BadRequestData when clause 5.2.9 is not met. `now` in epoch ms. */
export function parseRegistration(body: unknown, ctx: LdContext, now: number): ParsedRegistration {
  validateRegistrationSchema('registration', body, 'The CSourceRegistration');
  const raw = body as Record<string, unknown>;
  if (raw.id !== undefined) requireUri(raw.id, 'CSourceRegistration id');
  const spec = applyMembers({}, raw, ctx, now) as RegistrationSpec;
  checkWhole(spec);
  return { id: raw.id as string | undefined, spec };
}

/**
 * Update Context Source Registration (5.9.3.4): members of the fragment replace the current ones (5.5.8), NGSI-LD
 * Null (or JSON null) deletes an optional one, and the result is checked as a whole.
 */
export function mergeRegistration(current: { id: string; spec: RegistrationSpec }, fragment: unknown, ctx: LdContext, now: number): RegistrationSpec {
  if (typeof fragment !== 'object' || fragment === null || Array.isArray(fragment)) {
    throw badRequest('The body must be a CSourceRegistration fragment: a JSON object (clause 5.9.3)');
  }
  const members: Record<string, unknown> = {};
  const deletions: string[] = [];
  for (const [key, value] of Object.entries(fragment)) {
    if (value === null || value === NGSI_LD_NULL) {
      if (MANDATORY.has(key)) throw badRequest(`${key} is mandatory and cannot be deleted (clauses 5.2.9, 5.9.3)`);
      deletions.push(key);
    } else members[key] = value;
  }
  validateRegistrationSchema('registration-fragment', members, 'The CSourceRegistration fragment');
  if (members.id !== undefined && members.id !== current.id) {
    throw badRequest(`The fragment's id ${String(members.id)} differs from the registration id ${current.id}; it cannot be changed (clause 5.2.9)`);
  }
  const changes = Object.keys(members).filter((k) => k !== 'id' && k !== 'type' && !IGNORED.has(k)).length + deletions.length;
  if (changes === 0) throw badRequest('The fragment changes nothing: give at least one member besides id and type (clause 5.9.3)');
  const spec: Partial<RegistrationSpec> = structuredClone(current.spec);
  for (const key of deletions) {
    if (MEMBERS.has(key)) delete spec[key as keyof RegistrationSpec];
    else if (spec.properties) {
      delete spec.properties[ctx.expand(key)];
      if (Object.keys(spec.properties).length === 0) delete spec.properties;
    }
  }
  const merged = applyMembers(spec, members, ctx, now) as RegistrationSpec;
  checkWhole(merged);
  return merged;
}

function applyMembers(spec: Partial<RegistrationSpec>, raw: Record<string, unknown>, ctx: LdContext, now: number): Partial<RegistrationSpec> {
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'id' || key === 'type' || IGNORED.has(key)) continue;
    switch (key) {
      case 'registrationName':
      case 'description':
      case 'tenant':
        spec[key] = value as string;
        break;
      case 'contextSourceAlias':
        // It is compared with Via pseudonyms and named in NGSILD-Warning headers: a token (RFC 7230 5.7.1, 3.2.6).
        if (!VIA_PSEUDONYM.test(value as string)) throw badRequest(`contextSourceAlias ${JSON.stringify(value)} is not a Via pseudonym: token characters only (clause 5.2.9, RFC 7230 5.7.1)`);
        spec.contextSourceAlias = value as string;
        break;
      case 'information':
        spec.information = (value as unknown[]).map((info, i) => parseInfo(info as Record<string, unknown>, ctx, `information[${i}]`));
        break;
      case 'observationInterval':
      case 'managementInterval':
        spec[key] = timeInterval(value as TimeInterval, key);
        break;
      case 'location':
      case 'observationSpace':
      case 'operationSpace':
        validateGeometry(key, value);
        spec[key] = value as Geometry;
        break;
      case 'expiresAt':
        spec.expiresAt = requireFutureDateTime(value as string, 'expiresAt', now, 'clause 5.9.2.4');
        break;
      case 'endpoint':
        // A URI is ASCII (RFC 3986): an IRI's other characters must come percent-encoded.
        if (!/^[\x21-\x7e]+$/.test(value as string)) throw badRequest(`endpoint ${JSON.stringify(value)} is not a URI: characters outside visible ASCII must be percent-encoded (clause 5.2.9, RFC 3986)`);
        spec.endpoint = requireHttpUrl(value as string, 'endpoint', 'clause 5.2.9');
        break;
      case 'contextSourceInfo':
        spec.contextSourceInfo = contextSourceInfo(value as Array<{ key: string; value: string }>);
        break;
      case 'scope':
        spec.scope = scope(value as string | string[]);
        break;
      case 'mode':
        spec.mode = value as RegistrationSpec['mode'];
        break;
      case 'operations':
        spec.operations = operations(value as string[]);
        break;
      case 'refreshRate':
        spec.refreshRate = duration(value as string, 'refreshRate');
        break;
      case 'management': {
        const m = value as NonNullable<RegistrationSpec['management']>;
        if (m.cacheDuration !== undefined) duration(m.cacheDuration, 'management.cacheDuration');
        spec.management = { ...m };
        break;
      }
      case 'datasetId':
        spec.datasetId = datasetIds(value as string | string[]);
        break;
      default: {
        // A Context Source Property (what csf filters on): its name is expanded like an attribute name.
        if (!isValidName(key)) throw badRequest(`${JSON.stringify(key)} is not a valid name for a Context Source Property (clause 4.6.2)`);
        spec.properties = { ...spec.properties, [ctx.expand(key)]: value };
      }
    }
  }
  return spec;
}

function parseInfo(raw: Record<string, unknown>, ctx: LdContext, where: string): RegistrationInfo {
  const info: RegistrationInfo = {};
  if (raw.entities) info.entities = (raw.entities as Array<Record<string, unknown>>).map((e, i) => parseEntityInfo(e, ctx, `${where}.entities[${i}]`));
  if (raw.propertyNames) info.propertyNames = names(raw.propertyNames as string[], ctx, `${where}.propertyNames`);
  if (raw.relationshipNames) info.relationshipNames = names(raw.relationshipNames as string[], ctx, `${where}.relationshipNames`);
  return info;
}

function parseEntityInfo(raw: Record<string, unknown>, ctx: LdContext, where: string): EntityInfo {
  const out: EntityInfo = { type: names(typeof raw.type === 'string' ? [raw.type] : (raw.type as string[]), ctx, `${where}.type`) };
  if (raw.id !== undefined) {
    if (!isUri(raw.id)) throw badRequest(`${where}.id ${JSON.stringify(raw.id)} is not a valid URI (clause 5.2.8)`);
    out.id = raw.id;
  }
  if (raw.idPattern !== undefined) {
    const compiled = compilePattern(raw.idPattern as string);
    if (typeof compiled === 'string') throw badRequest(`${where}.idPattern ${JSON.stringify(raw.idPattern)} is not usable: ${compiled} (clause 5.2.8)`);
    out.idPattern = raw.idPattern as string;
  }
  return out;
}

function names(list: string[], ctx: LdContext, where: string): string[] {
  for (const n of list) if (!isValidName(n)) throw badRequest(`${where} holds ${JSON.stringify(n)}, which is not a valid name (clause 4.6.2)`);
  return [...new Set(list.map((n) => ctx.expand(n)))];
}

function timeInterval(t: TimeInterval, where: string): TimeInterval {
  if (t.endAt !== undefined && Date.parse(t.endAt) < Date.parse(t.startAt)) {
    throw badRequest(`${where}.endAt ${t.endAt} is before its startAt ${t.startAt} (clause 5.2.11)`);
  }
  return { startAt: t.startAt, ...(t.endAt !== undefined && { endAt: t.endAt }) };
}

const MEDIA = new Set(['application/json', 'application/ld+json']);

/** Clause 4.3.6.6: the keys with a meaning have restricted values. */
function contextSourceInfo(pairs: Array<{ key: string; value: string }>): Array<{ key: string; value: string }> {
  for (const { key, value } of pairs) {
    if ((key === 'accept' || key === 'contentType') && !MEDIA.has(value)) {
      throw badRequest(`contextSourceInfo "${key}" must be "application/json" or "application/ld+json", not ${JSON.stringify(value)} (clause 4.3.6.6)`);
    }
    if (key === 'jsonldContext' && !isUri(value)) throw badRequest(`contextSourceInfo "jsonldContext" must be a URL, not ${JSON.stringify(value)} (clause 4.3.6.6)`);
    if (key === 'ngsildConformance' && !/^\d+\.\d+$/.test(value)) {
      throw badRequest(`contextSourceInfo "ngsildConformance" must be a version major.minor such as "1.5", not ${JSON.stringify(value)} (clause 4.3.6.6)`);
    }
  }
  return pairs.map(({ key, value }) => ({ key, value }));
}

function scope(value: string | string[]): string | string[] {
  // Clause 4.18: a scope is a path such as /Madrid/Gardens, each segment non-empty.
  for (const s of typeof value === 'string' ? [value] : value) {
    if (!/^\/[^/\s]+(\/[^/\s]+)*$/.test(s)) throw badRequest(`scope ${JSON.stringify(s)} is not valid; a scope is a path like "/Madrid/Gardens" (clause 4.18)`);
  }
  return value;
}

function operations(list: string[]): Array<OperationName | OperationGroup> {
  for (const op of list) {
    if (!(OPERATION_NAMES as readonly string[]).includes(op) && !(op in OPERATION_GROUPS)) {
      throw badRequest(`operations holds ${JSON.stringify(op)}, which is neither an operation name (Table 4.20-1) nor an operation group (Table 4.20-2)`);
    }
  }
  return [...new Set(list)] as Array<OperationName | OperationGroup>;
}

// ISO 8601 durations: P[nY][nM][nW][nD][T[nH][nM][nS]], at least one component.
const DURATION = /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/;

function duration(value: string, where: string): string {
  if (!DURATION.test(value)) throw badRequest(`${where} ${JSON.stringify(value)} is not an ISO 8601 duration such as "PT10S" (clause 5.2.9)`);
  return value;
}

function datasetIds(value: string | string[]): string[] {
  const ids = typeof value === 'string' ? [value] : value;
  for (const id of ids) if (id !== '@none' && !isUri(id)) throw badRequest(`datasetId ${JSON.stringify(id)} is neither a URI nor "@none" (clauses 4.5.5, 5.2.9)`);
  return [...new Set(ids)];
}

/** Restrictions between members: the mode rules of 4.3.6.3 and 5.9.2.4. */
function checkWhole(spec: RegistrationSpec): void {
  if (spec.mode === 'exclusive') {
    for (const [i, info] of spec.information.entries()) {
      if (!info.entities || info.entities.some((e) => e.id === undefined)) {
        throw badRequest(`information[${i}]: an exclusive registration relates to specific Entities, so every entities element needs an id (clause 4.3.6.3)`);
      }
      if (!info.propertyNames && !info.relationshipNames) {
        throw badRequest(`information[${i}]: an exclusive registration relates to specific Attributes, so it needs propertyNames or relationshipNames (clause 4.3.6.3)`);
      }
    }
  }
  if (spec.mode === 'auxiliary') {
    const ops = spec.operations;
    if (!ops || ops.some((op) => !AUXILIARY_OPERATIONS.has(op))) {
      throw badRequest('An auxiliary registration needs operations limited to "retrieveOps", "retrieveEntity" and "queryEntity" (clauses 4.3.6.2, 5.9.2.4)');
    }
  }
}

