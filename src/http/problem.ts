import { NgsiError, type ProblemDetails } from '../common/errors.js';

/**
 * Error responses (clause 6.3.3): ProblemDetails as application/json, never a Link header (6.3.6).
 * 411 and 415 carry no body at all (6.3.4).
 */

export class HttpStatusError extends Error {
  constructor(
    readonly status: 411 | 415,
    detail: string,
  ) {
    super(detail);
  }
}

export function problemResponse(problem: ProblemDetails, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(problem), {
    status: problem.status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

/** Turns anything thrown while serving a request into the response a client should see. */
export function errorResponse(err: unknown, headers: Record<string, string>, onInternal: (err: unknown) => void): Response {
  if (err instanceof HttpStatusError) return new Response(null, { status: err.status, headers });
  if (err instanceof NgsiError) return problemResponse(err.toProblem(), headers);
  onInternal(err);
  const internal = new NgsiError('InternalError', 'The broker failed to process the request; the failure has been logged');
  return problemResponse(internal.toProblem(), headers);
}

/** 405 with the Allow header RFC 7231 section 6.5.5 requires (clause 6.3.2). */
export function methodNotAllowed(method: string, path: string, allow: string[], headers: Record<string, string>): Response {
  return problemResponse(
    {
      type: 'https://uri.etsi.org/ngsi-ld/errors/InvalidRequest',
      title: 'Method not allowed',
      status: 405,
      detail: `${method} is not allowed on ${path}; allowed: ${allow.join(', ')}`,
    },
    { ...headers, Allow: allow.join(', ') },
  );
}
