import type { LdContext } from '../jsonld/types.js';
import type { Entity } from '../model/entity.js';

/** A response body ready to send, with the headers that depend on how it was rendered. */
export interface PreparedBody {
  /** UTF-8 bytes, encoded once: a cached body is sent many times. */
  bytes: Uint8Array<ArrayBuffer>;
  headers: Record<string, string>;
}

interface Variant {
  ctx: LdContext;
  prepared: PreparedBody;
}

// Different renderings asked of one entity (formats, contexts, Accept): a handful in practice.
const VARIANTS_PER_ENTITY = 8;

/**
 * Rendered responses by entity object and request variant. Entities are immutable values (store contract), so
 * a new version is a new object and its old renderings become unreachable with it: no invalidation needed.
 * The @context object is compared too, because a remote context re-fetched after its TTL is a new object.
 */
export class RenderCache {
  private readonly byEntity = new WeakMap<Entity, Map<string, Variant>>();

  get(entity: Entity, variant: string, ctx: LdContext): PreparedBody | undefined {
    const hit = this.byEntity.get(entity)?.get(variant);
    return hit && hit.ctx === ctx ? hit.prepared : undefined;
  }

  set(entity: Entity, variant: string, ctx: LdContext, prepared: PreparedBody): void {
    let variants = this.byEntity.get(entity);
    if (!variants) this.byEntity.set(entity, (variants = new Map()));
    else if (variants.size >= VARIANTS_PER_ENTITY) variants.delete(variants.keys().next().value!);
    variants.set(variant, { ctx, prepared });
  }
}
