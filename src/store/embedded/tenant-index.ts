import type { Entity } from '../../model/entity.js';
import { SpatialIndex } from './spatial-index.js';

/** What the indexes record about one entity: enough to find it, nothing to answer with. */
export interface Signature {
  types: readonly string[];
  attrs: readonly string[];
  /** GeoProperty name -> the values of its instances (GeoJSON, shared with the frozen entity, never copied). */
  geo: Readonly<Record<string, readonly unknown[]>>;
}

export function signatureOf(entity: Entity): Signature {
  const attrs: string[] = [];
  const geo: Record<string, unknown[]> = {};
  for (const [name, instances] of Object.entries(entity.attrs)) {
    if (instances.length === 0) continue;
    attrs.push(name);
    for (const a of instances) if (a.type === 'GeoProperty') (geo[name] ??= []).push(a.value);
  }
  return { types: entity.type, attrs, geo };
}

const EMPTY_SET: ReadonlySet<string> = new Set();

/**
 * Ids are ordered by UTF-16 code units (JS `<`), which is stable and cheap; it differs from lmdb's UTF-8
 * key order only for astral characters against U+E000..U+FFFF, which paging does not care about.
 */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * In-memory indexes of one tenant. `apply` is written as "membership becomes `after`" rather than
 * "undo before, do after", so replaying a change twice or after a rebuild still ends in the right state.
 */
export class TenantIndex {
  private readonly ids = new Set<string>();
  private readonly byType = new Map<string, Set<string>>();
  private readonly byAttr = new Map<string, Set<string>>();
  /** Bounding boxes of GeoProperty values, so a geo-query visits only entities near its geometry. */
  readonly spatial = new SpatialIndex();
  /**
   * Sorted snapshot of `ids`, rebuilt lazily: handed-out arrays are never mutated, so a caller paging
   * through one across awaits sees a consistent list. Writes only note what changed since (O(1)); the next
   * read applies that to a copy instead of re-sorting everything. Invariant: sorted ⊆ ids ∪ removed.
   */
  private sorted: readonly string[] = [];
  private added: string[] = [];
  private removed = new Set<string>();

  apply(id: string, before: Signature | undefined, after: Signature | undefined): void {
    if (before) {
      for (const t of before.types) if (!after?.types.includes(t)) remove(this.byType, t, id);
      for (const a of before.attrs) if (!after?.attrs.includes(a)) remove(this.byAttr, a, id);
      for (const g of Object.keys(before.geo)) if (!after?.geo[g]) this.spatial.removeAttr(id, g);
    }
    if (after) {
      for (const [g, values] of Object.entries(after.geo)) {
        const old = before?.geo[g];
        // Unchanged geometries are the same objects (entities share unchanged parts), so the tree is spared.
        if (!old || old.length !== values.length || old.some((v, i) => v !== values[i])) this.spatial.upsert(id, g, values);
      }
    }
    if (after) {
      for (const t of after.types) add(this.byType, t, id);
      for (const a of after.attrs) add(this.byAttr, a, id);
      if (!this.ids.has(id)) {
        this.ids.add(id);
        if (!this.removed.delete(id)) this.added.push(id);
      }
    } else if (this.ids.delete(id)) {
      // If the id was only in `added`, allIds() drops it there (not in `ids`); `removed` just misses in `sorted`.
      this.removed.add(id);
    }
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  get size(): number {
    return this.ids.size;
  }

  idsByType(type: string): ReadonlySet<string> {
    return this.byType.get(type) ?? EMPTY_SET;
  }

  idsByAttribute(attr: string): ReadonlySet<string> {
    return this.byAttr.get(attr) ?? EMPTY_SET;
  }

  types(): IterableIterator<string> {
    return this.byType.keys();
  }

  attributes(): IterableIterator<string> {
    return this.byAttr.keys();
  }

  allIds(): readonly string[] {
    if (this.added.length === 0 && this.removed.size === 0) return this.sorted;
    // Few changes between reads is the common case: patching a copy costs a memmove per change, while a full
    // merge would look every id up in a set.
    let next: string[] = this.sorted.slice();
    if (this.removed.size > SMALL) next = next.filter((id) => !this.removed.has(id));
    else for (const id of this.removed) {
      const at = lowerBound(next, id);
      if (next[at] === id) next.splice(at, 1);
    }
    const fresh = this.added.filter((id) => this.ids.has(id)).sort(compareIds);
    if (fresh.length > SMALL) next = merge(next, fresh);
    else for (const id of fresh) next.splice(lowerBound(next, id), 0, id);
    // Not frozen: V8 copies frozen arrays several times slower, and the type already says readonly.
    this.sorted = next;
    this.added = [];
    this.removed = new Set();
    return this.sorted;
  }
}

/** Up to this many changes are patched in one by one, past it the sorted list is rebuilt by a merge. */
const SMALL = 32;

function lowerBound(ids: readonly string[], id: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid] < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function merge(a: readonly string[], b: readonly string[]): string[] {
  const out: string[] = new Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = a[i] < b[j] ? a[i++] : b[j++];
  while (i < a.length) out[k++] = a[i++];
  while (j < b.length) out[k++] = b[j++];
  return out;
}

function add(index: Map<string, Set<string>>, key: string, id: string): void {
  let ids = index.get(key);
  if (!ids) index.set(key, (ids = new Set()));
  ids.add(id);
}

function remove(index: Map<string, Set<string>>, key: string, id: string): void {
  const ids = index.get(key);
  if (!ids) return;
  ids.delete(id);
  // Dropping empty sets keeps types()/attributes() truthful for the "list types/attributes" endpoints.
  if (ids.size === 0) index.delete(key);
}
