import { mongoStoresOver, openMongoStores, type MongoStores } from '../../../src/store/mongo/index.js';
import { MONGO_INDEXES, type CollectionName } from '../../../src/store/mongo/indexes.js';
import { dropDatabase, storeFromEnv, testDatabaseName } from '../../helpers/store-env.js';
import { StandinMongo } from './store-standin.js';

/**
 * The MongoDB backend for the store tests: a real replica set when the environment names one (MUSUBI_STORE=mongo and
 * MUSUBI_MONGO_URL, as in the GitHub workflow), each test with a database of its own; otherwise the in-process
 * stand-in of store-standin.ts, which exercises the backend's logic but is not MongoDB.
 */
export interface TestBackend {
  stores: MongoStores;
  real: boolean;
  close(): Promise<void>;
}

export async function openTestBackend(): Promise<TestBackend> {
  const env = storeFromEnv();
  if (env.store === 'mongo') {
    const dbName = testDatabaseName();
    const stores = await openMongoStores({ url: env.mongoUrl, dbName });
    return {
      stores,
      real: true,
      close: async () => {
        await stores.close();
        await dropDatabase(env.mongoUrl, dbName);
      },
    };
  }
  const standin = new StandinMongo();
  // Collections exist up front with their unique indexes, as ensureIndexes makes them.
  for (const [name, indexes] of Object.entries(MONGO_INDEXES) as [CollectionName, (typeof MONGO_INDEXES)[CollectionName]][]) {
    await (standin.collection(name) as unknown as { createIndexes(i: typeof indexes): Promise<unknown> }).createIndexes(indexes);
  }
  const stores = mongoStoresOver(standin.client, (name) => standin.collection(name), { close: async () => undefined });
  return { stores, real: false, close: () => stores.close() };
}
