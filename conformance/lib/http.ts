/**
 * HTTP helpers for the black-box conformance suite. Everything goes over the wire: global `fetch` for ordinary
 * requests, `node:http` for the few cases fetch cannot express (no Accept header, chunked bodies without
 * Content-Length, oversized bodies the server may cut short).
 */
import http from 'node:http';
import https from 'node:https';
import { inject } from 'vitest';
import { parseJsonOrUndefined } from './listen.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Base URL of the broker under test, e.g. http://127.0.0.1:1026 (no trailing slash). */
    brokerUrl: string;
  }
}

/** NGSI-LD API root (clause 6.1). */
export const API = '/ngsi-ld/v1';
/** The rel value of a JSON-LD context Link header (JSON-LD 1.1, section 6.2; clause 6.3.5). */
export const JSONLD_CONTEXT_REL = 'http://www.w3.org/ns/json-ld#context';
/** Prefix of NGSI-LD error types (clause 5.5.2). */
export const ERROR_BASE = 'https://uri.etsi.org/ngsi-ld/errors/';
/** @vocab of the core context: unknown terms expand under it (clause 4.4, annex B). */
export const DEFAULT_VOCAB = 'https://uri.etsi.org/ngsi-ld/default-context/';
/** NGSI-LD Null (clause 4.5.0). */
export const NGSI_NULL = 'urn:ngsi-ld:null';

export function brokerUrl(): string {
  const url = inject('brokerUrl');
  if (!url) throw new Error('brokerUrl was not provided: run through `npm run conformance` or the conformance vitest project');
  return url.replace(/\/+$/, '');
}

/** Encodes an entity id or attribute name for a path segment; colons stay readable as most clients send them. */
export function seg(s: string): string {
  return encodeURIComponent(s).replace(/%3A/gi, ':');
}

export const ENTITIES = `${API}/entities`;
export const entityPath = (id: string): string => `${ENTITIES}/${seg(id)}`;
export const attrsPath = (id: string): string => `${entityPath(id)}/attrs`;
export const attrPath = (id: string, attr: string): string => `${attrsPath(id)}/${seg(attr)}`;

/** A Link header value referencing a JSON-LD @context document (clause 6.3.5). */
export function linkHeader(contextUrl: string): string {
  return `<${contextUrl}>; rel="${JSONLD_CONTEXT_REL}"; type="application/ld+json"`;
}

export interface ReqOptions {
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Serialized as the body; Content-Type defaults to application/json. */
  json?: unknown;
  /** Raw body (Content-Type must then be set via contentType or headers). */
  body?: string;
  contentType?: string;
  accept?: string;
  /** URL of a JSON-LD @context sent as a Link header. */
  link?: string;
  /** NGSILD-Tenant header (clause 6.3.14). */
  tenant?: string;
}

export interface Res {
  status: number;
  headers: Headers;
  /** Raw response body. */
  text: string;
  /** Parsed JSON body, or undefined when the body is empty or not JSON. */
  body: any;
  /** Media type of the response without parameters, lower-cased ('' when absent). */
  mediaType: string;
}

function buildHeaders(opts: ReqOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  if (opts.json !== undefined || opts.body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
  else if (opts.contentType) headers['content-type'] = opts.contentType;
  if (opts.accept !== undefined) headers['accept'] = opts.accept;
  if (opts.link !== undefined) headers['link'] = linkHeader(opts.link);
  if (opts.tenant !== undefined) headers['ngsild-tenant'] = opts.tenant;
  for (const [k, v] of Object.entries(opts.headers ?? {})) headers[k.toLowerCase()] = v;
  return headers;
}

export function mediaTypeOf(contentType: string | null | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}


/** Sends one request to the broker. `path` is absolute from the broker root, e.g. `/ngsi-ld/v1/entities`. */
export async function req(method: string, path: string, opts: ReqOptions = {}): Promise<Res> {
  const body = opts.json !== undefined ? JSON.stringify(opts.json) : opts.body;
  const response = await fetch(brokerUrl() + path, { method, headers: buildHeaders(opts), body, redirect: 'manual' });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    body: parseJsonOrUndefined(text),
    mediaType: mediaTypeOf(response.headers.get('content-type')),
  };
}

export const get = (path: string, opts?: ReqOptions): Promise<Res> => req('GET', path, opts);
export const post = (path: string, opts?: ReqOptions): Promise<Res> => req('POST', path, opts);
export const patch = (path: string, opts?: ReqOptions): Promise<Res> => req('PATCH', path, opts);
export const put = (path: string, opts?: ReqOptions): Promise<Res> => req('PUT', path, opts);
export const del = (path: string, opts?: ReqOptions): Promise<Res> => req('DELETE', path, opts);

export interface RawRes {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  body: any;
  mediaType: string;
}

export interface RawReqOptions {
  method: string;
  path: string;
  /** Exactly these headers are sent (node adds Host and Connection only). */
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send the body with Transfer-Encoding: chunked and no Content-Length. */
  chunked?: boolean;
}

/**
 * A request through node:http, for what fetch cannot do: omit Accept, send a chunked body without Content-Length,
 * or push a body the server answers (413) before reading it all. Errors on the socket after the response arrived are
 * ignored, since a server may close the connection on an oversized upload.
 */
export function rawRequest(opts: RawReqOptions): Promise<RawRes> {
  const target = new URL(brokerUrl() + opts.path);
  const client = target.protocol === 'https:' ? https : http;
  const headers: Record<string, string | number> = { ...(opts.headers ?? {}) };
  if (opts.body !== undefined) {
    const bytes = typeof opts.body === 'string' ? Buffer.byteLength(opts.body) : opts.body.length;
    if (opts.chunked) headers['transfer-encoding'] = 'chunked';
    else headers['content-length'] = bytes;
  }
  return new Promise((resolve, reject) => {
    let answered = false;
    const request = client.request(
      {
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: opts.method,
        headers,
      },
      (response) => {
        answered = true;
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('error', () => finish());
        response.on('end', () => finish());
        let done = false;
        function finish(): void {
          if (done) return;
          done = true;
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            text,
            body: parseJsonOrUndefined(text),
            mediaType: mediaTypeOf(response.headers['content-type']),
          });
        }
      },
    );
    request.on('error', (err) => {
      if (!answered) reject(err);
    });
    if (opts.body !== undefined) {
      if (opts.chunked) {
        // Two writes so the body really goes out as several chunks.
        const buf = typeof opts.body === 'string' ? Buffer.from(opts.body) : opts.body;
        const mid = Math.floor(buf.length / 2);
        request.write(buf.subarray(0, mid));
        request.end(buf.subarray(mid));
      } else {
        request.end(opts.body);
      }
    } else {
      request.end();
    }
  });
}
