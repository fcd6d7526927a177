import type { StoredRegistration } from '../model/registration.js';

/** What a registration mutation decides, given the registration as it is now (see EntityStore.mutate). */
export type RegistrationChange = { kind: 'put'; registration: StoredRegistration } | { kind: 'delete' } | { kind: 'none' };

export interface RegistrationMutation<R> {
  change: RegistrationChange;
  result: R;
}

/**
 * Context Source Registrations per tenant (clauses 5.9, 5.10). Every backend implements this; writes resolve once
 * durable. Registrations handed out are immutable values (a backend may share and freeze them).
 *
 * Registrations are few next to entities and every distributed operation looks at all of a tenant's, so the
 * contract is "all of a tenant, in creation order"; the service filters and pages (src/registrations/service.ts).
 */
export interface RegistrationStore {
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
