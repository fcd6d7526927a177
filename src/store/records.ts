import { alreadyExists } from '../common/errors.js';
import type { StoredRegistration } from '../model/registration.js';
import type { StoredSubscription } from '../model/subscription.js';
import { WithChangeLog, type ChangeLog } from './change-log.js';
import type { RegistrationMutation, RegistrationStore } from './registration-store.js';
import type { SubscriptionMutation, SubscriptionPage, SubscriptionStore } from './subscription-store.js';

/** `unlogged`: a put kept off the change log (statistics nobody is notified of). */
export type RecordChange<T> = { kind: 'put'; value: T; unlogged?: boolean } | { kind: 'delete' } | { kind: 'none' };

/**
 * Tenant-scoped records (subscriptions, registrations) with a creation order, atomic read-modify-write and, for
 * registrations, a change log written with each change: what each backend implements once (MongoRecordStore,
 * EmbeddedRecordStore) and the subscription and registration stores below are made of.
 */
export interface Records<T extends { tenant: string; id: string }> {
  get(tenant: string, id: string): Promise<T | undefined>;
  /** As SubscriptionStore.mutate; a put keeps the creation order. */
  mutate<R>(tenant: string, id: string, decide: (current: T | undefined) => { change: RecordChange<T>; result: R }): Promise<R>;
  /** The tenant's records in creation order, optionally one page of them. */
  list(tenant: string, page?: { limit: number; offset: number }): Promise<T[]>;
  count(tenant: string): Promise<number>;
  all(): Promise<T[]>;
  /** Written with each logged change (see RecordChange); absent when the records keep none. */
  readonly changeLog?: ChangeLog<T>;
  close(): Promise<void>;
}

function deleteRecord<T extends { tenant: string; id: string }>(records: Records<T>, tenant: string, id: string): Promise<boolean> {
  return records.mutate(tenant, id, (current) => (current ? { change: { kind: 'delete' }, result: true } : { change: { kind: 'none' }, result: false }));
}

/** Subscriptions (and CSource subscriptions) kept as records of either backend. */
export class RecordSubscriptionStore implements SubscriptionStore {
  constructor(private readonly records: Records<StoredSubscription>) {}

  async create(subscription: StoredSubscription): Promise<void> {
    await this.records.mutate(subscription.tenant, subscription.id, (current) => {
      if (current) throw alreadyExists(`Subscription ${subscription.id} already exists`);
      return { change: { kind: 'put', value: subscription }, result: undefined };
    });
  }

  get(tenant: string, id: string): Promise<StoredSubscription | undefined> {
    return this.records.get(tenant, id);
  }

  mutate<R>(tenant: string, id: string, decide: (current: StoredSubscription | undefined) => SubscriptionMutation<R>): Promise<R> {
    return this.records.mutate(tenant, id, (current) => {
      const { change, result } = decide(current);
      const mapped: RecordChange<StoredSubscription> = change.kind === 'put' ? { kind: 'put', value: change.subscription } : change;
      return { change: mapped, result };
    });
  }

  delete(tenant: string, id: string): Promise<boolean> {
    return deleteRecord(this.records, tenant, id);
  }

  async list(tenant: string, page: { limit: number; offset: number }): Promise<SubscriptionPage> {
    const [items, count] = await Promise.all([this.records.list(tenant, page), this.records.count(tenant)]);
    return { items, count };
  }

  all(): Promise<StoredSubscription[]> {
    return this.records.all();
  }

  close(): Promise<void> {
    return this.records.close();
  }
}

/** Context Source Registrations and their change log, kept as records of either backend. */
export class RecordRegistrationStore extends WithChangeLog<StoredRegistration> implements RegistrationStore {
  protected readonly changeLog: ChangeLog<StoredRegistration>;

  constructor(private readonly records: Records<StoredRegistration>) {
    super();
    if (!records.changeLog) throw new Error('registrations are kept with a change log');
    this.changeLog = records.changeLog;
  }

  async create(registration: StoredRegistration): Promise<void> {
    await this.records.mutate(registration.tenant, registration.id, (current) => {
      if (current) throw alreadyExists(`CSourceRegistration ${registration.id} already exists (clause 5.9.2.4)`);
      return { change: { kind: 'put', value: registration }, result: undefined };
    });
  }

  get(tenant: string, id: string): Promise<StoredRegistration | undefined> {
    return this.records.get(tenant, id);
  }

  mutate<R>(tenant: string, id: string, decide: (current: StoredRegistration | undefined) => RegistrationMutation<R>): Promise<R> {
    return this.records.mutate(tenant, id, (current) => {
      const { change, result } = decide(current);
      const mapped: RecordChange<StoredRegistration> = change.kind === 'put' ? { kind: 'put', value: change.registration, unlogged: change.unlogged } : change;
      return { change: mapped, result };
    });
  }

  delete(tenant: string, id: string): Promise<boolean> {
    return deleteRecord(this.records, tenant, id);
  }

  list(tenant: string): Promise<StoredRegistration[]> {
    return this.records.list(tenant);
  }

  all(): Promise<StoredRegistration[]> {
    return this.records.all();
  }

  close(): Promise<void> {
    return this.records.close();
  }
}
