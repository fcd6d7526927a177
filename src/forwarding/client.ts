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
  /** Told of every request sent (for the registration's timesSent/timesFailed, table 5.2.9-2); 404 counts as success. */
  onOutcome?: (tenant: string, registrationId: string, ok: boolean) => void;
}

/** The HTTP side of distributed operations: one request to one context source, never longer than the timeout. */
export class ForwardClient {
  constructor(private readonly opts: ForwardClientOptions) {}

  get alias(): string {
    return this.opts.alias();
  }

  /** True when the source already handled this request on its way here, or is this broker (clause 4.3.6.4). */
  isLoop(source: ContextSource, fwd: ForwardContext): boolean {
    const seen = viaPseudonyms(fwd.via);
    const host = hostOf(source.endpoint);
    const own = this.alias;
    if (host !== undefined && (host === own || seen.has(host))) return true;
    return source.alias !== undefined && (source.alias === own || seen.has(source.alias));
  }

  async send(source: ContextSource, req: SourceRequest, fwd: ForwardContext): Promise<SourceOutcome> {
    const outcome = await this.exchange(source, req, fwd);
    if (outcome.ok || outcome.failure !== 'loop') this.opts.onOutcome?.(req.tenant, source.registrationId, outcome.ok || outcome.failure === 'notFound');
    return outcome;
  }

  private async exchange(source: ContextSource, req: SourceRequest, fwd: ForwardContext): Promise<SourceOutcome> {
    if (this.isLoop(source, fwd)) return { ok: false, failure: 'loop', detail: `Context source ${source.endpoint} is already in the Via chain (loop)` };
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
    let text: string;
    try {
      text = await response.text();
    } catch {
      return { ok: false, failure: 'timeout', detail: `Context source ${source.endpoint} did not finish its answer within ${timeoutMs} ms` };
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
    headers.Via = fwd.via.trim() === '' ? `1.1 ${this.alias}` : `${fwd.via}, 1.1 ${this.alias}`;
    return headers;
  }
}

/** The pseudonyms (received-by) of a Via header: "1.1 a, HTTP/1.1 b (comment)" gives a and b (RFC 7230 5.7.1). */
export function viaPseudonyms(via: string): Set<string> {
  const out = new Set<string>();
  for (const hop of via.split(',')) {
    const parts = hop.trim().split(/\s+/);
    if (parts.length >= 2 && parts[1]) out.add(parts[1]);
  }
  return out;
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
