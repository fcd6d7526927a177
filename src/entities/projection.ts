import type { LdContext } from '../jsonld/types.js';
import type { Entity } from '../model/entity.js';

/** Projections shared by query answers and notifications: datasetId selection and pick/omit (clause 4.21). */

/** datasetId= (clause 4.5.5): keep only the instances of the given datasets ("@none": the default instance). */
export function onlyDatasets(entity: Entity, datasetIds: Set<string | undefined>): Entity {
  const attrs: Entity['attrs'] = {};
  for (const [name, instances] of Object.entries(entity.attrs)) {
    const kept = instances.filter((a) => datasetIds.has(a.datasetId));
    if (kept.length > 0) attrs[name] = kept;
  }
  return { ...entity, attrs };
}

/** pick/omit (clause 4.21) over the rendered members: id, type, scope or attribute names. */
export function project(payload: Record<string, unknown>, geo: boolean, ctx: LdContext, pick?: string[], omit?: string[]): void {
  const wanted = new Set((pick ?? omit)!.map((n) => (n === 'id' || n === 'type' || n === 'scope' ? n : ctx.expand(n))));
  const target = geo ? (payload.properties as Record<string, unknown>) : payload;
  const keep = (key: string) => {
    const name = key === 'id' || key === 'type' || key === 'scope' ? key : ctx.expand(key);
    return pick ? wanted.has(name) : !wanted.has(name);
  };
  for (const key of Object.keys(target)) {
    if (key === 'createdAt' || key === 'modifiedAt') continue;
    if (!keep(key)) delete target[key];
  }
  if (geo && !keep('id')) delete payload.id;
}
