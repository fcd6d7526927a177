import RBush from 'rbush';
import { type BBox, asGeometry, geometryBBox } from '../../query/geo-match.js';

/**
 * R-tree (rbush) over the GeoProperty values of one tenant's entities, one tree per GeoProperty name, so that a
 * geo-query only looks at the entities whose geometry's bounding box meets the query's box
 * (queryBoundingBox in query/geo-match.ts). It answers candidates, a superset of the matches: the caller still
 * runs matchesGeoQuery on each.
 *
 * Intended wiring (src/store/embedded/tenant-index.ts): TenantIndex owns one SpatialIndex. Signature gains
 * `geo: Record<string, unknown[]>` (expanded GeoProperty name -> values of its GeoProperty instances), and
 * TenantIndex.apply(id, before, after) calls `removeAttr(id, a)` for names in before.geo but not in after.geo,
 * `upsert(id, a, values)` for each name in after.geo (only when the values changed, to spare the tree), and
 * `remove(id)` when `after` is undefined. A rebuild on open collects every entity and calls `load` once, which
 * packs the trees far faster and tighter than one insert per entity. A query then takes
 * `box = queryBoundingBox(q)`: candidates are `search(q.geoproperty, box)`, or `ids(q.geoproperty)` when box is
 * undefined (disjoint, near;minDistance), intersected with the other filters' candidates.
 */

interface Item {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
  id: string;
}

export interface SpatialEntry {
  id: string;
  /** Expanded GeoProperty name. */
  attr: string;
  /** Values of the attribute's instances; anything that is not a valid geometry is left out. */
  geometries: readonly unknown[];
}

function itemsFor(id: string, geometries: readonly unknown[]): Item[] {
  const items: Item[] = [];
  for (const value of geometries) {
    const g = asGeometry(value);
    const box = g && geometryBBox(g);
    if (box) items.push({ minX: box[0], minY: box[1], maxX: box[2], maxY: box[3], id });
  }
  return items;
}

export class SpatialIndex {
  private readonly trees = new Map<string, RBush<Item>>();
  /**
   * attr -> id -> the items that id put in that attr's tree (what removal must take out, by reference). The
   * ids of an attr are also the candidates of queries that cannot prune. Keyed by attr first: a tenant has a
   * handful of GeoProperty names, so remove(id) just asks each.
   */
  private readonly byAttr = new Map<string, Map<string, Item[]>>();

  private slot(attr: string): { tree: RBush<Item>; ids: Map<string, Item[]> } {
    let tree = this.trees.get(attr);
    let ids = this.byAttr.get(attr);
    if (!tree || !ids) {
      tree = new RBush<Item>();
      ids = new Map();
      this.trees.set(attr, tree);
      this.byAttr.set(attr, ids);
    }
    return { tree, ids };
  }

  /** Makes `geometries` the indexed values of (id, attr), replacing what was there; none removes the pair. */
  upsert(id: string, attr: string, geometries: readonly unknown[]): void {
    this.removeAttr(id, attr);
    const items = itemsFor(id, geometries);
    if (items.length === 0) return;
    const { tree, ids } = this.slot(attr);
    for (const item of items) tree.insert(item);
    ids.set(id, items);
  }

  removeAttr(id: string, attr: string): void {
    const ids = this.byAttr.get(attr);
    const items = ids?.get(id);
    if (!ids || !items) return;
    const tree = this.trees.get(attr)!;
    for (const item of items) tree.remove(item);
    ids.delete(id);
    if (ids.size === 0) {
      this.byAttr.delete(attr);
      this.trees.delete(attr);
    }
  }

  /** Drops every GeoProperty of the entity. */
  remove(id: string): void {
    for (const [attr, ids] of [...this.byAttr]) if (ids.has(id)) this.removeAttr(id, attr);
  }

  /**
   * Bulk load (rbush's OMT packing): much faster than upserting one by one and gives a better tree. Each entry
   * replaces what its (id, attr) pair had, an earlier entry of the same load included.
   */
  load(entries: Iterable<SpatialEntry>): void {
    const batches = new Map<string, Map<string, Item[]>>();
    for (const { id, attr, geometries } of entries) {
      let batch = batches.get(attr);
      if (!batch) {
        batch = new Map();
        batches.set(attr, batch);
      }
      batch.set(id, itemsFor(id, geometries));
    }
    for (const [attr, batch] of batches) {
      const fresh: Item[] = [];
      for (const [id, items] of batch) {
        this.removeAttr(id, attr);
        for (const item of items) fresh.push(item);
      }
      if (fresh.length === 0) continue;
      const { tree, ids } = this.slot(attr);
      for (const [id, items] of batch) if (items.length > 0) ids.set(id, items);
      tree.load(fresh);
    }
  }

  /** Ids with a geometry in `attr` whose bounding box meets `box` ([minLon, minLat, maxLon, maxLat]). */
  search(attr: string, box: BBox): Set<string> {
    const out = new Set<string>();
    const tree = this.trees.get(attr);
    if (!tree) return out;
    for (const item of tree.search({ minX: box[0], minY: box[1], maxX: box[2], maxY: box[3] })) out.add(item.id);
    return out;
  }

  /** Every id holding an indexed geometry in `attr` (a copy: the caller may keep it across writes). */
  ids(attr: string): Set<string> {
    return new Set(this.byAttr.get(attr)?.keys());
  }

  has(id: string, attr?: string): boolean {
    if (attr !== undefined) return this.byAttr.get(attr)?.has(id) === true;
    for (const ids of this.byAttr.values()) if (ids.has(id)) return true;
    return false;
  }

  /** Number of entities with at least one indexed geometry. */
  get size(): number {
    if (this.byAttr.size <= 1) return this.byAttr.values().next().value?.size ?? 0;
    const all = new Set<string>();
    for (const ids of this.byAttr.values()) for (const id of ids.keys()) all.add(id);
    return all.size;
  }

  clear(): void {
    this.trees.clear();
    this.byAttr.clear();
  }
}
