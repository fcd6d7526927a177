import { describe, expect, it } from 'vitest';
import { viaPseudonyms } from '../../src/forwarding/client.js';
import { addAuxiliary, mergeEntities } from '../../src/forwarding/merge.js';
import type { Attribute, Entity } from '../../src/model/entity.js';

const P = 'https://example.org/p';
const Q = 'https://example.org/q';
const T = 'https://example.org/T';

const attr = (value: unknown, modifiedAt: string, extra: Partial<Attribute> = {}): Attribute => ({ type: 'Property', value, createdAt: modifiedAt, modifiedAt, ...extra });
const entity = (attrs: Entity['attrs'], extra: Partial<Entity> = {}): Entity => ({
  id: 'urn:x:1',
  type: [T],
  createdAt: '2024-01-01T00:00:00Z',
  modifiedAt: '2024-01-01T00:00:00Z',
  attrs,
  ...extra,
});

describe('merging distributed entity parts (clauses 4.5.5.3, 4.3.6.2)', () => {
  it('4.5.5.3: the instance with the later observedAt wins, whatever modifiedAt says', () => {
    const a = entity({ [P]: [attr(1, '2024-05-01T00:00:00Z', { observedAt: '2024-01-02T00:00:00Z' })] });
    const b = entity({ [P]: [attr(2, '2024-01-01T00:00:00Z', { observedAt: '2024-01-03T00:00:00Z' })] });
    expect(mergeEntities([a, b])!.attrs[P]![0]!.value).toBe(2);
    expect(mergeEntities([b, a])!.attrs[P]![0]!.value).toBe(2);
  });

  it('4.5.5.3: without observedAt on both, the later modifiedAt wins', () => {
    const a = entity({ [P]: [attr(1, '2024-01-02T00:00:00Z')] });
    const b = entity({ [P]: [attr(2, '2024-01-01T00:00:00Z', { observedAt: '2030-01-01T00:00:00Z' })] });
    expect(mergeEntities([a, b])!.attrs[P]![0]!.value).toBe(1);
  });

  it('4.5.5: instances with different datasetIds are all kept; types, scopes and timestamps are combined', () => {
    const a = entity({ [P]: [attr(1, '2024-01-01T00:00:00Z')] }, { scope: ['/a'], modifiedAt: '2024-02-01T00:00:00Z' });
    const b = entity({ [P]: [attr(2, '2024-01-01T00:00:00Z', { datasetId: 'urn:ds:1' })], [Q]: [attr(3, '2024-01-01T00:00:00Z')] }, {
      type: [T, 'https://example.org/U'],
      scope: ['/b'],
      createdAt: '2023-01-01T00:00:00Z',
    });
    const merged = mergeEntities([a, b])!;
    expect(merged.attrs[P]!.map((i) => i.value)).toEqual([1, 2]);
    expect(merged.attrs[Q]![0]!.value).toBe(3);
    expect(merged.type).toEqual([T, 'https://example.org/U']);
    expect(merged.scope).toEqual(['/a', '/b']);
    expect(merged.createdAt).toBe('2023-01-01T00:00:00Z');
    expect(merged.modifiedAt).toBe('2024-02-01T00:00:00Z');
  });

  it('4.3.6.2: auxiliary data adds only attributes missing everywhere else', () => {
    const base = entity({ [P]: [attr('local', '2020-01-01T00:00:00Z')] });
    const aux = entity({ [P]: [attr('aux', '2030-01-01T00:00:00Z')], [Q]: [attr('aux', '2030-01-01T00:00:00Z')] });
    const out = addAuxiliary(base, [aux])!;
    expect(out.attrs[P]![0]!.value).toBe('local');
    expect(out.attrs[Q]![0]!.value).toBe('aux');
    expect(addAuxiliary(undefined, [aux])!.attrs[P]![0]!.value).toBe('aux');
    expect(mergeEntities([])).toBeUndefined();
  });

  it('4.3.6.4: Via pseudonyms are the received-by part of each hop', () => {
    expect([...viaPseudonyms('1.1 city-a, HTTP/1.1 10.0.0.2:1026 (musubi), 1.0 fred')]).toEqual(['city-a', '10.0.0.2:1026', 'fred']);
    expect(viaPseudonyms('').size).toBe(0);
  });
});
