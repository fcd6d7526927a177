import type { GeoQuery } from '../../../query/geo-query.js';
import type { Filter } from './filter.js';

/**
 * The geo-query with MongoDB's own 2dsphere operators over the stored geometries (`geo.g`, which needs
 * GEO_2DSPHERE_INDEX of document.ts), for a store that wants the index's help with large areas; undefined when
 * MongoDB has no operator for it (within a non-polygon, disjoint, contains of a non-point).
 *
 * Not part of planQuery's filter: MongoDB draws edges as great-circle arcs, turf (the embedded semantics) as straight
 * lines in longitude/latitude, so near long edges the two disagree in both directions and this is no superset.
 * Distances are metres (GeoJSON); `$nearSphere` sorts by distance and cannot be counted (countDocuments refuses
 * it) nor be nested in `$elemMatch`, so it goes on the top-level `geo.g` with the name as a separate condition.
 */
export function nativeGeoFilter(q: GeoQuery): Filter | undefined {
  const $geometry = { type: q.geometry.type, coordinates: q.geometry.coordinates };
  const onEntry = (g: Filter): Filter => ({ geo: { $elemMatch: { n: q.geoproperty, g } } });
  switch (q.georel) {
    case 'near': {
      if ($geometry.type !== 'Point') return undefined;
      const distance = 'maxDistance' in q ? { $maxDistance: q.maxDistance } : { $minDistance: q.minDistance };
      return { 'geo.n': q.geoproperty, 'geo.g': { $nearSphere: { $geometry, ...distance } } };
    }
    case 'within':
      return $geometry.type === 'Polygon' || $geometry.type === 'MultiPolygon' ? onEntry({ $geoWithin: { $geometry } }) : undefined;
    case 'contains':
      // A geometry that contains a point meets it.
      return $geometry.type === 'Point' ? onEntry({ $geoIntersects: { $geometry } }) : undefined;
    case 'intersects':
    case 'equals':
    case 'overlaps':
      // Equal or overlapping geometries intersect.
      return onEntry({ $geoIntersects: { $geometry } });
    case 'disjoint':
      return undefined;
  }
}
