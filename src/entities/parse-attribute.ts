import { badRequest } from '../common/errors.js';
import { isDateTime, isLanguageTag, isUri, isValidName } from '../common/syntax.js';
import type { LdContext } from '../jsonld/types.js';
import { ATTRIBUTE_TYPES, type Attribute, type AttributeType } from '../model/entity.js';
import { isGeometryLike, validateGeometry } from '../common/geometry.js';

/** NGSI-LD Null (clause 3.1): deletes the attribute it stands for in fragments of update and merge operations. */
export const NGSI_LD_NULL = 'urn:ngsi-ld:null';

/** What a request says about one attribute instance. */
export type AttributeInput =
  /** `removals`: members and sub-attributes (expanded) a merge fragment sets to NGSI-LD Null (clause 5.5.12). */
  | { kind: 'value'; attr: Attribute; removals?: string[] }
  /** NGSI-LD Null: delete the instance (fragments only). */
  | { kind: 'null'; datasetId?: string }
  /** A bare value from a simplified (keyValues) payload: its type comes from the attribute it merges into. */
  | { kind: 'simplified'; value: unknown };

export interface AttributeParseOptions {
  ctx: LdContext;
  now: string;
  /**
   * Where NGSI-LD Null may appear (clause 5.5.4): 'none' (create, replace, append), 'attribute' (partial update
   * patch: a whole attribute instance), 'member' (merge patch: also metadata and sub-attributes).
   */
  nulls: 'none' | 'attribute' | 'member';
  /** Payload in simplified representation (merge with format=simplified, clause 6.5.3.4). */
  simplified: boolean;
}

// Members that describe an attribute rather than name a sub-attribute (clauses 4.5.2-4.5.3, 4.5.18-4.5.23).
const VALUE_MEMBERS = ['value', 'object', 'languageMap', 'vocab', 'json', 'valueList', 'objectList'] as const;
export const VALUE_MEMBER_OF: Record<AttributeType, (typeof VALUE_MEMBERS)[number]> = {
  Property: 'value',
  GeoProperty: 'value',
  Relationship: 'object',
  LanguageProperty: 'languageMap',
  VocabProperty: 'vocab',
  JsonProperty: 'json',
  ListProperty: 'valueList',
  ListRelationship: 'objectList',
};
const META_MEMBERS = new Set<string>(['type', ...VALUE_MEMBERS, 'objectType', 'datasetId', 'observedAt', 'unitCode', 'valueType']);
// System-generated or read-only members: accepted and ignored, as clients often echo what they read (clause 4.8).
const IGNORED_MEMBERS = new Set(['createdAt', 'modifiedAt', 'deletedAt', 'instanceId', 'expiresAt', '@context']);

/** Attributes whose values must be geometries whatever their declared type says (clause 4.7). */
export const GEO_ATTRIBUTES = new Set([
  'https://uri.etsi.org/ngsi-ld/location',
  'https://uri.etsi.org/ngsi-ld/observationSpace',
  'https://uri.etsi.org/ngsi-ld/operationSpace',
]);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses the value of an attribute member (one instance or an array of instances) into inputs. */
export function parseAttributeMember(name: string, raw: unknown, opts: AttributeParseOptions): AttributeInput[] {
  if (opts.simplified) return [parseSimplified(name, raw, opts)];
  if (Array.isArray(raw)) {
    if (raw.length === 0) throw badRequest(`Attribute "${name}" is an empty array: give at least one instance`);
    // An array of plain values is a concise Property whose value is the array (clause 4.5.2.3).
    if (!raw.every((x) => isObject(x))) return [parseInstance(name, raw, opts)];
    const inputs = raw.map((instance) => parseInstance(name, instance, opts));
    checkDistinctDatasets(name, inputs);
    return inputs;
  }
  return [parseInstance(name, raw, opts)];
}

function checkDistinctDatasets(name: string, inputs: AttributeInput[]): void {
  const seen = new Set<string | undefined>();
  for (const input of inputs) {
    const ds = input.kind === 'value' ? input.attr.datasetId : input.kind === 'null' ? input.datasetId : undefined;
    if (seen.has(ds)) {
      throw badRequest(
        ds === undefined
          ? `Attribute "${name}" has more than one default instance (no datasetId); each instance needs its own datasetId (clause 4.5.5)`
          : `Attribute "${name}" has more than one instance with datasetId "${ds}" (clause 4.5.5)`,
      );
    }
    seen.add(ds);
  }
}

function parseSimplified(name: string, raw: unknown, opts: AttributeParseOptions): AttributeInput {
  if (raw === NGSI_LD_NULL || raw === null) return { kind: 'null' };
  rejectNullsInside(name, raw);
  return { kind: 'simplified', value: opts.ctx.expandValue(raw) };
}

function rejectNullsInside(name: string, value: unknown): void {
  if (value === null) throw badRequest(`Attribute "${name}" holds a JSON null inside its value; NGSI-LD values cannot be null`);
  if (Array.isArray(value)) value.forEach((v) => rejectNullsInside(name, v));
  else if (isObject(value)) for (const v of Object.values(value)) rejectNullsInside(name, v);
}

function parseInstance(name: string, raw: unknown, opts: AttributeParseOptions): AttributeInput {
  if (raw === null) {
    if (opts.nulls !== 'none') return { kind: 'null' };
    throw badRequest(`Attribute "${name}" is null; an attribute needs a value (use "${NGSI_LD_NULL}" to delete one in an update)`);
  }
  if (raw === NGSI_LD_NULL) {
    if (opts.nulls !== 'none') return { kind: 'null' };
    throw badRequest(`Attribute "${name}" is NGSI-LD Null, which only update and merge fragments may use (clause 5.5.4)`);
  }
  if (!isObject(raw)) return conciseValue(name, raw, opts);
  const declared = raw.type;
  if (declared === undefined) return parseUntyped(name, raw, opts);
  if (typeof declared === 'string' && (ATTRIBUTE_TYPES as readonly string[]).includes(declared)) {
    return parseTyped(name, declared as AttributeType, raw, opts);
  }
  // A bare GeoJSON geometry is a concise GeoProperty (clause 4.5.2.3: GeoProperty is inferred from the value).
  if (isGeometryLike(raw)) return conciseValue(name, raw, opts);
  throw badRequest(
    `Attribute "${name}" has type ${JSON.stringify(declared)}; it must be one of ${ATTRIBUTE_TYPES.join(', ')}`,
  );
}

/** Concise form with no "type": infer it from the value member present (clauses 4.5.2.3, 4.5.3.3 and kin). */
function parseUntyped(name: string, raw: Record<string, unknown>, opts: AttributeParseOptions): AttributeInput {
  const present = VALUE_MEMBERS.filter((m) => raw[m] !== undefined);
  if (present.length === 0) {
    // No value member at all: the whole object is the value of a concise Property.
    return conciseValue(name, raw, opts);
  }
  if (present.length > 1) {
    throw badRequest(`Attribute "${name}" has several value members (${present.join(', ')}); give exactly one`);
  }
  const member = present[0]!;
  let type = (Object.keys(VALUE_MEMBER_OF) as AttributeType[]).find((t) => VALUE_MEMBER_OF[t] === member)!;
  if (member === 'value' && (isGeometryLike(raw.value) || GEO_ATTRIBUTES.has(opts.ctx.expand(name)))) type = 'GeoProperty';
  return parseTyped(name, type, raw, opts);
}

function conciseValue(name: string, value: unknown, opts: AttributeParseOptions): AttributeInput {
  const type: AttributeType = isGeometryLike(value) || GEO_ATTRIBUTES.has(opts.ctx.expand(name)) ? 'GeoProperty' : 'Property';
  return parseTyped(name, type, { value }, opts);
}

function parseTyped(name: string, type: AttributeType, raw: Record<string, unknown>, opts: AttributeParseOptions): AttributeInput {
  const member = VALUE_MEMBER_OF[type];
  for (const other of VALUE_MEMBERS) {
    if (other !== member && raw[other] !== undefined && !(type === 'Relationship' && other === 'objectList')) {
      throw badRequest(`Attribute "${name}" is a ${type}, which takes "${member}", not "${other}"`);
    }
  }
  const rawValue = raw[member];
  if (rawValue === undefined) throw badRequest(`Attribute "${name}" is a ${type} without "${member}"`);
  if (isNull(type, rawValue)) {
    if (opts.nulls === 'none') {
      throw badRequest(`Attribute "${name}" has a null ${member}; NGSI-LD Null is only allowed in update and merge fragments (clause 5.5.4)`);
    }
    const datasetId = raw.datasetId === undefined ? undefined : checkDatasetId(name, raw.datasetId);
    return { kind: 'null', datasetId };
  }
  const expandedName = opts.ctx.expand(name);
  if (GEO_ATTRIBUTES.has(expandedName) && type !== 'GeoProperty') {
    throw badRequest(`Attribute "${name}" must be a GeoProperty (clause 4.7), not a ${type}`);
  }
  const attr: Attribute = { type, createdAt: opts.now, modifiedAt: opts.now };
  setValue(name, attr, rawValue, opts);
  const removals: string[] = [];
  for (const [key, v] of Object.entries(raw)) {
    if (key === member || key === 'type' || IGNORED_MEMBERS.has(key)) continue;
    if (opts.nulls === 'member' && isNullMember(v)) {
      removals.push(META_MEMBERS.has(key) ? key : opts.ctx.expand(key));
      continue;
    }
    if (META_MEMBERS.has(key)) setMeta(name, attr, key, v, opts);
    else addSubAttribute(name, attr, key, v, opts);
  }
  return removals.length > 0 ? { kind: 'value', attr, removals } : { kind: 'value', attr };
}

/** A metadata member or sub-attribute a merge fragment removes: NGSI-LD Null, bare or as its value/object. */
function isNullMember(v: unknown): boolean {
  return v === NGSI_LD_NULL || v === null || (isObject(v) && (v.value === NGSI_LD_NULL || v.object === NGSI_LD_NULL));
}

function isNull(type: AttributeType, v: unknown): boolean {
  if (v === null || v === NGSI_LD_NULL) return true;
  return type === 'LanguageProperty' && isObject(v) && v['@none'] === NGSI_LD_NULL;
}

function setValue(name: string, attr: Attribute, v: unknown, opts: AttributeParseOptions): void {
  const { ctx } = opts;
  switch (attr.type) {
    case 'Property':
      rejectNullsInside(name, v);
      attr.value = ctx.expandValue(v);
      return;
    case 'GeoProperty':
      validateGeometry(name, v);
      attr.value = v;
      return;
    case 'Relationship':
      attr.object = uris(name, v, 'object', true);
      return;
    case 'LanguageProperty':
      attr.languageMap = languageMap(name, v);
      return;
    case 'VocabProperty': {
      const list = Array.isArray(v) ? v : [v];
      if (list.length === 0 || !list.every(isValidName)) {
        throw badRequest(`VocabProperty "${name}" needs "vocab" as a name or a non-empty array of names`);
      }
      const expanded = list.map((x) => ctx.expand(x as string));
      attr.vocab = Array.isArray(v) ? expanded : expanded[0];
      return;
    }
    case 'JsonProperty':
      attr.json = v;
      return;
    case 'ListProperty': {
      const list = isObject(v) && Array.isArray(v['@list']) ? v['@list'] : v;
      if (!Array.isArray(list)) throw badRequest(`ListProperty "${name}" needs "valueList" as an array`);
      rejectNullsInside(name, list);
      attr.valueList = list.map((x) => ctx.expandValue(x));
      return;
    }
    case 'ListRelationship': {
      const list = isObject(v) && Array.isArray(v['@list']) ? v['@list'] : v;
      if (!Array.isArray(list)) throw badRequest(`ListRelationship "${name}" needs "objectList" as an array`);
      // Clause 4.5.22 allows each item as a bare URI or as {"object": URI}.
      attr.objectList = list.map((item, i) => {
        const target = isObject(item) ? item.object : item;
        if (!isUri(target)) throw badRequest(`ListRelationship "${name}" objectList[${i}] must be a URI or {"object": URI}`);
        return target;
      });
      return;
    }
  }
}

function uris(name: string, v: unknown, member: string, allowArray: boolean): string | string[] {
  if (isUri(v)) return v;
  if (allowArray && Array.isArray(v) && v.length > 0 && v.every(isUri)) return v as string[];
  throw badRequest(`Attribute "${name}" needs "${member}" as a URI${allowArray ? ' or a non-empty array of URIs' : ''}, got ${JSON.stringify(v)}`);
}

function languageMap(name: string, v: unknown): Record<string, string | string[]> {
  if (!isObject(v) || Object.keys(v).length === 0) {
    throw badRequest(`LanguageProperty "${name}" needs "languageMap" as a non-empty object of language tag to string`);
  }
  for (const [tag, text] of Object.entries(v)) {
    if (!isLanguageTag(tag)) throw badRequest(`LanguageProperty "${name}" has "${tag}", which is not a language tag (BCP 47)`);
    const ok = typeof text === 'string' || (Array.isArray(text) && text.every((t) => typeof t === 'string'));
    if (!ok) throw badRequest(`LanguageProperty "${name}" must map "${tag}" to a string or an array of strings`);
  }
  return v as Record<string, string | string[]>;
}

/** "@none" names the default instance (clause 4.5.5), which has no datasetId. */
function checkDatasetId(name: string, v: unknown): string | undefined {
  if (v === '@none') return undefined;
  if (!isUri(v)) throw badRequest(`Attribute "${name}" has datasetId ${JSON.stringify(v)}, which is not a URI (clause 4.5.5)`);
  return v;
}

function setMeta(name: string, attr: Attribute, key: string, v: unknown, opts: AttributeParseOptions): void {
  switch (key) {
    case 'datasetId': {
      const ds = checkDatasetId(name, v);
      if (ds !== undefined) attr.datasetId = ds;
      return;
    }
    case 'observedAt':
      if (!isDateTime(v)) throw badRequest(`Attribute "${name}" has observedAt ${JSON.stringify(v)}, which is not a DateTime (clause 4.8)`);
      attr.observedAt = v;
      return;
    case 'unitCode':
      if (typeof v !== 'string' || v === '') throw badRequest(`Attribute "${name}" has unitCode ${JSON.stringify(v)}; it must be a UN/CEFACT code string`);
      attr.unitCode = v;
      return;
    case 'valueType':
      if (attr.type !== 'Property' || !isValidName(v)) throw badRequest(`Attribute "${name}": valueType must be a name, on a Property`);
      attr.valueType = opts.ctx.expand(v);
      return;
    case 'objectType': {
      if (attr.type !== 'Relationship' && attr.type !== 'ListRelationship') {
        throw badRequest(`Attribute "${name}": objectType belongs to a Relationship, not a ${attr.type}`);
      }
      const list = Array.isArray(v) ? v : [v];
      if (list.length === 0 || !list.every(isValidName)) throw badRequest(`Attribute "${name}": objectType must be a type name or names`);
      const expanded = list.map((t) => opts.ctx.expand(t as string));
      attr.objectType = Array.isArray(v) ? expanded : expanded[0];
      return;
    }
  }
}

function addSubAttribute(parent: string, attr: Attribute, key: string, v: unknown, opts: AttributeParseOptions): void {
  if (!isValidName(key)) throw badRequest(`Attribute "${parent}" has a sub-attribute named ${JSON.stringify(key)}, which is not a valid name (clause 4.6.2)`);
  const path = `${parent}.${key}`;
  const inputs = parseAttributeMember(path, v, { ...opts, nulls: 'none', simplified: false });
  if (inputs.length !== 1 || inputs[0]!.kind !== 'value') {
    throw badRequest(`Sub-attribute "${path}" must be a single attribute instance`);
  }
  const expanded = opts.ctx.expand(key);
  attr.sub ??= {};
  if (attr.sub[expanded]) throw badRequest(`Attribute "${parent}" names sub-attribute "${key}" twice (after expansion)`);
  attr.sub[expanded] = inputs[0]!.attr;
}
