import { beforeAll, describe, expect, it } from 'vitest';
import { NgsiError } from '../../src/common/errors.js';
import { ContextResolver } from '../../src/jsonld/resolver.js';
import type { LdContext } from '../../src/jsonld/types.js';

const NGSI = 'https://uri.etsi.org/ngsi-ld/';
const DEFAULT = `${NGSI}default-context/`;
const resolver = new ContextResolver({ timeoutMs: 100, cacheTtlSec: 60, fetch: () => Promise.reject(new Error('offline')) });
let core: LdContext;
let user: LdContext;

beforeAll(async () => {
  core = await resolver.resolve(undefined);
  user = await resolver.resolve({
    schema: 'https://schema.org/',
    Building: 'https://example.org/Building',
    street: 'schema:streetAddress',
    kind: '@type',
    ident: '@id',
  });
});

describe('expand', () => {
  it('follows jsonld.js for terms, prefixes, absolute IRIs, blank nodes and the default vocabulary', () => {
    expect(user.expand('street')).toBe('https://schema.org/streetAddress');
    expect(user.expand('schema:name')).toBe('https://schema.org/name');
    expect(user.expand('ngsi-ld:x')).toBe(`${NGSI}x`);
    expect(user.expand('unknown:thing')).toBe('unknown:thing');
    expect(user.expand('urn:ngsi-ld:x')).toBe('urn:ngsi-ld:x');
    expect(user.expand('schema://host/x')).toBe('schema://host/x');
    expect(user.expand('_:b0')).toBe('_:b0');
    expect(user.expand('temperature')).toBe(`${DEFAULT}temperature`);
    expect(user.expand('type')).toBe('@type');
    expect(user.expand('@value')).toBe('@value');
  });
});

describe('compact', () => {
  it('prefers terms, then the vocabulary, then compact IRIs, then the IRI itself', () => {
    expect(user.compact('https://schema.org/streetAddress')).toBe('street');
    expect(user.compact(`${DEFAULT}temperature`)).toBe('temperature');
    expect(user.compact('https://schema.org/name')).toBe('schema:name');
    expect(user.compact('https://other.example/x')).toBe('https://other.example/x');
    expect(user.compact(`${NGSI}hasObject`)).toBe('object');
  });

  it('does not use a vocabulary-relative name that is a term for another IRI (TP 033_05_01)', () => {
    expect(core.compact(`${DEFAULT}Building`)).toBe('Building');
    expect(user.compact(`${DEFAULT}Building`)).toBe('ngsi-ld:default-context/Building');
  });

  it('renders an IRI that looks like a compact IRI of a defined prefix as is, where jsonld.js throws', () => {
    expect(user.compact('schema:name')).toBe('schema:name');
  });
});

describe('expandValue / compactValue', () => {
  const compound = {
    type: 'PostalAddress',
    street: 'Main 1',
    nested: [{ type: ['A', 'schema:B'], 'schema:name': 'x', n: 1 }, 2, null, 'text'],
    id: 'urn:x:1',
    '@language': 'en',
  };

  it('expands keys recursively, "type" values as vocabulary IRIs, and leaves ids, keywords and scalars alone', () => {
    expect(user.expandValue(compound)).toEqual({
      type: `${DEFAULT}PostalAddress`,
      'https://schema.org/streetAddress': 'Main 1',
      [`${DEFAULT}nested`]: [{ type: [`${DEFAULT}A`, 'https://schema.org/B'], 'https://schema.org/name': 'x', [`${DEFAULT}n`]: 1 }, 2, null, 'text'],
      id: 'urn:x:1',
      '@language': 'en',
    });
  });

  it('compacts back to what the client sent', () => {
    expect(user.compactValue(user.expandValue(compound))).toEqual(compound);
    expect(core.compactValue(user.expandValue(compound))).toMatchObject({ 'https://schema.org/streetAddress': 'Main 1' });
  });

  it('keeps typed values ("@type"/"@value") as keyword pairs, expanding the datatype', () => {
    const typed = { '@type': 'DateTime', '@value': '2024-01-01T00:00:00Z' };
    expect(core.expandValue(typed)).toEqual({ '@type': `${NGSI}DateTime`, '@value': '2024-01-01T00:00:00Z' });
    expect(core.compactValue(core.expandValue(typed))).toEqual(typed);
  });

  it('normalises user aliases of @type and @id to "type" and "id"', () => {
    expect(user.expandValue({ kind: 'Building', ident: 'urn:x' })).toEqual({ type: 'https://example.org/Building', id: 'urn:x' });
  });

  it('leaves scalars and the input untouched, and keeps "__proto__" as a key', () => {
    for (const v of [1, 'x', true, null, undefined]) expect(user.expandValue(v)).toBe(v);
    const input = JSON.parse('{"a": {"__proto__": {"b": 1}}}');
    const copy = structuredClone(input);
    const expanded = user.expandValue(input) as Record<string, Record<string, unknown>>;
    expect(input).toEqual(copy);
    expect(Object.keys(expanded[`${DEFAULT}a`]!)).toEqual([`${DEFAULT}__proto__`]);
    expect(user.compactValue(expanded)).toEqual(copy);
    expect(Object.getPrototypeOf(user.compactValue({ __proto__: 1 } as unknown))).toBe(Object.prototype);
  });
});

describe('null-mapped terms', () => {
  it('refuses to expand a term the context maps to null', async () => {
    const c = await resolver.resolve({ secret: null });
    expect(() => c.expand('secret')).toThrowError(NgsiError);
    expect(() => c.expandValue({ secret: 1 })).toThrowError(/maps "secret" to null/);
  });
});
