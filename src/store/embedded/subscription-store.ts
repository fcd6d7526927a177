import type { RootDatabase } from 'lmdb';
import type { StoredSubscription } from '../../model/subscription.js';
import { RecordSubscriptionStore } from '../records.js';
import { EmbeddedRecordStore, type RecordRow } from './record-store.js';

/**
 * Opens a subscriptions database (`subscriptions`; `csource-subscriptions` for CSource subscriptions, 5.11, which are
 * Subscriptions 5.2.12 too) in the entity store's lmdb environment (EmbeddedEntityStore.environment), so both share
 * one file, one fsync'd commit path and the durability settings made there. The environment stays owned by the
 * entity store, which closes it.
 */
export function openEmbeddedSubscriptionStore(root: RootDatabase, name = 'subscriptions'): RecordSubscriptionStore {
  const db = root.openDB<RecordRow, [string, string]>({ name, encoding: 'json' });
  return new RecordSubscriptionStore(new EmbeddedRecordStore<StoredSubscription>(db, { what: 'subscription', field: 'subscription' }));
}
