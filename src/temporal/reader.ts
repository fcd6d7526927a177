import { matchesScopeQ } from '../query/scope-q.js';
import type { InstanceQuery, TemporalEntity, TemporalEntityFilter, TemporalInstance, TemporalStore } from '../store/temporal-store.js';
import { mergeCut, type Cut } from './paging.js';
import type { TemporalParams } from './params.js';
import { instancePredicate, matchesFilter, type TemporalFilter } from './query-filter.js';
import { instanceTime } from './render.js';

/** Entities are scanned in slices of this many when selecting a page and counting. */
const SCAN_SLICE = 500;

/**
 * Reads temporal query results from a TemporalStore: which entities are in the result (5.7.4.4) and the instances
 * their representation shows. Selection and count use the same test, so NGSILD-Results-Count (6.3.13) is the number
 * of entities the pages hold. Memory stays bounded: entities are scanned slice by slice, and each test reads a
 * range only up to its first match.
 */
export class TemporalReader {
  constructor(
    private readonly store: TemporalStore,
    private readonly maxInstances: number,
  ) {}

  /**
   * Whether the entity belongs in the result of a temporal query (5.7.4.4): its scope matches scopeQ (S4), its
   * instances in the time range satisfy q (S2) and the geo-query (S3), and at least one instance of the requested
   * attributes (all when none are named) is left to show after the time range (S1), datasetId and the q / geo
   * restrictions on instances. An entity with nothing to show is left out, so that a page never holds empty entities.
   */
  async inResult(tenant: string, entity: TemporalEntity, p: TemporalParams, filter: TemporalFilter): Promise<boolean> {
    if (p.scopeQ && !matchesScopeQ(p.scopeQ, entity.scope)) return false;
    const range = { timeproperty: p.query.timeproperty, from: p.query.from, to: p.query.to, limit: 1 };
    const exists = async (attr: string, where: (i: TemporalInstance) => boolean) =>
      (await this.store.instances(tenant, entity.id, attr, { ...range, where })).length > 0;
    if (!(await matchesFilter(filter, entity.id, exists))) return false;
    for (const name of p.attrs ?? (await this.store.attributes(tenant, entity.id))) {
      const where = instancePredicate(filter, entity.id, name);
      const found = await this.store.instances(tenant, entity.id, name, { ...range, datasetIds: p.datasetIds, ...(where ? { where } : {}) });
      if (found.length > 0) return true;
    }
    return false;
  }

  /**
   * The instances of the requested attributes in the range, restricted by the filter; `cut` says where the history
   * was cut by maxInstances (6.3.10).
   */
  async readAttributes(tenant: string, entity: TemporalEntity, p: TemporalParams, filter: TemporalFilter = {}): Promise<{ attrs: Map<string, TemporalInstance[]>; cut?: Cut }> {
    const names = p.attrs ?? (await this.store.attributes(tenant, entity.id));
    const max = this.maxInstances;
    const lastN = p.query.lastN;
    const want = lastN !== undefined ? Math.min(lastN, max + 1) : max + 1;
    const base: InstanceQuery = { timeproperty: p.query.timeproperty, from: p.query.from, to: p.query.to, datasetIds: p.datasetIds, lastN, limit: want };
    const attrs = new Map<string, TemporalInstance[]>();
    let cut: Cut | undefined;
    for (const name of names) {
      const where = instancePredicate(filter, entity.id, name);
      let instances = await this.store.instances(tenant, entity.id, name, where ? { ...base, where } : base);
      if (instances.length > max) {
        instances = instances.slice(0, max);
        const times = instances.map((i) => instanceTime(i, p.query.timeproperty)).filter((t): t is string => t !== undefined);
        // Forwards: the newest kept; backwards (lastN): the oldest kept.
        const at = lastN === undefined ? times.reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a)) : times.reduce((a, b) => (Date.parse(b) < Date.parse(a) ? b : a));
        cut = mergeCut(cut, { at }, lastN !== undefined);
      }
      if (instances.length > 0) attrs.set(name, instances);
    }
    return { attrs, cut };
  }

  /** Up to `limit` entities of the store filter that pass `test`, in id order after `after`. */
  async select(tenant: string, filter: TemporalEntityFilter, test: (e: TemporalEntity) => Promise<boolean>, limit: number, after?: string): Promise<TemporalEntity[]> {
    const out: TemporalEntity[] = [];
    if (limit <= 0) return out;
    let cursor = after;
    for (;;) {
      const batch = await this.store.listEntities(tenant, filter, { limit: SCAN_SLICE, after: cursor });
      for (const e of batch) {
        if (!(await test(e))) continue;
        out.push(e);
        if (out.length >= limit) return out;
      }
      if (batch.length < SCAN_SLICE) return out;
      cursor = batch[batch.length - 1]!.id;
    }
  }

  /** The number of entities of the store filter that pass `test`: NGSILD-Results-Count (6.3.13). */
  async count(tenant: string, filter: TemporalEntityFilter, test: (e: TemporalEntity) => Promise<boolean>): Promise<number> {
    let n = 0;
    let cursor: string | undefined;
    for (;;) {
      const batch = await this.store.listEntities(tenant, filter, { limit: SCAN_SLICE, after: cursor });
      for (const e of batch) if (await test(e)) n++;
      if (batch.length < SCAN_SLICE) return n;
      cursor = batch[batch.length - 1]!.id;
    }
  }
}
