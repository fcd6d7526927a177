/**
 * A scripted context source for the distributed-operations tests (clauses 4.3.6, 6.3.17-6.3.19): a small HTTP server
 * that a test registers at the broker (POST /csourceRegistrations with its `endpoint`). It records every request the
 * broker forwards and answers as the test scripts it: entities it holds for GET, a status for writes.
 *
 * Like the notification receiver (receiver.ts) it listens on 127.0.0.1 unless MUSUBI_CONFORMANCE_RECEIVER_BIND and
 * MUSUBI_CONFORMANCE_RECEIVER_HOST say how a broker elsewhere reaches this machine.
 */
import http from 'node:http';
import { listenForBroker, parseJsonOrUndefined } from './listen.js';

export interface ForwardedRequest {
  method: string;
  /** Path without the query string, e.g. /ngsi-ld/v1/entities/urn:x (percent-decoded). */
  path: string;
  query: URLSearchParams;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  body: any;
}

export interface ContextSourceOptions {
  /** Entities (normalized, names in the core context) this source holds and answers GET requests with. */
  entities?: Array<Record<string, unknown>>;
  /** Status answered to PATCH/PUT/POST requests (default 204). */
  writeStatus?: number;
  /** Answer every request with this status and a ProblemDetails body instead (e.g. 403, 500). */
  failWith?: number;
  /** Answer GET requests with this raw body (e.g. something that is not NGSI-LD). */
  rawBody?: string;
}

export interface ContextSource {
  /** The endpoint to register (scheme, host and port; the broker appends /ngsi-ld/v1/...). */
  readonly endpoint: string;
  /** host:port as it appears in the endpoint (what a Via header names). */
  readonly host: string;
  readonly requests: ForwardedRequest[];
  options: ContextSourceOptions;
  close(): Promise<void>;
}

const ENTITY_PATH = /^\/ngsi-ld\/v1\/entities\/([^/]+)(\/attrs(\/[^/]+)?)?$/;

/** Starts a context source on a random port. */
export async function startContextSource(options: ContextSourceOptions = {}): Promise<ContextSource> {
  const bind = process.env.MUSUBI_CONFORMANCE_RECEIVER_BIND || '127.0.0.1';
  const advertised = process.env.MUSUBI_CONFORMANCE_RECEIVER_HOST || bind;
  const requests: ForwardedRequest[] = [];
  const source = { endpoint: '', host: '', requests, options, close: async () => undefined } as ContextSource;
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://source');
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(request.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
      const forwarded: ForwardedRequest = {
        method: request.method ?? '',
        path: decodeURIComponent(url.pathname),
        query: url.searchParams,
        headers,
        body: parseJsonOrUndefined(Buffer.concat(chunks).toString('utf8')),
      };
      requests.push(forwarded);
      const { status, body } = answer(source.options, forwarded);
      const text = typeof body === 'string' ? body : body === undefined ? '' : JSON.stringify(body);
      response.writeHead(status, text ? { 'content-type': 'application/json' } : {}).end(text);
    });
  });
  const origin = await listenForBroker(server, bind, advertised);
  Object.assign(source, {
    endpoint: origin,
    host: new URL(origin).host,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  return source;
}

function answer(options: ContextSourceOptions, r: ForwardedRequest): { status: number; body?: unknown } {
  if (options.failWith) return { status: options.failWith, body: { type: 'https://uri.etsi.org/ngsi-ld/errors/InternalError', title: 'failure', detail: `scripted ${options.failWith}` } };
  if (r.method !== 'GET') return { status: options.writeStatus ?? 204 };
  if (options.rawBody !== undefined) return { status: 200, body: options.rawBody };
  const held = options.entities ?? [];
  const one = ENTITY_PATH.exec(r.path);
  if (one) {
    const entity = held.find((e) => e.id === one[1]);
    return entity ? { status: 200, body: project(entity, r.query.get('attrs')) } : { status: 404, body: { type: 'https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound', title: 'not found', detail: one[1] } };
  }
  if (r.path === '/ngsi-ld/v1/entities') {
    const types = r.query.get('type')?.split(',');
    const ids = r.query.get('id')?.split(',');
    return { status: 200, body: held.filter((e) => (!types || types.includes(String(e.type))) && (!ids || ids.includes(String(e.id)))).map((e) => project(e, r.query.get('attrs'))) };
  }
  return { status: 404 };
}

function project(entity: Record<string, unknown>, attrs: string | null): Record<string, unknown> {
  if (!attrs) return entity;
  const keep = new Set(['id', 'type', ...attrs.split(',')]);
  return Object.fromEntries(Object.entries(entity).filter(([k]) => keep.has(k)));
}
