import { describe, expect, it } from 'vitest';
import { flatLinked, inlineLinked, parseJoin } from '../../src/entities/linked.js';
import { renderEntity } from '../../src/entities/render.js';
import type { LdContext } from '../../src/jsonld/types.js';
import type { Attribute, Entity } from '../../src/model/entity.js';

const V = 'https://uri.etsi.org/ngsi-ld/default-context/';
const T = '2026-01-01T00:00:00.000Z';
const ctx = {
  source: 'x',
  key: 'x',
  expand: (t: string) => V + t,
  compact: (iri: string) => (iri.startsWith(V) ? iri.slice(V.length) : iri),
  expandValue: (v: unknown) => v,
  compactValue: (v: unknown) => v,
} as LdContext;
const rel = (object: string): Attribute[] => [{ type: 'Relationship', object, createdAt: T, modifiedAt: T }];
const entity = (id: string, type: string, attrs: Entity['attrs'] = {}): Entity => ({ id, type: [V + type], createdAt: T, modifiedAt: T, attrs });

// A loop (vehicle -> parking -> company -> vehicle) and a dangling link.
const store = new Map<string, Entity>(
  [
    entity('urn:v:1', 'Vehicle', { [V + 'isParked']: rel('urn:p:1'), [V + 'ghost']: rel('urn:none:1') }),
    entity('urn:p:1', 'Parking', { [V + 'operator']: rel('urn:c:1') }),
    entity('urn:c:1', 'Company', { [V + 'fleet']: rel('urn:v:1') }),
  ].map((e) => [e.id, e]),
);
const fetch = async (id: string) => store.get(id);

describe('Linked Entity retrieval (clause 4.5.23, C.2.2)', () => {
  it('parses join, joinLevel and containedBy, refusing bad values', () => {
    expect(parseJoin({})).toBeUndefined();
    expect(parseJoin({ join: 'inline', joinLevel: '2', containedBy: 'urn:a:1' })).toEqual({ mode: 'inline', level: 2, seen: new Set(['urn:a:1']) });
    expect(() => parseJoin({ join: 'deep' })).toThrow(/flat, inline or @none/);
    expect(() => parseJoin({ join: 'flat', joinLevel: '0' })).toThrow(/joinLevel/);
    expect(() => parseJoin({ joinLevel: '2' })).toThrow(/needs join/);
  });

  it('flat: appends linked entities level by level, once each, never looping back to the roots', async () => {
    const linked = await flatLinked([store.get('urn:v:1')!], parseJoin({ join: 'flat', joinLevel: '5' })!, fetch);
    expect(linked.map((e) => e.id)).toEqual(['urn:p:1', 'urn:c:1']);
    const one = await flatLinked([store.get('urn:v:1')!], parseJoin({ join: 'flat' })!, fetch);
    expect(one.map((e) => e.id)).toEqual(['urn:p:1']);
  });

  it('inline: nests "entity" members up to joinLevel and stops at entities already on the path', async () => {
    const v = store.get('urn:v:1')!;
    const opts = { format: 'normalized' as const, sysAttrs: false };
    const out = renderEntity(v, ctx, opts);
    await inlineLinked(out, v, ctx, opts, parseJoin({ join: 'inline', joinLevel: '3' })!, fetch);
    const parking = (out.isParked as { entity: Record<string, unknown> }).entity;
    expect(parking.id).toBe('urn:p:1');
    const company = (parking.operator as { entity: Record<string, unknown> }).entity;
    expect(company.id).toBe('urn:c:1');
    // company.fleet points back at the vehicle: not expanded again.
    expect(company.fleet).toEqual({ type: 'Relationship', object: 'urn:v:1' });
    expect(out.ghost).toEqual({ type: 'Relationship', object: 'urn:none:1' });
  });

  it('inline in simplified form replaces the target id by the entity', async () => {
    const v = store.get('urn:v:1')!;
    const opts = { format: 'simplified' as const, sysAttrs: false };
    const out = renderEntity(v, ctx, opts);
    await inlineLinked(out, v, ctx, opts, parseJoin({ join: 'inline' })!, fetch);
    expect(out.isParked).toEqual({ id: 'urn:p:1', type: 'Parking', operator: 'urn:c:1' });
  });
});
