import { describe, expect, it } from 'vitest';
import { NgsiError } from '../../src/common/errors.js';
import { matchesScopeQ, parseScopeQ, SCOPEQ_MAX_DEPTH, SCOPEQ_MAX_LENGTH } from '../../src/query/scope-q.js';

/** Clause 4.19 (NGSI-LD Scope Query Language) over clause 4.18 scopes. */

const matches = (q: string, scopes: string[] | undefined) => matchesScopeQ(parseScopeQ(q), scopes);

function failure(text: string): NgsiError {
  try {
    parseScopeQ(text);
  } catch (e) {
    expect(e).toBeInstanceOf(NgsiError);
    expect((e as NgsiError).kind).toBe('BadRequestData');
    return e as NgsiError;
  }
  throw new Error(`${text} parsed`);
}

describe('clause 4.19 examples', () => {
  it('EXAMPLE 1: one scope matches exactly that scope', () => {
    expect(parseScopeQ('/Madrid')).toEqual({ op: 'scope', levels: ['Madrid'], descendants: false });
    expect(matches('/Madrid', ['/Madrid'])).toBe(true);
    expect(matches('/Madrid', ['/Madrid/Gardens'])).toBe(false);
    expect(matches('/Madrid', ['/Barcelona', '/Madrid'])).toBe(true);
  });

  it('EXAMPLE 2: "#" matches the scope and the whole tree below', () => {
    for (const s of ['/Madrid/Gardens', '/Madrid/Gardens/ParqueNorte', '/Madrid/Gardens/ParqueNorte/Parterre1', '/Madrid/Gardens/ParqueSur']) {
      expect(matches('/Madrid/Gardens/#', [s])).toBe(true);
    }
    expect(matches('/Madrid/Gardens/#', ['/Madrid'])).toBe(false);
    expect(matches('/Madrid/Gardens/#', ['/Madrid/GardensX'])).toBe(false);
  });

  it('EXAMPLE 3: "+" matches one level', () => {
    expect(matches('/Madrid/+/ParqueNorte', ['/Madrid/Gardens/ParqueNorte'])).toBe(true);
    expect(matches('/Madrid/+/ParqueNorte', ['/Madrid/Sights/ParqueNorte'])).toBe(true);
    expect(matches('/Madrid/+/ParqueNorte', ['/Madrid/ParqueNorte'])).toBe(false);
    expect(matches('/Madrid/+/ParqueNorte', ['/Madrid/a/b/ParqueNorte'])).toBe(false);
  });

  it('EXAMPLE 4: ";" in parentheses needs both scopes', () => {
    expect(matches('(/Madrid/Districts;/CompanyA)', ['/Madrid/Districts', '/CompanyA'])).toBe(true);
    expect(matches('(/Madrid/Districts;/CompanyA)', ['/Madrid/Districts'])).toBe(false);
  });

  it('EXAMPLE 5: "|" or "," for OR, AND binding tighter; the leading "/" may be left out (clause 4.18)', () => {
    for (const q of ['(/Madrid/Districts;/CompanyA)|CompanyB', '(/Madrid/Districts;/CompanyA),CompanyB']) {
      expect(parseScopeQ(q)).toMatchObject({ op: 'or', of: [{ op: 'and' }, { op: 'scope', levels: ['CompanyB'] }] });
      expect(matches(q, ['/CompanyB'])).toBe(true);
      expect(matches(q, ['/CompanyA'])).toBe(false);
      expect(matches(q, ['/CompanyA', '/Madrid/Districts'])).toBe(true);
    }
  });
});

describe('test purposes TP/NGSI-LD/CI/Cons/E/019_01_06', () => {
  const a = ['/Madrid/Gardens/ParqueNorte', '/CompanyA/OrganizationB/UnitC'];
  const b = ['/Madrid/Sights/ParqueNorte'];

  it('"/#" matches any entity with a scope, none without', () => {
    expect(parseScopeQ('/#')).toEqual({ op: 'scope', levels: [], descendants: true });
    expect(matches('/#', a)).toBe(true);
    expect(matches('/#', undefined)).toBe(false);
    expect(matches('/#', [])).toBe(false);
  });

  it('bare ";" and "," work without parentheses', () => {
    expect(matches('/Madrid/Gardens/ParqueNorte;/CompanyA/OrganizationB/UnitC', a)).toBe(true);
    expect(matches('/Madrid/Gardens/ParqueNorte;/CompanyA/OrganizationB/UnitC', b)).toBe(false);
    expect(matches('/Madrid/Gardens/ParqueNorte,/Madrid/Sights/ParqueNorte', b)).toBe(true);
    expect(matches('/CompanyA/#', a)).toBe(true);
    expect(matches('/CompanyA/#', b)).toBe(false);
  });
});

describe('grammar edges', () => {
  it('stored scopes without the leading slash, unicode levels, spaces, nesting', () => {
    expect(matches('/Madrid', ['Madrid'])).toBe(true);
    expect(matches('/Zürich/Bahnhof_2', ['/Zürich/Bahnhof_2'])).toBe(true);
    expect(matches(' ( /a ; ( /b | /c ) ) ', ['/a', '/c'])).toBe(true);
    expect(matches('/a/+/#', ['/a/b'])).toBe(true);
    expect(matches('/a/+/#', ['/a'])).toBe(false);
  });

  const cases: Array<[string, number, string]> = [
    ['', 0, 'expected a scope'],
    ['/', 1, 'expected a scope'],
    ['/a/', 3, 'expected a scope level after "/"'],
    ['/a//b', 3, 'expected a scope level'],
    ['/a#', 2, 'only ends a scope'],
    ['/a/#/b', 4, 'unexpected "/"'],
    ['/a+b', 2, 'wildcard for a whole level'],
    ['(/a;/b', 6, 'expected ")" to close the "(" at position 0'],
    ['/a)', 2, 'without a matching "("'],
    ['/a;', 3, 'expected a scope'],
    ['/a b', 3, 'unexpected "b"'],
  ];
  it.each(cases)('%j fails at %i', (text, position, detail) => {
    const message = failure(text).message;
    expect(message).toContain(`Invalid scopeQ at position ${position}:`);
    expect(message).toContain(detail);
  });

  it('limits length and nesting', () => {
    expect(failure('/a'.repeat(SCOPEQ_MAX_LENGTH)).message).toContain('characters long');
    expect(failure('('.repeat(SCOPEQ_MAX_DEPTH + 1) + '/a' + ')'.repeat(SCOPEQ_MAX_DEPTH + 1)).message).toContain('nesting deeper');
    expect(matches('('.repeat(SCOPEQ_MAX_DEPTH) + '/a' + ')'.repeat(SCOPEQ_MAX_DEPTH), ['/a'])).toBe(true);
  });
});
