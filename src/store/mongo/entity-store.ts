import type { Collection, MongoClient } from 'mongodb';
import { NgsiError } from '../../common/errors.js';
import { DEFAULT_TENANT, type Entity } from '../../model/entity.js';
import type { EntityPage, EntityQuery } from '../../query/entity-query.js';
import { deepFreeze } from '../deep-freeze.js';
import { WithChangeLog } from '../change-log.js';
import type { EntityStore, Mutation } from '../entity-store.js';
import type { MongoChangeLog } from './change-log.js';
import { fromDocument, toDocument, type EntityDocument } from './document.js';
import { runMongoQuery } from './query.js';
import type { MongoTemporalStore } from './temporal-store.js';
import { inTransaction, keyProblem, WriteConflict } from './transaction.js';

/** A tenant other than the default one, from its first write on. */
export interface TenantDoc {
  _id: string;
  since: string;
}

/**
 * Current state of entities in MongoDB (document shape: document.ts).
 *
 * `mutate` is one multi-document transaction: read the entity, run `decide`, then a compare-and-swap on the
 * document's `version` (replace or delete where `version` is still the one read; an insert where the unique `_id`
 * rejects a concurrent create), the history of the change (when attached) and its change-log record (while logging).
 * Either all of it commits or none. A conflict — the version moved, a racing insert, or MongoDB's own write conflict
 * between transactions — aborts and runs the read-decide-write again, so `decide` may be called more than once, as
 * the EntityStore contract allows. The transaction commits with majority write concern: once `mutate` resolves, the
 * change survives the loss of the primary.
 */
export class MongoEntityStore extends WithChangeLog<Entity> implements EntityStore {
  private history: MongoTemporalStore | undefined;

  constructor(
    private readonly client: MongoClient,
    private readonly entities: Collection<EntityDocument>,
    private readonly tenants: Collection<TenantDoc>,
    protected readonly changeLog: MongoChangeLog<Entity>,
  ) {
    super();
  }

  /** Records the history of every change from now on, in the change's own transaction. */
  attachHistory(history: MongoTemporalStore | undefined): void {
    this.history = history;
  }

  async hasTenant(tenant: string): Promise<boolean> {
    if (tenant === DEFAULT_TENANT) return true;
    if (keyProblem(tenant, '')) return false;
    return (await this.tenants.findOne({ _id: tenant }, { projection: { _id: 1 } })) !== null;
  }

  async get(tenant: string, id: string): Promise<Entity | undefined> {
    if (keyProblem(tenant, id)) return undefined;
    const doc = await this.entities.findOne({ _id: { t: tenant, id } });
    return doc ? deepFreeze(fromDocument(doc)) : undefined;
  }

  async mutate<R>(tenant: string, id: string, decide: (current: Entity | undefined) => Mutation<R>): Promise<R> {
    const problem = keyProblem(tenant, id);
    if (problem) throw new NgsiError('BadRequestData', problem);
    let logged = false;
    const result = await inTransaction(this.client, async (session) => {
      logged = false;
      const doc = await this.entities.findOne({ _id: { t: tenant, id } }, { session });
      const current = doc ? deepFreeze(fromDocument(doc)) : undefined;
      const { change, result } = decide(current);
      const at = new Date().toISOString();
      let after: Entity | undefined;
      if (change.kind === 'put') {
        after = change.entity;
        if (after.id !== id) throw new Error(`mutate(${id}) decided to put an entity with id ${after.id}`);
        if (doc) {
          const replaced = await this.entities.replaceOne({ _id: doc._id, version: doc.version }, toDocument(tenant, after, doc.version + 1), { session });
          if (replaced.matchedCount !== 1) throw new WriteConflict(`entity ${id}`);
        } else {
          // A concurrent create of the same id fails on the unique _id; inTransaction then decides again.
          await this.entities.insertOne(toDocument(tenant, after, 1), { session });
        }
        // Read first: an upsert of an existing tenant would make every write of the tenant conflict with the others.
        if (tenant !== DEFAULT_TENANT && !(await this.tenants.findOne({ _id: tenant }, { session, projection: { _id: 1 } }))) {
          await this.tenants.updateOne({ _id: tenant }, { $setOnInsert: { since: at } }, { upsert: true, session });
        }
      } else if (change.kind === 'delete' && doc) {
        const deleted = await this.entities.deleteOne({ _id: doc._id, version: doc.version }, { session });
        if (deleted.deletedCount !== 1) throw new WriteConflict(`entity ${id}`);
      } else {
        return result;
      }
      await this.history?.record(session, tenant, current, after, at);
      // Last: the change-log counter stays locked from here to the commit (see MongoChangeLog).
      if (this.changeLog.enabled) {
        await this.changeLog.record(session, tenant, id, current, after, at);
        logged = true;
      }
      return result;
    });
    if (logged) this.changeLog.notify();
    return result;
  }

  query(tenant: string, query: EntityQuery): Promise<EntityPage> {
    return runMongoQuery(this.entities, tenant, query, (id) => this.get(tenant, id));
  }

  async typeNames(tenant: string): Promise<string[]> {
    return ((await this.entities.distinct('types', { t: tenant })) as string[]).sort();
  }

  async attributeNames(tenant: string): Promise<string[]> {
    return ((await this.entities.distinct('names', { t: tenant })) as string[]).sort();
  }

  setChangeLogging(on: boolean): void {
    this.changeLog.setLogging(on);
  }

  async close(): Promise<void> {
    await this.changeLog.close();
  }
}
