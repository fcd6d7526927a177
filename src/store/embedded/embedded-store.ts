import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { NgsiError } from '../../common/errors.js';
import { DEFAULT_TENANT, type Entity } from '../../model/entity.js';
import type { EntityPage, EntityQuery } from '../../query/entity-query.js';
import { deepFreeze } from '../deep-freeze.js';
import { WithChangeLog } from '../change-log.js';
import type { EntityStore, Mutation } from '../entity-store.js';
import { EmbeddedChangeLog } from './change-log.js';
import { runQuery } from './query-engine.js';
import { signatureOf, TenantIndex, type Signature } from './tenant-index.js';
import type { HistoryRecorder } from './temporal-store.js';

export interface EmbeddedStoreOptions {
  /** Directory holding the store; created if missing. The database is the file `musubi.mdb` in it. */
  dataDir: string;
}

/** Bumped when the on-disk layout changes incompatibly, so an old broker refuses a newer directory. */
const FORMAT = 1;

/**
 * lmdb's limit is 1978 bytes per key; the array key adds a separator and escape bytes. Keeping well under
 * it means a too-long id is refused up front with a clear error instead of failing inside a write batch.
 */
const MAX_KEY_BYTES = 1900;

/**
 * ordered-binary writes long strings as raw UTF-8 without escaping, so code units 0-4 (0 is its array
 * separator) or lone surrogates (turned into U+FFFD) would make two different ids share a key.
 */
const UNSAFE_KEY_CHARS = /[\u0000-\u0004]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** An index change waiting for its write batch to be durable before queries may see it. */
interface PendingChange {
  seq: number;
  tenant: string;
  id: string;
  before: Signature | undefined;
  after: Signature | undefined;
  /** The entity as written (frozen), for the object cache; undefined for a delete. */
  entity: Entity | undefined;
}

/** Decoded entities kept for reads; enough for the working set of a city without holding every entity. */
const CACHE_ENTRIES = 100_000;

export async function openEmbeddedStore(options: EmbeddedStoreOptions): Promise<EmbeddedEntityStore> {
  await mkdir(options.dataDir, { recursive: true });
  const root = open({
    path: join(options.dataDir, 'musubi.mdb'),
    noSubdir: true,
    // Off, so a write's promise resolves only after fdatasync (with it on, the promise resolves at commit and
    // the flush trails behind). Measured: same throughput here, since lmdb batches concurrent writes into one
    // transaction per fsync either way. noSync / noMetaSync / mapAsync stay at their safe defaults (off).
    overlappingSync: false,
    // Every store of the backend shares this environment (entities, history, subscriptions, registrations, queue,
    // change logs: 15 databases now); the rest is headroom, since a database past the limit fails at open.
    maxDbs: 64,
  });
  try {
    // JSON, not msgpack: msgpackr rewrites a "__proto__" key to "__proto_" and lone surrogates to U+FFFD,
    // both reachable through JsonProperty / Property values; JSON round-trips them and decodes as fast.
    const entities = root.openDB<Entity, [string, string]>({ name: 'entities', encoding: 'json' });
    const tenants = root.openDB<{ since: string }, string>({ name: 'tenants', encoding: 'json' });
    const meta = root.openDB<number, string>({ name: 'meta', encoding: 'json' });
    const format = meta.get('format');
    if (format === undefined) await meta.put('format', FORMAT);
    else if (format !== FORMAT) throw new Error(`${options.dataDir} holds store format ${format}, this broker reads ${FORMAT}`);
    return new EmbeddedEntityStore(root, entities, tenants);
  } catch (error) {
    await root.close();
    throw error;
  }
}

/**
 * The default backend: one lmdb environment in the data directory, entities keyed `[tenant, id]` so each
 * tenant is a contiguous, id-ordered key range.
 *
 * Entities returned by `get` are deep-frozen and shared: a cache of decoded entities, updated in commit
 * order with the indexes, spares GET requests the decoding. `decide` gets a fresh decode of the stored value
 * (read inside the write transaction, so it sees earlier writes of the same batch); the entity it returns is
 * frozen when written.
 *
 * Concurrency: every mutate runs its read-decide-write inside an lmdb asynchronous transaction callback.
 * lmdb runs those callbacks one after another on the main thread within the write transaction, each seeing
 * the writes of the ones before, so mutations of one entity serialize without locks and `decide` is called
 * exactly once. Callbacks queued in the same event turn share one commit (and one fsync).
 */
export class EmbeddedEntityStore extends WithChangeLog<Entity> implements EntityStore {
  private readonly indexes = new Map<string, TenantIndex>();
  private readonly pending: PendingChange[] = [];
  private pendingHead = 0;
  private seq = 0;
  private closed = false;
  private rebuiltAtSeq = -1;
  /** `${tenant}\0${id}` -> committed entity; insertion order doubles as eviction order. */
  private readonly cache = new Map<string, Entity>();
  private logChanges = false;
  protected readonly changeLog: EmbeddedChangeLog<Entity>;
  private history: HistoryRecorder | undefined;

  /** The lmdb environment, for the other embedded stores (subscriptions, notification queue) to open theirs in. */
  get environment(): RootDatabase {
    return this.root;
  }

  /** Use openEmbeddedStore(). */
  constructor(
    private readonly root: RootDatabase,
    private readonly entities: Database<Entity, [string, string]>,
    private readonly tenantsDb: Database<{ since: string }, string>,
  ) {
    super();
    this.changeLog = EmbeddedChangeLog.open(root, 'changes', () => this.assertOpen());
    this.rebuildIndexes();
  }

  async hasTenant(tenant: string): Promise<boolean> {
    return this.indexes.has(tenant);
  }

  async get(tenant: string, id: string): Promise<Entity | undefined> {
    this.assertOpen();
    return this.read(tenant, id);
  }

  async query(tenant: string, query: EntityQuery): Promise<EntityPage> {
    this.assertOpen();
    const index = this.indexes.get(tenant);
    if (!index) return { entities: [], count: query.count ? 0 : undefined };
    return runQuery(index, (id) => this.read(tenant, id), query);
  }

  async typeNames(tenant: string): Promise<string[]> {
    return this.types(tenant);
  }

  async attributeNames(tenant: string): Promise<string[]> {
    return this.attributes(tenant);
  }

  private read(tenant: string, id: string): Entity | undefined {
    const cacheKey = `${tenant}\u0000${id}`;
    const cached = this.cache.get(cacheKey);
    if (cached) return cached;
    // An id that cannot be a key cannot have been stored (checked after the cache, which holds only stored ones).
    if (keyProblem(tenant, id)) return undefined;
    const entity = this.entities.get([tenant, id]);
    if (entity) this.remember(cacheKey, deepFreeze(entity));
    return entity;
  }

  private remember(key: string, entity: Entity): void {
    this.cache.set(key, entity);
    if (this.cache.size > CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
  }

  async mutate<R>(tenant: string, id: string, decide: (current: Entity | undefined) => Mutation<R>): Promise<R> {
    this.assertOpen();
    const problem = keyProblem(tenant, id);
    if (problem) throw new NgsiError('BadRequestData', problem);
    const key: [string, string] = [tenant, id];
    let outcome: { ok: true; result: R } | { ok: false; error: unknown } | undefined;
    let visibleUpTo = 0;
    let logged = false;
    try {
      await this.entities.transaction(() => {
        const current = this.entities.get(key);
        // A throw escaping this callback would not roll back the batch, so anything that may throw (decide,
        // the id check, encoding the entity) runs before the first write; the error is rethrown after the batch.
        let mutation: Mutation<R>;
        let after: Signature | undefined;
        try {
          mutation = decide(current);
          const { change } = mutation;
          if (change.kind === 'put') {
            if (change.entity.id !== id) throw new Error(`mutate(${id}) decided to put an entity with id ${change.entity.id}`);
            after = signatureOf(change.entity);
            this.entities.put(key, deepFreeze(change.entity));
          }
          // Last in the try: it writes nothing unless the entity's own write was accepted, and it does not throw
          // (keys are checked, values are parts of the entity just encoded).
          if (this.history && (change.kind === 'put' || (change.kind === 'delete' && current))) {
            this.history.record(tenant, current, change.kind === 'put' ? change.entity : undefined, new Date().toISOString());
          }
        } catch (error) {
          outcome = { ok: false, error };
          visibleUpTo = this.seq;
          return;
        }
        const { change } = mutation;
        if (this.logChanges && (change.kind === 'put' || (change.kind === 'delete' && current))) {
          this.changeLog.append(tenant, id, current, change.kind === 'put' ? change.entity : undefined);
          logged = true;
        }
        if (change.kind === 'put') {
          if (tenant !== DEFAULT_TENANT && !this.tenantsDb.doesExist(tenant)) {
            this.tenantsDb.put(tenant, { since: new Date().toISOString() });
          }
          this.pending.push({ seq: ++this.seq, tenant, id, before: current && signatureOf(current), after, entity: change.entity });
        } else if (change.kind === 'delete' && current) {
          this.entities.remove(key);
          this.pending.push({ seq: ++this.seq, tenant, id, before: signatureOf(current), after: undefined, entity: undefined });
        }
        outcome = { ok: true, result: mutation.result };
        // Changes queued so far are in this batch or an earlier one: durable once ours is.
        visibleUpTo = this.seq;
      });
    } catch (error) {
      // The commit itself failed (disk trouble). Pending index changes may describe writes that never
      // happened, so drop them and re-read the truth from disk, once for all mutations of that batch (they
      // all land here in the same microtask run, before the next batch's callbacks can push anything).
      if (this.rebuiltAtSeq !== this.seq) {
        this.rebuiltAtSeq = this.seq;
        this.pending.length = this.pendingHead = 0;
        this.cache.clear();
        this.rebuildIndexes();
      }
      throw error;
    }
    this.publish(visibleUpTo);
    if (logged) this.changeLog.notify();
    if (!outcome) throw new Error('lmdb transaction callback did not run');
    if (!outcome.ok) throw outcome.error;
    return outcome.result;
  }

  /**
   * Records every change from now on: `recorder.record` runs inside the write transaction of each mutate that
   * changes an entity (after `decide` succeeded), so history commits together with the entity.
   */
  attachHistory(recorder: HistoryRecorder | undefined): void {
    this.history = recorder;
  }

  setChangeLogging(on: boolean): void {
    this.logChanges = on;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.root.close();
  }

  // ---- Building blocks for the query planner (beyond EntityStore). ----
  // Sets are live views maintained in place: iterate them synchronously or copy before awaiting.
  // They reflect durable writes only; a change shows up here when its mutate() resolves.

  /** Tenants that exist, the default tenant ('') included. */
  tenants(): string[] {
    return [...this.indexes.keys()];
  }

  /** Ids of the tenant's entities having this (expanded) type among their types. */
  idsByType(tenant: string, type: string): ReadonlySet<string> {
    return this.indexes.get(tenant)?.idsByType(type) ?? new Set();
  }

  /** Ids of the tenant's entities having at least one instance of this (expanded) attribute. */
  idsByAttribute(tenant: string, attr: string): ReadonlySet<string> {
    return this.indexes.get(tenant)?.idsByAttribute(attr) ?? new Set();
  }

  /** Every id of the tenant, sorted (see compareIds), as an immutable snapshot: safe to page through. */
  allIds(tenant: string): readonly string[] {
    return this.indexes.get(tenant)?.allIds() ?? [];
  }

  /** Expanded types in use in the tenant (for GET /types). */
  types(tenant: string): string[] {
    const index = this.indexes.get(tenant);
    return index ? [...index.types()] : [];
  }

  /** Expanded attribute names in use in the tenant (for GET /attributes). */
  attributes(tenant: string): string[] {
    const index = this.indexes.get(tenant);
    return index ? [...index.attributes()] : [];
  }

  count(tenant: string): number {
    return this.indexes.get(tenant)?.size ?? 0;
  }

  /** Reads the whole store into fresh indexes: on open, and after a failed commit. */
  private rebuildIndexes(): void {
    this.indexes.clear();
    this.indexes.set(DEFAULT_TENANT, new TenantIndex());
    for (const tenant of this.tenantsDb.getKeys()) this.indexFor(tenant);
    for (const { key, value } of this.entities.getRange()) {
      this.indexFor(key[0]).apply(key[1], undefined, signatureOf(value));
    }
  }

  private indexFor(tenant: string): TenantIndex {
    let index = this.indexes.get(tenant);
    if (!index) this.indexes.set(tenant, (index = new TenantIndex()));
    return index;
  }

  /** Applies pending index changes up to `seq`, in the order their callbacks ran (= commit order). */
  private publish(seq: number): void {
    const pending = this.pending;
    while (this.pendingHead < pending.length && pending[this.pendingHead].seq <= seq) {
      const change = pending[this.pendingHead++];
      const index = change.after ? this.indexFor(change.tenant) : this.indexes.get(change.tenant);
      index?.apply(change.id, change.before, change.after);
      const cacheKey = `${change.tenant}\u0000${change.id}`;
      if (change.entity) this.remember(cacheKey, change.entity);
      else this.cache.delete(cacheKey);
    }
    if (this.pendingHead === pending.length) pending.length = this.pendingHead = 0;
    else if (this.pendingHead > 1024) pending.splice(0, this.pendingHead), (this.pendingHead = 0);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the embedded store is closed');
  }
}

/** Why `[tenant, id]` cannot be an lmdb key, if it cannot; `what` names the id in the message. */
export function keyProblem(tenant: string, id: string, what = 'entity id'): string | undefined {
  if (UNSAFE_KEY_CHARS.test(id)) return `${what} contains characters the store cannot key on`;
  if (UNSAFE_KEY_CHARS.test(tenant)) return 'tenant contains characters the store cannot key on';
  if (Buffer.byteLength(tenant) + Buffer.byteLength(id) > MAX_KEY_BYTES) {
    return `${what} and tenant together exceed ${MAX_KEY_BYTES} bytes`;
  }
  return undefined;
}
