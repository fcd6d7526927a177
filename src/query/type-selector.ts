import { badRequest } from '../common/errors.js';

/**
 * Entity type selection, clause 4.17: `A,B` and `A|B` mean either, `A;B` means both, parentheses group,
 * and `;` binds tighter than `,`/`|`. Names are expanded by the caller-supplied function.
 */
export type TypeSelector =
  | { op: 'type'; iri: string }
  | { op: 'and'; of: TypeSelector[] }
  | { op: 'or'; of: TypeSelector[] };

const NAME = /[^,|;()\s]+/y;

export function parseTypeSelector(text: string, expand: (term: string) => string): TypeSelector {
  let pos = 0;
  const fail = (what: string): never => {
    throw badRequest(`Invalid type selection "${text}" at position ${pos}: ${what} (clause 4.17)`);
  };
  const parseOr = (): TypeSelector => {
    const of = [parseAnd()];
    while (text[pos] === ',' || text[pos] === '|') {
      pos++;
      of.push(parseAnd());
    }
    return of.length === 1 ? of[0]! : { op: 'or', of };
  };
  const parseAnd = (): TypeSelector => {
    const of = [parseFactor()];
    while (text[pos] === ';') {
      pos++;
      of.push(parseFactor());
    }
    return of.length === 1 ? of[0]! : { op: 'and', of };
  };
  const parseFactor = (): TypeSelector => {
    if (text[pos] === '(') {
      pos++;
      const inner = parseOr();
      if (text[pos] !== ')') fail('expected ")"');
      pos++;
      return inner;
    }
    NAME.lastIndex = pos;
    const m = NAME.exec(text);
    if (!m) return fail('expected a type name');
    pos += m[0].length;
    return { op: 'type', iri: expand(m[0]) };
  };
  if (text.length === 0) fail('empty');
  const result = parseOr();
  if (pos !== text.length) fail(`unexpected "${text[pos]}"`);
  return result;
}

export function matchesTypes(selector: TypeSelector, types: readonly string[]): boolean {
  switch (selector.op) {
    case 'type':
      return types.includes(selector.iri);
    case 'and':
      return selector.of.every((s) => matchesTypes(s, types));
    case 'or':
      return selector.of.some((s) => matchesTypes(s, types));
  }
}
