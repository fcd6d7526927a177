/**
 * STAND-IN, NOT MONGODB. There is no mongod on the development machine, so the store tests run the MongoDB backend's
 * logic (compare-and-swap, change-log sequencing, paging, post-filtering, queue order) against this in-process
 * imitation of the few driver calls the backend makes, with mingo evaluating filters, sorts and distinct. It checks
 * the backend's own code, not MongoDB: transactions here run one at a time and roll back by restoring a snapshot, and
 * indexes only enforce uniqueness. What a real server refuses and mingo would not is checked (standin-rules.ts):
 * index specs, documents as BSON stores them (size, nesting, undefined members, parallel arrays, immutable `_id`),
 * operations inside a transaction without its session or with their own concerns, change-stream stages. The same
 * tests run against a real replica set when MUSUBI_MONGO_URL is set (the GitHub workflow's mongo job), see
 * store-backend.ts.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { Query } from 'mingo';
import type { Collection, Document, IndexDescription, MongoClient } from 'mongodb';
import { asStored, checkChangeStreamPipeline, checkIndexSpec, checkOptions, checkParallelArrays, indexConflict, serverError } from './standin-rules.js';

type Doc = Record<string, unknown>;
type Spec = Record<string, 1 | -1>;
type Options = Doc | undefined;

/** The session of the transaction the current code runs in (see standin-rules.ts checkOptions). */
const transaction = new AsyncLocalStorage<object>();

function duplicateKey(): Error {
  return Object.assign(new Error('E11000 duplicate key error'), { code: 11000 });
}

const clone = <T>(v: T): T => structuredClone(v);

/** A compiled filter: compiled once per operation, then tested on each document. */
function matcher(filter: Doc | undefined): (doc: Doc) => boolean {
  const query = new Query(filter ?? {});
  return (doc) => query.test(doc);
}

function get(doc: Doc, path: string): unknown {
  let v: unknown = doc;
  for (const p of path.split('.')) v = v === null || typeof v !== 'object' ? undefined : (v as Doc)[p];
  return v;
}

/** MongoDB's order of BSON types for the ones the backend stores: missing/null < numbers < strings < objects < arrays < booleans. */
function typeRank(v: unknown): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return 1;
  if (typeof v === 'string') return 2;
  if (Array.isArray(v)) return 4;
  if (typeof v === 'object') return 3;
  return 5;
}

function compare(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 1) return (a as number) - (b as number);
  if (ra === 2) return Buffer.compare(Buffer.from(a as string), Buffer.from(b as string));
  if (ra === 5) return Number(a) - Number(b);
  if (ra === 0) return 0;
  const sa = JSON.stringify(a);
  const sb = JSON.stringify(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function sortDocs(docs: Doc[], spec: Spec | undefined): Doc[] {
  if (!spec) return docs;
  const keys = Object.entries(spec);
  return [...docs].sort((x, y) => {
    for (const [k, dir] of keys) {
      const c = compare(get(x, k), get(y, k));
      if (c !== 0) return dir === -1 ? -c : c;
    }
    return 0;
  });
}

function applyUpdate(doc: Doc, update: Doc, inserting: boolean): Doc {
  const out = clone(doc);
  for (const [op, fields] of Object.entries(update)) {
    for (const [k, v] of Object.entries(fields as Doc)) {
      if (op === '$set' || (op === '$setOnInsert' && inserting)) out[k] = clone(v);
      else if (op === '$inc') out[k] = ((out[k] as number | undefined) ?? 0) + (v as number);
      else if (op !== '$setOnInsert') throw new Error(`stand-in: update operator ${op} not supported`);
    }
  }
  return out;
}

/** Equality members of a filter: what an upsert inserts. */
function equalities(filter: Doc): Doc {
  const out: Doc = {};
  for (const [k, v] of Object.entries(filter)) {
    if (k.startsWith('$')) continue;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).some((x) => x.startsWith('$'))) continue;
    out[k] = clone(v);
  }
  return out;
}

class StandinCursor {
  private spec: Spec | undefined;
  private skipN = 0;
  private limitN = 0;

  constructor(private readonly source: () => Doc[]) {}

  sort(spec: Spec): this {
    this.spec = spec;
    return this;
  }
  skip(n: number): this {
    this.skipN = n;
    return this;
  }
  limit(n: number): this {
    this.limitN = n;
    return this;
  }
  batchSize(): this {
    return this;
  }
  async toArray(): Promise<Doc[]> {
    const all = sortDocs(this.source(), this.spec).slice(this.skipN);
    return (this.limitN > 0 ? all.slice(0, this.limitN) : all).map(clone);
  }
  async close(): Promise<void> {}
  async *[Symbol.asyncIterator](): AsyncGenerator<Doc> {
    for (const doc of await this.toArray()) yield doc;
  }
}

export class StandinCollection {
  docs: Doc[] = [];
  readonly indexes: IndexDescription[] = [];
  readonly events = new EventEmitter();

  constructor(readonly name: string) {}

  /** As MongoDB's createIndexes: refuses specs the server refuses, and conflicts with existing indexes. */
  async createIndexes(indexes: IndexDescription[]): Promise<string[]> {
    for (const wanted of indexes) {
      checkIndexSpec(wanted);
      for (const existing of this.indexes) {
        const conflict = indexConflict(existing, wanted);
        if (conflict) throw conflict;
      }
    }
    for (const wanted of indexes) {
      if (!this.indexes.some((i) => i.name === wanted.name)) this.indexes.push(structuredClone(wanted));
    }
    return indexes.map((i) => i.name!);
  }
  listIndexes(): { toArray(): Promise<IndexDescription[]> } {
    return { toArray: async () => [{ key: { _id: 1 }, name: '_id_' }, ...structuredClone(this.indexes)] };
  }
  async dropIndex(name: string): Promise<void> {
    const i = this.indexes.findIndex((x) => x.name === name);
    if (i < 0) throw serverError(27, 'IndexNotFound', `index not found with name [${name}]`);
    this.indexes.splice(i, 1);
  }

  private checkUnique(doc: Doc, except?: Doc): void {
    for (const index of this.indexes) checkParallelArrays(doc, index);
    for (const other of this.docs) {
      if (other === except) continue;
      if (JSON.stringify(other._id) === JSON.stringify(doc._id)) throw duplicateKey();
      for (const index of this.indexes) {
        if (!index.unique) continue;
        const keys = Object.keys(index.key);
        if (keys.every((k) => JSON.stringify(get(other, k)) === JSON.stringify(get(doc, k)))) throw duplicateKey();
      }
    }
  }

  private insert(doc: Doc): void {
    const stored = asStored(doc);
    stored._id ??= randomUUID();
    this.checkUnique(stored);
    this.docs.push(stored);
    this.events.emit('insert', stored);
  }

  /** A replacement keeps the `_id`; MongoDB refuses one naming another (embedded documents compare field by field, in order). */
  private replaced(current: Doc, next: Doc): Doc {
    if (next._id !== undefined && JSON.stringify(asStored({ v: next._id })) !== JSON.stringify(asStored({ v: current._id }))) {
      throw serverError(66, 'ImmutableField', "Performing an update on the path '_id' would modify the immutable field '_id'");
    }
    const stored = asStored({ ...next, _id: current._id });
    this.checkUnique(stored, current);
    return stored;
  }

  async findOne(filter: Doc, options?: Options): Promise<Doc | null> {
    checkOptions(transaction.getStore(), options);
    const hit = this.docs.find(matcher(filter));
    return hit ? clone(hit) : null;
  }
  find(filter: Doc = {}, options?: Options): StandinCursor {
    checkOptions(transaction.getStore(), options);
    return new StandinCursor(() => this.docs.filter(matcher(filter)));
  }
  async countDocuments(filter: Doc = {}, options?: Options): Promise<number> {
    checkOptions(transaction.getStore(), options);
    return this.docs.filter(matcher(filter)).length;
  }
  async distinct(field: string, filter: Doc = {}, options?: Options): Promise<unknown[]> {
    checkOptions(transaction.getStore(), options);
    const out = new Map<string, unknown>();
    const test = matcher(filter);
    for (const d of this.docs) {
      if (!test(d)) continue;
      const v = get(d, field);
      for (const x of Array.isArray(v) ? v : v === undefined ? [] : [v]) out.set(JSON.stringify(x), x);
    }
    return [...out.values()];
  }
  async insertOne(doc: Doc, options?: Options): Promise<{ acknowledged: true }> {
    checkOptions(transaction.getStore(), options);
    this.insert(doc);
    return { acknowledged: true };
  }
  async insertMany(docs: Doc[], options?: Options): Promise<{ acknowledged: true }> {
    checkOptions(transaction.getStore(), options);
    for (const d of docs) this.insert(d);
    return { acknowledged: true };
  }
  async replaceOne(filter: Doc, doc: Doc, options: { upsert?: boolean } = {}): Promise<{ matchedCount: number }> {
    checkOptions(transaction.getStore(), options);
    const i = this.docs.findIndex(matcher(filter));
    if (i < 0) {
      if (options.upsert) this.insert({ ...equalities(filter), ...doc });
      return { matchedCount: 0 };
    }
    this.docs[i] = this.replaced(this.docs[i]!, doc);
    return { matchedCount: 1 };
  }
  async updateOne(filter: Doc, update: Doc, options: { upsert?: boolean } = {}): Promise<{ matchedCount: number }> {
    checkOptions(transaction.getStore(), options);
    const i = this.docs.findIndex(matcher(filter));
    if (i < 0) {
      if (options.upsert) this.insert(applyUpdate(equalities(filter), update, true));
      return { matchedCount: 0 };
    }
    this.docs[i] = this.replaced(this.docs[i]!, applyUpdate(this.docs[i]!, update, false));
    return { matchedCount: 1 };
  }
  /** The driver 7 API: the document itself (before the update unless `returnDocument: 'after'`), or null. */
  async findOneAndUpdate(
    filter: Doc,
    update: Doc,
    options: { upsert?: boolean; returnDocument?: 'before' | 'after'; includeResultMetadata?: boolean } = {},
  ): Promise<Doc | null> {
    if (options.includeResultMetadata) throw new Error('stand-in: includeResultMetadata not supported');
    checkOptions(transaction.getStore(), options);
    const before = this.docs.find(matcher(filter));
    const beforeCopy = before ? clone(before) : null;
    const { matchedCount } = await this.updateOne(filter, update, options);
    if (options.returnDocument !== 'after') return beforeCopy;
    if (matchedCount === 0 && !options.upsert) return null;
    return this.findOne(filter, options);
  }
  async findOneAndDelete(filter: Doc, options?: Options): Promise<Doc | null> {
    checkOptions(transaction.getStore(), options);
    const i = this.docs.findIndex(matcher(filter));
    if (i < 0) return null;
    return this.docs.splice(i, 1)[0]!;
  }
  async deleteOne(filter: Doc, options?: Options): Promise<{ deletedCount: number }> {
    return { deletedCount: (await this.findOneAndDelete(filter, options)) ? 1 : 0 };
  }
  async deleteMany(filter: Doc, options?: Options): Promise<{ deletedCount: number }> {
    checkOptions(transaction.getStore(), options);
    const before = this.docs.length;
    const test = matcher(filter);
    this.docs = this.docs.filter((d) => !test(d));
    return { deletedCount: before - this.docs.length };
  }
  watch(pipeline: Doc[] = []): EventEmitter & { close(): Promise<void>; readonly closed: boolean } {
    checkChangeStreamPipeline(pipeline);
    let closed = false;
    const end = () => {
      closed = true;
      this.events.off('insert', forward);
      this.events.off('invalidate', invalidate);
    };
    const stream = Object.defineProperty(Object.assign(new EventEmitter(), { close: async () => end() }), 'closed', { get: () => closed }) as EventEmitter & {
      close(): Promise<void>;
      readonly closed: boolean;
    };
    // Delivered outside the inserting transaction, as a change stream delivers committed changes; no document: the
    // backend's pipeline projects it away.
    const forward = () => transaction.exit(() => setImmediate(() => stream.emit('change', { operationType: 'insert' })));
    const invalidate = () => {
      end();
      transaction.exit(() => setImmediate(() => stream.emit('close')));
    };
    this.events.on('insert', forward);
    this.events.on('invalidate', invalidate);
    return stream;
  }

  /** Ends the open change streams from the server side, as dropping or renaming the collection does. */
  invalidateStreams(): void {
    this.events.emit('invalidate');
  }
}

/** A database of stand-in collections and a client whose transactions run one at a time and roll back on a throw. */
export class StandinMongo {
  readonly collections = new Map<string, StandinCollection>();
  private queue: Promise<unknown> = Promise.resolve();

  collection<T extends Document = Document>(name: string): Collection<T> {
    let c = this.collections.get(name);
    if (!c) this.collections.set(name, (c = new StandinCollection(name)));
    return c as unknown as Collection<T>;
  }

  get client(): MongoClient {
    return {
      startSession: () => ({
        withTransaction: <T>(fn: (session: unknown) => Promise<T>) => this.serialized(fn),
        endSession: async () => undefined,
      }),
      close: async () => undefined,
    } as unknown as MongoClient;
  }

  private serialized<T>(fn: (session: unknown) => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      const snapshot = new Map([...this.collections].map(([name, c]) => [name, [...c.docs]]));
      const session = {};
      try {
        return await transaction.run(session, () => fn(session));
      } catch (error) {
        for (const [name, docs] of snapshot) this.collections.get(name)!.docs = docs;
        throw error;
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}
