/**
 * Filters as the translation builds them: a MongoDB query document plus whether it selects exactly what the
 * embedded semantics select (`exact`) or a superset of it. Combinators keep both honest: an AND or OR is exact only
 * when every operand is.
 *
 * Every operator key in a filter is written in this directory; user input only ever appears as values (strings,
 * numbers, booleans) or, encoded with encodeKey, as path segments.
 */

export type Filter = { [key: string]: unknown };

export interface Translated {
  filter: Filter;
  exact: boolean;
}

/** Matches every document. */
export const MATCH_ALL: Filter = {};
/** Matches no document. */
export const MATCH_NONE: Filter = { id: { $in: [] } };

export const exact = (filter: Filter): Translated => ({ filter, exact: true });
export const superset = (filter: Filter): Translated => ({ filter, exact: false });

const isAll = (f: Filter): boolean => Object.keys(f).length === 0;
const isNone = (f: Filter): boolean => f === MATCH_NONE;

export function andFilters(filters: Filter[]): Filter {
  if (filters.some(isNone)) return MATCH_NONE;
  // Nested conjunctions are flattened, so that a plan reads as one list of conditions.
  const rest = filters.filter((f) => !isAll(f)).flatMap((f) => (Object.keys(f).length === 1 && Array.isArray(f.$and) ? (f.$and as Filter[]) : [f]));
  if (rest.length === 0) return MATCH_ALL;
  return rest.length === 1 ? rest[0]! : { $and: rest };
}

export function orFilters(filters: Filter[]): Filter {
  if (filters.some(isAll)) return MATCH_ALL;
  const rest = filters.filter((f) => !isNone(f));
  if (rest.length === 0) return MATCH_NONE;
  return rest.length === 1 ? rest[0]! : { $or: rest };
}

export const and = (parts: Translated[]): Translated => ({
  filter: andFilters(parts.map((p) => p.filter)),
  exact: parts.every((p) => p.exact),
});

export const or = (parts: Translated[]): Translated => ({
  filter: orFilters(parts.map((p) => p.filter)),
  exact: parts.every((p) => p.exact),
});

/**
 * The complement of an exact filter; a superset filter has no usable complement (its complement would be a
 * subset), so the result is then "anything" and inexact.
 */
export function not(part: Translated): Translated {
  if (!part.exact) return superset(MATCH_ALL);
  if (isAll(part.filter)) return exact(MATCH_NONE);
  if (isNone(part.filter)) return exact(MATCH_ALL);
  return exact({ $nor: [part.filter] });
}

/** A regular expression that matches `text` literally (same meaning in PCRE and ECMAScript). */
export function escapeRegex(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/\-]/g, (c) => `\\${c}`);
}

/**
 * End of the subject. PCRE's `$` also matches before a final newline (RE2's and ECMAScript's do not); a negative
 * look-ahead for any character means the same in all three.
 */
export const END_OF_TEXT = '(?![\\s\\S])';
