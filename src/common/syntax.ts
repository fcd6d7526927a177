import { badRequest } from './errors.js';

/** Lexical rules shared by every NGSI-LD resource: URIs (ids), names (clause 4.6.2) and DateTimes (4.6.3). */

// A URI needs a scheme (RFC 3986) and no whitespace; NGSI-LD ids are URNs or URLs.
const URI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>"{}|\\^`]*$/;

export function isUri(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 2048 && URI.test(value) && !value.endsWith(':');
}

// Clause 4.6.2: names must not hold control characters, whitespace or the characters < > " ' = ; ( ).
const FORBIDDEN_IN_NAME = /[\u0000-\u0020<>"'=;()\\\u007f]/;

export function isValidName(name: unknown): name is string {
  // A leading "@" would make the name a JSON-LD keyword.
  return typeof name === 'string' && name.length > 0 && name.length <= 1024 && name[0] !== '@' && !FORBIDDEN_IN_NAME.test(name);
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** ISO 8601 DateTime in UTC or with an offset, as clause 4.6.3 requires for observedAt and friends. */
export function isDateTime(value: unknown): value is string {
  return typeof value === 'string' && DATE_TIME.test(value) && !Number.isNaN(Date.parse(value));
}

/** Current time in the format the broker writes system attributes with. */
export function nowIso(): string {
  return new Date().toISOString();
}

// BCP 47 language tags, loosely: letters/digits in dash-separated groups.
const LANGUAGE_TAG = /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/;

export function isLanguageTag(tag: string): boolean {
  return tag === '@none' || LANGUAGE_TAG.test(tag);
}

/** BadRequestData unless `value` is a URI; `what` names it in the detail, e.g. "Entity id" (clause 4.5.1). */
export function requireUri(value: unknown, what: string): asserts value is string {
  if (!isUri(value)) throw badRequest(`${what} ${JSON.stringify(value)} is not a valid URI`);
}

/** BadRequestData unless `name` is a valid attribute name (clause 4.6.2). */
export function requireAttributeName(name: string): void {
  if (!isValidName(name)) throw badRequest(`Attribute name ${JSON.stringify(name)} is not valid (clause 4.6.2)`);
}

/** BadRequestData unless `value` is an absolute http(s) URL, one the broker can send requests to; `cite` names the clause. */
export function requireHttpUrl(value: string, what: string, cite: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw badRequest(`${what} ${JSON.stringify(value)} is not a dereferenceable http(s) URI (${cite})`);
  }
  return value;
}

/** BadRequestData unless `value` is a DateTime (clause 4.6.3) after `now`, as an expiresAt must be; `cite` names the operation's clauses. */
export function requireFutureDateTime(value: string, what: string, now: number, cite: string): string {
  if (!isDateTime(value)) throw badRequest(`${what} ${JSON.stringify(value)} is not a DateTime (clause 4.6.3)`);
  if (Date.parse(value) <= now) throw badRequest(`${what} ${value} is not in the future (${cite})`);
  return value;
}
