import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePattern } from '../../../src/query/q-ast.js';
import { portableRegex } from '../../../src/store/mongo/translate/index.js';

/**
 * The regular expressions of q `~=` and idPattern are RE2 (clause 4.9 leaves the dialect open; musubi uses RE2 for
 * linear time). MongoDB's `$regex` is PCRE. portableRegex (issue 7) rewrites a pattern only inside a subset where the
 * dialects agree; here the rewritten pattern, run by ECMAScript (mingo's engine), must find a match in exactly the
 * strings RE2 does, and it must avoid the constructs where PCRE differs from both (`$` before a final newline, `.`).
 */

const TOKENS = [
  'a', 'b', 'k', 'A', 'K', '1', '9', ' ', '-', ':', '_', '.', '*', '+', '?', '*?', '+?', '{2}', '{1,2}', '{1,}', '^', '$', '|', '(', ')',
  '(?:', '[ab]', '[^a]', '[a-c]', '[0-9]', '[\\d_]', '[^\\w]', '\\d', '\\w', '\\W', '\\D', '\\.', '\\$', '\\(', '\\\\', '\\s', '\\b', '(?i)',
  '[[:alpha:]]', '\\pL', 'é', '{', '}', ']',
];
const patternArb = fc.oneof(
  fc.array(fc.constantFrom(...TOKENS), { minLength: 1, maxLength: 8 }).map((t) => t.join('')),
  fc.array(fc.constantFrom(...TOKENS), { minLength: 1, maxLength: 6 }).map((t) => `(?i)${t.join('')}`),
);
const subjectArb = fc.string({ unit: fc.constantFrom('a', 'b', 'k', 'A', 'K', '1', '9', ' ', '-', ':', '_', '.', '$', '(', '\\', '\n', '\r', 'é', '\u212a'), maxLength: 8 });

describe('portable regular expressions for MongoDB (issue 7, clause 4.9 patterns)', () => {
  it('matches the same strings as RE2 wherever it translates', () => {
    let translated = 0;
    let refused = 0;
    fc.assert(
      fc.property(patternArb, fc.array(subjectArb, { minLength: 1, maxLength: 6 }), (pattern, subjects) => {
        const re2 = compilePattern(pattern);
        if (typeof re2 === 'string') return;
        const portable = portableRegex(pattern);
        if (!portable) {
          refused++;
          return;
        }
        translated++;
        expect(portable.source).not.toMatch(/(^|[^\\])\$/);
        const js = new RegExp(portable.source, portable.options);
        // U+212A (Kelvin) folds to k in RE2 and PCRE's Unicode caseless matching, not in ECMAScript without the u flag.
        for (const s of subjects.filter((x) => !(portable.options && x.includes('\u212a')))) {
          expect(js.test(s), `${pattern} -> ${portable.source} on ${JSON.stringify(s)}`).toBe(re2.matcher(s).find());
        }
      }),
      { numRuns: 4000 },
    );
    expect(translated).toBeGreaterThan(500);
    expect(refused).toBeGreaterThan(100);
  });

  it('refuses what the dialects read differently', () => {
    for (const p of ['\\s', '\\b', '[[:alpha:]]', '\\pL', 'é', '(?s).', '(?m)^a', 'a(?i)b', '\\x41', '\\Q.\\E', '\\z']) {
      expect(portableRegex(p), p).toBeUndefined();
    }
    expect(portableRegex('^a.b$')).toEqual({ source: '^a[^\\n]b(?![\\s\\S])', options: '' });
    expect(portableRegex('(?i)x{2,}')).toEqual({ source: 'x{2,}', options: 'i' });
  });
});
