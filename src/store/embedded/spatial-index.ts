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
  /** id -> attr -> the items it put in that attr's tree: what removal must take out, by reference. */
  private readonly byId = new Map<string, Map<string, Item[]>>();
  /** attr -> ids holding at least one indexed geometry in it: the candidates of queries that cannot prune. */
  private readonly holders = new Map<string, Set<string>>();

  private tree(attr: string): RBush<Item> {
    let t = this.trees.get(attr);
    if (!t) {
      t = new RBush<Item>();
      this.trees.set(attr, t);
    }
    return t;
  }

  private record(id: string, attr: string, items: Item[]): void {
    let attrs = this.byId.get(id);
    if (!attrs) {
      attrs = new Map();
      this.byId.set(id, attrs);
    }
    attrs.set(attr, items);
    let ids = this.holders.get(attr);
    if (!ids) {
      ids = new Set();
      this.holders.set(attr, ids);
    }
    ids.add(id);
  }

  /** Makes `geometries` the indexed values of (id, attr), replacing what was there; none removes the pair. */
  upsert(id: string, attr: string, geometries: readonly unknown[]): void {
    this.removeAttr(id, attr);
    const items = itemsFor(id, geometries);
    if (items.length === 0) return;
    const t = this.tree(attr);
    for (const item of items) t.insert(item);
    this.record(id, attr, items);
  }

  removeAttr(id: string, attr: string): void {
    const attrs = this.byId.get(id);
    const items = attrs?.get(attr);
    if (!attrs || !items) return;
    const t = this.trees.get(attr);
    for (const item of items) t?.remove(item);
    attrs.delete(attr);
    if (attrs.size === 0) this.byId.delete(id);
    const ids = this.holders.get(attr);
    ids?.delete(id);
    if (ids?.size === 0) {
      this.holders.delete(attr);
      this.trees.delete(attr);
    }
  }

  /** Drops every GeoProperty of the entity. */
  remove(id: string): void {
    const attrs = this.byId.get(id);
    if (!attrs) return;
    for (const attr of [...attrs.keys()]) this.removeAttr(id, attr);
  }

  /**
   * Bulk load (rbush's OMT packing): much faster than upserting one by one and gives a better tree. Entries for
   * pairs already indexed replace them; several entries for the same pair add up.
   */
  load(entries: Iterable<SpatialEntry>): void {
    const batches = new Map<string, Item[]>();
    const fresh = new Set<string>();
    for (const { id, attr, geometries } of entries) {
      const key = `${attr}\u0000${id}`;
      if (!fresh.has(key)) {
        this.removeAttr(id, attr);
        fresh.add(key);
      }
      const items = itemsFor(id, geometries);
      if (items.length === 0) continue;
      const previous = this.byId.get(id)?.get(attr) ?? [];
      this.record(id, attr, previous.concat(items));
      let batch = batches.get(attr);
      if (!batch) {
        batch = [];
        batches.set(attr, batch);
      }
      for (const item of items) batch.push(item);
    }
    for (const [attr, items] of batches) this.tree(attr).load(items);
  }

  /** Ids with a geometry in `attr` whose bounding box meets `box` ([minLon, minLat, maxLon, maxLat]). */
  search(attr: string, box: BBox): Set<string> {
    const out = new Set<string>();
    const t = this.trees.get(attr);
    if (!t) return out;
    for (const item of t.search({ minX: box[0], minY: box[1], maxX: box[2], maxY: box[3] })) out.add(item.id);
    return out;
  }

  /** Every id holding an indexed geometry in `attr` (a copy: the caller may keep it across writes). */
  ids(attr: string): Set<string> {
    return new Set(this.holders.get(attr));
  }

  has(id: string, attr?: string): boolean {
    const attrs = this.byId.get(id);
    return attr === undefined ? attrs !== undefined : attrs?.has(attr) === true;
  }

  /** Number of entities with at least one indexed geometry. */
  get size(): number {
    return this.byId.size;
  }

  clear(): void {
    this.trees.clear();
    this.byId.clear();
    this.holders.clear();
  }
}
