/**
 * GeoJSON representation of entities (clauses 4.5.16, 4.5.17, 5.2.29-5.2.31, 6.3.15): a Feature per entity,
 * with the selected GeoProperty's value as "geometry" and the rest of the rendered entity (its "type" included,
 * its "id" excluded) as "properties"; several entities make a FeatureCollection.
 *
 * The @context, when it goes in the body, is a top-level member of the Feature, or of the FeatureCollection only
 * and never of its Features (4.5.16.3, 4.5.17.2): the HTTP layer adds it, there is nothing to do here.
 */
import type { Attribute, Entity } from '../model/entity.js';
import type { LdContext } from '../jsonld/types.js';
import { type RenderOptions, writeEntityBody } from './render.js';
import { type RenderState, isGeometry, makeState } from './render-attribute.js';

/** The GeoProperty used for "geometry" when the request names none (clause 4.5.16.1): "location", expanded. */
export const DEFAULT_GEOMETRY_PROPERTY = 'https://uri.etsi.org/ngsi-ld/location';

export interface FeatureOptions extends RenderOptions {
  /** Expanded name of the GeoProperty giving "geometry" (the geometryProperty parameter, clause 6.3.15). */
  geometryProperty?: string;
}

export interface Feature {
  id: string;
  type: 'Feature';
  geometry: Record<string, unknown> | null;
  properties: Record<string, unknown>;
}

export interface FeatureCollection {
  type: 'FeatureCollection';
  features: Feature[];
}

/**
 * The geometry of an entity (clause 4.5.16.1): the value of the default instance of the GeoProperty, or of its
 * only instance (the one left when the request selected a datasetId); null when the attribute is missing, is not
 * a GeoProperty, has several instances and none is the default, or does not hold a GeoJSON geometry.
 * Independent of the attrs filter: "geometry" is filled even when "properties" leaves the attribute out.
 */
export function selectGeometry(
  entity: Entity,
  geometryProperty: string = DEFAULT_GEOMETRY_PROPERTY,
): Record<string, unknown> | null {
  const instances = entity.attrs[geometryProperty];
  if (instances === undefined || instances.length === 0) return null;
  let chosen: Attribute | undefined;
  if (instances.length === 1) {
    chosen = instances[0];
  } else {
    for (const a of instances) {
      if (a.datasetId === undefined) {
        chosen = a;
        break;
      }
    }
  }
  if (chosen === undefined || chosen.type !== 'GeoProperty' || !isGeometry(chosen.value)) return null;
  return chosen.value;
}

function feature(entity: Entity, st: RenderState, geometryProperty: string | undefined): Feature {
  const properties: Record<string, unknown> = {};
  writeEntityBody(properties, entity, st);
  return { id: entity.id, type: 'Feature', geometry: selectGeometry(entity, geometryProperty), properties };
}

/**
 * One entity as a GeoJSON Feature: clause 4.5.16.2 (normalized or concise properties) or 4.5.17.1 (simplified).
 */
export function renderFeature(entity: Entity, ctx: LdContext, opts: FeatureOptions): Feature {
  return feature(entity, makeState(ctx, opts), opts.geometryProperty);
}

/** Several entities as a GeoJSON FeatureCollection (clauses 4.5.16.3, 4.5.17.2); no entity gives no features. */
export function renderFeatureCollection(
  entities: Iterable<Entity>,
  ctx: LdContext,
  opts: FeatureOptions,
): FeatureCollection {
  const st = makeState(ctx, opts);
  const features: Feature[] = [];
  for (const entity of entities) features.push(feature(entity, st, opts.geometryProperty));
  return { type: 'FeatureCollection', features };
}
