import type { ClientSession, Collection, Filter, MongoClient } from 'mongodb';
import { RE2JS } from 're2js';
import type { Attribute, Entity } from '../../model/entity.js';
import { matchesTypes } from '../../query/type-selector.js';
import { historyOf, instanceTimes, newInstanceId, temporalEntityAfter } from '../history-changes.js';
import type { InstanceQuery, TemporalEntity, TemporalEntityFilter, TemporalInstance, TemporalStore, TimeProperty } from '../temporal-store.js';
import { inTransaction, keyProblem } from './transaction.js';

/** A temporal entity as stored, by tenant and id. */
export interface TemporalEntityDoc {
  t: string;
  id: string;
  te: TemporalEntity;
}

/**
 * One recorded instance. `i` is the instanceId; `ds` the datasetId (null: the default instance); `s` orders instances
 * of the same millisecond; `o`/`c`/`m`/`d` are observedAt/createdAt/modifiedAt/deletedAt in epoch ms, present only
 * when the instance has them (each has a partial index); `rec` is when it was recorded, for retention. The instance
 * itself is JSON text: its sub-attribute names and compound keys are IRIs.
 */
export interface InstanceDoc {
  t: string;
  e: string;
  a: string;
  i: string;
  ds: string | null;
  s: number;
  o?: number;
  c?: number;
  m?: number;
  d?: number;
  rec: number;
  body: string;
}

type PropField = 'o' | 'c' | 'm' | 'd';
const FIELD: Record<TimeProperty, PropField> = { observedAt: 'o', createdAt: 'c', modifiedAt: 'm', deletedAt: 'd' };

/** Documents read per round trip while post-filtering entities (idPattern, types, attrs). */
const SCAN_BATCH = 500;

/**
 * History of attributes in MongoDB (clauses 4.5.6-4.5.9): `temporal_entities` and `temporal_instances`.
 *
 * A regular collection, not a time-series one: MongoDB refuses writes to time-series collections inside
 * transactions, and the history of an entity write must commit with the write (`record` runs in the entity store's
 * transaction). The compound indexes (tenant, entity, attribute, time property, seq) give what a time-series
 * collection would: a time-range query reads one index range, however long the history.
 */
export class MongoTemporalStore implements TemporalStore {
  private lastSeq = 0;

  constructor(
    private readonly client: MongoClient,
    private readonly entities: Collection<TemporalEntityDoc>,
    private readonly instancesColl: Collection<InstanceDoc>,
  ) {}

  /** Inside the entity store's transaction, after `decide` succeeded: the history of one entity change. */
  async record(session: ClientSession, tenant: string, before: Entity | undefined, after: Entity | undefined, at: string): Promise<void> {
    const id = (after ?? before)!.id;
    const known = await this.entities.findOne({ t: tenant, id }, { session });
    await this.entities.replaceOne({ t: tenant, id }, { t: tenant, id, te: temporalEntityAfter(known?.te, before, after, at) }, { upsert: true, session });
    const docs = historyOf(before, after, at).map(({ attr, instance }) => encodeInstance(tenant, id, attr, this.nextSeq(), instance));
    if (docs.length > 0) await this.instancesColl.insertMany(docs, { session });
  }

  // ------------------------------------------------------------------ reads

  async getEntity(tenant: string, id: string): Promise<TemporalEntity | undefined> {
    if (keyProblem(tenant, id)) return undefined;
    return (await this.entities.findOne({ t: tenant, id }))?.te;
  }

  async listEntities(tenant: string, filter: TemporalEntityFilter, page: { limit: number; after?: string }): Promise<TemporalEntity[]> {
    const out: TemporalEntity[] = [];
    if (page.limit <= 0) return out;
    const re = filter.idPattern === undefined ? undefined : RE2JS.compile(filter.idPattern);
    const idFilter: { $gt?: string; $in?: string[] } = {};
    if (page.after !== undefined) idFilter.$gt = page.after;
    if (filter.ids) idFilter.$in = filter.ids;
    const query: Filter<TemporalEntityDoc> = { t: tenant };
    if (Object.keys(idFilter).length > 0) query.id = idFilter;
    const exact = !re && !filter.types && !filter.attrs;
    const cursor = this.entities.find(query).sort({ id: 1 }).batchSize(exact ? page.limit : SCAN_BATCH);
    if (exact) cursor.limit(page.limit);
    try {
      for await (const { te } of cursor) {
        if (re && !re.matches(te.id)) continue;
        if (filter.types && !matchesTypes(filter.types, te.type)) continue;
        if (filter.attrs && !(await this.instancesColl.findOne({ t: tenant, e: te.id, a: { $in: filter.attrs } }, { projection: { _id: 1 } }))) continue;
        out.push(te);
        if (out.length >= page.limit) break;
      }
    } finally {
      await cursor.close();
    }
    return out;
  }

  async attributes(tenant: string, id: string): Promise<string[]> {
    if (keyProblem(tenant, id)) return [];
    return ((await this.instancesColl.distinct('a', { t: tenant, e: id })) as string[]).sort();
  }

  async instances(tenant: string, id: string, attr: string, query: InstanceQuery): Promise<TemporalInstance[]> {
    const want = query.lastN === undefined ? query.limit : Math.min(query.limit, query.lastN);
    if (want <= 0 || keyProblem(tenant, id + attr)) return [];
    const field = FIELD[query.timeproperty];
    const range: { $exists: true; $gte?: number; $lt?: number } = { $exists: true };
    if (query.from !== undefined) range.$gte = toMs(query.from);
    if (query.to !== undefined) range.$lt = toMs(query.to);
    const filter: Filter<InstanceDoc> = { t: tenant, e: id, a: attr, [field]: range };
    if (query.datasetIds) filter.ds = { $in: [...query.datasetIds].map((d) => d ?? null) };
    const dir = query.lastN === undefined ? 1 : -1;
    const sorted = this.instancesColl.find(filter).sort({ [field]: dir, s: dir });
    const where = query.where;
    if (!where) return (await sorted.limit(want).toArray()).map((doc) => JSON.parse(doc.body) as TemporalInstance);
    // The caller's predicate (q, geo-query of a temporal query) runs here, before the limit counts: read the range
    // in batches until `want` instances pass.
    const out: TemporalInstance[] = [];
    const cursor = sorted.batchSize(Math.min(SCAN_BATCH, Math.max(want * 4, 16)));
    try {
      for await (const doc of cursor) {
        const instance = JSON.parse(doc.body) as TemporalInstance;
        if (!where(instance)) continue;
        out.push(instance);
        if (out.length >= want) break;
      }
    } finally {
      await cursor.close();
    }
    return out;
  }

  // ------------------------------------------------------------------ temporal API writes

  async append(tenant: string, entity: { id: string; type: string[]; scope?: string[] }, instances: Record<string, TemporalInstance[]>): Promise<void> {
    const problem = keyProblem(tenant, entity.id) ?? Object.keys(instances).map((attr) => keyProblem(tenant, attr, 'attribute name')).find(Boolean);
    if (problem) throw new Error(problem);
    const now = new Date().toISOString();
    await inTransaction(this.client, async (session) => {
      const known = (await this.entities.findOne({ t: tenant, id: entity.id }, { session }))?.te;
      const te: TemporalEntity = { id: entity.id, type: [...entity.type], createdAt: known?.createdAt ?? now, modifiedAt: now };
      const scope = entity.scope ?? known?.scope;
      if (scope) te.scope = [...scope];
      if (known?.deletedAt) te.deletedAt = known.deletedAt;
      await this.entities.replaceOne({ t: tenant, id: entity.id }, { t: tenant, id: entity.id, te }, { upsert: true, session });
      for (const [attr, list] of Object.entries(instances)) {
        for (const instance of list) {
          const stored: TemporalInstance = { ...instance, instanceId: instance.instanceId || newInstanceId() };
          const key = { t: tenant, e: entity.id, a: attr, i: stored.instanceId };
          const existing = await this.instancesColl.findOne(key, { session, projection: { s: 1 } });
          await this.instancesColl.replaceOne(key, encodeInstance(tenant, entity.id, attr, existing?.s ?? this.nextSeq(), stored), { upsert: true, session });
        }
      }
    });
  }

  async updateInstance(tenant: string, id: string, attr: string, instanceId: string, attribute: Attribute): Promise<boolean> {
    if (keyProblem(tenant, id + attr + instanceId)) return false;
    return inTransaction(this.client, async (session) => {
      const key = { t: tenant, e: id, a: attr, i: instanceId };
      const existing = await this.instancesColl.findOne(key, { session });
      if (!existing) return false;
      const updated: TemporalInstance = { instanceId, attribute };
      const deletedAt = (JSON.parse(existing.body) as TemporalInstance).deletedAt;
      if (deletedAt !== undefined) updated.deletedAt = deletedAt;
      await this.instancesColl.replaceOne(key, encodeInstance(tenant, id, attr, existing.s, updated), { session });
      return true;
    });
  }

  async deleteInstance(tenant: string, id: string, attr: string, instanceId: string): Promise<boolean> {
    if (keyProblem(tenant, id + attr + instanceId)) return false;
    return (await this.instancesColl.deleteOne({ t: tenant, e: id, a: attr, i: instanceId })).deletedCount === 1;
  }

  async deleteAttribute(tenant: string, id: string, attr: string, target: { datasetId?: string; all: boolean }): Promise<boolean> {
    if (keyProblem(tenant, id + attr)) return false;
    const filter: Filter<InstanceDoc> = { t: tenant, e: id, a: attr };
    if (!target.all) filter.ds = target.datasetId ?? null;
    return (await this.instancesColl.deleteMany(filter)).deletedCount > 0;
  }

  async deleteEntity(tenant: string, id: string): Promise<boolean> {
    if (keyProblem(tenant, id)) return false;
    // Instances first: a crash in between leaves an entity without history, never history without its entity.
    const removed = (await this.instancesColl.deleteMany({ t: tenant, e: id })).deletedCount > 0;
    const existed = (await this.entities.deleteOne({ t: tenant, id })).deletedCount === 1;
    return existed || removed;
  }

  async purgeBefore(cutoff: string): Promise<number> {
    return (await this.instancesColl.deleteMany({ rec: { $lt: toMs(cutoff) } })).deletedCount;
  }

  // ------------------------------------------------------------------ internals

  /** Monotonic within the process and, being time based, across restarts: orders instances of the same millisecond. */
  private nextSeq(): number {
    this.lastSeq = Math.max(this.lastSeq + 1, Date.now() * 1024);
    return this.lastSeq;
  }
}

export function encodeInstance(tenant: string, id: string, attr: string, seq: number, instance: TemporalInstance): InstanceDoc {
  const a = instance.attribute;
  const doc: InstanceDoc = { t: tenant, e: id, a: attr, i: instance.instanceId, ds: a.datasetId ?? null, s: seq, rec: msOr(a.createdAt, 0)!, body: JSON.stringify(instance) };
  for (const [prop, ms] of instanceTimes(instance)) doc[FIELD[prop]] = ms;
  return doc;
}

function msOr<T>(time: string | undefined, fallback: T): number | T {
  if (time === undefined) return fallback;
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? fallback : ms;
}

function toMs(time: string): number {
  const ms = Date.parse(time);
  if (Number.isNaN(ms)) throw new Error(`not a DateTime: ${time}`);
  return ms;
}
