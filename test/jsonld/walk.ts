/**
 * Test-only walkers that list the names of an NGSI-LD entity the way the broker's entity model uses them:
 * entity types, attribute and sub-attribute names, attribute types, vocab values, objectType values, and keys and
 * "type" values inside Property / ListProperty values. GeoJSON, json, languageMap, object(List) are left alone,
 * as the broker leaves them, and so are scalar values (JSON-LD may coerce them into typed values or IRIs; the broker
 * stores them as sent). Each name is reported as a tag "ROLE path... name" so that positions are compared too.
 */
import jsonld from 'jsonld';
import { builtinDocument } from '../../src/jsonld/core-context.js';

const NGSI = 'https://uri.etsi.org/ngsi-ld/';
const SEP = ' | ';

type Json = Record<string, unknown>;
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A document loader for jsonld.js that serves the core context (as published) and nothing else. */
export async function offlineLoader(url: string) {
  const document = builtinDocument(url, true);
  if (!document) throw new Error(`test loader: no network (${url})`);
  return { contextUrl: null, documentUrl: url, document };
}

export const jsonldOptions = { documentLoader: offlineLoader } as unknown as jsonld.Options.Expand;

/** Keys of a compacted attribute that are not sub-attributes. */
const STRUCTURAL = new Set([
  'type', 'value', 'object', 'objectType', 'vocab', 'json', 'languageMap', 'valueList', 'objectList',
  'datasetId', 'observedAt', 'unitCode', 'createdAt', 'modifiedAt', 'lang',
]);
const ENTITY_SKIP = new Set(['id', '@id', 'type', '@type', '@context', 'scope', 'createdAt', 'modifiedAt']);

/**
 * Tags of an entity in NGSI-LD (compact-keyed) form. `name` maps names (attribute names, types, vocab values) and
 * `value` maps Property values, e.g. expand / expandValue of an LdContext; identity for a jsonld.js compaction result.
 */
export function compactTags(entity: Json, name: (s: string) => string, value: (v: unknown) => unknown): Set<string> {
  const out = new Set<string>();
  const add = (...parts: string[]) => out.add(parts.join(SEP));
  const collect = (v: unknown, path: string[]): void => {
    if (Array.isArray(v)) return v.forEach((x) => collect(x, path));
    if (!isObject(v)) return;
    const valueObject = '@value' in v;
    for (const [k, x] of Object.entries(v)) {
      if (k === 'type' || k === '@type') {
        if (!valueObject) asArray(x).forEach((t) => add('VT', ...path, String(t)));
      } else if (k !== 'id' && !k.startsWith('@')) {
        add('V', ...path, k);
        collect(x, [...path, k]);
      }
    }
  };
  const attribute = (inst: unknown, path: string[]): void => {
    if (!isObject(inst)) return;
    add('A', ...path);
    const kind = String(inst.type);
    add('AT', ...path, name(kind));
    for (const [k, v] of Object.entries(inst)) {
      if (k === 'value' && kind !== 'GeoProperty') collect(value(v), path);
      else if (k === 'valueList') collect(value(v), path);
      else if (k === 'vocab') asArray(v).forEach((x) => add('VO', ...path, name(String(x))));
      else if (k === 'objectType') asArray(v).forEach((x) => add('OT', ...path, name(String(x))));
      else if (!STRUCTURAL.has(k)) asArray(v).forEach((sub) => attribute(sub, [...path, name(k)]));
    }
  };
  asArray(entity.type).forEach((t) => add('T', name(String(t))));
  for (const [k, v] of Object.entries(entity)) {
    if (!ENTITY_SKIP.has(k)) asArray(v).forEach((inst) => attribute(inst, [name(k)]));
  }
  return out;
}

const HAS = (s: string) => NGSI + s;
const SKIPPED = new Set(
  ['hasObject', 'hasObjectList', 'hasJSON', 'hasLanguageMap', 'datasetId', 'observedAt', 'unitCode', 'createdAt', 'modifiedAt', 'lang'].map(HAS),
);

/** Tags of the same entity from jsonld.js's expanded form. */
export function expandedTags(node: Json): Set<string> {
  const out = new Set<string>();
  const add = (...parts: string[]) => out.add(parts.join(SEP));
  const collect = (item: unknown, path: string[]): void => {
    if (!isObject(item)) return;
    if ('@list' in item) return asArray(item['@list']).forEach((x) => collect(x, path));
    // The @type of a value object ({"@value", "@type"}) is a datatype, possibly coerced by the context from a plain
    // scalar the broker keeps as is; only node object types are names. Typed values are covered in term-map.test.ts.
    if ('@value' in item) return;
    asArray(item['@type']).forEach((t) => add('VT', ...path, String(t)));
    for (const [k, v] of Object.entries(item)) {
      if (k.startsWith('@')) continue;
      add('V', ...path, k);
      asArray(v).forEach((x) => collect(x, [...path, k]));
    }
  };
  const attribute = (inst: unknown, path: string[]): void => {
    if (!isObject(inst)) return;
    add('A', ...path);
    const types = asArray(inst['@type']).map(String);
    types.forEach((t) => add('AT', ...path, t));
    for (const [k, v] of Object.entries(inst)) {
      if (k.startsWith('@') || SKIPPED.has(k)) continue;
      if (k === HAS('hasValue')) {
        if (types[0] !== HAS('GeoProperty')) asArray(v).forEach((x) => collect(x, path));
      } else if (k === HAS('hasValueList')) asArray(v).forEach((x) => collect(x, path));
      else if (k === HAS('hasVocab')) asArray(v).forEach((x) => add('VO', ...path, String((x as Json)['@id'])));
      else if (k === HAS('hasObjectType')) asArray(v).forEach((x) => add('OT', ...path, String((x as Json)['@id'])));
      else asArray(v).forEach((sub) => attribute(sub, [...path, k]));
    }
  };
  asArray(node['@type']).forEach((t) => add('T', String(t)));
  for (const [k, v] of Object.entries(node)) {
    if (!k.startsWith('@')) asArray(v).forEach((inst) => attribute(inst, [k]));
  }
  return out;
}

/** The names in a tag (everything after the role), for relating jsonld.js and fast-path results name by name. */
export function tagNames(tag: string): string[] {
  return tag.split(SEP).slice(1);
}

export const sorted = (s: Set<string>): string[] => [...s].sort();
