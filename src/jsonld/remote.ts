/**
 * Fetching and caching of remote @context documents (clauses 6.3.5, 6.3.16).
 * One fetch per URL at a time, a timeout, a size cap, and a cache lifetime that honours Cache-Control / Expires
 * but never exceeds the configured TTL (revalidating earlier than a server allows is always compliant).
 */
import { NgsiError } from '../common/errors.js';

export interface RemoteDocument {
  /** The parsed JSON document (an object with an "@context" member). */
  readonly document: Record<string, unknown>;
  /** Epoch ms after which the document must be fetched again. */
  readonly expiresAt: number;
}

export interface RemoteOptions {
  timeoutMs: number;
  cacheTtlSec: number;
  maxBytes: number;
  fetch: typeof fetch;
  /** Most documents kept; the oldest go first. */
  maxEntries?: number;
}

const ACCEPT = 'application/ld+json, application/json;q=0.9, */*;q=0.1';

export class RemoteContextCache {
  private readonly docs = new Map<string, RemoteDocument>();
  private readonly inflight = new Map<string, Promise<RemoteDocument>>();
  private readonly maxEntries: number;

  constructor(private readonly opts: RemoteOptions) {
    this.maxEntries = opts.maxEntries ?? 1000;
  }

  /** The document at `url` (http or https), from the cache or fetched. Throws NgsiError only. */
  get(url: string): Promise<RemoteDocument> {
    const cached = this.docs.get(url);
    if (cached && cached.expiresAt > Date.now()) return Promise.resolve(cached);
    let pending = this.inflight.get(url);
    if (!pending) {
      pending = this.load(url).finally(() => this.inflight.delete(url));
      this.inflight.set(url, pending);
    }
    return pending;
  }

  /** Forgets every cached document. */
  clear(): void {
    this.docs.clear();
  }

  private async load(url: string): Promise<RemoteDocument> {
    const { text, ttlSec } = await this.download(url);
    const document = parseContextDocument(url, text);
    const doc: RemoteDocument = { document, expiresAt: Date.now() + ttlSec * 1000 };
    if (ttlSec > 0) {
      this.docs.delete(url);
      if (this.docs.size >= this.maxEntries) this.docs.delete(this.docs.keys().next().value as string);
      this.docs.set(url, doc);
    }
    return doc;
  }

  private async download(url: string): Promise<{ text: string; ttlSec: number }> {
    const { timeoutMs, maxBytes } = this.opts;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      const res = await this.opts.fetch(url, { headers: { accept: ACCEPT }, redirect: 'follow', signal: controller.signal });
      if (!res.ok) {
        await res.body?.cancel().catch(() => undefined);
        throw notAvailable(url, `the server answered HTTP ${res.status}`);
      }
      const declared = Number(res.headers.get('content-length') ?? NaN);
      if (declared > maxBytes) {
        await res.body?.cancel().catch(() => undefined);
        throw notAvailable(url, `it is larger than ${maxBytes} bytes`);
      }
      const text = await readCapped(res, url, maxBytes);
      return { text, ttlSec: Math.min(this.opts.cacheTtlSec, headerTtlSec(res.headers) ?? Infinity) };
    } catch (e) {
      if (e instanceof NgsiError) throw e;
      if (controller.signal.aborted) throw notAvailable(url, `no complete answer within ${timeoutMs} ms`);
      throw notAvailable(url, describeNetworkError(e));
    } finally {
      clearTimeout(timer);
    }
  }
}

function notAvailable(url: string, why: string): NgsiError {
  return new NgsiError('LdContextNotAvailable', `the @context at ${url} could not be retrieved: ${why}`);
}

async function readCapped(res: Response, url: string, maxBytes: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw notAvailable(url, `it is larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return new TextDecoder('utf-8').decode(Buffer.concat(chunks));
}

function describeNetworkError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  // undici reports "fetch failed" and puts the useful part (ECONNREFUSED, ENOTFOUND, ...) in `cause`.
  const cause = e.cause;
  if (cause instanceof Error) {
    const code = (cause as Error & { code?: unknown }).code;
    if (typeof code !== 'string') return cause.message || e.message;
    return cause.message && cause.message !== code ? `${code} (${cause.message})` : code;
  }
  return e.message;
}

/** Parses a fetched body into a context document; a body that is not a JSON object with "@context" is bad data. */
export function parseContextDocument(url: string, text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new NgsiError('BadRequestData', `the @context at ${url} is not valid JSON: ${(e as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new NgsiError('BadRequestData', `the @context at ${url} is not a JSON object`);
  }
  if (!('@context' in parsed)) {
    throw new NgsiError('BadRequestData', `the document at ${url} has no "@context" member`);
  }
  return parsed as Record<string, unknown>;
}

/**
 * Lifetime in seconds from Cache-Control (s-maxage, max-age, no-store, no-cache) or Expires (RFC 7234 5.2.2, 5.3),
 * or undefined when the response says nothing and the heuristic (the configured TTL) applies.
 */
export function headerTtlSec(headers: Headers): number | undefined {
  const cc = headers.get('cache-control');
  if (cc) {
    const directives = new Map<string, string>();
    for (const part of cc.split(',')) {
      const [name, value = ''] = part.trim().split('=', 2);
      directives.set(name!.toLowerCase(), value.replace(/^"|"$/g, ''));
    }
    if (directives.has('no-store') || directives.has('no-cache')) return 0;
    for (const name of ['s-maxage', 'max-age']) {
      const v = directives.get(name);
      if (v !== undefined && /^\d+$/.test(v)) return Number(v);
    }
  }
  const expires = headers.get('expires');
  if (expires !== null) {
    const at = Date.parse(expires);
    if (Number.isNaN(at)) return 0; // an invalid Expires means "already expired"
    const date = Date.parse(headers.get('date') ?? '');
    return Math.max(0, Math.floor((at - (Number.isNaN(date) ? Date.now() : date)) / 1000));
  }
  return undefined;
}
