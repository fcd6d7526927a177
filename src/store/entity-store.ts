import type { Entity } from '../model/entity.js';
import type { EntityPage, EntityQuery } from '../query/entity-query.js';
import type { LoggedChange } from './change-log.js';

/** A committed change of one entity, as the change log keeps it. */
export type EntityChange = LoggedChange<Entity>;

/**
 * What a mutation decides, given the entity as it is now.
 * `put` writes the entity (creating it when absent), `delete` removes it, `none` leaves it untouched.
 */
export type Change = { kind: 'put'; entity: Entity } | { kind: 'delete' } | { kind: 'none' };

export interface Mutation<R> {
  change: Change;
  /** Handed back to the caller of mutate() once the change is durable. */
  result: R;
}

/**
 * Current state of entities, per tenant. Every backend (embedded, mongo) implements this; services
 * never know which one runs. All names in entities are expanded (see model/entity.ts).
 *
 * Entities are immutable values: a backend may share (and freeze) the objects it hands out and the ones
 * `decide` returns, so callers build new objects instead of changing the ones they got. That lets a
 * backend cache decoded entities, and lets callers cache what they derive from an entity by its identity.
 */
export interface EntityStore {
  /** Whether the tenant exists. The default tenant ('') always exists; others are created by their first write. */
  hasTenant(tenant: string): Promise<boolean>;

  get(tenant: string, id: string): Promise<Entity | undefined>;

  /**
   * Atomic read-modify-write of one entity. `decide` gets the current entity (undefined if absent) and
   * must be a pure, synchronous function: a backend may call it again if the entity changed
   * concurrently. The promise resolves once the change is durable, with `decide`'s result; an
   * exception thrown by `decide` rejects it and nothing is written.
   */
  mutate<R>(tenant: string, id: string, decide: (current: Entity | undefined) => Mutation<R>): Promise<R>;

  /**
   * Entities matching a query plan (src/query/entity-query.ts), a page of them in id order unless the query
   * orders otherwise, and their total count when asked.
   */
  query(tenant: string, query: EntityQuery): Promise<EntityPage>;

  /** Expanded entity types that at least one entity of the tenant has (GET /types, 5.7.5). */
  typeNames(tenant: string): Promise<string[]>;

  /** Expanded attribute names that at least one entity of the tenant has (GET /attributes, 5.7.8). */
  attributeNames(tenant: string): Promise<string[]>;

  /**
   * The change log, for subscriptions: while logging is on, every committed change is recorded in the same
   * atomic write as the change itself, so a crash can never separate a change from its notification. Changes
   * stay until acknowledged; after a restart the unacknowledged ones are read again (at-least-once).
   */
  setChangeLogging(on: boolean): void;
  /** Logged changes with seq > afterSeq, in commit order, at most `limit`. */
  readChanges(afterSeq: number, limit: number): Promise<EntityChange[]>;
  /** Drops logged changes up to and including `upToSeq`: their notifications are safely queued. */
  ackChanges(upToSeq: number): Promise<void>;
  /** Calls `listener` after commits that logged changes; returns the unsubscribe function. */
  onChanges(listener: () => void): () => void;

  close(): Promise<void>;
}
