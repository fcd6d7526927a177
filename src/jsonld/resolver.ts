/**
 * Resolution of a request's @context (clauses 4.4, 5.5.7, 6.3.5, 6.3.16) into an LdContext.
 * jsonld.js processes each distinct context once (user context first, then the protected core context); the result
 * is kept as a TermMap keyed by the definition, so a repeated Link header or inline context costs one Map look-up.
 */
import jsonld from 'jsonld';
import { NgsiError } from '../common/errors.js';
import { builtinDocument, CORE_CONTEXT_DOCUMENT, CORE_CONTEXT_URL, CORE_TERMS } from './core-context.js';
import { RemoteContextCache } from './remote.js';
import { TermMap, type JsonLdActiveContext } from './term-map.js';
import type { ContextDefinition, LdContext } from './types.js';

export { parseLinkHeader, contextLinkHeader, JSONLD_CONTEXT_REL } from './link-header.js';

export interface ContextResolverOptions {
  /** How long one remote @context fetch may take, in ms. */
  timeoutMs: number;
  /** Longest time a fetched @context is kept, in seconds (shorter if its Cache-Control / Expires says so). */
  cacheTtlSec: number;
  /** Largest remote @context accepted, in bytes (default 4 MiB). */
  maxBytes?: number;
  fetch?: typeof fetch;
  /** Most processed contexts kept (default 500); the oldest go first. */
  maxContexts?: number;
}

interface LoadedDocument {
  contextUrl: null;
  documentUrl: string;
  document: unknown;
}

/** The one jsonld.js entry point used here (its typings do not declare it). */
interface JsonLdContextProcessor {
  processContext(
    active: JsonLdActiveContext | null,
    local: unknown,
    options: { documentLoader?: (url: string) => Promise<LoadedDocument> },
  ): Promise<JsonLdActiveContext>;
}
const processor = jsonld as unknown as JsonLdContextProcessor;

interface JsonLdError extends Error {
  details?: { code?: string; term?: string };
}

interface CachedContext {
  ctx: LdContext;
  expiresAt: number;
}

/** What one processing run learnt from its document loader. */
interface LoadState {
  expiresAt: number;
  urls: string[];
  failure?: NgsiError;
}

export class ContextResolver {
  private readonly contexts = new Map<string, CachedContext>();
  private readonly pending = new Map<string, Promise<LdContext>>();
  private readonly remote: RemoteContextCache;
  private readonly maxContexts: number;
  private core: LdContext | undefined;

  constructor(opts: ContextResolverOptions) {
    this.remote = new RemoteContextCache({
      timeoutMs: opts.timeoutMs,
      cacheTtlSec: opts.cacheTtlSec,
      maxBytes: opts.maxBytes ?? 4 * 1024 * 1024,
      fetch: opts.fetch ?? globalThis.fetch,
    });
    this.maxContexts = opts.maxContexts ?? 500;
  }

  /**
   * The LdContext for a request's @context (undefined: the default, core only).
   * Rejects with NgsiError LdContextNotAvailable (a remote context cannot be had) or BadRequestData (invalid context).
   */
  resolve(def?: ContextDefinition): Promise<LdContext> {
    const ready = this.cached(def);
    if (ready) return Promise.resolve(ready);
    let key: string;
    try {
      key = keyOf(def);
    } catch {
      return Promise.reject(new NgsiError('BadRequestData', 'the @context is not serialisable JSON'));
    }
    let pending = this.pending.get(key);
    if (!pending) {
      pending = this.build(def, key).finally(() => this.pending.delete(key));
      this.pending.set(key, pending);
    }
    return pending;
  }

  /** The LdContext for `def` if it is already processed and fresh, without waiting. */
  cached(def?: ContextDefinition): LdContext | undefined {
    if (def === undefined && this.core) return this.core;
    const hit = this.contexts.get(typeof def === 'string' ? def : def === undefined ? CORE_CONTEXT_URL : safeKey(def));
    return hit && (hit.expiresAt === Infinity || hit.expiresAt > Date.now()) ? hit.ctx : undefined;
  }

  /** Forgets all processed and fetched contexts (e.g. after a hosted @context changed). */
  clear(): void {
    this.contexts.clear();
    this.remote.clear();
  }

  /**
   * Forgets one remote @context (another broker instance saw it change; src/coordination): every processed context
   * that names its URL, and the fetched documents (all of them: the remote cache forgets only wholesale, and a
   * re-fetch is cheap next to a stale context). A context that imports the URL from inside another document keeps
   * its processed form until its TTL.
   */
  evict(url: string): void {
    this.remote.clear();
    const quoted = JSON.stringify(url);
    for (const key of [...this.contexts.keys()]) if (key === url || key.includes(quoted)) this.contexts.delete(key);
  }

  private async build(def: ContextDefinition | undefined, key: string): Promise<LdContext> {
    if (def !== undefined) checkDefinition(def);
    const user = def === undefined ? [] : Array.isArray(def) ? def : [def];
    const state: LoadState = { expiresAt: Infinity, urls: [] };
    let active: JsonLdActiveContext;
    try {
      const initial = await processor.processContext(null, null, {});
      active = await processor.processContext(initial, [...user, CORE_CONTEXT_DOCUMENT['@context']], {
        documentLoader: (url) => this.load(url, state),
      });
    } catch (e) {
      throw state.failure ?? invalidContext(e, state.urls);
    }
    rejectScopedContexts(active, state.urls);
    const ctx = new TermMap(def ?? CORE_CONTEXT_URL, key, active);
    if (def === undefined) this.core = ctx;
    else if (state.expiresAt > Date.now()) {
      if (this.contexts.size >= this.maxContexts) this.contexts.delete(this.contexts.keys().next().value as string);
      this.contexts.set(key, { ctx, expiresAt: state.expiresAt });
    }
    return ctx;
  }

  /** The document loader jsonld.js calls: built-in documents, else http(s) through the remote cache. */
  private async load(url: string, state: LoadState): Promise<LoadedDocument> {
    const builtin = builtinDocument(url);
    if (builtin) return { contextUrl: null, documentUrl: url, document: builtin };
    try {
      if (!isHttpUrl(url)) throw new NgsiError('BadRequestData', `the @context URL "${url}" is not an absolute http(s) URL`);
      state.urls.push(url);
      const doc = await this.remote.get(url);
      state.expiresAt = Math.min(state.expiresAt, doc.expiresAt);
      const document = structuredClone(doc.document); // jsonld.js rewrites relative URLs in place
      checkContextValue(document['@context'], url);
      return { contextUrl: null, documentUrl: url, document };
    } catch (e) {
      // jsonld.js wraps loader errors (and drops them inside scoped contexts); remember ours to rethrow it as is.
      state.failure ??= e instanceof NgsiError ? e : new NgsiError('LdContextNotAvailable', `the @context at ${url} could not be retrieved: ${String(e)}`);
      throw state.failure;
    }
  }
}

function keyOf(def: ContextDefinition | undefined): string {
  if (def === undefined) return CORE_CONTEXT_URL;
  return typeof def === 'string' ? def : JSON.stringify(def);
}

function safeKey(def: ContextDefinition): string {
  try {
    return JSON.stringify(def);
  } catch {
    return '';
  }
}

function isHttpUrl(s: string): boolean {
  if (!/^https?:\/\//i.test(s)) return false;
  try {
    new URL(s);
    return true;
  } catch {
    return false;
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v} (${JSON.stringify(v)})`;
}

/** The top-level shape of a client's @context: URL strings and objects, or an array of them. */
function checkDefinition(def: unknown): void {
  if (def === null || (typeof def !== 'string' && typeof def !== 'object')) {
    throw new NgsiError('BadRequestData', `a @context must be a URL, an object or an array of those, not ${describe(def)}`);
  }
  for (const item of Array.isArray(def) ? def : [def]) {
    if (typeof item === 'string') {
      if (!isHttpUrl(item)) throw new NgsiError('BadRequestData', `the @context URL "${item}" is not an absolute http(s) URL`);
    } else if (item !== null) {
      if (typeof item !== 'object' || Array.isArray(item)) {
        throw new NgsiError('BadRequestData', `a @context array may hold URLs and objects only, not ${describe(item)}`);
      }
      checkContextValue(item, undefined);
    }
  }
}

/** Names the offending term of a context object, which jsonld.js's "invalid term definition" error does not. */
function checkContextValue(ctx: unknown, url: string | undefined): void {
  const where = url ? ` (in the @context at ${url})` : '';
  for (const item of Array.isArray(ctx) ? ctx : [ctx]) {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      if (item === null || typeof item === 'string') continue;
      throw new NgsiError('BadRequestData', `a @context entry must be a URL or an object, not ${describe(item)}${where}`);
    }
    for (const [term, value] of Object.entries(item)) {
      if (term.startsWith('@') || value === null || typeof value === 'string') continue;
      if (typeof value !== 'object' || Array.isArray(value)) {
        throw new NgsiError('BadRequestData', `the @context term "${term}" is ${describe(value)}; a term definition must be a string, null or an object${where}`);
      }
    }
  }
}

/** Clause 5.5.7: user contexts must not carry scoped contexts, which could reshape terms of the core context. */
function rejectScopedContexts(active: JsonLdActiveContext, urls: string[]): void {
  for (const [term, def] of active.mappings) {
    if (def && def['@context'] !== undefined && !CORE_TERMS.has(term)) {
      const where = urls.length ? ` (loaded from ${urls.join(', ')})` : '';
      throw new NgsiError('BadRequestData', `the @context${where} defines a scoped context for term "${term}", which NGSI-LD forbids (clause 5.5.7)`);
    }
  }
}

function invalidContext(e: unknown, urls: string[]): NgsiError {
  const where = urls.length ? ` (loaded from ${urls.join(', ')})` : '';
  if (e instanceof NgsiError) return e;
  if (e instanceof Error && e.name.startsWith('jsonld.')) {
    const { code, term } = (e as JsonLdError).details ?? {};
    const what =
      code === 'protected term redefinition' && term
        ? `it redefines the protected term "${term}"${CORE_TERMS.has(term) ? ' of the core @context, which cannot be changed' : ''}`
        : `${e.message.replace(/^Invalid JSON-LD syntax; /, '')}${code ? ` [${code}${term ? `, term "${term}"` : ''}]` : ''}`;
    return new NgsiError('BadRequestData', `invalid @context${where}: ${what}`);
  }
  return new NgsiError('BadRequestData', `invalid @context${where}: ${e instanceof Error ? e.message : String(e)}`);
}
