import type { Attribute } from '../model/entity.js';
import type { TypeSelector } from '../query/type-selector.js';

/**
 * History of attributes (Temporal Representation of Entities, clauses 4.5.6-4.5.9, 5.6.11-5.6.16, 5.7.3-5.7.4):
 * the driver interface for history, next to EntityStore for current state. Every backend implements both; the
 * services never know which one runs. Names are expanded, as in EntityStore.
 */

/** One recorded attribute instance (clause 4.5.7). */
export interface TemporalInstance {
  /** urn:ngsi-ld:<uuid>, unique per instance; the handle for PATCH/DELETE of one instance. */
  instanceId: string;
  /**
   * The instance as it was: value member, observedAt, unitCode, datasetId, sub-attributes, createdAt/modifiedAt.
   * For a deletion the value member holds "urn:ngsi-ld:null" (clause 4.5.7) and `deletedAt` is set.
   */
  attribute: Attribute;
  deletedAt?: string;
}

export type TimeProperty = 'observedAt' | 'createdAt' | 'modifiedAt' | 'deletedAt';

/** Which instances of one attribute (clause 4.11 timerel, lastN, 4.5.5 datasetId). */
export interface InstanceQuery {
  timeproperty: TimeProperty;
  /** Inclusive lower bound (ISO 8601 DateTime). */
  from?: string;
  /** Exclusive upper bound (ISO 8601 DateTime). */
  to?: string;
  /** Only these datasets; `undefined` in the set stands for the default instance. Absent: all. */
  datasetIds?: ReadonlySet<string | undefined>;
  /** The newest `lastN` in the range (returned newest first). Absent: oldest first. */
  lastN?: number;
  /** At most this many instances (a page of a long history). */
  limit: number;
  /**
   * Only instances for which this holds (the q and geo-query of a temporal query, 5.7.4.4). A backend evaluates it in
   * memory on each instance of the range, after its own filters and before `limit` and `lastN` count, so that a page
   * is `limit` matching instances; memory stays bounded by `limit`, the time spent by the size of the range.
   */
  where?: (instance: TemporalInstance) => boolean;
}

/** What the history knows of an entity as a whole. */
export interface TemporalEntity {
  id: string;
  type: string[];
  scope?: string[];
  createdAt: string;
  modifiedAt: string;
  /** Set once the entity was deleted; its history stays until deleted through the temporal API. */
  deletedAt?: string;
}

export interface TemporalEntityFilter {
  ids?: string[];
  idPattern?: string;
  types?: TypeSelector;
  /** Expanded attribute names; the entity has history of at least one. */
  attrs?: string[];
}

export interface TemporalStore {
  getEntity(tenant: string, id: string): Promise<TemporalEntity | undefined>;
  /** Entities with history, in id order, paged by keyset (`after`: the last id of the previous page). */
  listEntities(tenant: string, filter: TemporalEntityFilter, page: { limit: number; after?: string }): Promise<TemporalEntity[]>;
  /** Expanded names of the attributes with history for the entity. */
  attributes(tenant: string, id: string): Promise<string[]>;
  /**
   * Instances of one attribute, ordered by the time property (oldest first, or newest first with lastN). A backend
   * reads only the requested range: memory and time must not grow with the length of the whole history.
   */
  instances(tenant: string, id: string, attr: string, query: InstanceQuery): Promise<TemporalInstance[]>;
  /** Adds instances through the temporal API (5.6.11, 5.6.12), creating the temporal entity when absent. */
  append(tenant: string, entity: { id: string; type: string[]; scope?: string[] }, instances: Record<string, TemporalInstance[]>): Promise<void>;
  /** Replaces one instance's content (5.6.15); false when there is none with that id. */
  updateInstance(tenant: string, id: string, attr: string, instanceId: string, attribute: Attribute): Promise<boolean>;
  /** Deletes one instance (5.6.16); false when there is none with that id. */
  deleteInstance(tenant: string, id: string, attr: string, instanceId: string): Promise<boolean>;
  /** Deletes an attribute's history (5.6.14): one dataset (`undefined`: the default instance) or, with all, every one. */
  deleteAttribute(tenant: string, id: string, attr: string, target: { datasetId?: string; all: boolean }): Promise<boolean>;
  /** Deletes an entity's whole history (5.6.13). */
  deleteEntity(tenant: string, id: string): Promise<boolean>;
  /** Retention: drops instances recorded before `cutoff`; the number dropped. */
  purgeBefore(cutoff: string): Promise<number>;
}
