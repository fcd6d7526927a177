import { MongoClient, type Collection, type Db, type Document, type IndexDescription } from 'mongodb';
import { MONGO_INDEXES, type CollectionName } from './indexes.js';

export interface MongoOptions {
  /** mongodb:// or mongodb+srv:// URL of a replica set or a sharded cluster (mongos). */
  url: string;
  /** Database holding every tenant (tenants are a field, see docs/architecture.md). */
  dbName: string;
}

/** An open connection: the client, the database and its collections by name. */
export interface MongoConnection {
  client: MongoClient;
  db: Db;
  collection<T extends Document = Document>(name: CollectionName): Collection<T>;
  close(): Promise<void>;
}

/** How long start-up waits for a server before failing with a message naming the URL. */
const SERVER_SELECTION_MS = 10_000;

/**
 * Connects, checks that the deployment can run multi-document transactions (the entity store writes an entity, its
 * history and its change-log record in one), and creates the collections' indexes (idempotent: createIndexes is a
 * no-op for indexes that exist with the same spec; one whose spec changed is replaced, see ensureCollectionIndexes).
 */
export async function connectMongo(options: MongoOptions): Promise<MongoConnection> {
  const client = new MongoClient(options.url, {
    serverSelectionTimeoutMS: SERVER_SELECTION_MS,
    // Acknowledged by a majority and journaled: a write the broker answered survives a primary failover.
    writeConcern: { w: 'majority', journal: true },
    readConcern: { level: 'majority' },
    retryWrites: true,
    retryReads: true,
    // The driver would otherwise store an `undefined` member as null: a present field, which `$exists: true` (q
    // existence terms, the partial time indexes) matches, and which reads back as null where the entity had nothing.
    ignoreUndefined: true,
  });
  try {
    await client.connect().catch((error: unknown) => {
      // The driver's message names only the last host it tried; say which setting to look at.
      throw new Error(`cannot connect to MongoDB at ${redact(options.url)}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    });
    const db = client.db(options.dbName);
    await assertTransactions(db, options.url);
    await ensureIndexes(db);
    return {
      client,
      db,
      collection: <T extends Document>(name: CollectionName) => db.collection<T>(name),
      close: () => client.close(),
    };
  } catch (error) {
    await client.close().catch(() => undefined);
    throw error;
  }
}

/** A standalone mongod cannot run transactions: refuse it at start rather than failing on the first write. */
async function assertTransactions(db: Db, url: string): Promise<void> {
  const hello = await db.admin().command({ hello: 1 });
  if (!isTransactional(hello)) {
    throw new Error(
      `MongoDB at ${redact(url)} is a standalone server; musubi needs a replica set or a sharded cluster for transactions ` +
        '(a single node works: start mongod with --replSet rs0 and run rs.initiate())',
    );
  }
}

/** Whether a `hello` reply describes a replica-set member or a mongos. */
export function isTransactional(hello: Document): boolean {
  return typeof hello.setName === 'string' || hello.msg === 'isdbgrid';
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
}

export async function ensureIndexes(db: Db): Promise<void> {
  const existing = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
  for (const [name, indexes] of Object.entries(MONGO_INDEXES) as [CollectionName, IndexDescription[]][]) {
    // Collections are created up front: MongoDB refuses to create one implicitly inside a transaction on a sharded
    // cluster, and every entity write is a transaction.
    if (!existing.has(name)) {
      try {
        await db.createCollection(name);
      } catch (error) {
        // Another broker instance starting at the same time created it first.
        if ((error as { codeName?: string }).codeName !== 'NamespaceExists') throw error;
      }
    }
    if (indexes.length > 0) await ensureCollectionIndexes(db.collection(name), indexes);
  }
}

/** Server codes of createIndexes meeting an index of the same name or key whose spec differs. */
const INDEX_CONFLICT = new Set([85 /* IndexOptionsConflict */, 86 /* IndexKeySpecsConflict */]);
const INDEX_NOT_FOUND = 27;

/**
 * createIndexes, replacing indexes an older version of musubi created with another spec (changed options, a changed
 * key under the same name, the same key under another name): MongoDB refuses those with a conflict rather than
 * updating them, which would make every start after such a change fail.
 */
export async function ensureCollectionIndexes(collection: Collection, indexes: IndexDescription[]): Promise<void> {
  try {
    await collection.createIndexes(indexes);
    return;
  } catch (error) {
    if (!INDEX_CONFLICT.has((error as { code?: number }).code ?? 0)) throw error;
  }
  const existing = await collection.listIndexes().toArray();
  for (const wanted of indexes) {
    const stale = existing.filter(
      (i) => i.name !== '_id_' && (i.name === wanted.name || JSON.stringify(i.key) === JSON.stringify(wanted.key)) && !sameIndex(i, wanted),
    );
    for (const index of stale) {
      try {
        await collection.dropIndex(index.name as string);
      } catch (error) {
        // Another instance starting at the same time dropped it first.
        if ((error as { code?: number }).code !== INDEX_NOT_FOUND) throw error;
      }
    }
  }
  await collection.createIndexes(indexes);
}

/** Whether an index as listIndexes shows it has the wanted name, key and the options musubi sets. */
export function sameIndex(existing: Document, wanted: IndexDescription): boolean {
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  const options = ['unique', 'partialFilterExpression', 'sparse', 'expireAfterSeconds'] as const;
  return existing.name === wanted.name && same(existing.key, wanted.key) && options.every((o) => same(existing[o], (wanted as Document)[o]));
}
