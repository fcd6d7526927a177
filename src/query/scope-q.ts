import { badRequest } from '../common/errors.js';

/**
 * The NGSI-LD Scope Query Language (clause 4.19) over scopes as clause 4.18 defines them. Plain JSON data, so a
 * MongoDB backend can translate it (a `scope` node is an anchored regex over the stored scope strings).
 */
export type ScopeQuery = ScopeMatch | { op: 'and'; of: ScopeQuery[] } | { op: 'or'; of: ScopeQuery[] };

/**
 * One scope pattern: `/Madrid/+/ParqueNorte` is levels ["Madrid", "+", "ParqueNorte"], "+" matching any single level;
 * `descendants` (a trailing `/#`) also matches every scope below. `/#` alone is no levels with descendants: any scope.
 */
export interface ScopeMatch {
  op: 'scope';
  levels: string[];
  descendants: boolean;
}

export const SCOPEQ_MAX_LENGTH = 8192;
export const SCOPEQ_MAX_DEPTH = 32;

// Clause 4.19 ScopeQLevel is a letter then letters, digits and "_"; stored scopes (src/entities/parse-entity.ts)
// allow any character but "/" and spaces, so levels here are as lenient, minus the query language's own characters.
const LEVEL = /[^/\s;|,()#]+/uy;

/**
 * Parses a scopeQ. `;` (AND) binds tighter than `|` and `,` (OR), parentheses group; clause 4.19 puts ANDs in
 * parentheses but its test purposes (TP/NGSI-LD/CI/Cons/E/019_01_06) send them bare, so both are accepted. The leading
 * "/" may be left out, as clause 4.18 allows for scopes themselves (and 4.19 EXAMPLE 5 does with "CompanyB").
 */
export function parseScopeQ(text: string): ScopeQuery {
  if (text.length > SCOPEQ_MAX_LENGTH) {
    throw badRequest(`Invalid scopeQ: it is ${text.length} characters long, more than the ${SCOPEQ_MAX_LENGTH} accepted (clause 4.19)`);
  }
  let pos = 0;
  let depth = 0;
  const fail = (what: string, at = pos): never => {
    throw badRequest(`Invalid scopeQ at position ${at}: ${what} (clause 4.19)`);
  };
  const ws = () => {
    while (text[pos] === ' ' || text[pos] === '\t') pos++;
  };
  const parseOr = (): ScopeQuery => {
    const of = [parseAnd()];
    for (ws(); text[pos] === '|' || text[pos] === ','; ws()) {
      pos++;
      of.push(parseAnd());
    }
    return of.length === 1 ? of[0]! : { op: 'or', of };
  };
  const parseAnd = (): ScopeQuery => {
    const of = [parseFactor()];
    for (ws(); text[pos] === ';'; ws()) {
      pos++;
      of.push(parseFactor());
    }
    return of.length === 1 ? of[0]! : { op: 'and', of };
  };
  const parseFactor = (): ScopeQuery => {
    ws();
    if (text[pos] !== '(') return parseScope();
    const open = pos++;
    if (++depth > SCOPEQ_MAX_DEPTH) fail(`nesting deeper than ${SCOPEQ_MAX_DEPTH} levels`);
    const inner = parseOr();
    ws();
    if (text[pos] !== ')') fail(`expected ")" to close the "(" at position ${open}`);
    pos++;
    depth--;
    return inner;
  };
  const parseScope = (): ScopeMatch => {
    const levels: string[] = [];
    if (text.startsWith('/#', pos)) {
      pos += 2;
      return { op: 'scope', levels, descendants: true };
    }
    if (text[pos] === '/') pos++;
    for (;;) {
      const at = pos;
      LEVEL.lastIndex = pos;
      const m = LEVEL.exec(text);
      if (!m) {
        fail(text[pos] === '#' ? '"#" only ends a scope, as "/#"' : levels.length === 0 ? 'expected a scope such as "/Madrid" or "("' : 'expected a scope level after "/"');
      }
      const level = m![0];
      if (level.includes('+') && level !== '+') fail('"+" is a wildcard for a whole level', at + level.indexOf('+'));
      levels.push(level);
      pos += level.length;
      if (text.startsWith('/#', pos)) {
        pos += 2;
        return { op: 'scope', levels, descendants: true };
      }
      if (text[pos] === '#') fail('"#" only ends a scope, as "/#"');
      if (text[pos] !== '/') return { op: 'scope', levels, descendants: false };
      pos++;
    }
  };
  const result = parseOr();
  ws();
  if (pos < text.length) {
    fail(text[pos] === ')' ? 'unexpected ")" without a matching "("' : `unexpected "${text[pos]}", expected ";", "|", "," or the end`);
  }
  return result;
}

/** Whether an entity with these scopes is selected; an entity without scopes matches nothing, `/#` included. */
export function matchesScopeQ(query: ScopeQuery, scopes: readonly string[] | undefined): boolean {
  if (!scopes || scopes.length === 0) return false;
  switch (query.op) {
    case 'and':
      return query.of.every((q) => matchesScopeQ(q, scopes));
    case 'or':
      return query.of.some((q) => matchesScopeQ(q, scopes));
    case 'scope':
      return scopes.some((s) => matchesScope(query, s));
  }
}

function matchesScope(q: ScopeMatch, scope: string): boolean {
  const levels = (scope.startsWith('/') ? scope.slice(1) : scope).split('/');
  if (q.descendants ? levels.length < q.levels.length : levels.length !== q.levels.length) return false;
  return q.levels.every((l, i) => l === '+' || l === levels[i]);
}
