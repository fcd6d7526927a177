/**
 * The stored subscription (clauses 5.2.12-5.2.15, 5.2.33). What the client sent is kept member by member so that it
 * can be rendered back, with every *name* in it expanded: Retrieve Subscription compacts with the @context of the GET
 * request (clause 6.3.5; TP/NGSI-LD/CI/SUB/029_05_02 expects expanded types when no Link header is given), and a PATCH
 * may come with another @context than the create did. The parsed queries are stored beside them, so that the compiled
 * form (compiled.ts) is rebuilt at start without processing any @context, a remote one being possibly unreachable.
 */
import type { ContextDefinition } from '../jsonld/types.js';
import type { KeyValue } from '../notifications/types.js';
import type { GeoQuery } from '../query/geo-query.js';
import type { QExpression } from '../query/q-ast.js';
import type { ScopeQuery } from '../query/scope-q.js';
import type { TemporalQ } from '../query/temporal-q.js';

/** Clause 5.2.12 notificationTrigger values. */
export type Trigger = 'entityCreated' | 'entityUpdated' | 'entityDeleted' | 'attributeCreated' | 'attributeUpdated' | 'attributeDeleted';
import type { TypeSelector } from '../query/type-selector.js';

export type SubscriptionStatus = 'active' | 'paused' | 'expired';

/** An EntitySelector as given, its type selection parsed with names expanded ("*": every type). */
export interface SelectorSpec {
  id?: string | string[];
  idPattern?: string;
  type: TypeSelector | '*';
}

/** A GeoQuery as given; geoproperty expanded. The parsed form is SubscriptionQueries.geo. */
export interface GeoQSpec {
  georel: string;
  geometry: string;
  coordinates: unknown;
  geoproperty?: string;
}

/** Endpoint (5.2.15); timeout and cooldown in milliseconds, as the client gives them. */
export interface EndpointSpec {
  uri: string;
  accept?: 'application/json' | 'application/ld+json' | 'application/geo+json';
  receiverInfo?: KeyValue[];
  notifierInfo?: KeyValue[];
  timeout?: number;
  cooldown?: number;
}

/** NotificationParams (5.2.14.1) without the output-only members; attribute names expanded. */
export interface NotificationSpec {
  attributes?: string[];
  /** "id", "type" and "scope" stay as they are; attribute names are expanded. */
  pick?: string[];
  omit?: string[];
  format?: 'normalized' | 'concise' | 'simplified' | 'keyValues';
  sysAttrs?: boolean;
  showChanges?: boolean;
  join?: 'flat' | 'inline' | '@none';
  joinLevel?: number;
  endpoint: EndpointSpec;
}

/** Subscription members (Table 5.2.12-1) but id and type; names expanded, everything else as given. */
export interface SubscriptionSpec {
  subscriptionName?: string;
  description?: string;
  entities?: SelectorSpec[];
  watchedAttributes?: string[];
  notificationTrigger?: Trigger[];
  /** The query text as given; its parsed form is SubscriptionQueries.q. */
  q?: string;
  geoQ?: GeoQSpec;
  scopeQ?: string;
  /** CSource subscriptions only (5.2.12, 5.11.2.4): which registrations of temporal information match. */
  temporalQ?: TemporalQ;
  csf?: string;
  datasetId?: string[];
  lang?: string;
  /** Expanded attribute names (given as a comma-separated string). */
  expandValues?: string[];
  jsonKeys?: string[];
  expiresAt?: string;
  isActive?: boolean;
  /** Seconds. */
  throttling?: number;
  /** Seconds. */
  timeInterval?: number;
  jsonldContext?: string;
  localOnly?: boolean;
  splitEntities?: boolean;
  ngsildConformance?: string;
  notification: NotificationSpec;
}

/** The parsed queries, plain JSON with expanded names (src/query). */
export interface SubscriptionQueries {
  q?: QExpression;
  geo?: GeoQuery;
  scopeQ?: ScopeQuery;
}

/** The read-only delivery members of NotificationParams (5.2.14.2). */
export interface DeliveryStats {
  timesSent: number;
  timesFailed: number;
  lastNotification?: string;
  lastSuccess?: string;
  lastFailure?: string;
  /** Outcome of the last attempt; absent before the first. */
  status?: 'ok' | 'failed';
}

export interface StoredSubscription {
  id: string;
  tenant: string;
  spec: SubscriptionSpec;
  queries: SubscriptionQueries;
  /** The @context of the creating request (the core context URL when it had none): notifications default to it. */
  context: ContextDefinition;
  createdAt: string;
  modifiedAt: string;
  delivery: DeliveryStats;
}

export const NO_DELIVERIES: DeliveryStats = Object.freeze({ timesSent: 0, timesFailed: 0 });

/** Clause 5.2.12 status: expired once expiresAt has passed, paused while isActive is false, else active. */
export function statusOf(spec: Pick<SubscriptionSpec, 'expiresAt' | 'isActive'>, now: number): SubscriptionStatus {
  if (spec.expiresAt !== undefined && Date.parse(spec.expiresAt) <= now) return 'expired';
  return spec.isActive === false ? 'paused' : 'active';
}
