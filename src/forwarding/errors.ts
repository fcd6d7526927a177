import { ERROR_TYPE_BASE, NgsiError } from '../common/errors.js';
import type { SourceFailure } from './client.js';

/**
 * The errors of clause 6.3.17 for an operation whose data is held by a single registered source: 504 when it did not
 * answer in time, 508 when the request would loop back, 502 when it failed otherwise, 404 when it has no such entity.
 * NGSI-LD defines no ProblemDetails types for 502/504/508, so these carry the HTTP meaning in type and title.
 */
export class SourceError extends NgsiError {
  readonly httpStatus: 502 | 504 | 508;

  constructor(httpStatus: 502 | 504 | 508, detail: string) {
    super('InternalError', detail);
    this.httpStatus = httpStatus;
    Object.defineProperty(this, 'status', { value: httpStatus });
  }

  override toProblem() {
    const title = this.httpStatus === 504 ? 'Gateway timeout' : this.httpStatus === 508 ? 'Loop detected' : 'Bad gateway';
    const type = this.httpStatus === 504 ? 'GatewayTimeout' : this.httpStatus === 508 ? 'LoopDetected' : 'BadGateway';
    return { type: ERROR_TYPE_BASE + type, title, status: this.httpStatus, detail: this.message };
  }
}

/** The error a single source's failure becomes (6.3.17). */
export function errorOf(failure: SourceFailure, detail: string): NgsiError {
  switch (failure) {
    case 'notFound':
      return new NgsiError('ResourceNotFound', detail);
    case 'timeout':
      return new SourceError(504, detail);
    case 'loop':
      return new SourceError(508, detail);
    default:
      return new SourceError(502, detail);
  }
}

/** An NGSILD-Warning value (table 6.3.17-1, RFC 7234 warning syntax) for a source that gave nothing usable. */
export function warningOf(failure: SourceFailure, agent: string, detail: string): string {
  const code = failure === 'status' ? 299 : failure === 'invalid' ? 111 : 199;
  return `${code} ${warnAgent(agent)} "${warnText(detail)}"`;
}

const WARN_TEXT_MAX = 256;

/**
 * The warn-text as a header value: the detail comes from sources and registrations, and a CR/LF or a character beyond
 * U+00FF would make the whole response fail, so anything but visible ASCII, space and tab is percent-encoded (UTF-8).
 */
export function warnText(detail: string): string {
  let out = '';
  for (const ch of detail) {
    const safe = ch === '\t' || (ch >= ' ' && ch <= '~');
    out += ch === '"' || ch === '\\' ? "'" : safe ? ch : percentEncoded(ch);
    if (out.length >= WARN_TEXT_MAX) return out.slice(0, WARN_TEXT_MAX - 3) + '...';
  }
  return out;
}

/** The warn-agent (RFC 7234 5.5): a host[:port] or pseudonym, so only token characters and ":[]" are kept. */
export function warnAgent(agent: string): string {
  const cleaned = agent.replace(/[^!#$%&'*+\-.^_`|~0-9A-Za-z:[\]]/g, '-').slice(0, 128);
  return cleaned === '' ? '-' : cleaned;
}

function percentEncoded(ch: string): string {
  try {
    return encodeURIComponent(ch);
  } catch {
    return '%EF%BF%BD'; // a lone surrogate: U+FFFD
  }
}
