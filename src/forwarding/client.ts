import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { JSONLD_CONTEXT_REL } from '../jsonld/link-header.js';
import type { ContextSource, ForwardContext } from './types.js';

/** How a request to a context source ended; `ok` answers carry the parsed JSON body. */
export type SourceOutcome =
  | { ok: true; status: number; body: unknown; link?: string; mediaType: string }
  | { ok: false; failure: SourceFailure; status?: number; detail: string };

/**
 * Why a source gave nothing usable; each maps to a warning code of table 6.3.17-1 and an error status of clause 6.3.17:
 * timeout and loop 199 (504, 508), unreachable 199 (502), status 299 (404 or 502), invalid 111 (502).
 */
export type SourceFailure = 'timeout' | 'unreachable' | 'status' | 'invalid' | 'loop' | 'notFound';

export interface SourceRequest {
  method: 'GET' | 'PATCH' | 'PUT' | 'POST' | 'DELETE';
  /** Path below the API root, e.g. /entities/urn:x/attrs. */
  path: string;
  query?: URLSearchParams;
  body?: unknown;
  /** URL of the @context to send as Link header; the registration's jsonldContext wins (clause 4.3.6.6). */
  link?: string;
  /** The tenant of the triggering request, used when the registration names none. */
  tenant: string;
}

// Headers that belong to the connection or to other registration members (6.3.19): contextSourceInfo cannot set them.
const RESERVED = new Set([
  'host',
  'connection',
  'content-length',
  'transfer-encoding',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'via',
  'ngsild-tenant',
  'link',
  'content-type',
  'accept',
]);
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const REQUEST_VALUE = 'urn:ngsi-ld:request';
const API_ROOT = '/ngsi-ld/v1';

export interface ForwardClientOptions {
  /** Longest wait for one source, in milliseconds, unless its registration sets management.timeout. */
  timeoutMs: number;
  /** This broker's pseudonym in Via headers (clause 6.3.18); read at each request, as the port may be known only later. */
  alias: () => string;
  /**
   * Other names this broker is reached by (host:port forms of its listening address), so that a registration whose
   * endpoint names it that way is recognised as this broker without a DNS lookup (clause 4.3.6.4).
   */
  localHosts?: () => Iterable<string>;
  /** Largest answer body read from a source, in bytes; a longer one makes the source fail. Default 10 MiB. */
  maxBodyBytes?: number;
  /** Told of every request sent (for the registration's timesSent/timesFailed, table 5.2.9-2); 404 counts as success. */
  onOutcome?: (tenant: string, registrationId: string, ok: boolean) => void;
}

/** The HTTP side of distributed operations: one request to one context source, never longer than the timeout. */
export class ForwardClient {
  constructor(private readonly opts: ForwardClientOptions) {}

  get alias(): string {
    return this.opts.alias();
  }

  /**
   * True when sending the request to the source would loop (clause 4.3.6.4): the Via chain is already too long, this
   * broker handled the request in the same tenant before (it came back by a name not recognised as ours), or the
   * source - in the tenant it is asked in - is this broker in the request's tenant or a hop already in the chain.
   * Each tenant of a source counts separately (4.3.6.4), so a hop's tenant travels in its Via comment.
   */
  isLoop(source: ContextSource, fwd: ForwardContext, tenant: string): boolean {
    const hops = viaHops(fwd.via);
    if (hops.length >= MAX_VIA_HOPS) return true;
    const own = this.alias;
    if (hops.some((h) => h.pseudonym === own && h.tenant === tenant)) return true;
    const target = source.tenant ?? tenant;
    const names = new Set<string>();
    const host = hostOf(source.endpoint);
    if (host !== undefined) names.add(host);
    if (source.alias !== undefined) names.add(source.alias);
    if (host !== undefined && this.isLocalHost(host)) names.add(own);
    if (target === tenant && names.has(own)) return true;
    return hops.some((h) => names.has(h.pseudonym) && (h.tenant === undefined || h.tenant === target));
  }

  private isLocalHost(host: string): boolean {
    const local = this.opts.localHosts?.();
    if (!local) return false;
    for (const h of local) if (h === host) return true;
    return false;
  }

  async send(source: ContextSource, req: SourceRequest, fwd: ForwardContext): Promise<SourceOutcome> {
    const outcome = await this.exchange(source, req, fwd);
    if (outcome.ok || outcome.failure !== 'loop') this.opts.onOutcome?.(req.tenant, source.registrationId, outcome.ok || outcome.failure === 'notFound');
    return outcome;
  }

  private async exchange(source: ContextSource, req: SourceRequest, fwd: ForwardContext): Promise<SourceOutcome> {
    if (this.isLoop(source, fwd, req.tenant)) return { ok: false, failure: 'loop', detail: `Context source ${source.endpoint} is already in the Via chain (loop)` };
    const url = new URL(source.endpoint.replace(/\/+$/, '') + API_ROOT + req.path);
    if (req.query) for (const [k, v] of req.query) url.searchParams.append(k, v);
    const headers = this.headers(source, req, fwd);
    const timeoutMs = source.timeoutMs ?? this.opts.timeoutMs;
    let response: Response;
    try {
      response = await fetch(url, {
        method: req.method,
        headers,
        body: req.body === undefined ? undefined : JSON.stringify(req.body),
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'manual',
      });
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name === 'TimeoutError' || name === 'AbortError') {
        return { ok: false, failure: 'timeout', detail: `Context source ${source.endpoint} did not answer within ${timeoutMs} ms` };
      }
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      return { ok: false, failure: 'unreachable', detail: `Context source ${source.endpoint} could not be reached (${cause?.code ?? cause?.message ?? String(err)})` };
    }
    let text: string | undefined;
    const maxBytes = this.opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    try {
      text = await cappedText(response, maxBytes);
    } catch {
      return { ok: false, failure: 'timeout', detail: `Context source ${source.endpoint} did not finish its answer within ${timeoutMs} ms` };
    }
    if (text === undefined) {
      return { ok: false, failure: 'invalid', status: response.status, detail: `Context source ${source.endpoint} answered with a body over ${maxBytes} bytes` };
    }
    const mediaType = (response.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (response.status === 404) return { ok: false, failure: 'notFound', status: 404, detail: `Context source ${source.endpoint} answered 404` };
    if (response.status >= 300) {
      return { ok: false, failure: 'status', status: response.status, detail: `Context source ${source.endpoint} answered ${response.status}${summary(text)}` };
    }
    if (text === '') return { ok: true, status: response.status, body: undefined, mediaType };
    try {
      return { ok: true, status: response.status, body: JSON.parse(text), link: contextLink(response.headers.get('link')), mediaType };
    } catch {
      return { ok: false, failure: 'invalid', status: response.status, detail: `Context source ${source.endpoint} answered with a body that is not JSON` };
    }
  }

  private headers(source: ContextSource, req: SourceRequest, fwd: ForwardContext): Record<string, string> {
    const headers: Record<string, string> = {};
    // contextSourceInfo first, so that what the registration's other members and HTTP itself set wins (6.3.19).
    for (const { key, value } of source.info) {
      if (!HEADER_NAME.test(key) || RESERVED.has(key.toLowerCase()) || key === 'jsonldContext' || key === 'contentType' || key === 'ngsildConformance') continue;
      const v = value === REQUEST_VALUE ? fwd.header(key) : value;
      if (v !== undefined && !/[\r\n]/.test(v)) headers[key] = v;
    }
    const info = (key: string) => source.info.find((i) => i.key === key)?.value;
    headers.Accept = info('accept') === 'application/ld+json' ? 'application/ld+json' : 'application/json';
    const link = info('jsonldContext') ?? req.link;
    if (link) headers.Link = `<${link}>; rel="${JSONLD_CONTEXT_REL}"; type="application/ld+json"`;
    if (req.body !== undefined) headers['Content-Type'] = 'application/json';
    const tenant = source.tenant ?? req.tenant;
    if (tenant !== '') headers['NGSILD-Tenant'] = tenant;
    const hop = `1.1 ${this.alias} (tenant=${encodeURIComponent(req.tenant)})`;
    headers.Via = fwd.via.trim() === '' ? hop : `${fwd.via}, ${hop}`;
    return headers;
  }
}

/** The pseudonyms (received-by) of a Via header: "1.1 a, HTTP/1.1 b (comment)" gives a and b (RFC 7230 5.7.1). */
export function viaPseudonyms(via: string): Set<string> {
  return new Set(viaHops(via).map((h) => h.pseudonym));
}

/** A hop of a Via header; `tenant` when the hop is a broker that named it (as this one does: "(tenant=...)"). */
export interface ViaHop {
  pseudonym: string;
  tenant?: string;
}

/** Beyond this many hops a request is taken to loop, whatever the names (clause 4.3.6.4). */
export const MAX_VIA_HOPS = 8;
const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

export function viaHops(via: string): ViaHop[] {
  const out: ViaHop[] = [];
  for (const hop of via.split(',')) {
    const parts = hop.trim().split(/\s+/);
    if (parts.length < 2 || !parts[1]) continue;
    const m = /\(tenant=([^()\s]*)\)/.exec(hop);
    let tenant: string | undefined;
    if (m) {
      try {
        tenant = decodeURIComponent(m[1]!);
      } catch {
        tenant = undefined;
      }
    }
    out.push({ pseudonym: parts[1], tenant });
  }
  return out;
}

/** The body as text, or undefined once it exceeds `maxBytes` (the rest is not read). */
async function cappedText(response: Response, maxBytes: number): Promise<string | undefined> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function hostOf(endpoint: string): string | undefined {
  try {
    return new URL(endpoint).host;
  } catch {
    return undefined;
  }
}

function contextLink(header: string | null): string | undefined {
  if (!header) return undefined;
  const m = /<([^>]*)>[^,]*rel="?http:\/\/www\.w3\.org\/ns\/json-ld#context"?/.exec(header);
  return m?.[1];
}

function summary(text: string): string {
  if (text === '') return '';
  try {
    const p = JSON.parse(text) as { detail?: unknown; title?: unknown };
    const d = typeof p.detail === 'string' ? p.detail : typeof p.title === 'string' ? p.title : undefined;
    if (d) return `: ${d.slice(0, 300)}`;
  } catch {
    // not a ProblemDetails
  }
  return `: ${text.slice(0, 200)}`;
}

/** A Via pseudonym unique to this process, for when none is configured: "musubi-" and 8 random hex digits. */
export function defaultForwardAlias(): string {
  return `musubi-${randomBytes(4).toString('hex')}`;
}

/** The host:port forms by which a broker listening on `bindHost`:`port` reaches itself, without DNS lookups. */
export function localHostNames(bindHost: string, port: number): string[] {
  const names = new Set<string>();
  const any = bindHost === '0.0.0.0' || bindHost === '::' || bindHost === '';
  const loopback = any || bindHost === '127.0.0.1' || bindHost === 'localhost' || bindHost === '::1';
  if (!any) names.add(bindHost.includes(':') && !bindHost.startsWith('[') ? `[${bindHost}]:${port}` : `${bindHost}:${port}`);
  if (loopback) for (const h of ['127.0.0.1', 'localhost', '[::1]']) names.add(`${h}:${port}`);
  if (any) names.add(`${hostname().toLowerCase()}:${port}`);
  return [...names];
}
