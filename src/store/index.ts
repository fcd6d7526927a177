import type { EntityStore } from './entity-store.js';
import { openEmbeddedStore } from './embedded/index.js';
import { openEmbeddedSubscriptionStore } from './embedded/subscription-store.js';
import type { SubscriptionStore } from './subscription-store.js';
import { openEmbeddedQueue } from './embedded/notification-queue.js';
import type { DurableQueue } from '../notifications/types.js';
import { EmbeddedTemporalStore } from './embedded/temporal-store.js';
import type { TemporalStore } from './temporal-store.js';
import { openEmbeddedCSourceSubscriptionStore, openEmbeddedRegistrationStore } from './embedded/registration-store.js';
import type { RegistrationStore } from './registration-store.js';

export type { Change, EntityStore, Mutation } from './entity-store.js';
export type { SubscriptionChange, SubscriptionMutation, SubscriptionPage, SubscriptionStore } from './subscription-store.js';
export type { RegistrationChange, RegistrationMutation, RegistrationStore } from './registration-store.js';
export { EmbeddedEntityStore, openEmbeddedStore } from './embedded/index.js';
export type { InstanceQuery, TemporalEntity, TemporalEntityFilter, TemporalInstance, TemporalStore, TimeProperty } from './temporal-store.js';

export interface StoreConfig {
  store: 'embedded' | 'mongo';
  /** Directory of the embedded store. */
  dataDir: string;
  /** Record attribute history on every entity write (default true); the temporal API works on what is recorded. */
  history?: boolean;
  /** URL of the MongoDB replica set or sharded cluster (store 'mongo'). */
  mongoUrl?: string;
  /** Database of the MongoDB backend (every tenant in it; default musubi). */
  mongoDb?: string;
}

/**
 * Every store of one backend. Members are added here as the broker grows (the notification queue next); `close`
 * closes them all, the entity store last since the embedded backend's environment belongs to it.
 */
export interface Stores {
  entities: EntityStore;
  subscriptions: SubscriptionStore;
  /** Notifications not yet delivered, and dead letters (closed with the environment: nothing of its own to close). */
  notifications: DurableQueue;
  /** History of attributes; every entity change is recorded in it atomically with the change. */
  temporal: TemporalStore;
  /** Context Source Registrations (clauses 5.9, 5.10). */
  registrations: RegistrationStore;
  /**
   * Context Source Registration Subscriptions (clause 5.11): Subscriptions kept apart from the entity ones. Absent
   * for a backend that has none yet: the csourceSubscriptions routes are then not served.
   */
  csourceSubscriptions?: SubscriptionStore;
  close(): Promise<void>;
}

/** Opens the configured backend; services only ever see the store interfaces. */
export async function openStores(config: StoreConfig): Promise<Stores> {
  switch (config.store) {
    case 'embedded': {
      const entities = await openEmbeddedStore({ dataDir: config.dataDir });
      try {
        const subscriptions = openEmbeddedSubscriptionStore(entities.environment);
        const notifications = await openEmbeddedQueue(entities.environment);
        const temporal = EmbeddedTemporalStore.open(entities.environment);
        const registrations = openEmbeddedRegistrationStore(entities.environment);
        const csourceSubscriptions = openEmbeddedCSourceSubscriptionStore(entities.environment);
        if (config.history !== false) entities.attachHistory(temporal);
        return {
          entities,
          subscriptions,
          notifications,
          temporal,
          registrations,
          csourceSubscriptions,
          close: async () => {
            await subscriptions.close();
            await registrations.close();
            await csourceSubscriptions.close();
            await entities.close();
          },
        };
      } catch (error) {
        await entities.close();
        throw error;
      }
    }
    case 'mongo': {
      if (!config.mongoUrl) throw new Error('The MongoDB backend is not available without a URL: give --mongo-url or MUSUBI_MONGO_URL');
      // Loaded on demand: the embedded default never loads the MongoDB driver.
      const { openMongoStores } = await import('./mongo/index.js');
      return openMongoStores({ url: config.mongoUrl, dbName: config.mongoDb ?? 'musubi', history: config.history });
    }
    default:
      throw new Error(`Unknown store backend: ${String(config.store satisfies never)}`);
  }
}

/** The entity store alone, for callers that need nothing else (closing it closes the whole embedded environment). */
export async function openStore(config: StoreConfig): Promise<EntityStore> {
  return (await openStores(config)).entities;
}
