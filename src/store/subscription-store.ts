import type { StoredSubscription } from '../model/subscription.js';

/** What a subscription mutation decides, given the subscription as it is now (see EntityStore.mutate). */
export type SubscriptionChange = { kind: 'put'; subscription: StoredSubscription } | { kind: 'delete' } | { kind: 'none' };

export interface SubscriptionMutation<R> {
  change: SubscriptionChange;
  result: R;
}

export interface SubscriptionPage {
  items: StoredSubscription[];
  /** Subscriptions of the tenant in all. */
  count: number;
}

/**
 * Subscriptions per tenant (clause 5.8). Every backend implements this; writes resolve once durable. Subscriptions
 * handed out are immutable values (a backend may share and freeze them), as with EntityStore.
 */
export interface SubscriptionStore {
  /** Adds a new subscription (its `tenant` and `id` are the key); NgsiError AlreadyExists when the id is taken. */
  create(subscription: StoredSubscription): Promise<void>;

  get(tenant: string, id: string): Promise<StoredSubscription | undefined>;

  /**
   * Atomic read-modify-write of one subscription: `decide` is pure and synchronous and may be called again on
   * contention; what it throws rejects the promise with nothing written. A put keeps the subscription's place in
   * the creation order.
   */
  mutate<R>(tenant: string, id: string, decide: (current: StoredSubscription | undefined) => SubscriptionMutation<R>): Promise<R>;

  /** False when there was no such subscription. */
  delete(tenant: string, id: string): Promise<boolean>;

  /** A page of the tenant's subscriptions in creation order, and how many the tenant has. */
  list(tenant: string, page: { limit: number; offset: number }): Promise<SubscriptionPage>;

  /** Every subscription of every tenant, for the subscription engine at start. */
  all(): Promise<StoredSubscription[]>;

  close(): Promise<void>;
}
