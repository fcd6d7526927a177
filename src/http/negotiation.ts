import { invalidRequest } from '../common/errors.js';
import { HttpStatusError } from './problem.js';

/** Response media types in the order clause 6.3.4 gives them; ties in the Accept header go to the first. */
export type MediaType = 'application/json' | 'application/ld+json' | 'application/geo+json';
const PREFERENCE: MediaType[] = ['application/json', 'application/ld+json', 'application/geo+json'];

export class NotAcceptable extends Error {
  constructor(readonly available: MediaType[]) {
    super(`None of the media types in the Accept header can be served; available: ${available.join(', ')}`);
  }
}

interface Range {
  type: string;
  subtype: string;
  q: number;
}

function parseAccept(header: string): Range[] {
  const ranges: Range[] = [];
  for (const part of header.split(',')) {
    const [mime, ...params] = part.trim().split(';');
    const [type, subtype] = (mime ?? '').trim().toLowerCase().split('/');
    if (!type || !subtype) continue;
    let q = 1;
    for (const p of params) {
      const [k, v] = p.trim().split('=');
      if (k?.trim() === 'q') q = Number(v);
    }
    if (Number.isFinite(q)) ranges.push({ type, subtype, q });
  }
  return ranges;
}

/** The q a media type gets from the most specific range matching it (RFC 7231 section 5.3.2). */
function qualityOf(media: MediaType, ranges: Range[]): number {
  const [type, subtype] = media.split('/') as [string, string];
  let best = -1;
  let specificity = -1;
  for (const r of ranges) {
    const s = r.type === type && r.subtype === subtype ? 2 : r.type === type && r.subtype === '*' ? 1 : r.type === '*' ? 0 : -1;
    if (s > specificity) {
      specificity = s;
      best = r.q;
    }
  }
  return best;
}

// Clients send a handful of distinct Accept headers; remembering the outcome keeps parsing off the hot path.
const decided = new Map<string, MediaType | NotAcceptable>();

/** Picks the response media type; geo+json only where the operation offers it (Retrieve and Query Entity). */
export function negotiate(accept: string | undefined, allowGeo: boolean): MediaType {
  const key = `${allowGeo ? 'g' : 'n'}${accept ?? ''}`;
  let outcome = decided.get(key);
  if (outcome === undefined) {
    try {
      outcome = decide(accept, allowGeo);
    } catch (err) {
      if (!(err instanceof NotAcceptable)) throw err;
      outcome = err;
    }
    if (decided.size >= 256) decided.clear();
    decided.set(key, outcome);
  }
  if (outcome instanceof NotAcceptable) throw outcome;
  return outcome;
}

function decide(accept: string | undefined, allowGeo: boolean): MediaType {
  const available = allowGeo ? PREFERENCE : PREFERENCE.slice(0, 2);
  if (!accept || accept.trim() === '') return 'application/json';
  const ranges = parseAccept(accept);
  let chosen: MediaType | undefined;
  let chosenQ = 0;
  for (const media of available) {
    const q = qualityOf(media, ranges);
    if (q > chosenQ) {
      chosen = media;
      chosenQ = q;
    }
  }
  if (!chosen) throw new NotAcceptable(available);
  return chosen;
}

export type RequestMedia = 'json' | 'ld+json';

/** Checks the Content-Type of a request with a body (clause 6.3.4); anything else is a bare 415. */
export function requestMediaType(contentType: string | undefined, method: string): RequestMedia {
  const mime = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (mime === 'application/json') return 'json';
  if (mime === 'application/ld+json') return 'ld+json';
  if (mime === 'application/merge-patch+json' && method === 'PATCH') return 'json';
  throw new HttpStatusError(415, `Content-Type ${mime || '(none)'} is not supported`);
}

/** Reads and parses the JSON body; Content-Length must be present (411) and within the limit (413). */
export async function readJsonBody(req: Request, maxBytes: number): Promise<unknown> {
  const length = req.headers.get('content-length');
  if (length === null) throw new HttpStatusError(411, 'Content-Length is required');
  if (Number(length) > maxBytes) throw new PayloadTooLarge(Number(length), maxBytes);
  const text = await req.text();
  if (text.trim() === '') throw invalidRequest('The request has no body; this operation needs a JSON payload');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw invalidRequest(`The request body is not valid JSON: ${(err as Error).message}`);
  }
}

export class PayloadTooLarge extends Error {
  constructor(
    readonly size: number,
    readonly max: number,
  ) {
    super(`The request body has ${size} bytes; the limit is ${max} bytes`);
  }
}
