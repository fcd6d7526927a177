/**
 * The fast path: an LdContext over the term definitions of a context jsonld.js has processed once.
 * expand/compact follow jsonld.js's _expandIri and compactIri (vocab-relative) step by step, with Map look-ups
 * and memoised results instead of a jsonld.js run per request.
 */
import { NgsiError } from '../common/errors.js';
import type { ContextDefinition, LdContext } from './types.js';

/** The parts of a jsonld.js term definition that naming depends on. */
export interface JsonLdTermDefinition {
  '@id'?: string | null;
  reverse?: boolean;
  _prefix?: boolean;
  '@type'?: string;
  '@container'?: string[];
  '@language'?: string | null;
  '@direction'?: string | null;
  '@context'?: unknown;
}

/** The parts of a jsonld.js active context that naming depends on. */
export interface JsonLdActiveContext {
  mappings: Map<string, JsonLdTermDefinition | null>;
  '@vocab'?: string;
}

/** jsonld.js's _isAbsoluteIri. */
const ABSOLUTE_IRI = /^([A-Za-z][A-Za-z0-9+\-.]*|_):[^\s]*$/;

/**
 * Term selection order jsonld.js uses when the value is a node object (an NGSI-LD attribute, a compound value):
 * containers in this order, and for each the type mappings "@id" then "@none" (plain terms count as "@none").
 */
const NODE_CONTAINERS = ['@id', '@id@set', '@type', '@set@type', '@set', '@none', '@index', '@index@set'];
/** Rank of terms jsonld.js would not select for a node object (see TermMap.compact). */
const FALLBACK_RANK = NODE_CONTAINERS.length * 2;
/** Beyond this many distinct names per context, results are computed but no longer memoised. */
const MEMO_LIMIT = 10_000;

/** jsonld.js's _compareShortestLeast. */
export function compareShortestLeast(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

function nodeRank(def: JsonLdTermDefinition): number {
  const container = def['@container'] ? [...def['@container']].sort().join('') : '@none';
  const ci = NODE_CONTAINERS.indexOf(container);
  if (ci < 0) return FALLBACK_RANK;
  const type = def['@type'];
  if (type === '@id') return ci * 2;
  const plain = type === undefined && !('@language' in def) && !('@direction' in def);
  return type === '@none' || plain ? ci * 2 + 1 : FALLBACK_RANK;
}

export class TermMap implements LdContext {
  /** Every defined term, including null-mapped and reverse ones (they block vocab-relative and CURIE forms). */
  private readonly defs: Map<string, JsonLdTermDefinition | null>;
  private readonly vocab: string | undefined;
  /** Terms usable as the prefix of a compact IRI, with their IRI. */
  private readonly prefixes = new Map<string, string>();
  /** For each IRI, the term compaction picks. */
  private readonly termOf = new Map<string, string>();
  private readonly expanded = new Map<string, string>();
  private readonly compacted = new Map<string, string>();

  constructor(
    readonly source: ContextDefinition,
    readonly key: string,
    active: JsonLdActiveContext,
  ) {
    this.defs = new Map(active.mappings);
    this.vocab = active['@vocab'];
    const ranks = new Map<string, number>();
    for (const term of [...this.defs.keys()].sort(compareShortestLeast)) {
      const def = this.defs.get(term);
      const id = def?.['@id'];
      if (!def || typeof id !== 'string' || id.startsWith('@')) continue;
      if (def._prefix && !term.includes(':')) this.prefixes.set(term, id);
      if (def.reverse) continue;
      // Sorted shortest-least and strictly-better only: equal ranks keep the first term, as jsonld.js's inverse does.
      const rank = nodeRank(def);
      if (rank < (ranks.get(id) ?? Infinity)) {
        ranks.set(id, rank);
        this.termOf.set(id, term);
      }
    }
  }

  expand(term: string): string {
    const hit = this.expanded.get(term);
    if (hit !== undefined) return hit;
    const iri = this.expandUncached(term);
    if (this.expanded.size < MEMO_LIMIT) this.expanded.set(term, iri);
    return iri;
  }

  private expandUncached(term: string): string {
    // Keywords and keyword-like names are the caller's business; jsonld.js would drop the latter.
    if (term.startsWith('@')) return term;
    const def = this.defs.get(term);
    if (def !== undefined) {
      const id = def?.['@id'];
      if (typeof id === 'string') return id;
      throw new NgsiError('BadRequestData', `the @context maps "${term}" to null, so it has no IRI`);
    }
    const colon = term.indexOf(':');
    if (colon > 0) {
      const prefix = term.slice(0, colon);
      const suffix = term.slice(colon + 1);
      if (prefix === '_' || suffix.startsWith('//')) return term;
      const prefixIri = this.prefixes.get(prefix);
      if (prefixIri !== undefined) return prefixIri + suffix;
      if (ABSOLUTE_IRI.test(term)) return term;
    }
    return this.vocab === undefined ? term : this.vocab + term;
  }

  compact(iri: string): string {
    const hit = this.compacted.get(iri);
    if (hit !== undefined) return hit;
    const name = this.compactUncached(iri);
    if (this.compacted.size < MEMO_LIMIT) this.compacted.set(iri, name);
    return name;
  }

  /**
   * jsonld.js's compactIri for a node-object value, with one deliberate difference: when jsonld.js would select no
   * term because every term for the IRI carries a type coercion (e.g. "@type": "DateTime" or "@vocab") or a
   * container, the shortest such term is still used. Coercions do not apply to node objects, so the term expands
   * back to the same IRI, and clause 5.5.7 asks for short names whenever the @context has one.
   */
  private compactUncached(iri: string): string {
    if (iri.startsWith('@')) return iri;
    const term = this.termOf.get(iri);
    if (term !== undefined) return term;
    const vocab = this.vocab;
    if (vocab !== undefined && iri.startsWith(vocab) && iri !== vocab) {
      const suffix = iri.slice(vocab.length);
      if (!this.defs.has(suffix)) return suffix;
    }
    let choice: string | undefined;
    for (const [prefix, prefixIri] of this.prefixes) {
      if (iri.length <= prefixIri.length || !iri.startsWith(prefixIri)) continue;
      const curie = `${prefix}:${iri.slice(prefixIri.length)}`;
      if (this.defs.has(curie)) continue;
      if (choice === undefined || compareShortestLeast(curie, choice) < 0) choice = curie;
    }
    // jsonld.js throws "IRI confused with prefix" when the IRI itself starts with "prefix:"; the IRI as is is the
    // only sensible rendering for a broker.
    return choice ?? iri;
  }

  expandValue(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.expandValue(v));
    if (value === null || typeof value !== 'object') return value;
    const out: Array<[string, unknown]> = [];
    for (const [k, v] of Object.entries(value)) {
      // "@type"/"@value" pairs (typed values such as DateTime) keep their keyword keys; aliases of @type and @id
      // ("type", "id", or a user's own) become "type" and "id", the names NGSI-LD responses use.
      const iri = k.startsWith('@') ? k : this.expand(k);
      if (iri === '@type') out.push([k === '@type' ? k : 'type', mapStrings(v, (t) => this.expand(t))]);
      else if (iri === '@id') out.push([k === '@id' ? k : 'id', v]);
      else if (iri.startsWith('@')) out.push([iri, v]);
      else out.push([iri, this.expandValue(v)]);
    }
    // fromEntries defines own properties, so a "__proto__" key stays a key instead of setting the prototype.
    return Object.fromEntries(out);
  }

  compactValue(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.compactValue(v));
    if (value === null || typeof value !== 'object') return value;
    const out: Array<[string, unknown]> = [];
    for (const [k, v] of Object.entries(value)) {
      if (k === 'type' || k === '@type') out.push([k, mapStrings(v, (t) => this.compact(t))]);
      else if (k === 'id' || k.startsWith('@')) out.push([k, v]);
      else out.push([this.compact(k), this.compactValue(v)]);
    }
    return Object.fromEntries(out);
  }
}

/** Applies `f` to a string or to the strings of an array, leaving anything else alone. */
function mapStrings(v: unknown, f: (s: string) => string): unknown {
  if (typeof v === 'string') return f(v);
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? f(x) : x));
  return v;
}
