/**
 * NGSI-LD error model (clause 5.5.2, HTTP mapping in table 6.3.2-1).
 * Services throw NgsiError; the HTTP layer turns it into a ProblemDetails response.
 */

export type ErrorKind =
  | 'AlreadyExists'
  | 'BadRequestData'
  | 'Conflict'
  | 'InternalError'
  | 'InvalidRequest'
  | 'LdContextNotAvailable'
  | 'NoMultiTenantSupport'
  | 'NonexistentTenant'
  | 'OperationNotSupported'
  | 'ResourceNotFound'
  | 'TooComplexQuery'
  | 'TooManyResults';

const STATUS: Record<ErrorKind, number> = {
  AlreadyExists: 409,
  BadRequestData: 400,
  Conflict: 409,
  InternalError: 500,
  InvalidRequest: 400,
  // Table 6.3.2-1 and TP/NGSI-LD/CB/HTTP/043_01 both say 503.
  LdContextNotAvailable: 503,
  NoMultiTenantSupport: 501,
  NonexistentTenant: 404,
  OperationNotSupported: 422,
  ResourceNotFound: 404,
  TooComplexQuery: 403,
  TooManyResults: 403,
};

const TITLE: Record<ErrorKind, string> = {
  AlreadyExists: 'Already exists',
  BadRequestData: 'Bad request data',
  Conflict: 'Conflict',
  InternalError: 'Internal error',
  InvalidRequest: 'Invalid request',
  LdContextNotAvailable: 'JSON-LD @context not available',
  NoMultiTenantSupport: 'No multi-tenant support',
  NonexistentTenant: 'Nonexistent tenant',
  OperationNotSupported: 'Operation not supported',
  ResourceNotFound: 'Resource not found',
  TooComplexQuery: 'Too complex query',
  TooManyResults: 'Too many results',
};

export const ERROR_TYPE_BASE = 'https://uri.etsi.org/ngsi-ld/errors/';

/** ProblemDetails (IETF RFC 7807) as NGSI-LD uses it. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  [extension: string]: unknown;
}

export class NgsiError extends Error {
  readonly kind: ErrorKind;
  readonly status: number;
  readonly extra?: Record<string, unknown>;

  constructor(kind: ErrorKind, detail: string, extra?: Record<string, unknown>) {
    super(detail);
    this.name = 'NgsiError';
    this.kind = kind;
    this.status = STATUS[kind];
    this.extra = extra;
  }

  toProblem(): ProblemDetails {
    return {
      type: ERROR_TYPE_BASE + this.kind,
      title: TITLE[this.kind],
      status: this.status,
      detail: this.message,
      ...this.extra,
    };
  }
}

export const badRequest = (detail: string) => new NgsiError('BadRequestData', detail);
export const invalidRequest = (detail: string) => new NgsiError('InvalidRequest', detail);
export const notFound = (detail: string) => new NgsiError('ResourceNotFound', detail);
export const alreadyExists = (detail: string) => new NgsiError('AlreadyExists', detail);
