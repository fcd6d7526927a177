import type { EntitySelection, OrderKey } from '../../../query/entity-query.js';
import { qAttributes } from '../../../query/q-eval.js';
import { encodeKey } from '../document.js';

export type Projection = Record<string, 1>;

// What fromDocument needs besides the attributes.
const ENTITY_FIELDS = ['id', 'types', 'scope', 'createdAt', 'modifiedAt'] as const;

/**
 * A projection that reads only the attributes a response shows (`pick`, expanded names: the attrs/pick parameters),
 * plus those the post-filter and an in-memory order still look at (q, geo-query, attrs selection, orderBy), so a
 * query over large entities transfers what it uses. Undefined when every attribute is wanted. fromDocument reads the
 * projected document as the entity with only those attributes.
 */
export function projectionFor(pick: readonly string[] | undefined, selection: EntitySelection, orderBy: readonly OrderKey[] = []): Projection | undefined {
  if (!pick) return undefined;
  const names = new Set(pick);
  if (selection.q) qAttributes(selection.q).forEach((a) => names.add(a));
  if (selection.geo) names.add(selection.geo.geoproperty);
  selection.attrs?.forEach((a) => names.add(a));
  for (const key of orderBy) if (!['id', 'type', 'scope'].includes(key.member)) names.add(key.member);
  const projection: Projection = {};
  for (const f of ENTITY_FIELDS) projection[f] = 1;
  for (const n of names) projection[`attrs.${encodeKey(n)}`] = 1;
  return projection;
}
