import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ContextResolver } from '../../src/jsonld/resolver.js';
import type { LdContext } from '../../src/jsonld/types.js';
import { CONTEXTS } from './corpus.js';

const resolver = new ContextResolver({ timeoutMs: 100, cacheTtlSec: 60, fetch: () => Promise.reject(new Error('offline')) });
const contexts = new Map<string, LdContext>();

/** Terms of the corpus that are aliases of another term with the same IRI (compaction picks the other one). */
const ALIASES = new Set(['nameAlias']);

const knownTerms = [
  ...new Set(
    CONTEXTS.flatMap((c) => (c.def === undefined ? [] : Array.isArray(c.def) ? c.def : [c.def]))
      .flatMap((d) => (typeof d === 'object' ? Object.keys(d) : []))
      .concat(['location', 'observedAt', 'value', 'object', 'ngsi-ld', 'geojson', 'coordinates', 'dataset', 'Property']),
  ),
].filter((t) => !t.startsWith('@') && !t.includes(':'));

const simpleName = fc.oneof(fc.constantFrom(...knownTerms), fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.\-]{0,24}$/));

beforeAll(async () => {
  for (const c of CONTEXTS) contexts.set(c.name, await resolver.resolve(c.def));
});

describe('compact(expand(name)) = name', () => {
  for (const c of CONTEXTS) {
    it(`holds for simple names under the "${c.name}" context`, () => {
      const ctx = contexts.get(c.name)!;
      fc.assert(
        fc.property(simpleName, (t) => {
          const iri = ctx.expand(t);
          fc.pre(!iri.startsWith('@')); // "id", "type": keyword aliases
          expect(ctx.expand(ctx.compact(iri))).toBe(iri);
          if (!ALIASES.has(t)) expect(ctx.compact(iri)).toBe(t);
        }),
        { numRuns: 500 },
      );
    });

    it(`round-trips compound values with simple keys under the "${c.name}" context`, () => {
      const ctx = contexts.get(c.name)!;
      const key = simpleName.filter((k) => k !== 'id' && k !== 'type' && !ALIASES.has(k));
      fc.assert(
        fc.property(fc.object({ key, maxDepth: 3 }), (v) => {
          expect(ctx.compactValue(ctx.expandValue(v))).toEqual(v);
        }),
        { numRuns: 200 },
      );
    });
  }
});
