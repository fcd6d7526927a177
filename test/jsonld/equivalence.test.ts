/**
 * The fast path (TermMap expand/compact) against jsonld.js on a corpus of entities and contexts:
 * (a) the names expand() gives equal those of jsonld.expand, for every (entity, context) pair;
 * (b) compact(expand()) equals the names of jsonld.compact(jsonld.expand(doc), ctx2), for every (ctx1, ctx2) pair.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import jsonld from 'jsonld';
import { ContextResolver } from '../../src/jsonld/resolver.js';
import { CORE_CONTEXT_URL } from '../../src/jsonld/core-context.js';
import type { ContextDefinition, LdContext } from '../../src/jsonld/types.js';
import { CONTEXTS, ENTITIES, type NamedContext } from './corpus.js';
import { compactTags, expandedTags, jsonldOptions, sorted } from './walk.js';

type Json = Record<string, unknown>;

const noNetwork: typeof fetch = () => Promise.reject(new Error('network used'));
const resolver = new ContextResolver({ timeoutMs: 1000, cacheTtlSec: 60, fetch: noNetwork });
const fast = new Map<string, LdContext>();

function effective(def: ContextDefinition | undefined): ContextDefinition {
  if (def === undefined) return CORE_CONTEXT_URL;
  return [...(Array.isArray(def) ? def : [def]), CORE_CONTEXT_URL];
}

/**
 * The deliberate deviation (see TermMap.compact): for a node object jsonld.js selects no term whose definition
 * carries a type coercion (other than @id) or a container, and falls back to a compact IRI; the fast path still uses
 * the term. Dropping those coercions from a context makes jsonld.js select the term too, so contexts that have any are
 * compared with jsonld.js on their coercion-free form (and the deviation itself is pinned down below).
 */
function withoutCoercions(def: ContextDefinition | undefined): ContextDefinition | undefined {
  if (def === undefined || typeof def === 'string') return def;
  if (Array.isArray(def)) return def.map((d) => withoutCoercions(d) as string | Json);
  return Object.fromEntries(
    Object.entries(def).map(([term, v]) => {
      if (typeof v !== 'object' || v === null) return [term, v];
      const { '@type': _type, '@container': _container, ...rest } = v as Json;
      return [term, rest];
    }),
  );
}

function hasCoercions(def: ContextDefinition | undefined): boolean {
  return JSON.stringify(withoutCoercions(def)) !== JSON.stringify(def);
}

async function expandWithJsonld(entity: Json, ctx: NamedContext): Promise<Json> {
  const [node] = await jsonld.expand({ '@context': effective(ctx.def), ...entity } as jsonld.JsonLdDocument, jsonldOptions);
  return node as Json;
}

beforeAll(async () => {
  for (const c of CONTEXTS) fast.set(c.name, await resolver.resolve(c.def));
});

describe('expand: fast path = jsonld.expand', () => {
  for (const c of CONTEXTS) {
    it(`expands every corpus entity like jsonld.js under the "${c.name}" context`, async () => {
      const ctx = fast.get(c.name)!;
      for (const entity of ENTITIES) {
        const ours = compactTags(entity, (s) => ctx.expand(s), (v) => ctx.expandValue(v));
        const theirs = expandedTags(await expandWithJsonld(entity, c));
        expect(sorted(ours), `${entity.id} under ${c.name}`).toEqual(sorted(theirs));
      }
    });
  }
});

describe('compact: fast path = jsonld.compact', () => {
  const confused: string[] = [];

  for (const from of CONTEXTS) {
    for (const to of CONTEXTS) {
      it(`compacts what "${from.name}" expanded with the "${to.name}" context like jsonld.js`, async () => {
        const a = fast.get(from.name)!;
        const b = fast.get(to.name)!;
        const target = hasCoercions(to.def) ? withoutCoercions(to.def) : to.def;
        for (const entity of ENTITIES) {
          const expanded = await expandWithJsonld(entity, from);
          let compacted: Json;
          try {
            compacted = (await jsonld.compact(expanded as jsonld.JsonLdDocument, effective(target) as jsonld.ContextDefinition, jsonldOptions)) as Json;
          } catch (e) {
            // jsonld.js refuses to render an IRI such as "schema:name" (expanded where "schema" was no prefix) under a
            // context where "schema" is one; the fast path renders the IRI as is.
            const code = (e as { details?: { code?: string } }).details?.code;
            expect(code).toBe('IRI confused with prefix');
            expect(b.compact('schema:name')).toBe('schema:name');
            confused.push(`${entity.id} ${from.name}->${to.name}`);
            continue;
          }
          const ours = compactTags(entity, (s) => b.compact(a.expand(s)), (v) => b.compactValue(a.expandValue(v)));
          const theirs = compactTags(compacted, (s) => s, (v) => v);
          expect(sorted(ours), `${entity.id}: ${from.name} -> ${to.name}`).toEqual(sorted(theirs));
        }
      });
    }
  }

  it('only ever hits the "IRI confused with prefix" case for the entity named with an undefined prefix', () => {
    expect(confused.length).toBeGreaterThan(0);
    expect(confused.every((c) => c.startsWith('urn:ngsi-ld:Thing:2 '))).toBe(true);
  });
});

describe('compact: the deliberate deviation from jsonld.js', () => {
  const sdm = CONTEXTS.find((c) => c.name === 'sdm')!;
  const attr = (name: string) => ({ '@context': effective(sdm.def), id: 'urn:x:1', type: 'T', [name]: { type: 'Property', value: 1 } });

  it.each([
    ['dateObserved', 'https://smartdatamodels.org/dateObserved', 'sdm:dateObserved'],
    ['category', 'https://smartdatamodels.org/dataModel.Building/category', 'sdm:dataModel.Building/category'],
  ])('renders the type-coerced term "%s" for an attribute where jsonld.js gives a compact IRI', async (term, iri, curie) => {
    const ctx = fast.get('sdm')!;
    const expanded = await jsonld.expand(attr(term) as jsonld.JsonLdDocument, jsonldOptions);
    const compacted = (await jsonld.compact(expanded, effective(sdm.def) as jsonld.ContextDefinition, jsonldOptions)) as Json;
    expect(Object.keys(compacted)).toContain(curie);
    expect(ctx.expand(term)).toBe(iri);
    expect(ctx.compact(iri)).toBe(term);
  });

  it('still picks the term jsonld.js selects when several terms share an IRI', async () => {
    const x = 'https://example.org/x';
    const y = 'https://example.org/y';
    const def = {
      dateObserved: { '@id': x, '@type': 'https://uri.etsi.org/ngsi-ld/DateTime' },
      obsList: { '@id': x, '@container': '@list' },
      observedDate: x,
      refY: { '@id': y, '@type': '@id' },
      plainY: y,
      shortAlias: y,
    };
    const ctx = await resolver.resolve(def);
    const doc = { '@context': effective(def), id: 'urn:x:1', type: 'T', [x]: { type: 'Property', value: 1 }, [y]: { type: 'Relationship', object: 'urn:x:2' } };
    const compacted = (await jsonld.compact(doc as jsonld.JsonLdDocument, effective(def) as jsonld.ContextDefinition, jsonldOptions)) as Json;
    expect(Object.keys(compacted).filter((k) => !['@context', 'id', 'type'].includes(k)).sort()).toEqual(['observedDate', 'refY']);
    expect([ctx.compact(x), ctx.compact(y)]).toEqual(['observedDate', 'refY']);
    expect(fast.get('sdm')!.compact('https://smartdatamodels.org/name')).toBe('name');
  });
});
