import type { EntitySelection, EntitySelector } from '../../../query/entity-query.js';
import { queryBoundingBox } from '../../../query/geo-match.js';
import type { GeoQuery } from '../../../query/geo-query.js';
import type { ScopeQuery } from '../../../query/scope-q.js';
import type { TypeSelector } from '../../../query/type-selector.js';
import { and, END_OF_TEXT, escapeRegex, exact, or, superset, type Translated } from './filter.js';
import { translateQ } from './q.js';
import { portableRegex } from './regex.js';

/**
 * The whole selection of 5.7.2.4 (entity selectors, attrs, q, geo-query, scopeQ) as one filter over entity
 * documents, exact or a superset (see ./index.ts for the contract). Without the tenant: the plan adds it.
 */
export function translateSelection(sel: EntitySelection): Translated {
  const parts: Translated[] = [];
  if (sel.entities) parts.push(or(sel.entities.map(translateSelector)));
  if (sel.attrs) parts.push(exact({ names: { $in: sel.attrs } }));
  if (sel.scopeQ) parts.push(translateScopeQ(sel.scopeQ));
  if (sel.q) parts.push(translateQ(sel.q));
  if (sel.geo) parts.push(translateGeo(sel.geo));
  return and(parts);
}

function translateSelector(s: EntitySelector): Translated {
  const parts: Translated[] = [];
  if (s.ids) parts.push(exact({ id: { $in: s.ids } }));
  if (s.idPattern !== undefined) {
    const re = portableRegex(s.idPattern);
    parts.push(re ? exact({ id: { $regex: re.source, $options: re.options } }) : superset({}));
  }
  if (s.types) parts.push(translateTypes(s.types));
  return and(parts);
}

/** Clause 4.17 type selection over the `types` array. */
export function translateTypes(sel: TypeSelector): Translated {
  switch (sel.op) {
    case 'type':
      return exact({ types: sel.iri });
    case 'and':
      return and(sel.of.map(translateTypes));
    case 'or':
      return or(sel.of.map(translateTypes));
  }
}

/**
 * Clause 4.19: a scope pattern is an anchored regex over the scope strings (any of them matches, as
 * matchesScopeQ reads them: the leading "/" optional, "+" any one level, "#" any levels below).
 */
export function translateScopeQ(q: ScopeQuery): Translated {
  switch (q.op) {
    case 'and':
      return and(q.of.map(translateScopeQ));
    case 'or':
      return or(q.of.map(translateScopeQ));
    case 'scope': {
      const levels = q.levels.map((l) => (l === '+' ? '[^/]*' : escapeRegex(l))).join('/');
      if (q.levels.length === 0) return exact({ scope: { $regex: '' } });
      return exact({ scope: { $regex: `^/?${levels}${q.descendants ? '(?:/[\\s\\S]*)?' : ''}${END_OF_TEXT}` } });
    }
  }
}

/**
 * Clause 4.10 geo-queries become a bounding-box filter over the `geo` entries of the target GeoProperty: the same
 * candidates the embedded spatial index yields (matches lie inside the box for within, contain it for contains,
 * meet it otherwise; anywhere for disjoint and near;minDistance). Always inexact: the relation itself is turf's
 * (planar edges), which MongoDB's spherical 2dsphere operators do not reproduce; the post-filter decides.
 */
export function translateGeo(q: GeoQuery): Translated {
  const box = queryBoundingBox(q);
  const n = q.geoproperty;
  if (!box) return superset({ geo: { $elemMatch: { n } } });
  const [w, s, e, north] = box;
  if (q.georel === 'within') {
    return superset({ geo: { $elemMatch: { n, x0: { $gte: w }, x1: { $lte: e }, y0: { $gte: s }, y1: { $lte: north } } } });
  }
  if (q.georel === 'contains') {
    return superset({ geo: { $elemMatch: { n, x0: { $lte: w }, x1: { $gte: e }, y0: { $lte: s }, y1: { $gte: north } } } });
  }
  return superset({ geo: { $elemMatch: { n, x0: { $lte: e }, x1: { $gte: w }, y0: { $lte: north }, y1: { $gte: s } } } });
}
