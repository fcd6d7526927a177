import { badRequest } from '../common/errors.js';
import { isUri, isValidName } from '../common/syntax.js';
import type { LdContext } from '../jsonld/types.js';
import { NGSI_LD_NULL, parseAttributeMember, type AttributeInput } from './parse-attribute.js';
import { validateAgainstSchema } from './schemas.js';

/** An entity or entity fragment from a request, names expanded and every attribute validated. */
export interface ParsedEntity {
  id?: string;
  type?: string[];
  /** undefined: not given; null: NGSI-LD Null (delete the scope, fragments only). */
  scope?: string[] | null;
  /** Expanded attribute name to the instances the request gives, in request order. */
  attrs: Map<string, AttributeInput[]>;
  /** Expanded attribute name to the name the client used, for messages and results. */
  names: Map<string, string>;
}

export interface EntityParseOptions {
  ctx: LdContext;
  now: string;
  /** 'entity': create/replace, a whole entity; 'fragment': update/append/merge (clause 5.4). */
  mode: 'entity' | 'fragment';
  /** Where NGSI-LD Null may appear (clause 5.5.4); fragments of append take none. */
  nulls: 'none' | 'attribute' | 'member';
  /** Whether the body must carry id (create) — replace takes the id from the URL. */
  requireId: boolean;
  simplified?: boolean;
}

// Top-level members that are not attributes (clause 4.5.1). createdAt/modifiedAt are system-generated and ignored.
const ENTITY_MEMBERS = new Set(['id', 'type', 'scope', '@context', 'createdAt', 'modifiedAt', 'deletedAt']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseEntity(input: unknown, opts: EntityParseOptions): ParsedEntity {
  if (!isObject(input)) throw badRequest('The request body must be a JSON object representing an NGSI-LD entity');
  const body = withPlainKeywords(input);
  if (opts.mode === 'entity') validateAgainstSchema('entity', body, 'The entity');
  else validateAgainstSchema('fragment', body, 'The entity fragment');
  const { ctx } = opts;
  const parsed: ParsedEntity = { attrs: new Map(), names: new Map() };

  const id = body.id;
  if (id !== undefined) {
    if (!isUri(id)) throw badRequest(`Entity id ${JSON.stringify(id)} is not a valid URI (clause 4.5.1)`);
    parsed.id = id;
  } else if (opts.requireId) {
    throw badRequest('The entity has no "id"; an entity needs an id that is a URI (clause 4.5.1)');
  }

  const type = body.type;
  if (type !== undefined) parsed.type = parseTypes(type, ctx);
  else if (opts.mode === 'entity') throw badRequest('The entity has no "type"; an entity needs at least one type (clause 4.5.1)');

  if (body.scope !== undefined) parsed.scope = parseScope(body.scope, opts.mode === 'fragment');

  const attrOpts = { ctx, now: opts.now, nulls: opts.nulls, simplified: opts.simplified ?? false };
  for (const [name, raw] of Object.entries(body)) {
    if (ENTITY_MEMBERS.has(name)) continue;
    if (!isValidName(name)) throw badRequest(`Attribute name ${JSON.stringify(name)} is not valid (clause 4.6.2)`);
    const expanded = ctx.expand(name);
    if (parsed.attrs.has(expanded)) {
      throw badRequest(`Attributes "${parsed.names.get(expanded)}" and "${name}" are the same attribute (${expanded}) after expansion`);
    }
    parsed.attrs.set(expanded, parseAttributeMember(name, raw, attrOpts));
    parsed.names.set(expanded, name);
  }
  if (opts.mode === 'fragment' && parsed.attrs.size === 0 && parsed.type === undefined && parsed.scope === undefined) {
    throw badRequest('The entity fragment is empty: give at least one attribute, type or scope to change');
  }
  return parsed;
}

/** JSON-LD allows "@id"/"@type" for "id"/"type" (the core context aliases them); treat both alike. */
function withPlainKeywords(body: Record<string, unknown>): Record<string, unknown> {
  if (!('@id' in body) && !('@type' in body)) return body;
  const { '@id': atId, '@type': atType, ...rest } = body;
  if ((atId !== undefined && rest.id !== undefined) || (atType !== undefined && rest.type !== undefined)) {
    throw badRequest('The entity gives both "id" and "@id" (or "type" and "@type"); give one');
  }
  return { ...rest, ...(atId !== undefined && { id: atId }), ...(atType !== undefined && { type: atType }) };
}

export function parseTypes(type: unknown, ctx: LdContext): string[] {
  const list = Array.isArray(type) ? type : [type];
  if (list.length === 0) throw badRequest('Entity "type" is an empty array; give at least one type');
  const out: string[] = [];
  for (const t of list) {
    if (!isValidName(t)) throw badRequest(`Entity type ${JSON.stringify(t)} is not a valid type name (clause 4.6.2)`);
    const iri = ctx.expand(t);
    if (!out.includes(iri)) out.push(iri);
  }
  return out;
}

function parseScope(scope: unknown, allowNull: boolean): string[] | null {
  if (scope === NGSI_LD_NULL && allowNull) return null;
  const list = Array.isArray(scope) ? scope : [scope];
  // Clause 4.18: a scope is a path such as /Madrid/Gardens, each segment non-empty.
  for (const s of list) {
    if (typeof s !== 'string' || !/^\/([^/\s]+(\/[^/\s]+)*)?$/.test(s) || s === '/') {
      throw badRequest(`Scope ${JSON.stringify(s)} is not valid; a scope is a path like "/Madrid/Gardens" (clause 4.18)`);
    }
  }
  return [...new Set(list as string[])];
}
