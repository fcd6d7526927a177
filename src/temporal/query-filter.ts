import { badRequest } from '../common/errors.js';
import { list, type Params } from '../entities/query-params.js';
import type { LdContext } from '../jsonld/types.js';
import type { Entity } from '../model/entity.js';
import { matchesGeoQuery } from '../query/geo-match.js';
import { parseGeoQuery, type GeoQuery } from '../query/geo-query.js';
import type { QExpression } from '../query/q-ast.js';
import { matchesQ, qUsesLinkedEntities } from '../query/q-eval.js';
import { parseQ } from '../query/q-parser.js';
import type { TemporalInstance } from '../store/temporal-store.js';

/**
 * The values filter (q, clause 4.9) and the geo-query (4.10) of Query Temporal Evolution of Entities, as 5.7.4.4 reads:
 *
 * - Entity selection (S2, S3): "select those Entities whose Attribute instances (during the interval defined by the
 *   temporal query) meet the matching conditions specified by the query; i.e. the values filter query shall be checked
 *   against all the Attribute instances resulting from the initial filtering performed by the temporal query", and
 *   the geo-query "against the GeoProperty instances that are within the interval". musubi evaluates the q as it does
 *   on an entity with several instances of an attribute (4.5.5, "any Value of such instances"): the instances in the
 *   time range stand for the instances of the attribute, so each term holds when one instance in range satisfies it
 *   (`speed>50`: the speed was over 50 at some time in the range), `!speed` when none has a value, and `;` / `|`
 *   combine the terms. Terms are not required to hold at the same instant (nor by the same instance), so an entity
 *   may be selected by `speed<10;speed!=5` yet show no speed instance that satisfies both.
 * - Representation: "include ... only the Attribute instances ... which meet the temporal, query and geoquery
 *   restrictions". An instance meets the q when the q restricted to its attribute holds for it alone: terms on other
 *   attributes count as met (they restrict those attributes, not this one), so with `speed>50;brand=="X"` only the
 *   speed instances over 50 are shown, with `speed>50|brand=="X"` every speed instance. Attributes the q and the
 *   geo-query do not mention keep every instance in range. A deletion record (4.5.7) has no value: it never satisfies a
 *   term, so it shows only where its attribute is unrestricted (or under `!attr`).
 *
 * Linked-entity paths (`rel{attr}`) are BadRequestData: 5.7.4.4 forbids Linked Entity retrieval in temporal queries.
 */

export interface TemporalFilter {
  q?: QExpression;
  geo?: GeoQuery;
}

/** Instance predicate per attribute; `undefined`: every instance in range. */
export type InstancePredicate = ((instance: TemporalInstance) => boolean) | undefined;

/** The q and geo-query parameters of a temporal query (URL form; a POST Query body is converted to it first). */
export function parseTemporalFilter(params: Params, ctx: LdContext): TemporalFilter {
  const out: TemporalFilter = {};
  if (params.q !== undefined) {
    out.q = parseQ(params.q, ctx, { expandValues: list(params, 'expandValues'), jsonKeys: list(params, 'jsonKeys') });
    if (qUsesLinkedEntities(out.q)) {
      throw badRequest('A temporal query cannot use linked-entity paths ("relationship{attribute}") in q (clause 5.7.4.4)');
    }
  }
  const geo = parseGeoQuery(
    { georel: params.georel, geometry: params.geometry, coordinates: params.coordinates, geoproperty: params.geoproperty },
    (t) => ctx.expand(t),
  );
  if (geo) out.geo = geo;
  return out;
}

/** The entity of one instance: what q-eval and geo-match evaluate. A deletion record has no attribute at all. */
export function instanceSnapshot(entityId: string, attr: string, instance: TemporalInstance): Entity {
  const at = instance.attribute.createdAt;
  return { id: entityId, type: [], createdAt: at, modifiedAt: at, attrs: instance.deletedAt === undefined ? { [attr]: [instance.attribute] } : {} };
}

/** The q restricted to one attribute: terms on other attributes count as met. `true`: nothing left to check. */
export function restrictQ(expr: QExpression, attr: string): QExpression | true {
  switch (expr.kind) {
    case 'and': {
      const rest = expr.of.map((e) => restrictQ(e, attr)).filter((e): e is QExpression => e !== true);
      return rest.length === 0 ? true : rest.length === 1 ? rest[0]! : { kind: 'and', of: rest };
    }
    case 'or': {
      const rest: QExpression[] = [];
      for (const e of expr.of) {
        const r = restrictQ(e, attr);
        if (r === true) return true;
        rest.push(r);
      }
      return rest.length === 1 ? rest[0]! : { kind: 'or', of: rest };
    }
    default:
      return expr.path.attr === attr ? expr : true;
  }
}

/** Which instances of `attr` the representation keeps (5.7.4.4), beyond the time range and datasetId. */
export function instancePredicate(filter: TemporalFilter, entityId: string, attr: string): InstancePredicate {
  const q = filter.q === undefined ? true : restrictQ(filter.q, attr);
  const geo = filter.geo?.geoproperty === attr ? filter.geo : undefined;
  if (q === true && !geo) return undefined;
  return (instance) => {
    const snapshot = instanceSnapshot(entityId, attr, instance);
    if (q !== true && !matchesQ(q, snapshot)) return false;
    return !geo || matchesGeoQuery(geo, snapshot);
  };
}

/**
 * Whether the entity's instances in range satisfy the q and the geo-query (S2, S3 of 5.7.4.4). `exists(attr, test)`
 * says whether an instance of `attr` in the time range passes `test`; each term costs one such look-up, which a
 * store answers by reading the range until the first match, so memory stays bounded whatever the history's length.
 */
export async function matchesFilter(
  filter: TemporalFilter,
  entityId: string,
  exists: (attr: string, test: (instance: TemporalInstance) => boolean) => Promise<boolean>,
): Promise<boolean> {
  if (filter.q && !(await matchesExpression(filter.q, entityId, exists))) return false;
  const geo = filter.geo;
  if (geo) return exists(geo.geoproperty, (i) => matchesGeoQuery(geo, instanceSnapshot(entityId, geo.geoproperty, i)));
  return true;
}

async function matchesExpression(
  expr: QExpression,
  entityId: string,
  exists: (attr: string, test: (instance: TemporalInstance) => boolean) => Promise<boolean>,
): Promise<boolean> {
  switch (expr.kind) {
    case 'and':
      for (const e of expr.of) if (!(await matchesExpression(e, entityId, exists))) return false;
      return true;
    case 'or':
      for (const e of expr.of) if (await matchesExpression(e, entityId, exists)) return true;
      return false;
    case 'notExists': {
      const attr = expr.path.attr;
      // `!attr`: no instance in range has the target element (a deletion record has none).
      return !(await exists(attr, (i) => matchesQ({ kind: 'exists', path: expr.path }, instanceSnapshot(entityId, attr, i))));
    }
    default: {
      const attr = expr.path.attr;
      return exists(attr, (i) => matchesQ(expr, instanceSnapshot(entityId, attr, i)));
    }
  }
}
