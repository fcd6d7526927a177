import { NgsiError } from '../common/errors.js';
import { newEntity } from '../entities/apply.js';
import { parseEntity } from '../entities/parse-entity.js';
import type { LdContext } from '../jsonld/types.js';
import type { Attribute, Entity } from '../model/entity.js';
import type { ContextSource } from './types.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A source's answer (normalized form, names in `ctx`) as an internal entity, limited to what the registration offers
 * (4.3.6.1: the broker respects the registration even if the source sends more). Timestamps the source gives are
 * kept, as they decide conflicts (4.5.5.3); where it gives none, `now` stands in. Throws NgsiError on an invalid entity.
 */
export function toEntity(body: unknown, ctx: LdContext, source: ContextSource, now: string): Entity {
  if (!isObject(body)) throw new NgsiError('BadRequestData', 'not an entity object');
  const parsed = parseEntity(body, { ctx, now, mode: 'entity', nulls: 'none', requireId: true });
  const entity = newEntity(parsed, now);
  for (const [name, instances] of Object.entries(entity.attrs)) {
    if (source.attrs && !source.attrs.includes(name)) {
      delete entity.attrs[name];
      continue;
    }
    const raw = body[parsed.names.get(name) ?? ''];
    const rawInstances = Array.isArray(raw) ? raw : [raw];
    entity.attrs[name] = instances.map((attr) => withTimes(attr, rawInstances.find((r) => isObject(r) && r.datasetId === attr.datasetId)));
  }
  if (typeof body.createdAt === 'string' && !Number.isNaN(Date.parse(body.createdAt))) entity.createdAt = body.createdAt;
  if (typeof body.modifiedAt === 'string' && !Number.isNaN(Date.parse(body.modifiedAt))) entity.modifiedAt = body.modifiedAt;
  return entity;
}

function withTimes(attr: Attribute, raw: unknown): Attribute {
  if (!isObject(raw)) return attr;
  const out = { ...attr };
  if (typeof raw.createdAt === 'string' && !Number.isNaN(Date.parse(raw.createdAt))) out.createdAt = raw.createdAt;
  if (typeof raw.modifiedAt === 'string' && !Number.isNaN(Date.parse(raw.modifiedAt))) out.modifiedAt = raw.modifiedAt;
  return out;
}
