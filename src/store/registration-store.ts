import type { StoredRegistration } from '../model/registration.js';
import type { LoggedChange } from './change-log.js';

/**
 * What a registration mutation decides, given the registration as it is now (see EntityStore.mutate). A put marked
 * `unlogged` stays off the change log: the statistics of Table 5.2.9-2, written on every distributed operation, are
 * not a change anybody is notified of (5.11.7).
 */
export type RegistrationChange = { kind: 'put'; registration: StoredRegistration; unlogged?: boolean } | { kind: 'delete' } | { kind: 'none' };

export interface RegistrationMutation<R> {
  change: RegistrationChange;
  result: R;
}

/** A committed change of one registration, as the change log keeps it (before absent for a creation, after for a deletion). */
export type LoggedRegistrationChange = LoggedChange<StoredRegistration>;

/**
 * The change log of registrations, for CSource subscriptions (5.11.7). Every committed creation, update and deletion
 * (expiry included; not an `unlogged` put) is recorded in the same atomic write as the change itself, so a crash can
 * never separate a change from its CSourceNotification. Unlike the entity log it is always on: registration writes
 * are rare, and a deletion at expiry made while starting, before the notifier runs, must not be lost. Changes stay
 * until acknowledged; after a restart the unacknowledged ones are read again (at-least-once).
 */
export interface RegistrationChangeLog {
  /** Logged changes with seq > afterSeq, in commit order, at most `limit`. */
  readChanges(afterSeq: number, limit: number): Promise<LoggedRegistrationChange[]>;
  /** Drops logged changes up to and including `upToSeq`: their notifications are safely queued. */
  ackChanges(upToSeq: number): Promise<void>;
  /** Calls `listener` after commits that logged changes; returns the unsubscribe function. */
  onChanges(listener: () => void): () => void;
}

/**
 * Context Source Registrations per tenant (clauses 5.9, 5.10). Every backend implements this; writes resolve once
 * durable. Registrations handed out are immutable values (a backend may share and freeze them).
 *
 * Registrations are few next to entities and every distributed operation looks at all of a tenant's, so the
 * contract is "all of a tenant, in creation order"; the service filters and pages (src/registrations/service.ts).
 */
export interface RegistrationStore extends RegistrationChangeLog {
  /** Adds a new registration (its `tenant` and `id` are the key); NgsiError AlreadyExists when the id is taken. */
  create(registration: StoredRegistration): Promise<void>;

  get(tenant: string, id: string): Promise<StoredRegistration | undefined>;

  /**
   * Atomic read-modify-write of one registration: `decide` is pure and synchronous and may be called again on
   * contention; what it throws rejects the promise with nothing written. A put keeps the creation order.
   */
  mutate<R>(tenant: string, id: string, decide: (current: StoredRegistration | undefined) => RegistrationMutation<R>): Promise<R>;

  /** False when there was no such registration. */
  delete(tenant: string, id: string): Promise<boolean>;

  /** Every registration of the tenant, in creation order. */
  list(tenant: string): Promise<StoredRegistration[]>;

  /** Every registration of every tenant (at start, for expiry timers). */
  all(): Promise<StoredRegistration[]>;

  close(): Promise<void>;
}
