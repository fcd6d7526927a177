import { RE2JS } from 're2js';
import { badRequest, NgsiError } from '../common/errors.js';
import type { Attribute, Entity } from '../model/entity.js';
import { compilePattern, dateTimeMicros, isDate, timeMicros } from './q-ast.js';
import type { QComparable, QExpression, QPath, QPattern, QTerm, QValue } from './q-ast.js';

export interface QEvalOptions {
  /**
   * Language a LanguageProperty term targets when it names none (`color=="red"` rather than `color[en]=="red"`), if
   * the languageMap has it (else every language). Clause 4.9 says such terms target every language, so leave this
   * unset unless the `lang` parameter should also narrow q.
   */
  lang?: string;
  /**
   * Looks up a target entity of a Relationship by id, for linked-entity paths `rel{attr}` (clause 4.9 EXAMPLE 13).
   * Synchronous on purpose: a store can prefetch (see {@link qUsesLinkedEntities}) or read synchronously (lmdb).
   */
  resolveLinked?: (id: string) => Entity | undefined;
}

/**
 * Whether `entity` satisfies the q (clause 4.9). Never throws on data: a type mismatch between a target value and the
 * query value is simply "no match" ("unequal" for `!=`). Throws OperationNotSupported only for a linked-entity path
 * evaluated without `resolveLinked`.
 */
export function matchesQ(expr: QExpression, entity: Entity, opts: QEvalOptions = {}): boolean {
  switch (expr.kind) {
    case 'and':
      return expr.of.every((e) => matchesQ(e, entity, opts));
    case 'or':
      return expr.of.some((e) => matchesQ(e, entity, opts));
    case 'notExists':
      return !matchesTerm({ kind: 'exists', path: expr.path }, entity, opts);
    default:
      return matchesTerm(expr, entity, opts);
  }
}

/** Expanded names of the top-level attributes a q mentions (for linked paths, the Relationship only). */
export function qAttributes(expr: QExpression): string[] {
  const out = new Set<string>();
  const walk = (e: QExpression): void => {
    if (e.kind === 'and' || e.kind === 'or') e.of.forEach(walk);
    else out.add(e.path.attr);
  };
  walk(expr);
  return [...out];
}

/**
 * Attributes of which every matching entity has at least one, so a store may take its candidates from an attribute
 * index; undefined when no such set exists (a `!attr` term can match entities having none of the attributes).
 * Every term but `!attr` requires its attribute (clause 4.9: "A matching entity shall contain the target element",
 * `!=` included).
 */
export function qCandidateAttributes(expr: QExpression): string[] | undefined {
  switch (expr.kind) {
    case 'notExists':
      return undefined;
    case 'or': {
      const out = new Set<string>();
      for (const e of expr.of) {
        const sub = qCandidateAttributes(e);
        if (!sub) return undefined;
        sub.forEach((a) => out.add(a));
      }
      return [...out];
    }
    case 'and': {
      // Any operand's set is necessary for the conjunction; the smallest narrows the most.
      let best: string[] | undefined;
      for (const e of expr.of) {
        const sub = qCandidateAttributes(e);
        if (sub && (!best || sub.length < best.length)) best = sub;
      }
      return best;
    }
    default:
      return [expr.path.attr];
  }
}

/** Whether the q has linked-entity paths, which need `resolveLinked` (clause 4.9 LinkedEntityRelation). */
export function qUsesLinkedEntities(expr: QExpression): boolean {
  if (expr.kind === 'and' || expr.kind === 'or') return expr.of.some(qUsesLinkedEntities);
  return expr.path.linked !== undefined;
}

/**
 * What a path resolves to in one attribute instance: the items a value is compared with (an array value contributes
 * its elements, clause 4.9 "included in the target value, if the latter is an array"), and how they compare.
 * `ref`: Relationship/ListRelationship objects, which only `==`/`!=` may match; `vocab`: VocabProperty IRIs,
 * compared with the @context expansion of the query literal.
 */
interface Target {
  kind: 'value' | 'ref' | 'vocab';
  items: unknown[];
}

/** `!attr` is evaluated as the negation of `attr`, so terms below are positive. */
type PositiveTerm = Exclude<QTerm, { kind: 'notExists' }>;

function matchesTerm(term: PositiveTerm, entity: Entity, opts: QEvalOptions): boolean {
  const { path } = term;
  if (path.linked) {
    const { linked } = path;
    const resolve = opts.resolveLinked;
    if (!resolve) {
      throw new NgsiError('OperationNotSupported', 'q with a linked-entity path ("relationship{attribute}") is not supported here');
    }
    let inner = innerTerms.get(term);
    if (!inner) innerTerms.set(term, (inner = { ...term, path: linked.path }));
    for (const id of relationshipTargets(ownInstances(entity, path.attr))) {
      const target = resolve(id);
      if (!target) continue;
      if (linked.types && !target.type.some((t) => linked.types!.includes(t))) continue;
      if (matchesTerm(inner, target, opts)) return true;
    }
    return false;
  }
  const targets = resolveTargets(entity, path, opts);
  if (term.kind === 'exists') return targets.length > 0;
  return targets.some((t) => matchesTarget(term, t));
}

// The same term one link further, kept so that per-term caches (compiled patterns) survive across entities.
const innerTerms = new WeakMap<PositiveTerm, PositiveTerm>();

function relationshipTargets(instances: Attribute[] | undefined): string[] {
  const ids: string[] = [];
  for (const a of instances ?? []) {
    if (a.type === 'Relationship' && a.object !== undefined) ids.push(...(Array.isArray(a.object) ? a.object : [a.object]));
    if (a.type === 'ListRelationship' && a.objectList) ids.push(...a.objectList);
  }
  return ids;
}

// Attribute names come from requests: `constructor` or `__proto__` must find nothing, not Object.prototype members.
function ownInstances(entity: Entity, name: string): Attribute[] {
  return Object.hasOwn(entity.attrs, name) ? (entity.attrs[name] ?? []) : [];
}

/** Clause 4.9: the target element of each instance ("any Value of such instances", clause 4.5.5). */
function resolveTargets(entity: Entity, path: QPath, opts: QEvalOptions): Target[] {
  const targets: Target[] = [];
  for (const instance of ownInstances(entity, path.attr)) {
    let a: Attribute | undefined = instance;
    for (const sub of path.subAttrs ?? []) a = a?.sub?.[sub];
    if (!a) continue;
    const t = path.meta ? metaTarget(a, path.meta) : valueTarget(a, path, opts);
    if (t) targets.push(t);
  }
  return targets;
}

function metaTarget(a: Attribute, meta: NonNullable<QPath['meta']>): Target | undefined {
  const v = a[meta];
  return v === undefined ? undefined : { kind: 'value', items: [v] };
}

function valueTarget(a: Attribute, path: QPath, opts: QEvalOptions): Target | undefined {
  const { members } = path;
  switch (a.type) {
    case 'Relationship':
      return members || a.object === undefined ? undefined : { kind: 'ref', items: spread(a.object) };
    case 'ListRelationship':
      return members || !a.objectList ? undefined : { kind: 'ref', items: a.objectList };
    case 'VocabProperty':
      return members || a.vocab === undefined ? undefined : { kind: 'vocab', items: spread(a.vocab) };
    case 'LanguageProperty':
      return languageTarget(a.languageMap ?? {}, members ? members.raw : [opts.lang ?? '*'], members === undefined);
    case 'ListProperty':
      return compoundTarget(a.valueList, members?.expanded);
    case 'JsonProperty':
      return compoundTarget(a.json, members?.raw);
    case 'GeoProperty':
      return compoundTarget(a.value, members?.raw);
    case 'Property':
      return compoundTarget(a.value, members?.expanded);
  }
}

/**
 * `[tag]` targets that language (tags compare case-insensitively, RFC 5646), `[*]` or none every language. A language
 * from the `lang` option (`fallback`) that the map lacks falls back to every language, so it never hides an attribute.
 */
function languageTarget(map: Record<string, string | string[]>, sel: string[], fallback: boolean): Target | undefined {
  if (sel.length !== 1) return undefined;
  const tag = sel[0]!.toLowerCase();
  const items: unknown[] = [];
  let found = false;
  for (const [k, v] of Object.entries(map)) {
    if (tag !== '*' && k.toLowerCase() !== tag) continue;
    found = true;
    items.push(...spread(v));
  }
  if (!found && fallback && tag !== '*') return languageTarget(map, ['*'], false);
  return found ? { kind: 'value', items } : undefined;
}

/**
 * The trailing path is an ECMA-262 member access (clause 4.9); an undefined result means no target element. Arrays
 * on the way are entered element by element, as MongoDB dotted paths do, so both backends agree.
 */
function compoundTarget(value: unknown, keys: string[] | undefined): Target | undefined {
  if (value === undefined) return undefined;
  if (!keys) return { kind: 'value', items: spread(value) };
  let current: unknown[] = [value];
  for (const key of keys) {
    const next: unknown[] = [];
    const visit = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(visit);
      else if (v !== null && typeof v === 'object' && Object.hasOwn(v, key)) next.push((v as Record<string, unknown>)[key]);
    };
    current.forEach(visit);
    current = next;
  }
  return current.length === 0 ? undefined : { kind: 'value', items: current.flatMap(spread) };
}

const spread = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);

function matchesTarget(term: Exclude<PositiveTerm, { kind: 'exists' }>, t: Target): boolean {
  const equal = (q: QValue) => (item: unknown) => equals(q, item, t.kind === 'vocab');
  switch (term.kind) {
    case 'compare': {
      if (term.op === '==') return t.items.some(equal(term.value));
      if (term.op === '!=') return !t.items.some(equal(term.value));
      // Clause 4.9: a Relationship or ListRelationship with any operator but == and != does not match.
      if (t.kind === 'ref') return false;
      const q = term.value as QComparable;
      return t.items.some((item) => {
        const c = compare(item, q);
        if (c === undefined) return false;
        return term.op === '>' ? c > 0 : term.op === '>=' ? c >= 0 : term.op === '<' ? c < 0 : c <= 0;
      });
    }
    case 'list': {
      const hit = t.items.some((item) => term.values.some((q) => equals(q, item, t.kind === 'vocab')));
      return term.op === '==' ? hit : !hit;
    }
    case 'range': {
      const hit = t.items.some((item) => {
        const lo = compare(item, term.min);
        const hi = compare(item, term.max);
        return lo !== undefined && hi !== undefined && lo >= 0 && hi <= 0;
      });
      return term.op === '==' ? hit : !hit;
    }
    case 'pattern': {
      if (t.kind === 'ref') return false;
      // Clause 4.9: a target value that is not a String does not match either pattern operator.
      const strings = t.items.map(unwrap).filter((i): i is string => typeof i === 'string');
      if (strings.length === 0) return false;
      const re = compiled(term);
      const hit = strings.some((s) => re.test(s));
      return term.op === '~=' ? hit : !hit;
    }
  }
}

/** JSON-LD typed values (`{"@type": "DateTime", "@value": "..."}`) compare by their lexical value. */
function unwrap(item: unknown): unknown {
  if (item !== null && typeof item === 'object' && !Array.isArray(item) && '@value' in item) {
    return (item as { '@value': unknown })['@value'];
  }
  return item;
}

/** Identical or equivalent, with the same data type (clause 4.9 equal operator). */
function equals(q: QValue, raw: unknown, vocab: boolean): boolean {
  const item = unwrap(raw);
  switch (q.type) {
    case 'boolean':
      return item === q.value;
    case 'uri':
    case 'string':
      return typeof item === 'string' && item === (vocab ? (q.iri ?? q.value) : q.value);
    default:
      return compare(item, q) === 0;
  }
}

/** Sign of `item - q`, or undefined when their data types differ (then ordering and equality never hold). */
function compare(raw: unknown, q: QComparable): number | undefined {
  const item = unwrap(raw);
  switch (q.type) {
    case 'number':
      return typeof item === 'number' ? Math.sign(item - q.value) : undefined;
    case 'string':
      // RFC 8259 section 8.3: code unit by code unit.
      return typeof item === 'string' ? (item < q.value ? -1 : item > q.value ? 1 : 0) : undefined;
    case 'date':
      return typeof item === 'string' && isDate(item) ? (item < q.value ? -1 : item > q.value ? 1 : 0) : undefined;
    case 'dateTime': {
      const micros = typeof item === 'string' ? dateTimeMicros(item) : undefined;
      return micros === undefined ? undefined : Math.sign(micros - q.micros);
    }
    case 'time': {
      const micros = typeof item === 'string' ? timeMicros(item) : undefined;
      return micros === undefined ? undefined : Math.sign(micros - q.micros);
    }
  }
}

const patterns = new WeakMap<QPattern, RE2JS>();

/** Compiled once per term; a plan from elsewhere (e.g. deserialized) is checked again rather than trusted. */
function compiled(term: QPattern): RE2JS {
  let re = patterns.get(term);
  if (!re) {
    const c = compilePattern(term.pattern);
    if (typeof c === 'string') throw badRequest(`Invalid q pattern: ${c} (clause 4.9)`);
    patterns.set(term, (re = c));
  }
  return re;
}
