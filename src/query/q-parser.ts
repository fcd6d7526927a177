import { badRequest } from '../common/errors.js';
import { isUri } from '../common/syntax.js';
import type { LdContext } from '../jsonld/types.js';
import { barePatternEnd, compilePattern, Q_META, typedLiteral } from './q-ast.js';
import type { QComparable, QCompareOp, QExpression, QLinked, QMembers, QMeta, QPath, QPatternOp, QTerm, QValue } from './q-ast.js';

/** Longest q accepted, in characters (after URL-decoding). */
export const Q_MAX_LENGTH = 8192;
/** Deepest nesting of parentheses and linked-entity braces together. */
export const Q_MAX_DEPTH = 32;

export interface QParseOptions {
  /** Attribute names (short, as in the request) whose query values are expanded against the @context (clause 4.9). */
  expandValues?: string[];
  /** Attribute names whose compound keys are raw JSON, not expanded (clause 4.9 EXAMPLE 11). */
  jsonKeys?: string[];
}

const NGSI_LD = 'https://uri.etsi.org/ngsi-ld/';
// Clause 4.6.2 names (letter, then letters, digits, "_"), leniently with "-" and combining marks, which names stored
// by this broker may hold (src/common/syntax.ts isValidName), and the optional "prefix:" of a compact IRI.
const NAME = /\p{L}[\p{L}\p{M}\p{N}_-]*/uy;
const KEY = /[\p{L}\p{M}\p{N}_:@-]+/uy;
const RAW_VALUE = /[^;|),"\s]+/y;
// Clause 4.6.3 lets requests write fractions of seconds with a comma; with a zone designator after it, such a
// DateTime or Time cannot be meant as a value list, whose items ",5Z" could not be.
const COMMA_FRACTION = /(?:\d{4}-\d\d-\d\dT)?\d\d:\d\d:\d\d,\d{1,9}(?:Z|[+-]\d\d:?\d\d)(?=$|[;|)\s]|\.\.)/y;
const TERM_OR_CURIE = /^(?:\p{L}[\p{L}\p{M}\p{N}_-]*:)?\p{L}[\p{L}\p{M}\p{N}_-]*$/u;
const OPERATORS = ['!~=', '==', '!=', '>=', '<=', '~=', '>', '<'] as const;
type Operator = (typeof OPERATORS)[number];

/**
 * Parses an NGSI-LD q (clause 4.9, the whole ABNF plus `!attr` for non-existence). Throws BadRequestData naming the
 * character position (0-based) and what was expected there. URL-decoding is the caller's job.
 */
export function parseQ(text: string, ctx: LdContext, opts: QParseOptions = {}): QExpression {
  if (text.length > Q_MAX_LENGTH) {
    throw badRequest(`Invalid q: it is ${text.length} characters long, more than the ${Q_MAX_LENGTH} accepted (clause 4.9)`);
  }
  return new QParser(text, ctx, opts).parse();
}

class QParser {
  private pos = 0;
  private depth = 0;
  private readonly expandValues: Set<string>;
  private readonly jsonKeys: Set<string>;

  constructor(
    private readonly text: string,
    private readonly ctx: LdContext,
    opts: QParseOptions,
  ) {
    this.expandValues = new Set((opts.expandValues ?? []).map((n) => ctx.expand(n)));
    this.jsonKeys = new Set((opts.jsonKeys ?? []).map((n) => ctx.expand(n)));
  }

  parse(): QExpression {
    const expr = this.parseOr();
    this.ws();
    if (this.pos < this.text.length) {
      this.fail(this.peek() === ')' ? 'unexpected ")" without a matching "("' : `unexpected "${this.peek()}", expected ";", "|" or the end`);
    }
    return expr;
  }

  private fail(what: string, at = this.pos): never {
    throw badRequest(`Invalid q at position ${at}: ${what} (clause 4.9)`);
  }

  private peek(): string {
    return this.text[this.pos] ?? '';
  }

  /** Spaces are not in the ABNF; tolerating them around tokens costs nothing and helps hand-written queries. */
  private ws(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++;
  }

  private nest(): void {
    if (++this.depth > Q_MAX_DEPTH) this.fail(`nesting deeper than ${Q_MAX_DEPTH} levels`);
  }

  /** `|` over `;`: AND binds tighter (clause 4.9). */
  private parseOr(): QExpression {
    return this.parseJunction('|', 'or', () => this.parseJunction(';', 'and', () => this.parseFactor()));
  }

  private parseJunction(sep: string, kind: 'and' | 'or', next: () => QExpression): QExpression {
    const of = [next()];
    for (this.ws(); this.peek() === sep; this.ws()) {
      this.pos++;
      of.push(next());
    }
    return of.length === 1 ? of[0]! : { kind, of };
  }

  private parseFactor(): QExpression {
    this.ws();
    if (this.peek() !== '(') return this.parseTerm();
    const open = this.pos++;
    this.nest();
    const inner = this.parseOr();
    this.ws();
    if (this.peek() !== ')') this.fail(`expected ")" to close the "(" at position ${open}`);
    this.pos++;
    this.depth--;
    return inner;
  }

  private parseTerm(): QTerm {
    const negated = this.peek() === '!';
    const at = negated ? ++this.pos : this.pos;
    const path = this.parsePath(this.readName(negated ? 'an attribute name after "!"' : 'an attribute name or "("', true), at);
    this.ws();
    const opAt = this.pos;
    const op = this.readOperator();
    if (negated) {
      if (op !== undefined) this.fail('"!attribute" tests non-existence and takes no operator', opAt);
      this.expectTermEnd();
      return { kind: 'notExists', path };
    }
    if (op === undefined) {
      if (this.peek() === '=') this.fail('"=" is not an operator, use "=="');
      this.expectTermEnd();
      return { kind: 'exists', path };
    }
    this.ws();
    if (this.pos >= this.text.length || ';|)'.includes(this.peek())) this.fail(`expected a value after "${op}"`);
    if (op === '~=' || op === '!~=') return this.parsePattern(path, op);
    return this.parseOperand(path, op);
  }

  private expectTermEnd(): void {
    if (this.pos < this.text.length && !';|)'.includes(this.peek())) {
      this.fail(`expected an operator (==, !=, >, >=, <, <=, ~=, !~=), ";", "|", ")" or the end, got "${this.peek()}"`);
    }
  }

  private readOperator(): Operator | undefined {
    const op = OPERATORS.find((o) => this.text.startsWith(o, this.pos));
    if (op) this.pos += op.length;
    return op;
  }

  private readName(what: string, allowPrefix: boolean): string {
    NAME.lastIndex = this.pos;
    const m = NAME.exec(this.text);
    if (!m) return this.fail(`expected ${what}`);
    this.pos += m[0].length;
    if (allowPrefix && this.peek() === ':') {
      NAME.lastIndex = this.pos + 1;
      const suffix = NAME.exec(this.text);
      if (suffix) {
        this.pos += 1 + suffix[0].length;
        return `${m[0]}:${suffix[0]}`;
      }
    }
    return m[0];
  }

  /** Expansion errors (a term the @context maps to null) get the position too. */
  private expand(name: string, at: number): string {
    try {
      return this.ctx.expand(name);
    } catch (e) {
      return this.fail(`cannot expand "${name}": ${e instanceof Error ? e.message : String(e)}`, at);
    }
  }

  private expandAttr(name: string, at: number): string {
    const iri = this.expand(name, at);
    if (iri.startsWith('@')) this.fail(`"${name}" is a JSON-LD keyword, not an attribute name`, at);
    return iri;
  }

  /** Clause 4.9 `Attribute` (LinkedEntityRelation / ValuePath), from its first name on. */
  private parsePath(name: string, at: number): QPath {
    const attr = this.expandAttr(name, at);
    if (this.peek() === '{') return { attr, linked: this.parseLinked() };
    const subAttrs: string[] = [];
    let meta: QMeta | undefined;
    while (this.peek() === '.') {
      const segAt = ++this.pos;
      if (meta) this.fail(`"${meta}" is a member of an attribute and ends the path`, segAt - 1);
      const seg = this.readName('a sub-attribute name after "."', true);
      const iri = this.expandAttr(seg, segAt);
      meta = Q_META.find((x) => x === seg || NGSI_LD + x === iri);
      if (!meta) subAttrs.push(iri);
    }
    if (this.peek() === '{') this.fail('a linked-entity path "{...}" follows a single Relationship name');
    const path: QPath = { attr };
    if (subAttrs.length > 0) path.subAttrs = subAttrs;
    if (meta) path.meta = meta;
    if (this.peek() === '[') {
      if (meta) this.fail(`"${meta}" has no members to enter with "[...]"`);
      path.members = this.parseMembers(attr);
    }
    return path;
  }

  /** `{[Type(,Type)*:]AttrName ...}` (clause 4.9 LinkedEntityPath, EXAMPLE 13 and 14). */
  private parseLinked(): QLinked {
    const open = this.pos++;
    this.nest();
    let at = this.pos;
    let name = this.readName('an attribute name or entity types after "{"', false);
    let types: string[] | undefined;
    if (this.peek() === ',' || this.peek() === ':') {
      types = [this.expand(name, at)];
      while (this.peek() === ',') {
        const typeAt = ++this.pos;
        types.push(this.expand(this.readName('an entity type after ","', false), typeAt));
      }
      if (this.peek() !== ':') this.fail('expected ":" between the entity types and the attribute name');
      at = ++this.pos;
      name = this.readName('an attribute name after ":"', true);
    }
    const path = this.parsePath(name, at);
    if (this.peek() !== '}') this.fail(`expected "}" to close the "{" at position ${open}`);
    this.pos++;
    this.depth--;
    return types ? { types, path } : { path };
  }

  /** `[a.b]`, also `[a][b]`, and `[*]` / `[en]` for LanguageProperties (clause 4.9 trailing path). */
  private parseMembers(attr: string): QMembers {
    const start = this.pos;
    const raw: string[] = [];
    while (this.peek() === '[') {
      const open = this.pos++;
      if (this.text.startsWith('*]', this.pos)) {
        this.pos += 2;
        if (raw.length > 0 || this.peek() === '[') this.fail('"[*]" (any language) stands alone', open);
        return { raw: ['*'], expanded: ['*'] };
      }
      do {
        KEY.lastIndex = this.pos;
        const key = KEY.exec(this.text)?.[0] ?? this.fail('expected a member name inside "[...]"');
        raw.push(key);
        this.pos += key.length;
      } while (this.peek() === '.' && ++this.pos);
      if (this.peek() !== ']') this.fail(`expected "]" to close the "[" at position ${open}`);
      this.pos++;
    }
    return { raw, expanded: this.jsonKeys.has(attr) ? raw : raw.map((k) => this.expandKey(k, start)) };
  }

  /** As LdContext.expandValue names compound keys, so a path meets the stored keys. */
  private expandKey(key: string, at: number): string {
    const iri = key.startsWith('@') ? key : this.expand(key, at);
    return iri === '@type' ? 'type' : iri === '@id' ? 'id' : iri;
  }

  private parseOperand(path: QPath, op: QCompareOp): QTerm {
    const ordering = op !== '==' && op !== '!=';
    const first = this.parseValue(path);
    this.ws();
    if (this.text.startsWith('..', this.pos)) {
      if (ordering) this.fail(`a range "min..max" goes with "==" or "!=", not "${op}"`);
      const min = first.value;
      if (!isComparable(min)) this.fail(`a range needs a number, quoted string, DateTime, Date or Time, not ${describe(min)}`, first.at);
      this.pos += 2;
      this.ws();
      if (this.pos >= this.text.length || ';|),'.includes(this.peek())) this.fail('expected the upper bound of the range after ".."');
      const max = this.parseValue(path);
      if (max.value.type !== min.type) this.fail(`the range bounds differ in type (${min.type} and ${max.value.type})`, max.at);
      this.ws();
      if (this.text.startsWith('..', this.pos) || this.peek() === ',') this.fail('a range has exactly two bounds');
      return { kind: 'range', path, op, min, max: max.value as QComparable };
    }
    if (this.peek() === ',') {
      if (ordering) this.fail(`a list of values goes with "==" or "!=", not "${op}"`);
      const values = [first.value];
      while (this.peek() === ',') {
        this.pos++;
        this.ws();
        values.push(this.parseValue(path).value);
        this.ws();
        if (this.text.startsWith('..', this.pos)) this.fail('a range cannot be an item of a value list');
      }
      return { kind: 'list', path, op, values };
    }
    if (ordering && !isComparable(first.value)) {
      this.fail(`"${op}" compares numbers, quoted strings, DateTimes, Dates or Times, not ${describe(first.value)}`, first.at);
    }
    return { kind: 'compare', path, op, value: first.value };
  }

  /** Clause 4.9 `Value` / `URI`. Unquoted tokens end at ; | ) , " or a space; a leading comparable stops at "..". */
  private parseValue(path: QPath): { value: QValue; at: number } {
    const at = this.pos;
    if (this.peek() === '"') return { value: this.withIri(path, { type: 'string', value: this.readString() }), at };
    if (this.peek() === "'") this.fail('strings are quoted with ", not \'');
    COMMA_FRACTION.lastIndex = at;
    RAW_VALUE.lastIndex = at;
    const token = (COMMA_FRACTION.exec(this.text) ?? RAW_VALUE.exec(this.text))?.[0] ?? '';
    const dots = token.indexOf('..');
    const left = dots > 0 ? typedLiteral(token.slice(0, dots)) : undefined;
    if (left !== undefined && typeof left !== 'string') {
      this.pos = at + dots;
      return { value: left, at };
    }
    this.pos = at + token.length;
    const typed = typedLiteral(token);
    if (typeof typed === 'string') this.fail(typed, at);
    if (typed) return { value: typed, at };
    if (isUri(token) || TERM_OR_CURIE.test(token)) return { value: this.withIri(path, { type: 'uri', value: token }), at };
    const got = token ? `, got "${token}"` : '';
    return this.fail(`expected a value (a number, a quoted string, true, false, a DateTime, Date or Time, or a URI)${got}`, at);
  }

  /** Adds the @context expansion of a term-like literal; `expandValues` makes it the value itself (EXAMPLE 12). */
  private withIri<V extends { type: 'string' | 'uri'; value: string; iri?: string }>(path: QPath, v: V): V {
    if (!TERM_OR_CURIE.test(v.value)) return v;
    let iri: string;
    try {
      iri = this.ctx.expand(v.value);
    } catch {
      return v; // a term the @context maps to null has no IRI: compare the literal as written
    }
    if (iri === v.value || iri.startsWith('@')) return v;
    return this.expandValues.has(innermost(path).attr) ? { ...v, value: iri, iri } : { ...v, iri };
  }

  /** A JSON string (RFC 8259 section 7), as clause 4.9 `quotedStr` requires. */
  private readString(): string {
    const start = this.pos;
    let i = start + 1;
    while (i < this.text.length && this.text[i] !== '"') i += this.text[i] === '\\' ? 2 : 1;
    if (i >= this.text.length) this.fail('unterminated string: expected a closing "', start);
    this.pos = i + 1;
    try {
      return JSON.parse(this.text.slice(start, i + 1)) as string;
    } catch {
      return this.fail('invalid string: only JSON escapes (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX) and no raw control characters', start);
    }
  }

  /**
   * Clause 4.9 RegExp, quoted as a JSON string or bare. A bare pattern ends at ";", "|" or ")" outside its own
   * parentheses and brackets, so `a~=(x|y)` alternates but `a~=x|y` is two terms.
   */
  private parsePattern(path: QPath, op: QPatternOp): QTerm {
    const at = this.pos;
    let pattern: string;
    if (this.peek() === '"') pattern = this.readString();
    else {
      this.pos = barePatternEnd(this.text, at);
      pattern = this.text.slice(at, this.pos);
    }
    if (pattern.length === 0) this.fail(`expected a regular expression after "${op}"`, at);
    const re = compilePattern(pattern);
    if (typeof re === 'string') this.fail(re, at);
    return { kind: 'pattern', path, op, pattern };
  }
}

function isComparable(v: QValue): v is QComparable {
  return v.type !== 'boolean' && v.type !== 'uri';
}

function describe(v: QValue): string {
  return v.type === 'boolean' ? String(v.value) : `the unquoted ${JSON.stringify(v.value)}`;
}

function innermost(path: QPath): QPath {
  return path.linked ? innermost(path.linked.path) : path;
}
