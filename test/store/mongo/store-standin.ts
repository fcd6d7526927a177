/**
 * STAND-IN, NOT MONGODB. There is no mongod on the development machine, so the store tests run the MongoDB backend's
 * logic (compare-and-swap, change-log sequencing, paging, post-filtering, queue order) against this in-process
 * imitation of the few driver calls the backend makes, with mingo evaluating filters, sorts and distinct. It checks
 * the backend's own code, not MongoDB: transactions here run one at a time and roll back by restoring a snapshot, and
 * unique indexes are the only indexes. The same tests run against a real replica set when MUSUBI_MONGO_URL is set
 * (the GitHub workflow's mongo job), see store-backend.ts.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { Query } from 'mingo';
import type { Collection, Document, IndexDescription, MongoClient } from 'mongodb';

type Doc = Record<string, unknown>;
type Spec = Record<string, 1 | -1>;

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
  private readonly unique: string[][] = [];
  readonly events = new EventEmitter();

  constructor(readonly name: string) {}

  createIndexes(indexes: IndexDescription[]): void {
    for (const i of indexes) if (i.unique) this.unique.push(Object.keys(i.key));
  }

  private checkUnique(doc: Doc, except?: Doc): void {
    for (const other of this.docs) {
      if (other === except) continue;
      if (JSON.stringify(other._id) === JSON.stringify(doc._id)) throw duplicateKey();
      for (const keys of this.unique) if (keys.every((k) => JSON.stringify(get(other, k)) === JSON.stringify(get(doc, k)))) throw duplicateKey();
    }
  }

  private insert(doc: Doc): void {
    const stored = clone(doc);
    stored._id ??= randomUUID();
    this.checkUnique(stored);
    this.docs.push(stored);
    this.events.emit('insert', stored);
  }

  async findOne(filter: Doc): Promise<Doc | null> {
    const hit = this.docs.find(matcher(filter));
    return hit ? clone(hit) : null;
  }
  find(filter: Doc = {}): StandinCursor {
    return new StandinCursor(() => this.docs.filter(matcher(filter)));
  }
  async countDocuments(filter: Doc = {}): Promise<number> {
    return this.docs.filter(matcher(filter)).length;
  }
  async distinct(field: string, filter: Doc = {}): Promise<unknown[]> {
    const out = new Map<string, unknown>();
    const test = matcher(filter);
    for (const d of this.docs) {
      if (!test(d)) continue;
      const v = get(d, field);
      for (const x of Array.isArray(v) ? v : v === undefined ? [] : [v]) out.set(JSON.stringify(x), x);
    }
    return [...out.values()];
  }
  async insertOne(doc: Doc): Promise<{ acknowledged: true }> {
    this.insert(doc);
    return { acknowledged: true };
  }
  async insertMany(docs: Doc[]): Promise<{ acknowledged: true }> {
    for (const d of docs) this.insert(d);
    return { acknowledged: true };
  }
  async replaceOne(filter: Doc, doc: Doc, options: { upsert?: boolean } = {}): Promise<{ matchedCount: number }> {
    const i = this.docs.findIndex(matcher(filter));
    if (i < 0) {
      if (options.upsert) this.insert({ ...equalities(filter), ...doc });
      return { matchedCount: 0 };
    }
    const next = { ...clone(doc), _id: this.docs[i]!._id };
    this.checkUnique(next, this.docs[i]);
    this.docs[i] = next;
    return { matchedCount: 1 };
  }
  async updateOne(filter: Doc, update: Doc, options: { upsert?: boolean } = {}): Promise<{ matchedCount: number }> {
    const i = this.docs.findIndex(matcher(filter));
    if (i < 0) {
      if (options.upsert) this.insert(applyUpdate(equalities(filter), update, true));
      return { matchedCount: 0 };
    }
    this.docs[i] = applyUpdate(this.docs[i]!, update, false);
    return { matchedCount: 1 };
  }
  async findOneAndUpdate(filter: Doc, update: Doc, options: { upsert?: boolean } = {}): Promise<Doc | null> {
    const { matchedCount } = await this.updateOne(filter, update, options);
    if (matchedCount === 0 && !options.upsert) return null;
    return this.findOne(filter);
  }
  async findOneAndDelete(filter: Doc): Promise<Doc | null> {
    const i = this.docs.findIndex(matcher(filter));
    if (i < 0) return null;
    return this.docs.splice(i, 1)[0]!;
  }
  async deleteOne(filter: Doc): Promise<{ deletedCount: number }> {
    return { deletedCount: (await this.findOneAndDelete(filter)) ? 1 : 0 };
  }
  async deleteMany(filter: Doc): Promise<{ deletedCount: number }> {
    const before = this.docs.length;
    const test = matcher(filter);
    this.docs = this.docs.filter((d) => !test(d));
    return { deletedCount: before - this.docs.length };
  }
  watch(): EventEmitter & { close(): Promise<void> } {
    const stream = Object.assign(new EventEmitter(), {
      close: async () => void this.events.off('insert', forward),
    });
    const forward = (doc: Doc) => setImmediate(() => stream.emit('change', { operationType: 'insert', fullDocument: doc }));
    this.events.on('insert', forward);
    return stream;
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
      try {
        return await fn({});
      } catch (error) {
        for (const [name, docs] of snapshot) this.collections.get(name)!.docs = docs;
        throw error;
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}
