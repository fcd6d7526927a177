/**
 * The JSON-LD Link header (clause 6.3.5, JSON-LD 1.1 section 6.2, RFC 8288):
 *   Link: <https://example.org/ctx.jsonld>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"
 */
import { NgsiError } from '../common/errors.js';

export const JSONLD_CONTEXT_REL = 'http://www.w3.org/ns/json-ld#context';

interface Link {
  target: string;
  params: Map<string, string>;
}

function malformed(header: string, why: string): NgsiError {
  return new NgsiError('BadRequestData', `malformed Link header (${why}): ${header}`);
}

/** Parses a Link header value into its links; commas inside <...> and quoted strings are not separators. */
export function parseLinks(header: string): Link[] {
  const links: Link[] = [];
  let i = 0;
  const n = header.length;
  const skipWs = () => {
    while (i < n && (header[i] === ' ' || header[i] === '\t')) i++;
  };
  for (;;) {
    skipWs();
    while (i < n && header[i] === ',') {
      i++;
      skipWs();
    }
    if (i >= n) break;
    if (header[i] !== '<') throw malformed(header, `expected "<" at position ${i}`);
    const close = header.indexOf('>', i + 1);
    if (close < 0) throw malformed(header, 'unterminated <URL>');
    const target = header.slice(i + 1, close).trim();
    i = close + 1;
    const params = new Map<string, string>();
    for (;;) {
      skipWs();
      if (i >= n || header[i] === ',') break;
      if (header[i] !== ';') throw malformed(header, `expected ";" or "," at position ${i}`);
      i++;
      skipWs();
      const nameMatch = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+\*?/.exec(header.slice(i));
      if (!nameMatch) throw malformed(header, `expected a parameter name at position ${i}`);
      const name = nameMatch[0].toLowerCase();
      i += nameMatch[0].length;
      skipWs();
      let value = '';
      if (header[i] === '=') {
        i++;
        skipWs();
        if (header[i] === '"') {
          i++;
          while (i < n && header[i] !== '"') {
            if (header[i] === '\\') i++;
            value += header[i] ?? '';
            i++;
          }
          if (i >= n) throw malformed(header, 'unterminated quoted string');
          i++;
        } else {
          const token = /^[^;,\s]*/.exec(header.slice(i))![0];
          value = token;
          i += token.length;
        }
      }
      // RFC 8288 3.3: only the first occurrence of a parameter counts.
      if (!params.has(name)) params.set(name, value);
    }
    links.push({ target, params });
  }
  return links;
}

/**
 * The @context URL carried by a Link header, or undefined when none of its links has rel json-ld#context.
 * Throws BadRequestData for a malformed header, several context links, or an empty target.
 */
export function parseLinkHeader(header: string): string | undefined {
  const found = parseLinks(header).filter((l) => (l.params.get('rel') ?? '').split(/\s+/).includes(JSONLD_CONTEXT_REL));
  if (found.length > 1) {
    throw new NgsiError('BadRequestData', `the Link header has ${found.length} JSON-LD @context links, at most one is allowed`);
  }
  const url = found[0]?.target;
  if (url === '') throw malformed(header, 'empty @context URL');
  return url;
}

/** The Link header value pointing to `url` as the JSON-LD @context, for application/json responses. */
export function contextLinkHeader(url: string): string {
  return `<${url}>; rel="${JSONLD_CONTEXT_REL}"; type="application/ld+json"`;
}
