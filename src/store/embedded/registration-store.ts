import type { RootDatabase } from 'lmdb';
import type { StoredRegistration } from '../../model/registration.js';
import { RecordRegistrationStore, RecordSubscriptionStore } from '../records.js';
import { EmbeddedChangeLog } from './change-log.js';
import { EmbeddedRecordStore, type RecordRow } from './record-store.js';
import { openEmbeddedSubscriptionStore } from './subscription-store.js';

/**
 * Opens the `csource-registrations` database and its change log `csource-registration-changes` in the entity store's
 * lmdb environment (EmbeddedEntityStore.environment), sharing its file and fsync'd commits: a change and its log
 * entry commit together. The environment stays owned by the entity store, which closes it.
 */
export function openEmbeddedRegistrationStore(root: RootDatabase): RecordRegistrationStore {
  const db = root.openDB<RecordRow, [string, string]>({ name: 'csource-registrations', encoding: 'json' });
  const changeLog = EmbeddedChangeLog.open<StoredRegistration>(root, 'csource-registration-changes', () => records.assertOpen());
  const records = new EmbeddedRecordStore<StoredRegistration>(db, { what: 'registration', field: 'registration', changeLog });
  return new RecordRegistrationStore(records);
}

/** CSource subscriptions (5.11) are Subscriptions (5.2.12) in their own database `csource-subscriptions`. */
export function openEmbeddedCSourceSubscriptionStore(root: RootDatabase): RecordSubscriptionStore {
  return openEmbeddedSubscriptionStore(root, 'csource-subscriptions');
}
