/**
 * Assertions shared by the conformance tests.
 */
import { expect } from 'vitest';
import { ERROR_BASE, type RawRes, type Res } from './http.js';

/** Human-readable summary of a response, attached to assertion messages. */
export function describeRes(res: Res | RawRes): string {
  const text = res.text.length > 600 ? `${res.text.slice(0, 600)}…` : res.text;
  return `HTTP ${res.status} (${res.mediaType || 'no content-type'}) ${text}`;
}

function header(res: Res | RawRes, name: string): string | null {
  if (res.headers instanceof Headers) return res.headers.get(name);
  const v = res.headers[name.toLowerCase()];
  if (v === undefined) return null;
  return Array.isArray(v) ? v.join(', ') : String(v);
}

export { header as headerOf };

export function expectStatus(res: Res | RawRes, status: number): void {
  expect(res.status, describeRes(res)).toBe(status);
}

/**
 * An NGSI-LD error response (clauses 5.5.3, 6.3.2, 6.3.3, 6.3.6): the given status, Content-Type application/json,
 * a ProblemDetails body whose type is https://uri.etsi.org/ngsi-ld/errors/<typeSuffix>, non-empty title and detail,
 * and no JSON-LD Link header.
 */
export function expectProblem(res: Res | RawRes, status: number, typeSuffix: string): void {
  expectStatus(res, status);
  expect(res.mediaType, `error Content-Type (6.3.3): ${describeRes(res)}`).toBe('application/json');
  expect(res.body, `ProblemDetails body (5.5.3): ${describeRes(res)}`).toBeTypeOf('object');
  expect(res.body.type, describeRes(res)).toBe(ERROR_BASE + typeSuffix);
  expect(typeof res.body.title === 'string' && res.body.title.length > 0, `non-empty title: ${describeRes(res)}`).toBe(true);
  expect(typeof res.body.detail === 'string' && res.body.detail.length > 0, `non-empty detail: ${describeRes(res)}`).toBe(true);
  if (res.body.status !== undefined) expect(res.body.status, 'ProblemDetails.status matches the HTTP status').toBe(status);
  expect(header(res, 'link'), 'error responses carry no Link header (6.3.6)').toBeNull();
}

/** A 204 No Content (6.3.6): no body, no Content-Length, no Link header. */
export function expectNoContent(res: Res | RawRes): void {
  expectStatus(res, 204);
  expect(res.text, 'a 204 response has no body').toBe('');
  expect(header(res, 'content-length'), 'no Content-Length on 204 (6.3.6)').toBeNull();
  expect(header(res, 'link'), 'no Link header on a response without body (6.3.6)').toBeNull();
}

/** ISO 8601 UTC DateTime in extended format (clause 4.6.3). */
export const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

export function expectDateTime(value: unknown, what = 'timestamp'): void {
  expect(value, `${what} is an ISO 8601 UTC DateTime (4.6.3)`).toMatch(DATE_TIME);
}

/** Parses a Link header into its target URIs with their rel parameter. */
export function parseLinks(value: string | null): Array<{ uri: string; rel: string | undefined; type: string | undefined }> {
  if (!value) return [];
  const out: Array<{ uri: string; rel: string | undefined; type: string | undefined }> = [];
  const re = /<([^>]*)>([^,<]*)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(value)) !== null) {
    const params = m[2] ?? '';
    const rel = /rel\s*=\s*"?([^";]+)"?/i.exec(params)?.[1];
    const type = /type\s*=\s*"?([^";]+)"?/i.exec(params)?.[1];
    out.push({ uri: m[1]!, rel, type });
  }
  return out;
}

/** The @context URIs named by JSON-LD context Link headers of a response. */
export function contextLinks(res: Res | RawRes): string[] {
  return parseLinks(header(res, 'link'))
    .filter((l) => l.rel === 'http://www.w3.org/ns/json-ld#context')
    .map((l) => l.uri);
}

/** Flattens a JSON-LD @context value into the list of its URI references. */
export function contextUris(ctx: unknown): string[] {
  if (typeof ctx === 'string') return [ctx];
  if (Array.isArray(ctx)) return ctx.flatMap(contextUris);
  return [];
}

/** Sorts an array of attribute instances by datasetId (the default instance first) for order-free comparison. */
export function byDataset<T>(instances: T[]): T[] {
  const key = (x: T): string => String((x as { datasetId?: unknown } | null)?.datasetId ?? '');
  return [...instances].sort((a, b) => key(a).localeCompare(key(b)));
}

/** Normalises a single-or-array member to an array. */
export function asArray<T>(v: T | T[] | undefined): T[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}
