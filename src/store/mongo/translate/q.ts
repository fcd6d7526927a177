import type { QComparable, QExpression, QMembers, QPath, QTerm, QValue } from '../../../query/q-ast.js';
import { encodeKey, NESTED_ARRAY } from '../document.js';
import { and, exact, MATCH_NONE, not, or, superset, type Filter, type Translated } from './filter.js';
import { portableRegex } from './regex.js';

/**
 * q (clause 4.9) over the stored attributes, with the semantics of src/query/q-eval.ts: a term holds when one
 * instance of the attribute (any datasetId, clause 4.5.5) has the target element and it compares as asked, so each
 * term is an `$elemMatch` over `attrs.<name>` with one branch per attribute type (where the target lives: `value`,
 * `object`, `vocab`, `lv`...). MongoDB's implicit traversal of one array level is the evaluator's "an array value
 * contributes its elements"; typed JSON-LD values (`{"@value": ...}`) are reached through `<path>.@value`.
 *
 * Exact: equality, ordering and ranges on numbers, booleans, strings (ordering only for literals below U+D800, where
 * UTF-8 byte order and UTF-16 code unit order agree) and Dates (equality), existence, and patterns in the portable
 * regex subset (regex.ts). Superset (inexact): DateTime and Time literals (compared as instants, so differently
 * written strings may be equal), Date ordering, other patterns, value paths `attr[a.b]` (the evaluator enters nested
 * arrays at any depth, MongoDB one level), language tags outside ASCII, and linked-entity paths (`rel{attr}`, which
 * need the target entities).
 */
export function translateQ(expr: QExpression): Translated {
  switch (expr.kind) {
    case 'and':
      return and(expr.of.map(translateQ));
    case 'or':
      return or(expr.of.map(translateQ));
    case 'notExists':
      return not(translateTerm({ kind: 'exists', path: expr.path }));
    default:
      return translateTerm(expr);
  }
}

type PositiveTerm = Exclude<QTerm, { kind: 'notExists' }>;

function translateTerm(term: PositiveTerm): Translated {
  const { path } = term;
  const attrs = `attrs.${encodeKey(path.attr)}`;
  if (path.linked) {
    // The relationship must exist; what its targets hold is left to the post-filter.
    return superset({ [attrs]: { $elemMatch: { type: { $in: ['Relationship', 'ListRelationship'] } } } });
  }
  const prefix = (path.subAttrs ?? []).map((s) => `sub.${encodeKey(s)}.`).join('');
  const inner = path.meta
    ? onTarget(term, { exists: { [prefix + path.meta]: { $exists: true } }, fields: [prefix + path.meta], kind: 'plain' })
    : or(targets(prefix, path).map((t) => and([exact({ [`${prefix}type`]: { $in: t.types } }), onTarget(term, t)])));
  if (inner.filter === MATCH_NONE) return inner;
  // An attribute with no instance has no entry in `names`.
  if (Object.keys(inner.filter).length === 0) return { filter: { names: path.attr }, exact: inner.exact };
  return { filter: { [attrs]: { $elemMatch: inner.filter } }, exact: inner.exact };
}

/**
 * Where an instance keeps the target element of a path. Items are the scalars at `fields` (one array level entered).
 * `kind`: `value` (compound values: items may also be JSON-LD value objects, reached at `<field>.@value`), `ref`
 * (relationship objects: only equality matches them), `vocab` (IRIs: equality with the expanded literal), `plain`.
 * `guards`: when set, the fields miss items the evaluator sees (nested arrays on a value path), so any instance
 * matching a guard is let through, inexact. `inexact`: only `exists` is known; the post-filter decides the rest.
 */
interface Target {
  types?: string[];
  exists: Filter;
  fields: string[];
  kind: 'plain' | 'value' | 'ref' | 'vocab';
  guards?: Filter[];
  inexact?: boolean;
}

function targets(prefix: string, path: QPath): Target[] {
  const { members } = path;
  const out: Target[] = [
    valueTarget(['Property'], `${prefix}value`, members?.expanded),
    valueTarget(['GeoProperty'], `${prefix}value`, members?.raw),
    valueTarget(['JsonProperty'], `${prefix}json`, members?.raw),
    valueTarget(['ListProperty'], `${prefix}valueList`, members?.expanded),
  ];
  const lang = languageTarget(prefix, members);
  if (lang) out.push(lang);
  if (!members) {
    out.push(plainTarget(['Relationship'], `${prefix}object`, 'ref'));
    out.push(plainTarget(['ListRelationship'], `${prefix}objectList`, 'ref'));
    out.push(plainTarget(['VocabProperty'], `${prefix}vocab`, 'vocab'));
  }
  return mergeAlike(out);
}

/** Types whose target sits at the same place and compares alike share one branch (Property and GeoProperty, mostly). */
function mergeAlike(targets: Target[]): Target[] {
  const byShape = new Map<string, Target>();
  for (const t of targets) {
    const shape = JSON.stringify({ ...t, types: undefined });
    const seen = byShape.get(shape);
    if (seen) seen.types = [...seen.types!, ...t.types!];
    else byShape.set(shape, { ...t });
  }
  return [...byShape.values()];
}

const plainTarget = (types: string[], field: string, kind: Target['kind']): Target => ({
  types,
  exists: { [field]: { $exists: true } },
  fields: [field],
  kind,
});

function valueTarget(types: string[], base: string, keys: string[] | undefined): Target {
  if (!keys) return { ...plainTarget(types, base, 'value') };
  // A compound @value lives under another key (document.ts): only the value's presence is known then.
  if (keys.includes('@value')) return { ...plainTarget(types, base, 'value'), inexact: true, fields: [] };
  const paths = [base];
  for (const k of keys) paths.push(`${paths[paths.length - 1]}.${encodeKey(k)}`);
  const leaf = paths[paths.length - 1]!;
  return {
    types,
    exists: { [leaf]: { $exists: true } },
    fields: [leaf],
    kind: 'value',
    guards: paths.slice(0, -1).map((p) => ({ [`${p}.${NESTED_ARRAY}`]: { $exists: true } })),
  };
}

// More spellings than this of a language tag and the tag is matched by the post-filter.
const MAX_TAG_SPELLINGS = 64;

/** `lv` holds every string of the map; `[tag]` is each spelling of the tag (tags compare case-insensitively). */
function languageTarget(prefix: string, members: QMembers | undefined): Target | undefined {
  const types = ['LanguageProperty'];
  if (!members || (members.raw.length === 1 && members.raw[0] === '*')) return plainTarget(types, `${prefix}lv`, 'plain');
  if (members.raw.length !== 1) return undefined;
  const spellings = tagSpellings(members.raw[0]!.toLowerCase());
  if (!spellings) return { types, exists: { [`${prefix}languageMap`]: { $exists: true } }, fields: [], kind: 'plain', inexact: true };
  const fields = spellings.map((s) => `${prefix}languageMap.${encodeKey(s)}`);
  return { types, exists: { $or: fields.map((f) => ({ [f]: { $exists: true } })) }, fields, kind: 'plain' };
}

/** Every string whose toLowerCase() is `tag` (ASCII tags only; the Kelvin sign lowercases to "k"). */
function tagSpellings(tag: string): string[] | undefined {
  if (!/^[\x20-\x7e]*$/.test(tag)) return undefined;
  let out = [''];
  for (const c of tag) {
    const forms = /[a-z]/.test(c) ? [c, c.toUpperCase(), ...(c === 'k' ? ['\u212a'] : [])] : [c];
    out = out.flatMap((p) => forms.map((f) => p + f));
    if (out.length > MAX_TAG_SPELLINGS) return undefined;
  }
  return out;
}

/** The term on one target: an instance-level filter. */
function onTarget(term: PositiveTerm, t: Target): Translated {
  if (t.inexact) return superset(t.exists);
  const result = onFields(term, t);
  if (!t.guards || t.guards.length === 0) return result;
  return superset(or([result, ...t.guards.map(exact)]).filter);
}

function onFields(term: PositiveTerm, t: Target): Translated {
  const paths = t.fields.flatMap((f) => (t.kind === 'value' ? [f, `${f}.@value`] : [f]));
  const anyItem = (c: Condition): Translated =>
    c.cond === undefined ? superset(anyString(paths)) : { filter: orOf(paths.map((p) => ({ [p]: c.cond }))), exact: c.exact };
  // "Target present, no item matches" (`!=`, `!~=`): the complement of the positive term within the target.
  const noItem = (positive: Translated): Translated => (positive.exact ? and([exact(t.exists), not(positive)]) : superset(t.exists));
  switch (term.kind) {
    case 'exists':
      return exact(t.exists);
    case 'compare': {
      if (term.op === '==' || term.op === '!=') {
        const hit = anyItem(equality([term.value], t.kind === 'vocab'));
        return term.op === '==' ? hit : noItem(hit);
      }
      if (t.kind === 'ref') return exact(MATCH_NONE);
      return anyItem(ordering(term.op, term.value as QComparable));
    }
    case 'list': {
      const hit = anyItem(equality(term.values, t.kind === 'vocab'));
      return term.op === '==' ? hit : noItem(hit);
    }
    case 'range': {
      const hit = inRange(t, paths, term.min, term.max);
      return term.op === '==' ? hit : noItem(hit);
    }
    case 'pattern': {
      if (t.kind === 'ref') return exact(MATCH_NONE);
      const re = portableRegex(term.pattern);
      if (!re) return superset(anyString(paths));
      const cond = { $regex: re.source, $options: re.options };
      const hit = exact(orOf(paths.map((p) => ({ [p]: cond }))));
      if (term.op === '~=') return hit;
      // Some string item, and none that matches (clause 4.9: a value that is not a String matches neither operator).
      return and([exact(anyString(paths)), not(hit)]);
    }
  }
}

/** One item within both bounds. MongoDB applies two operators on an array to any elements, so arrays take $elemMatch. */
function inRange(t: Target, paths: string[], min: QComparable, max: QComparable): Translated {
  if (min.type !== max.type) return exact(MATCH_NONE);
  let bounds: Filter;
  let isExact: boolean;
  if (min.type === 'number') [bounds, isExact] = [{ $gte: min.value, $lte: max.value }, true];
  else if (min.type === 'string') [bounds, isExact] = [{ $gte: min.value, $lte: max.value }, lowPlane(min.value) && lowPlane(max.value as string)];
  else return superset(anyString(paths));
  const per = t.fields.flatMap((f) => {
    const alternatives: Filter[] = [{ [f]: { ...bounds, $not: { $type: 'array' } } }, { [f]: { $elemMatch: bounds } }];
    if (t.kind === 'value') {
      alternatives.push({ [f]: { $not: { $type: 'array' } }, [`${f}.@value`]: bounds }, { [f]: { $elemMatch: { '@value': bounds } } });
    }
    return alternatives;
  });
  return { filter: orOf(per), exact: isExact };
}

/** A per-item condition; `cond` undefined: the items it may hold are strings, nothing narrower is known. */
interface Condition {
  cond?: Filter;
  exact: boolean;
}

const anyString = (paths: string[]): Filter => orOf(paths.map((p) => ({ [p]: { $regex: '' } })));
const orOf = (fs: Filter[]): Filter => (fs.length === 0 ? MATCH_NONE : fs.length === 1 ? fs[0]! : { $or: fs });


/** Strings order alike in MongoDB (UTF-8 bytes) and JavaScript (UTF-16 units) against a literal below U+D800. */
const lowPlane = (s: string): boolean => !/[\ud800-\uffff]/.test(s);

/** Literal values as MongoDB compares them, or undefined for instants (DateTime, Time). */
function scalar(q: QValue, vocab: boolean): string | number | boolean | undefined {
  switch (q.type) {
    case 'boolean':
    case 'number':
    case 'date':
      return q.value;
    case 'string':
    case 'uri':
      return vocab ? (q.iri ?? q.value) : q.value;
    default:
      return undefined;
  }
}

function equality(values: QValue[], vocab: boolean): Condition {
  const literals = values.map((v) => scalar(v, vocab));
  if (literals.some((l) => l === undefined)) return { exact: false };
  return { cond: { $in: literals }, exact: true };
}

const OPS = { '>': '$gt', '>=': '$gte', '<': '$lt', '<=': '$lte' } as const;

function ordering(op: keyof typeof OPS, q: QComparable): Condition {
  if (q.type === 'number') return { cond: { [OPS[op]]: q.value }, exact: true };
  if (q.type === 'string') return { cond: { [OPS[op]]: q.value }, exact: lowPlane(q.value) };
  // A Date is ordered against strings that are valid Dates only; MongoDB orders every string.
  if (q.type === 'date') return { cond: { [OPS[op]]: q.value }, exact: false };
  return { exact: false };
}
