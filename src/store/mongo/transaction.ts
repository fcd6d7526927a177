import type { ClientSession, Collection, MongoClient } from 'mongodb';
import { NgsiError } from '../../common/errors.js';

/**
 * Thrown inside a transaction when a compare-and-swap found the document changed (or a concurrent insert took the
 * key) since it was read: the whole read-decide-write runs again.
 */
export class WriteConflict extends Error {
  constructor(what: string) {
    super(`${what} changed concurrently`);
    this.name = 'WriteConflict';
  }
}

/** Read-decide-write rounds before contention becomes an error. Each round re-reads, so this is rarely reached. */
export const MAX_ATTEMPTS = 20;

/**
 * Runs `fn` in a multi-document transaction and returns its result once committed with majority write concern.
 * The driver retries transient errors (write conflicts between transactions, failovers) by calling `fn` again;
 * this loop adds the retries for our own compare-and-swap conflicts. Whatever else `fn` throws aborts the
 * transaction and is rethrown as is (nothing was written).
 */
export async function inTransaction<T>(client: MongoClient, fn: (session: ClientSession) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const session = client.startSession();
    try {
      return await session.withTransaction(fn, { writeConcern: { w: 'majority', journal: true }, readConcern: { level: 'snapshot' } });
    } catch (error) {
      const conflict = error instanceof WriteConflict || isDuplicateKey(error);
      if (!conflict) throw storeError(error);
      if (attempt >= MAX_ATTEMPTS) throw new NgsiError('Conflict', `${(error as Error).message}; gave up after ${attempt} attempts, please retry`);
      await sleep(backoffMs(attempt));
    } finally {
      await session.endSession();
    }
  }
}

/** Jittered, growing pause between conflict retries, so that contenders stop colliding. */
export function backoffMs(attempt: number): number {
  return Math.random() * Math.min(100, 2 ** attempt);
}

export function isDuplicateKey(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 11000;
}

/**
 * Turns what a client can cause (a too large or too deeply nested document) into BadRequestData; anything else stays
 * a server error. MongoDB reports a too large insert as BadValue "object to insert too large", a too large result of
 * a replacement as 17419/17420, a command beyond the wire limit as BSONObjectTooLarge, and nesting beyond its depth
 * limit (180 levels for stored documents; encoded nested arrays take two levels each) as Overflow.
 */
export function storeError(error: unknown): unknown {
  if (error instanceof NgsiError) return error;
  const e = error as { code?: unknown; codeName?: unknown; name?: unknown; message?: unknown } | null;
  const message = String(e?.message ?? '');
  const tooLarge =
    e?.code === 10334 ||
    e?.code === 17419 ||
    e?.code === 17420 ||
    e?.codeName === 'BSONObjectTooLarge' ||
    (e?.code === 2 && /too large/i.test(message)) ||
    (e?.name === 'BSONError' && /size|too large/i.test(message));
  if (tooLarge) return new NgsiError('BadRequestData', 'The resource exceeds the largest document the store can hold (16 MB)');
  if (e?.code === 15 || ((e?.code === 22 || e?.name === 'BSONError') && /depth|nest/i.test(message))) {
    return new NgsiError('BadRequestData', 'The resource is nested more deeply than the store can hold');
  }
  return error;
}

/**
 * Reserves `n` consecutive numbers of the named counter and returns the first. Inside a transaction the counter
 * document stays write-locked until commit, so a later transaction can only take the next numbers after this one
 * committed: numbers become visible in increasing order, and a reader that sees number k sees every smaller one.
 */
export async function reserveSeq(counters: Collection<CounterDoc>, name: string, n: number, session?: ClientSession): Promise<number> {
  const doc = await counters.findOneAndUpdate({ _id: name }, { $inc: { seq: n } }, { upsert: true, returnDocument: 'after', session });
  if (!doc) throw new Error(`counter ${name} could not be advanced`);
  return doc.seq - n + 1;
}

export interface CounterDoc {
  _id: string;
  seq: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * BSON strings must be valid UTF-8: the driver would turn a lone surrogate into U+FFFD, so two different ids
 * could share a key. NUL is refused too (it ends names in BSON and is never a valid URI character).
 */
const UNSAFE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `tenant`/`id` cannot key a document, if they cannot; `what` names the id in the message. */
export function keyProblem(tenant: string, id: string, what = 'entity id'): string | undefined {
  if (UNSAFE.test(id)) return `${what} contains characters the store cannot key on`;
  if (UNSAFE.test(tenant)) return 'tenant contains characters the store cannot key on';
  return undefined;
}
