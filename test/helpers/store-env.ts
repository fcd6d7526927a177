import { createHash, randomBytes } from 'node:crypto';

/**
 * Which backend the tests that start a whole broker run on: the embedded store unless the environment says
 * MUSUBI_STORE=mongo (or STORE=mongo) with MUSUBI_MONGO_URL (or MONGO_URL), as the GitHub workflow's mongo job does.
 * Each such broker gets its own database, dropped afterwards.
 */
export type StoreSelection = { store: 'embedded' } | { store: 'mongo'; mongoUrl: string };

export function storeFromEnv(env: NodeJS.ProcessEnv = process.env): StoreSelection {
  const store = env.MUSUBI_STORE ?? env.STORE;
  if (store !== 'mongo') return { store: 'embedded' };
  const mongoUrl = env.MUSUBI_MONGO_URL ?? env.MONGO_URL;
  if (!mongoUrl) throw new Error('MUSUBI_STORE=mongo needs MUSUBI_MONGO_URL for the tests');
  return { store: 'mongo', mongoUrl };
}

/** A database name of its own for one test broker: derived from `key` when given (a restart finds it again). */
export function testDatabaseName(key?: string): string {
  const suffix = key === undefined ? randomBytes(8).toString('hex') : createHash('sha256').update(key).digest('hex').slice(0, 16);
  return `musubi_test_${suffix}`;
}

/** Drops a test database; failures are ignored (the CI service container goes away anyway). */
export async function dropDatabase(mongoUrl: string, dbName: string): Promise<void> {
  const { MongoClient } = await import('mongodb');
  const client = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 5000 });
  try {
    await client.db(dbName).dropDatabase();
  } catch {
    // best effort
  } finally {
    await client.close().catch(() => undefined);
  }
}

/**
 * The config members that put an in-process test broker on the backend the environment selects, and the clean-up to
 * run after the broker closed: `startBroker({ ...DEFAULT_CONFIG, ...selected.config, ... })`.
 */
export function brokerStoreFromEnv(key?: string): { config: { store: 'embedded' } | { store: 'mongo'; mongoUrl: string; mongoDb: string }; cleanup(): Promise<void> } {
  const store = storeFromEnv();
  if (store.store !== 'mongo') return { config: { store: 'embedded' }, cleanup: async () => undefined };
  const mongoDb = testDatabaseName(key);
  return { config: { store: 'mongo', mongoUrl: store.mongoUrl, mongoDb }, cleanup: () => dropDatabase(store.mongoUrl, mongoDb) };
}
