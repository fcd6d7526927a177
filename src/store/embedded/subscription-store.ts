import type { Database, RootDatabase } from 'lmdb';
import { alreadyExists, NgsiError } from '../../common/errors.js';
import type { StoredSubscription } from '../../model/subscription.js';
import type { SubscriptionMutation, SubscriptionPage, SubscriptionStore } from '../subscription-store.js';
import { deepFreeze, keyProblem } from './embedded-store.js';

/** A stored row: `seq` orders subscriptions by creation, across restarts. */
interface Row {
  seq: number;
  subscription: StoredSubscription;
}

/**
 * Opens the `subscriptions` database in the entity store's lmdb environment (EmbeddedEntityStore.environment), so
 * both share one file, one fsync'd commit path and the durability settings made there. The environment stays owned
 * by the entity store, which closes it.
 */
export function openEmbeddedSubscriptionStore(root: RootDatabase): EmbeddedSubscriptionStore {
  return new EmbeddedSubscriptionStore(root.openDB<Row, [string, string]>({ name: 'subscriptions', encoding: 'json' }));
}

/**
 * Subscriptions are few next to entities and read on every Query Subscriptions, so all of them are kept decoded in
 * memory (per tenant, in creation order) beside lmdb, which is the truth: the memory copy changes only after a
 * commit is durable, and is rebuilt from lmdb on open.
 */
export class EmbeddedSubscriptionStore implements SubscriptionStore {
  private readonly tenants = new Map<string, Map<string, StoredSubscription>>();
  private seq = 0;
  private closed = false;

  constructor(private readonly db: Database<Row, [string, string]>) {
    const rows = [...db.getRange()].map(({ value }) => value).sort((a, b) => a.seq - b.seq);
    for (const row of rows) {
      this.seq = Math.max(this.seq, row.seq);
      this.remember(row.subscription.tenant, row.subscription.id, deepFreeze(row.subscription));
    }
  }

  async create(subscription: StoredSubscription): Promise<void> {
    await this.mutate(subscription.tenant, subscription.id, (current) => {
      if (current) throw alreadyExists(`Subscription ${subscription.id} already exists`);
      return { change: { kind: 'put', subscription }, result: undefined };
    });
  }

  async get(tenant: string, id: string): Promise<StoredSubscription | undefined> {
    this.assertOpen();
    return this.tenants.get(tenant)?.get(id);
  }

  async mutate<R>(tenant: string, id: string, decide: (current: StoredSubscription | undefined) => SubscriptionMutation<R>): Promise<R> {
    this.assertOpen();
    const problem = keyProblem(tenant, id, 'subscription id');
    if (problem) throw new NgsiError('BadRequestData', problem);
    const key: [string, string] = [tenant, id];
    let outcome: { ok: true; result: R } | { ok: false; error: unknown } | undefined;
    let wrote = false;
    await this.db.transaction(() => {
      // Read inside the write transaction: it sees the writes of earlier callbacks of the same batch.
      const row = this.db.get(key);
      try {
        const mutation = decide(row?.subscription);
        const { change } = mutation;
        // Everything that may throw happens before the write: a throw escaping the callback would not roll back.
        if (change.kind === 'put') {
          const s = change.subscription;
          if (s.id !== id || s.tenant !== tenant) throw new Error(`mutate(${tenant}, ${id}) decided to put subscription ${s.tenant}/${s.id}`);
          this.db.put(key, { seq: row?.seq ?? ++this.seq, subscription: s });
          wrote = true;
        } else if (change.kind === 'delete' && row) {
          this.db.remove(key);
          wrote = true;
        }
        outcome = { ok: true, result: mutation.result };
      } catch (error) {
        outcome = { ok: false, error };
      }
    });
    // Durable now. Re-reading the committed row (rather than keeping what was written) keeps memory right when
    // several mutations of this subscription shared the commit, whatever order their promises resume in.
    if (wrote) {
      const committed = this.db.get(key);
      if (committed) this.remember(tenant, id, deepFreeze(committed.subscription));
      else this.forget(tenant, id);
    }
    if (!outcome) throw new Error('lmdb transaction callback did not run');
    if (!outcome.ok) throw outcome.error;
    return outcome.result;
  }

  async delete(tenant: string, id: string): Promise<boolean> {
    return this.mutate(tenant, id, (current) => (current ? { change: { kind: 'delete' }, result: true } : { change: { kind: 'none' }, result: false }));
  }

  async list(tenant: string, page: { limit: number; offset: number }): Promise<SubscriptionPage> {
    this.assertOpen();
    const subs = this.tenants.get(tenant);
    if (!subs) return { items: [], count: 0 };
    return { items: [...subs.values()].slice(page.offset, page.offset + page.limit), count: subs.size };
  }

  async all(): Promise<StoredSubscription[]> {
    this.assertOpen();
    return [...this.tenants.values()].flatMap((subs) => [...subs.values()]);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Replacing a Map entry keeps its position, so an update keeps the creation order. */
  private remember(tenant: string, id: string, subscription: StoredSubscription): void {
    let subs = this.tenants.get(tenant);
    if (!subs) this.tenants.set(tenant, (subs = new Map()));
    subs.set(id, subscription);
  }

  private forget(tenant: string, id: string): void {
    const subs = this.tenants.get(tenant);
    if (!subs) return;
    subs.delete(id);
    if (subs.size === 0) this.tenants.delete(tenant);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the subscription store is closed');
  }
}
