/**
 * Expand + compact of a typical entity's names: the fast path (TermMap) against jsonld.js. Run: npx tsx bench/jsonld.ts
 * The fast path does what the broker does per request (resolve the cached context, expand/compact every name and
 * compound value); jsonld.js runs expand then compact on the whole document.
 */
import jsonld from 'jsonld';
import { builtinDocument, CORE_CONTEXT_URL } from '../src/jsonld/core-context.js';
import { ContextResolver } from '../src/jsonld/resolver.js';
import type { LdContext } from '../src/jsonld/types.js';

const userContext = {
  schema: 'https://schema.org/',
  Building: 'https://smartdatamodels.org/dataModel.Building/Building',
  name: 'schema:name',
  address: 'schema:address',
  streetAddress: 'schema:streetAddress',
  owner: { '@id': 'https://smartdatamodels.org/dataModel.Building/owner', '@type': '@id' },
  category: 'https://smartdatamodels.org/dataModel.Building/category',
};

const entity: Record<string, unknown> = {
  id: 'urn:ngsi-ld:Building:1',
  type: 'Building',
  name: { type: 'Property', value: 'Main tower' },
  address: { type: 'Property', value: { type: 'PostalAddress', streetAddress: 'Main 1', addressLocality: 'Tokyo' } },
  location: { type: 'GeoProperty', value: { type: 'Point', coordinates: [139.7, 35.6] } },
  category: { type: 'VocabProperty', vocab: ['residential', 'commercial'] },
  owner: { type: 'Relationship', object: 'urn:ngsi-ld:Person:1' },
  temperature: { type: 'Property', value: 21.5, observedAt: '2024-01-01T00:00:00Z', accuracy: { type: 'Property', value: 0.5 } },
};

const STRUCTURAL = new Set(['type', 'value', 'object', 'vocab', 'observedAt', 'datasetId', 'unitCode']);

/** What the broker does with names on a write then a read: expand all, then compact all. */
function roundTrip(ctx: LdContext, e: Record<string, unknown>): Record<string, unknown> {
  const attr = (a: Record<string, unknown>, f: (s: string) => string, fv: (v: unknown) => unknown) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(a)) {
      if (k === 'value' && a.type !== 'GeoProperty') out[k] = fv(v);
      else if (k === 'vocab') out[k] = (v as string[]).map(f);
      else if (STRUCTURAL.has(k)) out[k] = v;
      else out[f(k)] = attr(v as Record<string, unknown>, f, fv);
    }
    return out;
  };
  const walk = (x: Record<string, unknown>, f: (s: string) => string, fv: (v: unknown) => unknown) => {
    const out: Record<string, unknown> = { id: x.id, type: f(x.type as string) };
    for (const [k, v] of Object.entries(x)) if (k !== 'id' && k !== 'type') out[f(k)] = attr(v as Record<string, unknown>, f, fv);
    return out;
  };
  const expanded = walk(e, (s) => ctx.expand(s), (v) => ctx.expandValue(v));
  return walk(expanded, (s) => ctx.compact(s), (v) => ctx.compactValue(v));
}

const documentLoader = async (url: string) => {
  const document = builtinDocument(url, true);
  if (!document) throw new Error(`offline: ${url}`);
  return { contextUrl: null, documentUrl: url, document };
};

async function time(label: string, n: number, op: () => unknown): Promise<void> {
  for (let i = 0; i < Math.min(n, 200); i++) await op(); // warm-up
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await op();
  const us = Number(process.hrtime.bigint() - start) / 1000 / n;
  console.log(`${label.padEnd(46)} ${us.toFixed(2).padStart(10)} µs/op`);
}

// Serves the user context for any URL, standing in for a remote @context named in a Link header.
const stubFetch: typeof fetch = async () => new Response(JSON.stringify({ '@context': userContext }));
const resolver = new ContextResolver({ timeoutMs: 1000, cacheTtlSec: 60, fetch: stubFetch });
const context = [userContext, CORE_CONTEXT_URL];
const options = { documentLoader } as unknown as jsonld.Options.Expand;

const linked = 'https://example.org/ctx.jsonld'; // as from a Link header: the cache key is the URL itself
const resolved = await resolver.resolve(linked);
await time('fast path: expand + compact', 50_000, () => roundTrip(resolved, entity));
await time('fast path: resolve inline @context (cached) + same', 50_000, async () => roundTrip(await resolver.resolve(userContext), entity));
await time('fast path: resolve(Link URL), cached', 200_000, () => resolver.resolve(linked));
await time('jsonld.js: expand + compact', 300, async () => {
  const expanded = await jsonld.expand({ '@context': context, ...entity } as jsonld.JsonLdDocument, options);
  return jsonld.compact(expanded, context as unknown as jsonld.ContextDefinition, options);
});
