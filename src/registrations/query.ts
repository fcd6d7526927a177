/**
 * The filters of Query Context Source Registrations (5.10.2) and of CSource subscriptions (5.11.2): entity
 * selection and attributes (clause 5.12, match.ts), geo-query against the registration's location, temporal query
 * against observationInterval / managementInterval, csf (clause 4.9 over the registration's members) and scopeQ.
 */
import { badRequest } from '../common/errors.js';
import { isUri } from '../common/syntax.js';
import { list, parseSelection, type Params } from '../entities/query-params.js';
import type { LdContext } from '../jsonld/types.js';
import type { Attribute, Entity } from '../model/entity.js';
import type { RegistrationSpec, StoredRegistration } from '../model/registration.js';
import type { EntitySelection } from '../query/entity-query.js';
import { asGeometry, geometryBBox, queryBoundingBox } from '../query/geo-match.js';
import type { GeoQuery } from '../query/geo-query.js';
import type { QExpression } from '../query/q-ast.js';
import { matchesQ, qAttributes } from '../query/q-eval.js';
import { parseQ } from '../query/q-parser.js';
import { matchesScopeQ } from '../query/scope-q.js';
import { parseTemporalQParams, type TemporalQ } from '../query/temporal-q.js';
import { matchesRegistration, type RegistrationFilter } from './match.js';

/** A temporal query (clause 4.11) as registrations use it. */
export type RegistrationTemporalQuery = TemporalQ;

/** A parsed registration query; plain data, names expanded. */
export interface RegistrationQuery {
  selection: EntitySelection;
  temporal?: RegistrationTemporalQuery;
  /** csf parsed with standard member names prefixed by CSF_MEMBER (see csfContext). */
  csf?: QExpression;
  /** The attribute names to match, when not those of the selection (CSource subscriptions, 5.11.2.4). */
  attrs?: string[];
  /** datasetIds of the request ("@none" for the default instance), matched against the registration's (5.12). */
  datasetIds?: string[];
}

/** Prefix of the Table 5.2.9-1 members in a csf (they are not vocabulary terms to expand). */
const CSF_MEMBER = 'urn:musubi:csr-member:';
const CSF_MEMBERS = new Set(['registrationName', 'description', 'tenant', 'endpoint', 'mode', 'refreshRate', 'contextSourceAlias', 'expiresAt', 'operations', 'datasetId', 'scope']);

/** An @context that leaves the CSourceRegistration members recognisable in a csf and expands everything else. */
export function csfContext(ctx: LdContext): LdContext {
  const wrapped = Object.create(ctx) as LdContext;
  Object.defineProperty(wrapped, 'expand', { value: (term: string) => (CSF_MEMBERS.has(term) ? CSF_MEMBER + term : ctx.expand(term)) });
  return wrapped;
}

/** Parses a csf (clause 4.9 applied to registrations); BadRequestData when it is not a valid query. */
export function parseCsf(text: string, ctx: LdContext): QExpression {
  return parseQ(text, csfContext(ctx));
}

/** GET /csourceRegistrations parameters (5.10.2.3, 6.8.3.2) into a query; BadRequestData on bad input. */
export function parseRegistrationQuery(params: Params, ctx: LdContext): RegistrationQuery {
  const selection = parseSelection(params, ctx, { requireNarrowing: false });
  const narrowed = selection.entities?.[0]?.types !== undefined || selection.attrs !== undefined || selection.q !== undefined || selection.geo !== undefined;
  // 5.10.2.4 (and Table 6.8.3.2-1): at least one of type, attrs, q or a geo-query "shall be provided", else
  // BadRequestData "too wide query"; TP/NGSI-LD/CS/DISC/037_02_01 expects that 400 for a GET without parameters.
  // ids, csf, scopeQ or a temporal query do not count (5.10.2.3: ids alone cannot discover registrations).
  if (!narrowed) {
    const only = selection.entities?.[0]?.ids || selection.entities?.[0]?.idPattern ? 'Entity ids or an idPattern alone cannot discover registrations: ' : 'Too wide a query: ';
    throw badRequest(`${only}give at least one of type, attrs, q or a geo-query (georel, geometry, coordinates) (clauses 5.10.2.3, 5.10.2.4)`);
  }
  const query: RegistrationQuery = { selection };
  const temporal = parseTemporalQParams(params);
  if (temporal) query.temporal = temporal;
  if (params.csf !== undefined) query.csf = parseCsf(params.csf, ctx);
  const datasetIds = list(params, 'datasetId');
  if (datasetIds) query.datasetIds = datasetIds.map(checkDatasetId);
  return query;
}

/** 5.12 compares datasetIds as given: URIs, or "@none" for the default instance (4.5.5). */
function checkDatasetId(id: string): string {
  if (id !== '@none' && !isUri(id)) throw badRequest(`datasetId ${JSON.stringify(id)} is neither a URI nor "@none" (clauses 4.5.5, 5.12)`);
  return id;
}

/** Whether the registration satisfies every condition of the query (5.10.2.4) at `now` (epoch ms). */
export function matchesRegistrationQuery(reg: StoredRegistration, query: RegistrationQuery, now: number): boolean {
  const { spec } = reg;
  const sel = query.selection;
  if (!filtersOf(query).some((f) => matchesRegistration(spec, f, now))) return false;
  if (!matchesTemporal(spec, query.temporal)) return false;
  if (sel.geo && !mayContain(spec, sel.geo)) return false;
  if (sel.scopeQ && !matchesScopeQ(sel.scopeQ, spec.scope === undefined ? undefined : typeof spec.scope === 'string' ? [spec.scope] : spec.scope)) return false;
  if (query.csf && !matchesQ(query.csf, csfEntity(reg))) return false;
  return true;
}

/** The clause 5.12 filters of a query, one per EntitySelector (a subscription may give several: one suffices). */
export function filtersOf(query: RegistrationQuery): RegistrationFilter[] {
  const sel = query.selection;
  // 5.10.2.4: attributes of q and of the geo-query match RegistrationInfo like those of attrs.
  const attrs = query.attrs ?? [...(sel.attrs ?? []), ...(sel.q ? qAttributes(sel.q) : []), ...(sel.geo ? [sel.geo.geoproperty] : [])];
  const selectors = sel.entities?.length ? sel.entities : [{}];
  return selectors.map((s) => ({ ids: s.ids, idPattern: s.idPattern, types: s.types, attrs, datasetIds: query.datasetIds }));
}

/**
 * 5.10.2.4: without a temporal query only registrations of latest information (no intervals) match; with one, the
 * interval its timeproperty concerns must be present and fit.
 */
export function matchesTemporal(spec: RegistrationSpec, t: RegistrationTemporalQuery | undefined): boolean {
  if (!t) return spec.observationInterval === undefined && spec.managementInterval === undefined;
  const interval = t.timeproperty === 'observedAt' ? spec.observationInterval : spec.managementInterval;
  if (!interval) return false;
  const start = Date.parse(interval.startAt);
  const end = interval.endAt === undefined ? Infinity : Date.parse(interval.endAt);
  const at = Date.parse(t.timeAt);
  switch (t.timerel) {
    case 'before':
      return start <= at;
    case 'after':
      return end >= at;
    case 'between':
      return start <= Date.parse(t.endTimeAt!) && end >= at;
  }
}

/**
 * 5.10.2.4: the geo-query matches when the registration's location "possibly contains locations that would match",
 * judged by bounding boxes; a registration without location may hold entities anywhere.
 */
function mayContain(spec: RegistrationSpec, geo: GeoQuery): boolean {
  const location = spec.location && asGeometry(spec.location);
  if (!location) return true;
  const box = queryBoundingBox(geo);
  const own = geometryBBox(location);
  if (!box || !own) return true;
  return own[0] <= box[2] && box[0] <= own[2] && own[1] <= box[3] && box[1] <= own[3];
}

/** The registration as an entity a q can be evaluated on: members and Context Source Properties as Properties. */
function csfEntity(reg: StoredRegistration): Entity {
  const attrs: Record<string, Attribute[]> = {};
  const put = (name: string, value: unknown) => {
    if (value !== undefined) attrs[name] = [{ type: 'Property', value, createdAt: reg.createdAt, modifiedAt: reg.modifiedAt }];
  };
  const spec = reg.spec as unknown as Record<string, unknown>;
  for (const member of CSF_MEMBERS) put(CSF_MEMBER + member, spec[member]);
  for (const [name, value] of Object.entries(reg.spec.properties ?? {})) {
    // A Context Source Property given as an NGSI-LD Property ({type, value}) is compared by its value.
    const v = typeof value === 'object' && value !== null && 'value' in value ? (value as { value: unknown }).value : value;
    put(name, v);
  }
  return { id: reg.id, type: ['ContextSourceRegistration'], createdAt: reg.createdAt, modifiedAt: reg.modifiedAt, attrs };
}
