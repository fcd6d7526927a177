/**
 * The broker's internal entity model: NGSI-LD normalized form with every name expanded to its IRI.
 * Stores persist exactly this; the HTTP layer parses requests into it and renders responses from it.
 *
 * Names (attribute names, sub-attribute names, entity types, vocab values, keys inside compound values)
 * are expanded IRIs. Entity ids, relationship objects and datasetIds are kept as the client sent them
 * (they are @id-typed, not vocabulary-relative). Timestamps are ISO 8601 strings in UTC.
 */

export const ATTRIBUTE_TYPES = [
  'Property',
  'Relationship',
  'GeoProperty',
  'LanguageProperty',
  'VocabProperty',
  'JsonProperty',
  'ListProperty',
  'ListRelationship',
] as const;

export type AttributeType = (typeof ATTRIBUTE_TYPES)[number];

/** One attribute instance. Exactly one value member is set, the one its type calls for. */
export interface Attribute {
  type: AttributeType;
  /** Property: a JSON value; object keys inside it are expanded. GeoProperty: a GeoJSON geometry, kept as is. */
  value?: unknown;
  /** Relationship: target entity id, or several. */
  object?: string | string[];
  /** Relationship/ListRelationship: expanded entity type(s) of the target (clause 4.5.3). */
  objectType?: string | string[];
  /** LanguageProperty: language tag to string (or strings); "@none" for the default. */
  languageMap?: Record<string, string | string[]>;
  /** VocabProperty: expanded IRI(s). */
  vocab?: string | string[];
  /** JsonProperty: raw JSON, never expanded. */
  json?: unknown;
  /** ListProperty: ordered values (compound keys expanded, like Property values). */
  valueList?: unknown[];
  /** ListRelationship: ordered target entity ids. */
  objectList?: string[];
  /** Property: datatype IRI of the value (clause 4.5.2.3 "valueType"), expanded. */
  valueType?: string;
  datasetId?: string;
  observedAt?: string;
  unitCode?: string;
  createdAt: string;
  modifiedAt: string;
  /** Sub-attributes (properties of properties / relationships) by expanded name. */
  sub?: Record<string, Attribute>;
}

export interface Entity {
  id: string;
  /** Expanded entity types: at least one, no duplicates. */
  type: string[];
  scope?: string[];
  createdAt: string;
  modifiedAt: string;
  /**
   * Attributes by expanded name. Each array holds the instances of that attribute:
   * at most one without datasetId (the default instance) and distinct datasetIds otherwise.
   */
  attrs: Record<string, Attribute[]>;
}

/** The default tenant: requests with no NGSILD-Tenant header (clause 6.3.14). */
export const DEFAULT_TENANT = '';
