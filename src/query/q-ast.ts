import { RE2JS } from 're2js';

/**
 * The parsed NGSI-LD Query Language (clause 4.9): the query plan that the embedded engine evaluates (q-eval.ts) and
 * that a MongoDB backend translates into filters. Everything here is plain JSON-serializable data: names are already
 * expanded against the request's @context, literals already typed, so a consumer never needs the @context again.
 */

/** Clause 4.9 `LogicalOp`: `;` (AND) binds tighter than `|` (OR); parentheses (`QueryTermAssoc`) group. */
export type QExpression = QAnd | QOr | QTerm;

export interface QAnd {
  kind: 'and';
  /** Two or more operands. */
  of: QExpression[];
}

export interface QOr {
  kind: 'or';
  /** Two or more operands. */
  of: QExpression[];
}

/** Clause 4.9 `QueryTerm`. */
export type QTerm = QExists | QNotExists | QCompare | QList | QRange | QPattern;

/** `QueryTerm = Attribute`: the entity has the target element (clause 4.9, EXAMPLE 0 and 5). */
export interface QExists {
  kind: 'exists';
  path: QPath;
}

/** `!Attribute`: the entity lacks the target element. Not in the 4.9 ABNF; a common broker extension. */
export interface QNotExists {
  kind: 'notExists';
  path: QPath;
}

/** Clause 4.9 `Operator`. */
export type QCompareOp = '==' | '!=' | '>' | '>=' | '<' | '<=';
/** Clause 4.9 `equal` / `unequal`: the only operators that take a ValueList or a Range. */
export type QEqualityOp = '==' | '!=';
/** Clause 4.9 `patternOp` / `notPatternOp`. */
export type QPatternOp = '~=' | '!~=';

/**
 * `Attribute Operator ComparableValue` and `Attribute (equal|unequal) (OtherValue|URI)`.
 * With `>`, `>=`, `<`, `<=` the value is always a {@link QComparable}.
 */
export interface QCompare {
  kind: 'compare';
  path: QPath;
  op: QCompareOp;
  value: QValue;
}

/** `Attribute (equal|unequal) ValueList`: `color=="black","red"`. */
export interface QList {
  kind: 'list';
  path: QPath;
  op: QEqualityOp;
  /** Two or more values. */
  values: QValue[];
}

/** `Attribute (equal|unequal) Range`: `temperature==10..20`, both bounds included, bounds of the same type. */
export interface QRange {
  kind: 'range';
  path: QPath;
  op: QEqualityOp;
  min: QComparable;
  max: QComparable;
}

/**
 * `Attribute (patternOp|notPatternOp) RegExp`. The pattern is RE2 syntax (POSIX ERE plus Perl classes, `(?i)` flags),
 * already checked to compile and to fit the size limits; evaluators should use a linear-time engine (re2js here).
 */
export interface QPattern {
  kind: 'pattern';
  path: QPath;
  op: QPatternOp;
  pattern: string;
}

/** Members of an attribute instance that a dotted path may end on (clause 4.9 EXAMPLE 8, clauses 4.5.2, 4.8). */
export const Q_META = ['observedAt', 'createdAt', 'modifiedAt', 'unitCode', 'datasetId'] as const;
export type QMeta = (typeof Q_META)[number];

/**
 * Clause 4.9 `Attribute`: which element of the entity a term targets.
 * - `attr` alone: the top-level attribute (any instance, clause 4.5.5).
 * - `subAttrs`: `a.b.c` walks sub-attributes b then c of a (`DottedPath`).
 * - `meta`: `a.observedAt` targets that member of the attribute (or of its last sub-attribute).
 * - `members`: `a[city]`, `a[x.y]`, `a[x][y]` (`ValuePath` trailing path) enters the value.
 * - `linked`: `a{b}` (`LinkedEntityRelation`): `attr` is a Relationship and `linked.path` applies to its target
 *   entities. When `linked` is set, `subAttrs`, `meta` and `members` are absent.
 */
export interface QPath {
  /** Expanded attribute name. */
  attr: string;
  /** Expanded sub-attribute names, outermost first. */
  subAttrs?: string[];
  meta?: QMeta;
  members?: QMembers;
  linked?: QLinked;
}

/**
 * A trailing path inside the value. Stored compound keys are expanded IRIs for Property and ListProperty values,
 * but raw for JsonProperty (clause 4.5.24) and GeoProperty values, and for LanguageProperty the single segment is a
 * language tag (or `*`, any language): so both spellings travel and the evaluator picks by the target's type.
 * When `jsonKeys` names the attribute, `expanded` equals `raw` (clause 4.9 EXAMPLE 11).
 */
export interface QMembers {
  /** The keys as written. */
  raw: string[];
  /** The keys expanded as the @context would expand compound value keys (`type` → `type`, `id` → `id`). */
  expanded: string[];
}

/** Clause 4.9 `LinkedEntityPath`: `sensor{Device:humidity}` (EXAMPLE 13, 14). */
export interface QLinked {
  /** Expanded entity types the target entity must have one of (the optional hint); absent: any type. */
  types?: string[];
  path: QPath;
}

/** Clause 4.9 `ComparableValue`: the operands of ordering operators and of ranges. */
export type QComparable = QNumber | QString | QDateTime | QDate | QTime;
/** Clause 4.9 `Value` and `URI`. */
export type QValue = QComparable | QBoolean | QUri;

/** JSON number (RFC 8259 section 6). */
export interface QNumber {
  type: 'number';
  value: number;
}

/**
 * A quoted JSON string (RFC 8259 section 7), unescaped. `iri` is the literal expanded against the @context, present
 * when the literal is a name or compact IRI and expands to something else: VocabProperty values compare against it
 * (clause 4.9: "the target value shall be expanded according to the @context").
 */
export interface QString {
  type: 'string';
  value: string;
  iri?: string;
}

/** `true` / `false`. Only `==` and `!=` accept them. */
export interface QBoolean {
  type: 'boolean';
  value: boolean;
}

/**
 * An unquoted URI (`locatedIn==urn:ngsi-ld:City:Pisa`), compact IRI or bare term (`gender==Male`, EXAMPLE 12).
 * Compares as a string. When `expandValues` names the attribute, `value` is already the expansion; `iri` as in QString.
 */
export interface QUri {
  type: 'uri';
  value: string;
  iri?: string;
}

/** Clause 4.6.3 DateTime, compared as an instant: `micros` is microseconds since the Unix epoch. */
export interface QDateTime {
  type: 'dateTime';
  /** As written. */
  value: string;
  micros: number;
}

/** Clause 4.6.3 Date `YYYY-MM-DD`, which orders lexically. */
export interface QDate {
  type: 'date';
  value: string;
}

/** Clause 4.6.3 Time `hh:mm:ss[.ffffff]Z`: `micros` is microseconds since midnight UTC. */
export interface QTime {
  type: 'time';
  value: string;
  micros: number;
}

// ---- Lexical forms of literals, shared by the parser and the evaluator ----

/** Longest regular expression accepted after `~=`. */
export const Q_MAX_PATTERN_LENGTH = 1024;
/** Largest compiled regular expression (RE2 instructions); matching costs O(text length × this). */
export const Q_MAX_PATTERN_PROGRAM = 5000;

/**
 * Compiles a clause 4.9 RegExp with RE2 semantics, which match in linear time (safe-regex-style star-height checks
 * let polynomial blow-ups such as `.*.*.*=.*` through), and bounds the size, which `{n}` repetitions multiply.
 * Returns the reason when the pattern is refused.
 */
export function compilePattern(pattern: string): RE2JS | string {
  if (pattern.length > Q_MAX_PATTERN_LENGTH) {
    return `the regular expression is ${pattern.length} characters long, more than the ${Q_MAX_PATTERN_LENGTH} accepted`;
  }
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch (e) {
    return `invalid regular expression: ${e instanceof Error ? e.message : String(e)} (RE2 syntax: no backreferences or lookaround)`;
  }
  const size = re.programSize();
  if (size > Q_MAX_PATTERN_PROGRAM) {
    return `the regular expression is too complex (${size} instructions, at most ${Q_MAX_PATTERN_PROGRAM}); counted repetitions such as {100} multiply its size`;
  }
  return re;
}

/**
 * Where a bare (unquoted) pattern starting at `start` ends: at ";", "|" or ")" outside its own parentheses and
 * bracket expressions (escapes skipped), so `a~=(x|y)` alternates but `a~=x|y` is two query terms.
 */
export function barePatternEnd(text: string, start: number): number {
  let parens = 0;
  let inClass = false;
  let i = start;
  for (; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\') i++;
    else if (inClass) {
      if (text.startsWith('[:', i)) i = Math.max(i, text.indexOf(':]', i + 2) + 1);
      else if (c === ']') inClass = false;
    } else if (c === '[') {
      inClass = true;
      if (text[i + 1] === '^') i++;
      if (text[i + 1] === ']') i++;
    } else if (c === '(') parens++;
    else if (c === ')' && parens-- === 0) break;
    else if ((c === ';' || c === '|') && parens === 0) break;
  }
  return Math.min(i, text.length);
}

const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * Types an unquoted literal that is a boolean, a JSON number (RFC 8259 section 6) or a clause 4.6.3 DateTime, Date or
 * Time. Returns a reason when the token looks like one of those but is malformed, undefined when it looks like none.
 */
export function typedLiteral(token: string): QBoolean | QNumber | QDateTime | QDate | QTime | string | undefined {
  if (token === 'true' || token === 'false') return { type: 'boolean', value: token === 'true' };
  if (NUMBER.test(token)) {
    const value = Number(token);
    return Number.isFinite(value) ? { type: 'number', value } : `the number ${token} is out of range`;
  }
  if (/^\d{4}-\d\d-\d\dT/.test(token)) {
    const micros = dateTimeMicros(token);
    return micros === undefined ? `"${token}" is not a valid DateTime (clause 4.6.3: YYYY-MM-DDThh:mm:ss[.ffffff]Z)` : { type: 'dateTime', value: token, micros };
  }
  if (/^\d{4}-\d\d-\d\d$/.test(token)) {
    return isDate(token) ? { type: 'date', value: token } : `"${token}" is not a valid Date (clause 4.6.3: YYYY-MM-DD)`;
  }
  if (/^\d\d:\d\d/.test(token)) {
    const micros = timeMicros(token);
    return micros === undefined ? `"${token}" is not a valid Time (clause 4.6.3: hh:mm:ss[.ffffff]Z)` : { type: 'time', value: token, micros };
  }
  return /^[-+.]?\d/.test(token) ? `"${token}" is not a valid number, DateTime, Date or Time` : undefined;
}

// Clause 4.6.3 forms, also used on target values. Fractions take up
// to 9 digits and a comma separator ("in requests, also a comma"); DateTimes also accept a numeric offset, as
// src/common/syntax.ts does for stored timestamps.
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME = /^(\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?Z?$/;

// Date.UTC maps years 0-99 to 1900-1999, so set the full year explicitly.
function utcDayMs(y: number, month0: number, d: number): number {
  const t = new Date(0);
  t.setUTCFullYear(y, month0, d);
  return t.getTime();
}
const validDate = (y: number, m: number, d: number) =>
  m >= 1 && m <= 12 && d >= 1 && d <= new Date(utcDayMs(y, m, 0)).getUTCDate();
const clockMicros = (h: number, min: number, s: number, frac: string | undefined): number | undefined =>
  h > 23 || min > 59 || s > 59 ? undefined : ((h * 60 + min) * 60 + s) * 1e6 + Math.floor(Number(`0.${frac ?? '0'}`) * 1e6);

/** Microseconds since the epoch of a clause 4.6.3 DateTime, or undefined if `s` is not one. */
export function dateTimeMicros(s: string): number | undefined {
  const m = DATE_TIME.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, sec] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const clock = clockMicros(h, mi, sec, m[7]);
  if (!validDate(y, mo, d) || clock === undefined) return undefined;
  let offsetMin = 0;
  const zone = m[8]!;
  if (zone !== 'Z') {
    const digits = zone.replace(':', '');
    offsetMin = (zone[0] === '-' ? -1 : 1) * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5)));
  }
  return (utcDayMs(y, mo - 1, d) / 1000 - offsetMin * 60) * 1e6 + clock;
}

export function isDate(s: string): boolean {
  const m = DATE.exec(s);
  return m !== null && validDate(Number(m[1]), Number(m[2]), Number(m[3]));
}

/** Microseconds since midnight of a clause 4.6.3 Time, or undefined if `s` is not one. */
export function timeMicros(s: string): number | undefined {
  const m = TIME.exec(s);
  return m ? clockMicros(Number(m[1]), Number(m[2]), Number(m[3]), m[4]) : undefined;
}
