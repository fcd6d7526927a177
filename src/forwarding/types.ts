/**
 * What forwarding needs to know about a matching Context Source Registration (clauses 5.2.9, 4.3.6), independent of
 * how the registration service stores it. Names are expanded IRIs, as everywhere below the HTTP layer.
 */

import type { OperationName, RegistrationMode } from '../model/registration.js';
import type { TypeSelector } from '../query/type-selector.js';

export type { RegistrationMode };

/** A registration that matched an operation, with what it says about the entity in question. */
export interface ContextSource {
  registrationId: string;
  /** Base URI of the source's NGSI-LD interface (the API root /ngsi-ld/v1 is appended). */
  endpoint: string;
  mode: RegistrationMode;
  /** The tenant to name in requests to the source (registration member "tenant", clause 5.2.9); else the request's. */
  tenant?: string;
  /** contextSourceInfo key-value pairs (clauses 4.3.6.5, 4.3.6.6, 6.3.19). */
  info: Array<{ key: string; value: string }>;
  /** contextSourceAlias, used for loop detection (clause 4.3.6.4). */
  alias?: string;
  /** Expanded attribute names the registration offers for this request (propertyNames + relationshipNames); undefined: all. */
  attrs?: string[];
  /** Expanded entity types the registration offers for this request; undefined: any. */
  types?: string[];
  /** Entity ids (and patterns) the registration names for this request; undefined: any. */
  ids?: string[];
  idPatterns?: string[];
  /** The registration's management.timeout (clause 5.2.34), in milliseconds; else the broker's --forward-timeout-ms. */
  timeoutMs?: number;
  /** Operations the registration supports, groups resolved (clause 4.20). */
  operations: ReadonlySet<string>;
}

/** Distributed operation names (clause 4.20, table 4.20-1). */
export type ForwardOperation = OperationName;

/** What a request asks of the registrations: the tenant's registrations matching it are the candidates. */
export interface SourceQuery {
  /** Only registrations supporting it; absent: every mode and operation (the caller checks, e.g. to report Conflict). */
  operation?: ForwardOperation;
  /** Entity ids the request names (Retrieve Entity and the updates name one). */
  ids?: string[];
  idPattern?: string;
  /** Type selection of the request (expanded). */
  types?: TypeSelector;
  /** Expanded attribute names of the request; undefined: all attributes. */
  attrs?: string[];
  /**
   * The request names entity ids but neither it nor this broker knows their type: only EntityInfos with an id or
   * idPattern can match (5.12: a registration naming only other types cannot be said to hold the entity).
   */
  untyped?: boolean;
  /** The Via header of the request: registrations whose contextSourceAlias is in it do not match (4.3.6.4). */
  via?: string;
}

/** Finds the registrations of a tenant that match a request (implemented over the registration service). */
export interface SourceLookup {
  matching(tenant: string, query: SourceQuery): Promise<ContextSource[]>;
  /** Optional: true when the tenant surely has no source at all (known without waiting); false means "maybe". */
  hasNone?(tenant: string): boolean;
}

/**
 * The parts of the triggering request forwarding depends on (clauses 4.3.6.4, 4.3.6.5, 6.3.18): the `Via` chain,
 * `local=true`, and header values for contextSourceInfo entries valued "urn:ngsi-ld:request".
 */
export interface ForwardContext {
  local: boolean;
  /** The Via header of the request as received ('' when absent). */
  via: string;
  /** URL of the request's @context (its Link header), sent on when the registration names no jsonldContext. */
  link?: string;
  header(name: string): string | undefined;
  /** Collects NGSILD-Warning values (clause 6.3.17) for the response. */
  warn(warning: string): void;
}
