/**
 * Rules a real MongoDB 7 server (or the mongodb 7 driver) enforces and mingo does not, checked by the stand-in
 * (store-standin.ts) so that the backend's tests fail here the way they would fail on the GitHub workflow's replica
 * set: index specs the server refuses, documents it refuses to store, operation options refused in transactions.
 * Each error carries the server's code, as the backend's error handling sees it.
 */
import { BSON, type IndexDescription } from 'mongodb';

type Doc = Record<string, unknown>;

export function serverError(code: number, codeName: string, message: string): Error {
  return Object.assign(new Error(message), { code, codeName });
}

/** BSONObjMaxUserSize. */
const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;
/** BSONDepth::getMaxDepthForUserStorage() with the default maxBSONDepth of 200. */
const MAX_STORED_DEPTH = 180;

/**
 * The document as the driver (ignoreUndefined, as connection.ts sets it) serializes it and the server stores it:
 * undefined members dropped, lone surrogates replaced; refused when MongoDB would refuse it (size, nesting).
 */
export function asStored(doc: Doc): Doc {
  const bytes = BSON.serialize(doc, { ignoreUndefined: true });
  if (bytes.length > MAX_DOCUMENT_BYTES) {
    throw serverError(2, 'BadValue', `object to insert too large. size in bytes: ${bytes.length}, max size: ${MAX_DOCUMENT_BYTES}`);
  }
  if (depth(doc) > MAX_STORED_DEPTH) {
    throw serverError(15, 'Overflow', `cannot insert document because it exceeds ${MAX_STORED_DEPTH} levels of nesting`);
  }
  return BSON.deserialize(bytes) as Doc;
}

function depth(v: unknown): number {
  if (v === null || typeof v !== 'object') return 0;
  let max = 0;
  for (const x of Object.values(v)) max = Math.max(max, depth(x));
  return max + 1;
}

// ---- Index specs ----

const PARTIAL_OPERATORS = new Set(['$eq', '$gt', '$gte', '$lt', '$lte', '$type', '$in', '$exists']);

/**
 * MongoDB 7 accepts in a partialFilterExpression only equality, `$exists: true`, `$gt/$gte/$lt/$lte`, `$type`, `$in`
 * and `$and`/`$or` of those: `$exists: false`, `$ne`, `$nin`, `$not`, `$regex`, `$elemMatch`... are refused.
 */
export function checkPartialFilter(filter: Doc): void {
  const refuse = (what: string) => {
    throw serverError(67, 'CannotCreateIndex', `Expression not supported in partial index: ${what}`);
  };
  for (const [key, value] of Object.entries(filter)) {
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(value)) refuse(key);
      for (const part of value as Doc[]) checkPartialFilter(part);
      continue;
    }
    if (key.startsWith('$')) refuse(key);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) continue;
    const ops = Object.keys(value);
    if (!ops.some((o) => o.startsWith('$'))) continue;
    for (const op of ops) {
      if (!PARTIAL_OPERATORS.has(op)) refuse(`${key}: ${op}`);
      if (op === '$exists' && (value as Doc).$exists !== true) refuse(`${key}: $exists: false`);
    }
  }
}

const isWildcard = (key: Doc): boolean => Object.keys(key).some((k) => k === '$**' || k.endsWith('.$**'));

/** What createIndexes refuses about one index spec on its own. */
export function checkIndexSpec(index: IndexDescription): void {
  const key = index.key as Doc;
  const fields = Object.keys(key);
  const refuse = (why: string) => {
    throw serverError(67, 'CannotCreateIndex', `${index.name ?? JSON.stringify(key)}: ${why}`);
  };
  if (fields.length === 0) refuse('empty key pattern');
  if (isWildcard(key) && index.unique) refuse('Index type \'wildcard\' does not support the unique option');
  if (index.expireAfterSeconds !== undefined && fields.length > 1) refuse('TTL indexes are single-field indexes, compound indexes do not support TTL');
  if (index.partialFilterExpression) checkPartialFilter(index.partialFilterExpression as Doc);
  if (index.partialFilterExpression && index.sparse) refuse('cannot mix "partialFilterExpression" and "sparse" options');
}

/** Whether two specs describe the same index for createIndexes (a no-op then). */
export function sameSpec(a: IndexDescription, b: IndexDescription): boolean {
  const same = (x: unknown, y: unknown) => JSON.stringify(x ?? null) === JSON.stringify(y ?? null);
  return a.name === b.name && same(a.key, b.key) && same(a.unique, b.unique) && same(a.partialFilterExpression, b.partialFilterExpression) && same(a.sparse, b.sparse) && same(a.expireAfterSeconds, b.expireAfterSeconds);
}

/** createIndexes' answer to a spec meeting an existing index of the same name or key with another spec. */
export function indexConflict(existing: IndexDescription, wanted: IndexDescription): Error | undefined {
  if (sameSpec(existing, wanted)) return undefined;
  if (existing.name === wanted.name) {
    return serverError(86, 'IndexKeySpecsConflict', `An existing index has the same name as the requested index but different options: ${wanted.name}`);
  }
  if (JSON.stringify(existing.key) === JSON.stringify(wanted.key)) {
    return serverError(85, 'IndexOptionsConflict', `An equivalent index already exists with a different name and options: ${existing.name}`);
  }
  return undefined;
}

// ---- Multikey ----

/** Paths along `path` (entered as MongoDB does, through arrays) at which the document holds an array. */
function arrayPaths(v: unknown, segments: string[], prefix: string, out: Set<string>): void {
  if (Array.isArray(v)) {
    out.add(prefix);
    for (const item of v) arrayPaths(item, segments, prefix, out);
    return;
  }
  if (segments.length === 0 || v === null || typeof v !== 'object') return;
  const [head, ...rest] = segments;
  arrayPaths((v as Doc)[head!], rest, prefix === '' ? head! : `${prefix}.${head}`, out);
}

/**
 * A compound index can have at most one array among its fields per document ("cannot index parallel arrays"), and
 * the server then refuses the *write*. Fields reaching arrays through a shared path (`geo.n`, `geo.x0` in the array
 * `geo`) are one array.
 */
export function checkParallelArrays(doc: Doc, index: IndexDescription): void {
  const key = index.key as Doc;
  const fields = Object.keys(key);
  if (fields.length < 2 || isWildcard(key) || Object.values(key).some((v) => typeof v === 'string')) return;
  const paths = fields.map((f) => {
    const out = new Set<string>();
    arrayPaths(doc, f.split('.'), '', out);
    return { field: f, arrays: out };
  });
  for (let i = 0; i < paths.length; i++) {
    for (let j = i + 1; j < paths.length; j++) {
      const a = paths[i]!;
      const b = paths[j]!;
      const onlyA = [...a.arrays].filter((p) => !b.arrays.has(p));
      const onlyB = [...b.arrays].filter((p) => !a.arrays.has(p));
      if (onlyA.length > 0 && onlyB.length > 0) {
        throw serverError(171, 'CannotIndexParallelArrays', `cannot index parallel arrays [${b.field}] [${a.field}] (index ${index.name})`);
      }
    }
  }
}

// ---- Operation options ----

/**
 * Inside a transaction every operation must carry the transaction's session (without it, it runs outside the
 * transaction: not rolled back, and blocked by or conflicting with the transaction's own writes), and must not set
 * a read or write concern of its own (the transaction's apply; MongoDB refuses per-operation ones).
 */
export function checkOptions(inTransaction: object | undefined, options: Doc | undefined): void {
  const session = options?.session;
  if (inTransaction && session !== inTransaction) {
    throw new Error('stand-in: an operation inside a transaction without the transaction\'s session (it would run outside it on MongoDB)');
  }
  if (session && (options?.writeConcern !== undefined || options?.readConcern !== undefined)) {
    throw serverError(72, 'InvalidOptions', 'Cannot set a read or write concern on an operation inside a transaction');
  }
}

const CHANGE_STREAM_STAGES = new Set(['$match', '$project', '$addFields', '$set', '$unset', '$replaceRoot', '$replaceWith', '$redact']);

/** The stages a change stream pipeline may hold; a `$project` must keep `_id`, the resume token. */
export function checkChangeStreamPipeline(pipeline: Doc[]): void {
  for (const stage of pipeline) {
    const [name] = Object.keys(stage);
    if (!name || !CHANGE_STREAM_STAGES.has(name)) throw serverError(40324, 'Location40324', `${name} is not permitted in a $changeStream pipeline`);
    const spec = stage[name];
    const unsetsId = name === '$unset' && ([spec].flat() as unknown[]).includes('_id');
    if ((name === '$project' && (spec as Doc)._id === 0) || unsetsId) {
      throw serverError(280, 'ChangeStreamFatalError', 'cannot modify the _id field of a change stream event (the resume token)');
    }
  }
}
