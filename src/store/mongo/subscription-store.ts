import type { StoredSubscription } from '../../model/subscription.js';
import type { SubscriptionMutation, SubscriptionPage, SubscriptionStore } from '../subscription-store.js';
import type { RecordChange } from './record-store.js';
import { MongoRecordStore } from './record-store.js';

/**
 * Subscriptions in the `subscriptions` collection. Unlike the embedded store nothing is kept in memory: several
 * broker instances share the collection, and each reads what the others wrote.
 */
export class MongoSubscriptionStore implements SubscriptionStore {
  constructor(private readonly records: MongoRecordStore<StoredSubscription>) {}

  create(subscription: StoredSubscription): Promise<void> {
    return this.records.create(subscription);
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
    return this.records.delete(tenant, id);
  }

  async list(tenant: string, page: { limit: number; offset: number }): Promise<SubscriptionPage> {
    const [items, count] = await Promise.all([this.records.list(tenant, page), this.records.count(tenant)]);
    return { items, count };
  }

  all(): Promise<StoredSubscription[]> {
    return this.records.all();
  }

  async close(): Promise<void> {
    // The connection belongs to the stores as a whole (see openMongoStores).
  }
}
