import type { Collection, Filter, FindCursor } from 'mongodb';
import type { Entity } from '../../model/entity.js';
import { compileSelection, type EntityPage, type EntityQuery, type EntitySelection } from '../../query/entity-query.js';
import { qUsesLinkedEntities } from '../../query/q-eval.js';
import { deepFreeze } from '../deep-freeze.js';
import { fromDocument, type EntityDocument } from './document.js';
import { pageMatches, planQuery } from './translate/index.js';

/** Documents fetched per round trip while post-filtering. */
const BATCH = 500;

/**
 * Runs a query plan (src/query/entity-query.ts) over the tenant's entities with the translation of ./translate:
 * - an exact filter in an order MongoDB sorts natively: MongoDB pages (skip/limit, keyset bounds) and counts;
 * - otherwise every document the filter admits is checked with compileSelection (the full 5.7.2.4 semantics), and
 *   paging and counting happen after it: in id order the walk stops once the page is full (unless the count is
 *   asked), ordered queries (4.23, distances included) collect every match and page with pageMatches, exactly as
 *   the embedded engine does.
 */
export async function runMongoQuery(
  entities: Collection<EntityDocument>,
  tenant: string,
  query: EntityQuery,
  getEntity: (id: string) => Promise<Entity | undefined>,
): Promise<EntityPage> {
  const plan = planQuery(tenant, query);
  if (plan.mode === 'database') {
    // limit 0 means "no limit" to MongoDB: with limit=0 only the count is wanted.
    const docs = plan.limit > 0 ? await entities.find(plan.filter as Filter<EntityDocument>).sort(plan.sort).skip(plan.skip).limit(plan.limit).toArray() : [];
    const page = docs.map(decode);
    if (plan.reverse) page.reverse();
    return { entities: page, count: query.count ? await entities.countDocuments(plan.countFilter as Filter<EntityDocument>) : undefined };
  }

  const filter = plan.filter as Filter<EntityDocument>;
  const check = await postFilter(query.selection, getEntity);
  if ((query.orderBy && query.orderBy.length > 0) || query.count) {
    const all: Entity[] = [];
    for await (const e of matching(entities.find(filter).batchSize(BATCH), check)) all.push(e);
    return pageMatches(all, query);
  }
  // Id order without a count: walk in order from the cursor and stop at a full page.
  const idRange: { $gt?: string; $lt?: string } = {};
  if (query.after !== undefined) idRange.$gt = query.after;
  if (query.before !== undefined) idRange.$lt = query.before;
  const bounded: Filter<EntityDocument> = Object.keys(idRange).length > 0 ? { $and: [filter, { id: idRange }] } : filter;
  // A page that ends before a cursor: the `limit` matches nearest to it, walked backwards, then put in id order.
  const backwards = query.before !== undefined;
  const page: Entity[] = [];
  if (query.limit > 0) {
    let skipped = 0;
    for await (const e of matching(entities.find(bounded).sort({ id: backwards ? -1 : 1 }).batchSize(BATCH), check)) {
      if (skipped++ < query.offset) continue;
      page.push(e);
      if (page.length >= query.limit) break;
    }
  }
  if (backwards) page.reverse();
  return { entities: page };
}

/** The entities of a cursor that pass `check` (all of them without one); closes the cursor when the caller stops. */
async function* matching(cursor: FindCursor<EntityDocument>, check: ((e: Entity) => Promise<boolean>) | undefined): AsyncGenerator<Entity> {
  try {
    for await (const doc of cursor) {
      const e = decode(doc);
      if (!check || (await check(e))) yield e;
    }
  } finally {
    await cursor.close();
  }
}

function decode(doc: EntityDocument): Entity {
  return deepFreeze(fromDocument(doc));
}

/**
 * The full selection on one entity. Linked-entity paths in q (clause 4.9) look up relationship targets, which
 * compileSelection wants synchronously: targets not yet known are recorded, fetched, and the entity is checked again
 * (once per level of linking).
 */
async function postFilter(sel: EntitySelection, getEntity: (id: string) => Promise<Entity | undefined>): Promise<(e: Entity) => Promise<boolean>> {
  if (!sel.q || !qUsesLinkedEntities(sel.q)) {
    const selected = compileSelection(sel);
    return async (e) => selected(e);
  }
  const known = new Map<string, Entity | null>();
  const missing = new Set<string>();
  const selected = compileSelection(sel, (id) => {
    const hit = known.get(id);
    if (hit === undefined) missing.add(id);
    return hit ?? undefined;
  });
  return async (e) => {
    for (;;) {
      missing.clear();
      const ok = selected(e);
      if (missing.size === 0) return ok;
      await Promise.all([...missing].map(async (id) => known.set(id, (await getEntity(id)) ?? null)));
    }
  };
}
