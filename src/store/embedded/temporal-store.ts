import type { Database, RootDatabase } from 'lmdb';
import { RE2JS } from 're2js';
import type { Attribute, Entity } from '../../model/entity.js';
import { matchesTypes } from '../../query/type-selector.js';
import { historyOf, instanceTimes, newInstanceId, temporalEntityAfter } from '../history-changes.js';
import type { InstanceQuery, TemporalEntity, TemporalEntityFilter, TemporalInstance, TemporalStore, TimeProperty } from '../temporal-store.js';
import { keyProblem } from './embedded-store.js';

/**
 * Called by EmbeddedEntityStore inside the write transaction of every change of an entity, after `decide`
 * succeeded: whatever it writes to the same lmdb environment commits together with the entity. Must not throw.
 */
export interface HistoryRecorder {
  record(tenant: string, before: Entity | undefined, after: Entity | undefined, at: string): void;
}

/** An instance as stored: its ordering sequence number (ties within one millisecond) and the instance. */
interface StoredInstance {
  s: number;
  i: TemporalInstance;
}

/** Index property codes in the time keys. */
type PropCode = 'o' | 'c' | 'm' | 'd';
const CODE: Record<TimeProperty, PropCode> = { observedAt: 'o', createdAt: 'c', modifiedAt: 'm', deletedAt: 'd' };

type InstanceKey = [tenant: string, id: string, attr: string, instanceId: string];
type TimeKey = [tenant: string, id: string, attr: string, prop: PropCode, ms: number, seq: number];
type RecordedKey = [ms: number, seq: number];
/** Time index value: the instance id and its datasetId (null: the default instance), so filters need no body read. */
type TimeValue = [instanceId: string, datasetId: string | null];

/** Sorts after every string an id, attribute name or instance id can hold: the upper end of a key prefix. */
const HIGH = '\u{10FFFF}';
/** Instances removed per write transaction by the bulk deletions (keeps each transaction small). */
const BATCH = 10_000;
/** Room left under lmdb's key limit for the attribute name, property code, time, seq and instance id. */
const MAX_ATTR_KEY_BYTES = 1800;

/**
 * History of attributes in the lmdb environment of the embedded entity store (clauses 4.5.6-4.5.9).
 *
 * Key layout (ordered-binary array keys, so every prefix is a contiguous key range):
 * - `temporal-entities`  `[tenant, id]` -> TemporalEntity
 * - `temporal-instances` `[tenant, id, attr, instanceId]` -> `{ s: seq, i: TemporalInstance }` (the instance
 *   itself; also the instanceId index for update/delete of one instance)
 * - `temporal-times`     `[tenant, id, attr, prop, epochMs, seq]` -> `[instanceId, datasetId | null]` with prop
 *   `o` observedAt (instances having one), `c` createdAt, `m` modifiedAt, `d` deletedAt (deletion records only)
 * - `temporal-recorded`  `[epochMs of createdAt, seq]` -> `[tenant, id, attr, instanceId]`, for retention
 *
 * A time-range query is one range read of `temporal-times` plus one point read per instance returned, so memory
 * and time follow the size of the answer, not the length of the history.
 */
export class EmbeddedTemporalStore implements TemporalStore, HistoryRecorder {
  private lastSeq = 0;

  constructor(
    private readonly root: RootDatabase,
    private readonly entitiesDb: Database<TemporalEntity, [string, string]>,
    private readonly instancesDb: Database<StoredInstance, InstanceKey>,
    /** Public for tests that count the entries a query reads. */
    readonly timesDb: Database<TimeValue, TimeKey>,
    private readonly recordedDb: Database<[string, string, string, string], RecordedKey>,
  ) {}

  static open(root: RootDatabase): EmbeddedTemporalStore {
    return new EmbeddedTemporalStore(
      root,
      root.openDB<TemporalEntity, [string, string]>({ name: 'temporal-entities', encoding: 'json' }),
      root.openDB<StoredInstance, InstanceKey>({ name: 'temporal-instances', encoding: 'json' }),
      root.openDB<TimeValue, TimeKey>({ name: 'temporal-times', encoding: 'json' }),
      root.openDB<[string, string, string, string], RecordedKey>({ name: 'temporal-recorded', encoding: 'json' }),
    );
  }

  // ------------------------------------------------------------------ recording (inside the entity store's transaction)

  record(tenant: string, before: Entity | undefined, after: Entity | undefined, at: string): void {
    const id = (after ?? before)!.id;
    const entityKey: [string, string] = [tenant, id];
    this.entitiesDb.put(entityKey, temporalEntityAfter(this.entitiesDb.get(entityKey), before, after, at));
    for (const { attr, instance } of historyOf(before, after, at)) {
      // An attribute whose key cannot be stored keeps no history rather than failing the entity's write.
      if (keyProblem(tenant, id + attr) || Buffer.byteLength(tenant + id + attr) > MAX_ATTR_KEY_BYTES) continue;
      this.write(tenant, id, attr, this.nextSeq(), instance);
    }
  }

  // ------------------------------------------------------------------ reads

  async getEntity(tenant: string, id: string): Promise<TemporalEntity | undefined> {
    if (keyProblem(tenant, id)) return undefined;
    return this.entitiesDb.get([tenant, id]);
  }

  async listEntities(tenant: string, filter: TemporalEntityFilter, page: { limit: number; after?: string }): Promise<TemporalEntity[]> {
    const out: TemporalEntity[] = [];
    if (page.limit <= 0) return out;
    const re = filter.idPattern === undefined ? undefined : RE2JS.compile(filter.idPattern);
    const ids = filter.ids ? new Set(filter.ids) : undefined;
    const start: [string, string] | [string] = page.after === undefined ? [tenant] : [tenant, page.after];
    for (const { key, value } of this.entitiesDb.getRange({ start, end: [tenant, HIGH] })) {
      if (page.after !== undefined && key[1] === page.after) continue;
      if (ids && !ids.has(value.id)) continue;
      if (re && !re.matches(value.id)) continue;
      if (filter.types && !matchesTypes(filter.types, value.type)) continue;
      if (filter.attrs && !filter.attrs.some((attr) => this.hasHistory(tenant, value.id, attr))) continue;
      out.push(value);
      if (out.length >= page.limit) break;
    }
    return out;
  }

  async attributes(tenant: string, id: string): Promise<string[]> {
    if (keyProblem(tenant, id)) return [];
    const names: string[] = [];
    // Skip scan: one key read per attribute, however many instances each has.
    let start: unknown[] = [tenant, id];
    for (;;) {
      let next: string | undefined;
      for (const key of this.instancesDb.getKeys({ start: start as InstanceKey, end: [tenant, id, HIGH] as unknown as InstanceKey, limit: 1 })) next = key[2];
      if (next === undefined) return names;
      names.push(next);
      start = [tenant, id, next, HIGH];
    }
  }

  async instances(tenant: string, id: string, attr: string, query: InstanceQuery): Promise<TemporalInstance[]> {
    const out: TemporalInstance[] = [];
    const want = query.lastN === undefined ? query.limit : Math.min(query.limit, query.lastN);
    if (want <= 0 || keyProblem(tenant, id + attr)) return out;
    const prop = CODE[query.timeproperty];
    const low: unknown[] = [tenant, id, attr, prop];
    if (query.from !== undefined) low.push(toMs(query.from));
    const high: unknown[] = [tenant, id, attr, prop, query.to === undefined ? HIGH : toMs(query.to)];
    const reverse = query.lastN !== undefined;
    const { datasetIds: filter, where } = query;
    // A filtered read stops at `want` matches rather than at `want` entries.
    const limit = filter || where ? {} : { limit: want };
    const range = reverse
      ? this.timesDb.getRange({ start: high as TimeKey, end: low as TimeKey, reverse: true, ...limit })
      : this.timesDb.getRange({ start: low as TimeKey, end: high as TimeKey, ...limit });
    for (const { value } of range) {
      if (filter && !filter.has(value[1] ?? undefined)) continue;
      const stored = this.instancesDb.get([tenant, id, attr, value[0]]);
      if (!stored) continue;
      if (where && !where(stored.i)) continue;
      out.push(stored.i);
      if (out.length >= want) break;
    }
    return out;
  }

  // ------------------------------------------------------------------ temporal API writes

  async append(tenant: string, entity: { id: string; type: string[]; scope?: string[] }, instances: Record<string, TemporalInstance[]>): Promise<void> {
    const problem = keyProblem(tenant, entity.id);
    if (problem) throw new Error(problem);
    for (const attr of Object.keys(instances)) {
      if (keyProblem(tenant, entity.id + attr) || Buffer.byteLength(tenant + entity.id + attr) > MAX_ATTR_KEY_BYTES) {
        throw new Error(`attribute name ${attr} cannot be stored`);
      }
    }
    const now = new Date().toISOString();
    await this.root.transaction(() => {
      const key: [string, string] = [tenant, entity.id];
      const known = this.entitiesDb.get(key);
      const te: TemporalEntity = { id: entity.id, type: [...entity.type], createdAt: known?.createdAt ?? now, modifiedAt: now };
      const scope = entity.scope ?? known?.scope;
      if (scope) te.scope = [...scope];
      if (known?.deletedAt) te.deletedAt = known.deletedAt;
      this.entitiesDb.put(key, te);
      for (const [attr, list] of Object.entries(instances)) {
        for (const instance of list) {
          const stored: TemporalInstance = { ...instance, instanceId: instance.instanceId || newInstanceId() };
          const existing = this.instancesDb.get([tenant, entity.id, attr, stored.instanceId]);
          if (existing) this.unindex(tenant, entity.id, attr, existing);
          this.write(tenant, entity.id, attr, existing?.s ?? this.nextSeq(), stored);
        }
      }
    });
  }

  async updateInstance(tenant: string, id: string, attr: string, instanceId: string, attribute: Attribute): Promise<boolean> {
    if (keyProblem(tenant, id + attr + instanceId)) return false;
    return this.root.transaction(() => {
      const existing = this.instancesDb.get([tenant, id, attr, instanceId]);
      if (!existing) return false;
      this.unindex(tenant, id, attr, existing);
      const updated: TemporalInstance = { instanceId, attribute };
      if (existing.i.deletedAt !== undefined) updated.deletedAt = existing.i.deletedAt;
      this.write(tenant, id, attr, existing.s, updated);
      return true;
    });
  }

  async deleteInstance(tenant: string, id: string, attr: string, instanceId: string): Promise<boolean> {
    if (keyProblem(tenant, id + attr + instanceId)) return false;
    return this.root.transaction(() => {
      const existing = this.instancesDb.get([tenant, id, attr, instanceId]);
      if (!existing) return false;
      this.remove(tenant, id, attr, existing);
      return true;
    });
  }

  async deleteAttribute(tenant: string, id: string, attr: string, target: { datasetId?: string; all: boolean }): Promise<boolean> {
    if (keyProblem(tenant, id + attr)) return false;
    return this.removeRange([tenant, id, attr], [tenant, id, attr, HIGH], (s) => target.all || s.i.attribute.datasetId === target.datasetId);
  }

  async deleteEntity(tenant: string, id: string): Promise<boolean> {
    if (keyProblem(tenant, id)) return false;
    const existed = this.entitiesDb.doesExist([tenant, id]);
    const removed = await this.removeRange([tenant, id], [tenant, id, HIGH], () => true);
    if (existed) await this.entitiesDb.remove([tenant, id]);
    return existed || removed;
  }

  async purgeBefore(cutoff: string): Promise<number> {
    const end: RecordedKey = [toMs(cutoff), 0];
    let dropped = 0;
    for (;;) {
      const batch = [...this.recordedDb.getRange({ end, limit: BATCH })];
      if (batch.length === 0) return dropped;
      await this.root.transaction(() => {
        for (const { key, value } of batch) {
          const existing = this.instancesDb.get(value);
          if (existing) {
            this.remove(value[0], value[1], value[2], existing);
            dropped++;
          }
          this.recordedDb.remove(key);
        }
      });
    }
  }

  // ------------------------------------------------------------------ internals (synchronous, inside a write transaction)

  private hasHistory(tenant: string, id: string, attr: string): boolean {
    for (const _ of this.instancesDb.getKeys({ start: [tenant, id, attr] as unknown as InstanceKey, end: [tenant, id, attr, HIGH], limit: 1 })) return true;
    return false;
  }

  /** Monotonic within the process and, being time based, across restarts: orders instances of the same millisecond. */
  private nextSeq(): number {
    this.lastSeq = Math.max(this.lastSeq + 1, Date.now() * 1024);
    return this.lastSeq;
  }

  private write(tenant: string, id: string, attr: string, seq: number, instance: TemporalInstance): void {
    this.instancesDb.put([tenant, id, attr, instance.instanceId], { s: seq, i: instance });
    for (const [key] of this.timeKeys(tenant, id, attr, seq, instance)) {
      this.timesDb.put(key, [instance.instanceId, instance.attribute.datasetId ?? null]);
    }
    this.recordedDb.put([recordedMs(instance), seq], [tenant, id, attr, instance.instanceId]);
  }

  private unindex(tenant: string, id: string, attr: string, stored: StoredInstance): void {
    for (const [key] of this.timeKeys(tenant, id, attr, stored.s, stored.i)) this.timesDb.remove(key);
    this.recordedDb.remove([recordedMs(stored.i), stored.s]);
  }

  private remove(tenant: string, id: string, attr: string, stored: StoredInstance): void {
    this.unindex(tenant, id, attr, stored);
    this.instancesDb.remove([tenant, id, attr, stored.i.instanceId]);
  }

  private *timeKeys(tenant: string, id: string, attr: string, seq: number, instance: TemporalInstance): Generator<[TimeKey]> {
    for (const [prop, ms] of instanceTimes(instance)) yield [[tenant, id, attr, CODE[prop], ms, seq]];
  }

  /** Removes the matching instances under a key prefix, BATCH per transaction; whether any was removed. */
  private async removeRange(start: unknown[], end: unknown[], match: (s: StoredInstance) => boolean): Promise<boolean> {
    let removed = false;
    let from = start as InstanceKey;
    for (;;) {
      const batch = [...this.instancesDb.getRange({ start: from, end: end as InstanceKey, limit: BATCH })];
      if (batch.length === 0) return removed;
      const doomed = batch.filter(({ value }) => match(value));
      if (doomed.length > 0) {
        removed = true;
        await this.root.transaction(() => {
          for (const { key } of doomed) {
            const current = this.instancesDb.get(key);
            if (current) this.remove(key[0], key[1], key[2], current);
          }
        });
      }
      if (batch.length < BATCH) return removed;
      from = [...batch[batch.length - 1]!.key, HIGH] as unknown as InstanceKey;
    }
  }
}

function toMs(time: string): number {
  const ms = Date.parse(time);
  if (Number.isNaN(ms)) throw new Error(`not a DateTime: ${time}`);
  return ms;
}

function recordedMs(instance: TemporalInstance): number {
  const ms = Date.parse(instance.attribute.createdAt);
  return Number.isNaN(ms) ? 0 : ms;
}
