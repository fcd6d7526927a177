/**
 * The stored Context Source Registration (clauses 5.2.9, 5.2.10, 5.2.8, 5.2.11, 5.2.34). Like src/model/entity.ts
 * and src/model/subscription.ts, every *name* is kept expanded (entity types, propertyNames, relationshipNames, the
 * names of additional Context Source Properties), so that a registration means the same whatever @context its
 * client used and can be rendered back with the @context of any later request. Ids, idPatterns, URIs and values
 * stay as given.
 *
 * The forwarder (src/forwarding) reads this model: `effectiveMode` and `effectiveOperations` give the defaults the
 * spec assumes when a member is absent.
 */
import type { ContextDefinition } from '../jsonld/types.js';
import type { KeyValue } from '../notifications/types.js';

/** Clause 5.2.9 mode, clauses 4.3.6.2 (inclusive, auxiliary) and 4.3.6.3 (exclusive, redirect). */
export const REGISTRATION_MODES = ['inclusive', 'exclusive', 'redirect', 'auxiliary'] as const;
export type RegistrationMode = (typeof REGISTRATION_MODES)[number];

/** Table 4.20-1: the operation names a registration may list. */
export const OPERATION_NAMES = [
  // Context Information Provision
  'createEntity',
  'updateEntity',
  'appendAttrs',
  'updateAttrs',
  'deleteAttrs',
  'deleteEntity',
  'createBatch',
  'upsertBatch',
  'updateBatch',
  'deleteBatch',
  'upsertTemporal',
  'appendAttrsTemporal',
  'deleteAttrsTemporal',
  'updateAttrInstanceTemporal',
  'deleteAttrInstanceTemporal',
  'deleteTemporal',
  'mergeEntity',
  'replaceEntity',
  'replaceAttrs',
  'mergeBatch',
  'purgeEntity',
  // Context Information Consumption
  'retrieveEntity',
  'queryEntity',
  'queryBatch',
  'retrieveTemporal',
  'queryTemporal',
  'retrieveEntityTypes',
  'retrieveEntityTypeDetails',
  'retrieveEntityTypeInfo',
  'retrieveAttrTypes',
  'retrieveAttrTypeDetails',
  'retrieveAttrTypeInfo',
  // Context Information Subscription
  'createSubscription',
  'updateSubscription',
  'retrieveSubscription',
  'querySubscription',
  'deleteSubscription',
  // Support operations for distributed operations
  'retrieveEntityMap',
  'updateEntityMap',
  'deleteEntityMap',
  'createEntityMapQueryEntity',
  'createEntityMapQueryTemporal',
  'retrieveContextSourceIdentity',
] as const;
export type OperationName = (typeof OPERATION_NAMES)[number];

const ASSOCIATION_OPS: readonly OperationName[] = [
  'retrieveEntity',
  'queryEntity',
  'queryBatch',
  'retrieveEntityTypes',
  'retrieveEntityTypeDetails',
  'retrieveEntityTypeInfo',
  'retrieveAttrTypes',
  'retrieveAttrTypeDetails',
  'retrieveAttrTypeInfo',
  'createSubscription',
  'updateSubscription',
  'retrieveSubscription',
  'querySubscription',
  'deleteSubscription',
  'retrieveContextSourceIdentity',
];

/** Table 4.20-2: named operation groups and the operations each stands for. */
export const OPERATION_GROUPS = {
  federationOps: [...ASSOCIATION_OPS, 'retrieveEntityMap', 'updateEntityMap', 'deleteEntityMap', 'createEntityMapQueryEntity'],
  associationOps: ASSOCIATION_OPS,
  updateOps: ['updateEntity', 'updateAttrs', 'replaceEntity', 'replaceAttrs'],
  retrieveOps: ['retrieveEntity', 'queryEntity'],
  redirectionOps: [
    'createEntity',
    'updateEntity',
    'appendAttrs',
    'updateAttrs',
    'deleteAttrs',
    'deleteEntity',
    'mergeEntity',
    'replaceEntity',
    'replaceAttrs',
    'retrieveEntity',
    'queryEntity',
    'purgeEntity',
    'retrieveEntityTypes',
    'retrieveEntityTypeDetails',
    'retrieveEntityTypeInfo',
    'retrieveAttrTypes',
    'retrieveAttrTypeDetails',
    'retrieveAttrTypeInfo',
    'retrieveEntityMap',
    'updateEntityMap',
    'deleteEntityMap',
    'createEntityMapQueryEntity',
    'retrieveContextSourceIdentity',
  ],
} as const satisfies Record<string, readonly OperationName[]>;
export type OperationGroup = keyof typeof OPERATION_GROUPS;

/** EntityInfo (5.2.8): `type` expanded, always an array here (the client may give one string). */
export interface EntityInfo {
  id?: string;
  idPattern?: string;
  type: string[];
}

/** RegistrationInfo (5.2.10); at least one member is present, none is an empty array. Names expanded. */
export interface RegistrationInfo {
  entities?: EntityInfo[];
  propertyNames?: string[];
  relationshipNames?: string[];
}

/** TimeInterval (5.2.11). */
export interface TimeInterval {
  startAt: string;
  endAt?: string;
}

/** RegistrationManagementInfo (5.2.34); timeout and cooldown in milliseconds. */
export interface RegistrationManagementInfo {
  localOnly?: boolean;
  cacheDuration?: string;
  timeout?: number;
  cooldown?: number;
}

/** A GeoJSON geometry as given (clause 4.7), checked by src/common/geometry.ts. */
export type Geometry = { type: string; coordinates?: unknown; geometries?: unknown };

/** Table 5.2.9-1 members but id and type; names expanded, everything else as given. */
export interface RegistrationSpec {
  registrationName?: string;
  description?: string;
  information: RegistrationInfo[];
  /** The tenant to name in requests to the Context Source (not the tenant the registration lives in). */
  tenant?: string;
  observationInterval?: TimeInterval;
  managementInterval?: TimeInterval;
  location?: Geometry;
  observationSpace?: Geometry;
  operationSpace?: Geometry;
  expiresAt?: string;
  endpoint: string;
  contextSourceInfo?: KeyValue[];
  /** As given: one scope or several (clause 4.18). */
  scope?: string | string[];
  /** As given; absent means inclusive (see effectiveMode). */
  mode?: RegistrationMode;
  /** As given: operation names and group names; absent means federationOps (see effectiveOperations). */
  operations?: Array<OperationName | OperationGroup>;
  refreshRate?: string;
  management?: RegistrationManagementInfo;
  contextSourceAlias?: string;
  datasetId?: string[];
  /**
   * Context Source Properties: members beyond those of Table 5.2.9-1, keyed by expanded name, values as given.
   * They are what a csf (clause 4.9 applied to registrations) filters on.
   */
  properties?: Record<string, unknown>;
}

/** The read-only members of Table 5.2.9-2, kept by the broker from the outcomes of distributed operations. */
export interface RegistrationStats {
  timesSent: number;
  timesFailed: number;
  lastSuccess?: string;
  lastFailure?: string;
  /** Outcome of the last distributed operation; absent before the first. */
  status?: 'ok' | 'failed';
}

export interface StoredRegistration {
  id: string;
  /** The tenant the registration was created in (NGSILD-Tenant of the request). */
  tenant: string;
  spec: RegistrationSpec;
  /** The @context of the creating request (the core context URL when it had none). */
  context: ContextDefinition;
  createdAt: string;
  modifiedAt: string;
  stats: RegistrationStats;
}

export const NO_STATS: RegistrationStats = Object.freeze({ timesSent: 0, timesFailed: 0 });

export const CSR_TYPE = 'ContextSourceRegistration';

/** Clause 5.2.9: mode defaults to inclusive. */
export function effectiveMode(spec: Pick<RegistrationSpec, 'mode'>): RegistrationMode {
  return spec.mode ?? 'inclusive';
}

/** The operations a registration supports, groups resolved (clause 4.20: absent means federationOps). */
export function effectiveOperations(spec: Pick<RegistrationSpec, 'operations'>): ReadonlySet<OperationName> {
  const out = new Set<OperationName>();
  for (const op of spec.operations ?? ['federationOps']) {
    if (op in OPERATION_GROUPS) for (const member of OPERATION_GROUPS[op as OperationGroup]) out.add(member);
    else out.add(op as OperationName);
  }
  return out;
}

/** True once expiresAt has passed (`now` in epoch ms): an expired registration matches nothing (5.9.2.4). */
export function isExpired(spec: Pick<RegistrationSpec, 'expiresAt'>, now: number): boolean {
  return spec.expiresAt !== undefined && Date.parse(spec.expiresAt) <= now;
}
