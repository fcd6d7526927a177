import { beforeAll, describe, expect, it } from 'vitest';
import { NgsiError } from '../../src/common/errors.js';
import { ContextResolver } from '../../src/jsonld/resolver.js';
import type { LdContext } from '../../src/jsonld/types.js';
import type { QExpression } from '../../src/query/q-ast.js';
import { parseQ, Q_MAX_DEPTH, Q_MAX_LENGTH } from '../../src/query/q-parser.js';

/** Clause 4.9 (NGSI-LD Query Language): the ABNF, its EXAMPLEs 0-14 and the error reporting. */

const D = 'https://uri.etsi.org/ngsi-ld/default-context/';
let ctx: LdContext;
beforeAll(async () => {
  ctx = await new ContextResolver({ timeoutMs: 1000, cacheTtlSec: 60 }).resolve(undefined);
});

const q = (text: string, opts?: Parameters<typeof parseQ>[2]): QExpression => parseQ(text, ctx, opts);
const attr = (name: string) => ({ attr: D + name });

function failure(text: string): NgsiError {
  try {
    q(text);
  } catch (e) {
    expect(e).toBeInstanceOf(NgsiError);
    expect((e as NgsiError).kind).toBe('BadRequestData');
    return e as NgsiError;
  }
  throw new Error(`${text} parsed`);
}

describe('clause 4.9 examples', () => {
  it('EXAMPLE 0 and 5: a bare attribute tests existence', () => {
    expect(q('temperature')).toEqual({ kind: 'exists', path: attr('temperature') });
    expect(q('isMonitoredBy')).toEqual({ kind: 'exists', path: attr('isMonitoredBy') });
  });

  it('EXAMPLE 1-3: equality with a number, a string, a URI in quotes', () => {
    expect(q('temperature==20')).toEqual({ kind: 'compare', path: attr('temperature'), op: '==', value: { type: 'number', value: 20 } });
    expect(q('brandName!="Mercedes"')).toMatchObject({ kind: 'compare', op: '!=', value: { type: 'string', value: 'Mercedes' } });
    expect(q('isParked=="urn:ngsi-ld:OffStreetParking:Downtown1"')).toMatchObject({
      value: { type: 'string', value: 'urn:ngsi-ld:OffStreetParking:Downtown1' },
    });
  });

  it('EXAMPLE 4, 6, 7: ";" binds tighter than "|", parentheses group', () => {
    expect(q('speed>50;brandName!="Mercedes"')).toMatchObject({ kind: 'and', of: [{ op: '>' }, { op: '!=' }] });
    expect(q('((speed>50|rpm>3000);brandName=="Mercedes")')).toMatchObject({
      kind: 'and',
      of: [{ kind: 'or', of: [{ path: attr('speed') }, { path: attr('rpm') }] }, { path: attr('brandName') }],
    });
    expect(q('(temperature>=20;temperature<=25)|capacity<=10')).toMatchObject({
      kind: 'or',
      of: [{ kind: 'and', of: [{ op: '>=' }, { op: '<=' }] }, { path: attr('capacity'), op: '<=' }],
    });
    expect(q('a|b;c')).toMatchObject({ kind: 'or', of: [{ kind: 'exists' }, { kind: 'and', of: [{}, {}] }] });
  });

  it('EXAMPLE 8: a dotted path ending on observedAt compares a DateTime', () => {
    expect(q('temperature.observedAt>=2017-12-24T12:00:00Z')).toEqual({
      kind: 'compare',
      path: { attr: D + 'temperature', meta: 'observedAt' },
      op: '>=',
      value: { type: 'dateTime', value: '2017-12-24T12:00:00Z', micros: Date.UTC(2017, 11, 24, 12) * 1000 },
    });
  });

  it('EXAMPLE 9 and 10: trailing paths into compound values, keys expanded', () => {
    expect(q('address[city]=="Berlin"')).toMatchObject({ path: { attr: D + 'address', members: { raw: ['city'], expanded: [D + 'city'] } } });
    expect(q('sensor.rawdata[airquality.particulate]==40')).toMatchObject({
      path: { attr: D + 'sensor', subAttrs: [D + 'rawdata'], members: { raw: ['airquality', 'particulate'], expanded: [D + 'airquality', D + 'particulate'] } },
    });
  });

  it('EXAMPLE 11: jsonKeys keeps the trailing path raw', () => {
    expect(q('parkingTickets[value]=="Overstay 60 minutes"', { jsonKeys: ['parkingTickets'] })).toMatchObject({
      path: { members: { raw: ['value'], expanded: ['value'] } },
      value: { type: 'string', value: 'Overstay 60 minutes' },
    });
  });

  it('EXAMPLE 12: expandValues expands the query value', () => {
    expect(q('gender==Male', { expandValues: ['gender'] })).toMatchObject({ value: { type: 'uri', value: D + 'Male', iri: D + 'Male' } });
    // Without expandValues the literal stays, with its expansion alongside for VocabProperty targets.
    expect(q('gender==Male')).toMatchObject({ value: { type: 'uri', value: 'Male', iri: D + 'Male' } });
  });

  it('EXAMPLE 13 and 14: linked-entity paths, with an entity type hint', () => {
    expect(q('sensor{humidity}==40')).toMatchObject({ path: { attr: D + 'sensor', linked: { path: { attr: D + 'humidity' } } } });
    expect(q('sensor{Device:humidity}==40')).toMatchObject({ path: { linked: { types: [D + 'Device'], path: { attr: D + 'humidity' } } } });
    expect(q('a{T1,T2:b{c.d[e]}}')).toMatchObject({
      kind: 'exists',
      path: { linked: { types: [D + 'T1', D + 'T2'], path: { attr: D + 'b', linked: { path: { attr: D + 'c', subAttrs: [D + 'd'], members: { raw: ['e'] } } } } } },
    });
  });
});

describe('values (clause 4.9 Value, 4.6.3)', () => {
  const value = (text: string) => (q(`a==${text}`) as { value: unknown }).value;

  it('JSON numbers: integers, fractions, exponents, negatives', () => {
    expect(value('0')).toEqual({ type: 'number', value: 0 });
    expect(value('-12.5')).toEqual({ type: 'number', value: -12.5 });
    expect(value('1e3')).toEqual({ type: 'number', value: 1000 });
    expect(value('-2.5E-2')).toEqual({ type: 'number', value: -0.025 });
  });

  it('booleans, DateTimes (Z, offsets, fractions), Dates, Times', () => {
    expect(value('true')).toEqual({ type: 'boolean', value: true });
    expect(value('2024-02-29T10:00:00.123456Z')).toMatchObject({ type: 'dateTime', micros: Date.UTC(2024, 1, 29, 10) * 1000 + 123456 });
    expect(value('2024-01-01T01:00:00+01:00')).toMatchObject({ micros: Date.UTC(2024, 0, 1) * 1000 });
    // Clause 4.6.3's comma fraction, told apart from a value list by the zone designator after it.
    expect(value('2024-01-01T00:00:00,5Z')).toMatchObject({ micros: Date.UTC(2024, 0, 1) * 1000 + 500000 });
    expect(value('10:00:00,25Z')).toMatchObject({ type: 'time', micros: 36000 * 1e6 + 250000 });
    expect(q('a==10:00:00,5')).toMatchObject({ kind: 'list', values: [{ type: 'time' }, { type: 'number', value: 5 }] });
    expect(value('2024-02-29')).toEqual({ type: 'date', value: '2024-02-29' });
    expect(value('12:30:00Z')).toEqual({ type: 'time', value: '12:30:00Z', micros: (12 * 3600 + 1800) * 1e6 });
  });

  it('quoted strings take JSON escapes', () => {
    expect(value('"a\\"b\\\\c\\u00e9 ;|)"')).toEqual({ type: 'string', value: 'a"b\\cé ;|)' });
  });

  it('unquoted URIs (TP/NGSI-LD/CI/Cons/E/019) end at ";" and "|"', () => {
    expect(q('locatedIn==urn:ngsi-ld:City:Pisa|locatedIn==urn:ngsi-ld:City:Paris')).toMatchObject({
      kind: 'or',
      of: [{ value: { type: 'uri', value: 'urn:ngsi-ld:City:Pisa' } }, { value: { type: 'uri', value: 'urn:ngsi-ld:City:Paris' } }],
    });
    expect(value('https://example.org/a?b=c')).toEqual({ type: 'uri', value: 'https://example.org/a?b=c' });
  });

  it('value lists and ranges go with == and !=', () => {
    expect(q('color=="black","red"')).toMatchObject({ kind: 'list', op: '==', values: [{ value: 'black' }, { value: 'red' }] });
    expect(q('color!="black", "red"')).toMatchObject({ kind: 'list', op: '!=' });
    expect(q('temperature==10..20')).toMatchObject({ kind: 'range', min: { value: 10 }, max: { value: 20 } });
    expect(q('temperature!=-1.5..2e1')).toMatchObject({ kind: 'range', op: '!=', min: { value: -1.5 }, max: { value: 20 } });
    expect(q('t==2024-01-01T00:00:00Z..2024-12-31T00:00:00Z')).toMatchObject({ kind: 'range', min: { type: 'dateTime' }, max: { type: 'dateTime' } });
    expect(q('name=="a".."m"')).toMatchObject({ kind: 'range', min: { type: 'string' }, max: { type: 'string' } });
  });

  it('patterns, bare or quoted', () => {
    expect(q('name~=(?i)^ma.*')).toMatchObject({ kind: 'pattern', op: '~=', pattern: '(?i)^ma.*' });
    expect(q('name!~="a|b;c"')).toMatchObject({ op: '!~=', pattern: 'a|b;c' });
    // A bare pattern ends at "|" outside its own parentheses.
    expect(q('name~=(a|b)|x')).toMatchObject({ kind: 'or', of: [{ pattern: '(a|b)' }, { kind: 'exists' }] });
    expect(q('(name~=[)(]x)')).toMatchObject({ pattern: '[)(]x' });
  });

  it('spaces around tokens are tolerated', () => {
    expect(q(' ( a == 1 ; b ) ')).toMatchObject({ kind: 'and' });
  });
});

describe('paths', () => {
  it('sub-attributes, metadata and nested brackets', () => {
    expect(q('a.b.c')).toMatchObject({ path: { attr: D + 'a', subAttrs: [D + 'b', D + 'c'] } });
    expect(q('a.b.unitCode=="CEL"')).toMatchObject({ path: { subAttrs: [D + 'b'], meta: 'unitCode' } });
    expect(q('a[b][c.d]')).toMatchObject({ path: { members: { raw: ['b', 'c', 'd'] } } });
    expect(q('color[en]=="red"')).toMatchObject({ path: { members: { raw: ['en'] } } });
    expect(q('color[*]')).toMatchObject({ path: { members: { raw: ['*'], expanded: ['*'] } } });
    expect(q('!a.b')).toEqual({ kind: 'notExists', path: { attr: D + 'a', subAttrs: [D + 'b'] } });
  });

  it('compact IRIs and core terms expand', () => {
    expect(q('ngsi-ld:location')).toEqual({ kind: 'exists', path: { attr: 'https://uri.etsi.org/ngsi-ld/location' } });
    expect(q('location[type]=="Point"')).toMatchObject({ path: { members: { raw: ['type'], expanded: ['type'] } } });
  });
});

describe('errors name the position and what was expected', () => {
  const cases: Array<[string, number, string]> = [
    ['', 0, 'expected an attribute name'],
    ['a==', 3, 'expected a value after "=="'],
    ['speed>50;brandName!=', 20, 'expected a value after "!="'],
    ['a=1', 1, '"=" is not an operator'],
    ['(a==1', 5, 'expected ")" to close the "(" at position 0'],
    ['a==1)', 4, 'without a matching "("'],
    ['a==1..', 6, 'upper bound'],
    ['a=="x', 3, 'unterminated string'],
    ["a=='x'", 3, 'quoted with "'],
    ['a>true', 2, 'compares numbers'],
    ['a>urn:x', 2, 'compares numbers'],
    ['a>1,2', 3, 'a list of values goes with'],
    ['a>1..2', 3, 'a range'],
    ['a==1.."b"', 6, 'differ in type'],
    ['a==true..false', 3, 'a range needs'],
    ['a==01', 3, 'not a valid number'],
    ['a==2017-13-01', 3, 'not a valid Date'],
    ['a==2017-02-29T00:00:00Z', 3, 'not a valid DateTime'],
    ['a==25:00:00Z', 3, 'not a valid Time'],
    ['a==b c', 5, 'unexpected "c", expected ";", "|" or the end'],
    ['a b', 2, 'expected an operator'],
    ['type=="x"', 0, 'JSON-LD keyword'],
    ['a.observedAt.b', 12, 'ends the path'],
    ['a.observedAt[x]', 12, 'no members'],
    ['a.b{c}', 3, 'follows a single Relationship'],
    ['a{b', 3, 'expected "}"'],
    ['a{T1,T2}', 7, 'expected ":"'],
    ['a[', 2, 'member name'],
    ['a[b', 3, 'expected "]"'],
    ['a[b][*]', 4, 'stands alone'],
    ['!a==1', 2, 'takes no operator'],
    ['a;', 2, 'expected an attribute name'],
    ['a~=', 3, 'expected a value'],
    ['a~=(x', 3, 'missing closing )'],
  ];
  it.each(cases)('%j fails at %i', (text, position, detail) => {
    const message = failure(text).message;
    expect(message).toContain(`position ${position}:`);
    expect(message).toContain(detail);
  });
});

describe('limits against pathological input', () => {
  it('refuses a q longer than the maximum', () => {
    expect(failure('a'.repeat(Q_MAX_LENGTH + 1)).message).toContain(`more than the ${Q_MAX_LENGTH}`);
  });

  it('refuses nesting deeper than the maximum, parentheses and braces alike', () => {
    expect(q('('.repeat(Q_MAX_DEPTH) + 'a' + ')'.repeat(Q_MAX_DEPTH))).toEqual({ kind: 'exists', path: attr('a') });
    expect(failure('('.repeat(Q_MAX_DEPTH + 1) + 'a' + ')'.repeat(Q_MAX_DEPTH + 1)).message).toContain('nesting deeper');
    expect(failure('a{'.repeat(Q_MAX_DEPTH + 1) + 'b' + '}'.repeat(Q_MAX_DEPTH + 1)).message).toContain('nesting deeper');
    // Far deeper than the limit still fails cleanly rather than overflowing the stack.
    expect(failure('('.repeat(8000)).message).toContain('nesting deeper');
  });

  it('refuses regular expressions RE2 cannot run in linear time, saying why', () => {
    expect(failure('a~=(x)\\1').message).toMatch(/invalid regular expression.*no backreferences or lookaround/);
    expect(failure('a~=(?<=x)y').message).toContain('invalid regular expression');
    expect(failure('a~=((x{100}){100}){100}').message).toMatch(/invalid repeat count|too complex/);
    expect(failure('a~=(abcdefghijk){999}').message).toContain('too complex');
    expect(failure(`a~=${'x'.repeat(1025)}`).message).toContain('characters long');
  });

  it('accepts patterns that backtracking engines would blow up on, since RE2 matches them in linear time', () => {
    expect(q('a~=(a+)+b')).toMatchObject({ kind: 'pattern' });
    expect(q('a~=.*.*.*=.*')).toMatchObject({ kind: 'pattern' });
  });
});
