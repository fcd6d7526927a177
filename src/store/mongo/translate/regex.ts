import { END_OF_TEXT } from './filter.js';

/** A pattern for MongoDB's `$regex` (PCRE) that matches exactly the strings the RE2 pattern matches. */
export interface PortableRegex {
  source: string;
  /** `i` for a leading `(?i)`, else empty. */
  options: string;
}

const REPEAT = /^\{(\d+)(?:,(\d*))?\}/;
// Characters a backslash may escape with the same literal meaning in RE2, PCRE and ECMAScript.
const ESCAPABLE = /[\\^$.*+?()[\]{}|/-]/;
const CLASS_ESCAPES = 'dDwW';

/**
 * Rewrites an RE2 pattern (q `~=`, idPattern) for PCRE when it lies in a subset on which RE2, PCRE and ECMAScript
 * agree: printable ASCII literals, escaped metacharacters, `.` (written `[^\n]`, RE2's meaning), `\d \w \D \W`,
 * bracket classes of those, groups `(...)` and `(?:...)`, alternation, `^`, `$` (written as an end-of-text look-ahead:
 * PCRE's `$` also matches before a final newline), greedy and lazy quantifiers, and a leading `(?i)`.
 * Anything else (other flags, `\s` (RE2 excludes \v), `\b`, POSIX classes, Unicode classes, non-ASCII literals)
 * gives undefined: the caller then filters with a superset and lets the post-filter run RE2.
 */
export function portableRegex(pattern: string): PortableRegex | undefined {
  let i = 0;
  let options = '';
  if (pattern.startsWith('(?i)')) {
    options = 'i';
    i = 4;
  }
  let out = '';
  let depth = 0;
  let canRepeat = false;
  const quantifier = (q: string): boolean => {
    if (!canRepeat) return false;
    out += q;
    if (pattern[i] === '?') {
      out += '?';
      i++;
    }
    canRepeat = false;
    return true;
  };
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c < ' ' || c > '~') return undefined;
    i++;
    switch (c) {
      case '\\': {
        const n = pattern[i++];
        if (n === undefined || !(CLASS_ESCAPES.includes(n) || ESCAPABLE.test(n))) return undefined;
        out += `\\${n}`;
        canRepeat = true;
        break;
      }
      case '.':
        out += '[^\\n]';
        canRepeat = true;
        break;
      case '^':
        out += '^';
        canRepeat = false;
        break;
      case '$':
        out += END_OF_TEXT;
        canRepeat = false;
        break;
      case '|':
        out += '|';
        canRepeat = false;
        break;
      case '(':
        if (pattern[i] === '?') {
          if (pattern[i + 1] !== ':') return undefined;
          i += 2;
          out += '(?:';
        } else out += '(';
        depth++;
        canRepeat = false;
        break;
      case ')':
        if (depth === 0) return undefined;
        depth--;
        out += ')';
        canRepeat = true;
        break;
      case '*':
      case '+':
      case '?':
        if (!quantifier(c)) return undefined;
        break;
      case '{': {
        const m = REPEAT.exec(pattern.slice(i - 1));
        if (!m) return undefined;
        i += m[0].length - 1;
        if (!quantifier(m[0])) return undefined;
        break;
      }
      case '[': {
        const cls = bracketClass(pattern, i);
        if (!cls) return undefined;
        out += cls.source;
        i = cls.end;
        canRepeat = true;
        break;
      }
      default:
        out += /[A-Za-z0-9 ]/.test(c) ? c : `\\${c}`;
        canRepeat = true;
    }
  }
  return depth === 0 ? { source: out, options } : undefined;
}

/** A bracket expression starting after `[` at `start`: literals, escapes and ranges of printable ASCII. */
function bracketClass(pattern: string, start: number): { source: string; end: number } | undefined {
  let i = start;
  let out = '[';
  if (pattern[i] === '^') {
    out += '^';
    i++;
  }
  let items = 0;
  const literal = (): string | undefined => {
    const c = pattern[i];
    if (c === undefined || c < ' ' || c > '~' || c === '[' || c === ']') return undefined;
    i++;
    if (c !== '\\') return /[A-Za-z0-9 ]/.test(c) ? c : `\\${c}`;
    const n = pattern[i++];
    if (n === undefined || !ESCAPABLE.test(n)) return undefined;
    return `\\${n}`;
  };
  while (pattern[i] !== ']') {
    if (pattern[i] === undefined) return undefined;
    if (pattern[i] === '\\' && CLASS_ESCAPES.includes(pattern[i + 1] ?? '')) {
      out += pattern.slice(i, i + 2);
      i += 2;
    } else {
      const from = literal();
      if (from === undefined) return undefined;
      out += from;
      if (pattern[i] === '-' && pattern[i + 1] !== ']') {
        i++;
        const to = literal();
        if (to === undefined) return undefined;
        out += `-${to}`;
      }
    }
    items++;
  }
  return items === 0 ? undefined : { source: `${out}]`, end: i + 1 };
}
