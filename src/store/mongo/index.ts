import type { Collection, Document, MongoClient } from 'mongodb';
import type { Entity } from '../../model/entity.js';
import type { StoredRegistration } from '../../model/registration.js';
import type { StoredSubscription } from '../../model/subscription.js';
import { RecordRegistrationStore, RecordSubscriptionStore } from '../records.js';
import { MongoChangeLog, type ChangeDoc } from './change-log.js';
import { connectMongo, type MongoOptions } from './connection.js';
import type { EntityDocument } from './document.js';
import { MongoEntityStore, type TenantDoc } from './entity-store.js';
import { COLLECTIONS, type CollectionName } from './indexes.js';
import { MongoNotificationQueue, type DeadLetterDoc, type OutboxDoc } from './notification-queue.js';
import { MongoRecordStore, type RecordDoc } from './record-store.js';
import { MongoTemporalStore, type InstanceDoc, type TemporalEntityDoc } from './temporal-store.js';
import type { CounterDoc } from './transaction.js';

export type { MongoOptions } from './connection.js';

export interface MongoStores {
  entities: MongoEntityStore;
  subscriptions: RecordSubscriptionStore;
  csourceSubscriptions: RecordSubscriptionStore;
  registrations: RecordRegistrationStore;
  notifications: MongoNotificationQueue;
  temporal: MongoTemporalStore;
  close(): Promise<void>;
}

/** Connects and opens every store of the MongoDB backend over one client; `close` closes the client. */
export async function openMongoStores(options: MongoOptions & { history?: boolean }): Promise<MongoStores> {
  const conn = await connectMongo(options);
  return mongoStoresOver(conn.client, (name) => conn.collection(name), { history: options.history, close: () => conn.close() });
}

/** The stores over given collections (a connected database, or a test's stand-in for one). */
export function mongoStoresOver(
  client: MongoClient,
  collection: <T extends Document>(name: CollectionName) => Collection<T>,
  options: { history?: boolean; close: () => Promise<void> },
): MongoStores {
  const counters = collection<CounterDoc>(COLLECTIONS.counters);
  const changeLog = new MongoChangeLog<Entity>(collection<ChangeDoc>(COLLECTIONS.changes), counters);
  const entities = new MongoEntityStore(client, collection<EntityDocument>(COLLECTIONS.entities), collection<TenantDoc>(COLLECTIONS.tenants), changeLog);
  const temporal = new MongoTemporalStore(client, collection<TemporalEntityDoc>(COLLECTIONS.temporalEntities), collection<InstanceDoc>(COLLECTIONS.temporalInstances));
  if (options.history !== false) entities.attachHistory(temporal);
  const subscriptions = new RecordSubscriptionStore(new MongoRecordStore<StoredSubscription>(collection<RecordDoc>(COLLECTIONS.subscriptions), counters, 'subscription'));
  // Counter shared with the entity subscriptions: it only orders records by creation.
  const csourceSubscriptions = new RecordSubscriptionStore(
    new MongoRecordStore<StoredSubscription>(collection<RecordDoc>(COLLECTIONS.csourceSubscriptions), counters, 'subscription'),
  );
  const registrationLog = new MongoChangeLog<StoredRegistration>(collection<ChangeDoc>(COLLECTIONS.registrationChanges), counters, 'registration-changes');
  // Always on: registration writes are rare, and a deletion at expiry must be notified even before anyone listens.
  registrationLog.setLogging(true);
  const registrations = new RecordRegistrationStore(
    new MongoRecordStore<StoredRegistration>(collection<RecordDoc>(COLLECTIONS.registrations), counters, 'registration', { client, log: registrationLog }),
  );
  const notifications = new MongoNotificationQueue(client, collection<OutboxDoc>(COLLECTIONS.outbox), collection<DeadLetterDoc>(COLLECTIONS.deadLetters), counters);
  return {
    entities,
    subscriptions,
    csourceSubscriptions,
    registrations,
    notifications,
    temporal,
    close: async () => {
      await entities.close();
      await registrations.close();
      await options.close();
    },
  };
}
