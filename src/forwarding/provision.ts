import type { UpdateResult } from '../entities/apply.js';
import type { ParsedEntity } from '../entities/parse-entity.js';
import type { LdContext } from '../jsonld/types.js';
import type { OperationName } from '../model/registration.js';
import type { TypeSelector } from '../query/type-selector.js';
import { NgsiError } from '../common/errors.js';
import type { SourceFailure, SourceOutcome } from './client.js';
import { errorOf } from './errors.js';
import type { Forwarder } from './forwarder.js';
import type { ContextSource, ForwardContext, SourceQuery } from './types.js';

/** Who asks for a distributed provision operation. */
export interface ProvisionRequest {
  tenant: string;
  ctx: LdContext;
  fwd: ForwardContext;
  /**
   * The target entity's types as known here (the request's type selection, the stored entity's or the body's types).
   * Absent when unknown: then only registrations naming the entity's id or an idPattern can hold it (5.12).
   */
  entityTypes?: TypeSelector;
}

/** The registrations a write of entity `id` concerns: by id and by type, the type from `types` or what `req` knows (5.12). */
export function targetQuery(req: ProvisionRequest, id: string, types?: string[]): Pick<SourceQuery, 'ids' | 'types' | 'untyped'> {
  const selector = types && types.length > 0 ? typeSelectorOf(types) : req.entityTypes;
  return selector ? { ids: [id], types: selector } : { ids: [id], untyped: true };
}

/** Any of the expanded types; undefined for none. */
export function typeSelectorOf(types: readonly string[]): TypeSelector | undefined {
  if (types.length === 0) return undefined;
  return { op: 'or', of: [...new Set(types)].map((iri) => ({ op: 'type' as const, iri })) };
}

/** What forwarding did with the attributes of a fragment. */
export interface ForwardedFragment {
  /** Expanded names taken out of local processing: exclusive and redirect registrations own them (4.3.6.3). */
  owned: Set<string>;
  /** Outcome for the forwarded attributes, inclusive ones included; names expanded. */
  result: UpdateResult;
  /** Whether any registration matched the entity (then a missing local entity is no ResourceNotFound, 5.6.2.4). */
  matched: boolean;
  /** Sources that gave nothing usable, for the errors of 6.3.17 when nothing at all was done. */
  failures: Array<{ failure: SourceFailure; detail: string }>;
}

/**
 * How the triggering operation reaches a source, as iotagent-node-lib serves them: Update Attributes (and the batch
 * update and upsert elements, which are updates of one entity's attributes) as PATCH .../attrs, Append Attributes as
 * POST .../attrs, Merge Entity as PATCH /entities/{id}. `op` is the operation name the registration has to offer.
 */
export type FragmentOperation =
  | { op: 'updateEntity'; path: 'attrs'; method: 'PATCH' }
  | { op: 'appendAttrs'; path: 'attrs'; method: 'POST' }
  | { op: 'mergeEntity'; path: 'entity'; method: 'PATCH' }
  | { op: 'createEntity'; path: 'entities'; method: 'POST' }
  | { op: 'replaceEntity'; path: 'entity'; method: 'PUT' };

/** What a distributed write of an entity fragment is given: who asks, the entity, the operation, its body as sent and as parsed. */
export type FragmentWrite = [forwarder: Forwarder, req: ProvisionRequest, id: string, operation: FragmentOperation, body: Record<string, unknown>, parsed: ParsedEntity];

export const UPDATE_ATTRIBUTES: FragmentOperation = { op: 'updateEntity', path: 'attrs', method: 'PATCH' };
export const APPEND_ATTRIBUTES: FragmentOperation = { op: 'appendAttrs', path: 'attrs', method: 'POST' };
export const MERGE_ENTITY: FragmentOperation = { op: 'mergeEntity', path: 'entity', method: 'PATCH' };
/** Create Entity and Replace Entity (5.6.1.4, 5.6.18.4): the source gets an entity of the owned attributes, with its type. */
export const CREATE_ENTITY: FragmentOperation = { op: 'createEntity', path: 'entities', method: 'POST' };
export const REPLACE_ENTITY: FragmentOperation = { op: 'replaceEntity', path: 'entity', method: 'PUT' };

/**
 * Update Attributes and Merge Entity over registrations (5.6.2.4, 5.6.17.4, 6.3.17): the attributes an exclusive or
 * redirect registration owns go to its source and nowhere else; the remaining ones are applied locally by the caller
 * and also sent to matching inclusive sources. A source that fails, or does not support the operation, puts its
 * attributes in notUpdated with the reason.
 */
export async function forwardFragment(
  forwarder: Forwarder,
  req: ProvisionRequest,
  id: string,
  operation: FragmentOperation,
  body: Record<string, unknown>,
  names: Map<string, string>,
  /** The entity's expanded types when the body is a whole entity (create, replace, upsert); else req.entityTypes count. */
  types?: string[],
): Promise<ForwardedFragment | undefined> {
  if (req.fwd.local) return undefined;
  const attrs = [...names.keys()];
  const sources = await forwarder.lookup.matching(req.tenant, { ...targetQuery(req, id, types), attrs: attrs.length > 0 ? attrs : undefined, via: req.fwd.via });
  const usable = sources.filter((s) => s.mode !== 'auxiliary');
  if (usable.length === 0) return undefined;
  const owned = new Set<string>();
  const result: UpdateResult = { updated: [], notUpdated: [] };
  const failures: ForwardedFragment['failures'] = [];
  const sends: Array<Promise<void>> = [];
  const proxied = usable.filter((s) => s.mode === 'exclusive' || s.mode === 'redirect');
  for (const source of proxied) {
    const mine = attrs.filter((a) => !source.attrs || source.attrs.includes(a));
    for (const a of mine) owned.add(a);
    if (mine.length > 0) sends.push(send(forwarder, req, source, id, operation, mine, body, names, result, failures, types));
  }
  const rest = attrs.filter((a) => !owned.has(a));
  for (const source of usable.filter((s) => s.mode === 'inclusive')) {
    const mine = rest.filter((a) => !source.attrs || source.attrs.includes(a));
    if (mine.length > 0 && source.operations.has(operation.op)) sends.push(send(forwarder, req, source, id, operation, mine, body, names, result, failures, types));
  }
  await Promise.all(sends);
  result.updated = [...new Set(result.updated)];
  return { owned, result, matched: true, failures };
}

/**
 * An entity fragment split between context sources and this broker: what registrations own forwarded (forwardFragment),
 * `attrs` the attributes left to apply here. Undefined when no registration matches.
 */
export async function splitFragment(
  ...[forwarder, req, id, operation, body, parsed, types]: [...FragmentWrite, types?: string[]]
): Promise<{ remote: ForwardedFragment; attrs: ParsedEntity['attrs'] } | undefined> {
  const remote = await forwardFragment(forwarder, req, id, operation, body, parsed.names, types);
  if (!remote) return undefined;
  return { remote, attrs: new Map([...parsed.attrs].filter(([name]) => !remote.owned.has(name))) };
}

async function send(
  forwarder: Forwarder,
  req: ProvisionRequest,
  source: ContextSource,
  id: string,
  operation: FragmentOperation,
  attrs: string[],
  body: Record<string, unknown>,
  names: Map<string, string>,
  result: UpdateResult,
  failures: ForwardedFragment['failures'],
  types?: string[],
): Promise<void> {
  if (!source.operations.has(operation.op)) {
    const reason = `Conflict: the registration ${source.registrationId} owning this attribute does not support ${operation.op} (clause 5.6.2.4)`;
    for (const a of attrs) result.notUpdated.push({ attributeName: a, reason });
    return;
  }
  let sctx: LdContext;
  try {
    sctx = await forwarder.sourceContext(source, req);
  } catch (err) {
    if (!(err instanceof NgsiError)) throw err;
    const detail = `Context source ${source.endpoint} could not be asked: ${err.message}`;
    for (const a of attrs) result.notUpdated.push({ attributeName: a, reason: detail });
    failures.push({ failure: 'unreachable', detail });
    return;
  }
  // Only the owned members travel, named in the source's @context (4.3.6.6); id/type stay out of an attrs fragment.
  const fragment: Record<string, unknown> = {};
  if (operation.op === 'createEntity') fragment.id = id;
  if ((operation.op === 'createEntity' || operation.op === 'replaceEntity') && types) {
    const named = types.map((t) => sctx.compact(t));
    fragment.type = named.length === 1 ? named[0] : named;
  }
  for (const a of attrs) fragment[sctx.compact(a)] = body[names.get(a)!];
  const path =
    operation.path === 'attrs' ? `/entities/${encodeURIComponent(id)}/attrs` : operation.path === 'entities' ? '/entities' : `/entities/${encodeURIComponent(id)}`;
  const outcome = await forwarder.client.send(source, { method: operation.method, path, body: fragment, link: req.fwd.link, tenant: req.tenant }, req.fwd);
  record(outcome, attrs, sctx, result);
  if (!outcome.ok) failures.push({ failure: outcome.failure, detail: outcome.detail });
}

/** Folds a source's answer into the UpdateResult: 204 all done, 207 its own UpdateResult, else all not updated. */
function record(outcome: SourceOutcome, attrs: string[], sctx: LdContext, result: UpdateResult): void {
  if (!outcome.ok) {
    for (const a of attrs) result.notUpdated.push({ attributeName: a, reason: outcome.detail });
    return;
  }
  const remote = outcome.status === 207 ? (outcome.body as Partial<UpdateResult> | undefined) : undefined;
  const failed = new Map<string, string>();
  for (const n of Array.isArray(remote?.notUpdated) ? remote.notUpdated : []) {
    if (n && typeof n.attributeName === 'string') failed.set(sctx.expand(n.attributeName), String(n.reason ?? 'not updated by the context source'));
  }
  for (const a of attrs) {
    const reason = failed.get(a);
    if (reason === undefined) result.updated.push(a);
    else result.notUpdated.push({ attributeName: a, reason });
  }
}

/**
 * Partial Attribute Update and Replace Attribute (5.6.4, 5.6.19) of an attribute an exclusive or redirect registration
 * owns: sent to its source(s) on the same path; undefined when no such registration matches (the broker applies it).
 * Fails with the error of 6.3.17 when no source took it.
 */
export async function forwardAttribute(
  forwarder: Forwarder,
  req: ProvisionRequest,
  id: string,
  attr: string,
  method: 'PATCH' | 'PUT',
  body: unknown,
): Promise<boolean> {
  if (req.fwd.local) return false;
  const op: OperationName = method === 'PATCH' ? 'updateAttrs' : 'replaceAttrs';
  const sources = (await forwarder.lookup.matching(req.tenant, { ...targetQuery(req, id), attrs: [attr], via: req.fwd.via })).filter(
    (s) => (s.mode === 'exclusive' || s.mode === 'redirect') && (!s.attrs || s.attrs.includes(attr)),
  );
  if (sources.length === 0) return false;
  const supporting = sources.filter((s) => s.operations.has(op));
  if (supporting.length === 0) {
    throw new NgsiError('Conflict', `The registration ${sources[0]!.registrationId} owning attribute ${attr} does not support ${op} (clause 4.3.6.1)`);
  }
  const outcomes = await Promise.all(
    supporting.map((source) =>
      forwarder.sendInSourceContext(source, req, (sctx) => ({ method, path: `/entities/${encodeURIComponent(id)}/attrs/${encodeURIComponent(sctx.compact(attr))}`, body })),
    ),
  );
  if (outcomes.some((o) => o.ok)) return true;
  const first = outcomes[0] as Exclude<SourceOutcome, { ok: true }>;
  throw errorOf(first.failure, first.detail);
}

/**
 * Update Attributes, Append Attributes and Merge Entity with registrations in play (5.6.2.4, 5.6.3.4, 5.6.17.4): the
 * owned attributes go to their sources, `local` applies the rest here, and both outcomes make one UpdateResult.
 * A registration that matched makes the entity known even when it is not held here (no ResourceNotFound, 5.6.2.4).
 */
export async function distributeFragment(
  ...[forwarder, req, id, operation, body, parsed, local]: [...FragmentWrite, local: (rest: ParsedEntity) => Promise<UpdateResult>]
): Promise<UpdateResult & { distributed?: true }> {
  const split = await splitFragment(forwarder, req, id, operation, body, parsed);
  if (!split) return local(parsed);
  const { remote, attrs } = split;
  const nothingLocal = attrs.size === 0 && parsed.type === undefined && parsed.scope === undefined;
  let here: UpdateResult = { updated: [], notUpdated: [] };
  if (!nothingLocal) {
    try {
      here = await local({ ...parsed, attrs });
    } catch (err) {
      if (!(err instanceof NgsiError) || err.kind !== 'ResourceNotFound') throw err;
      here = { updated: [], notUpdated: [...attrs.keys()].map((a) => ({ attributeName: a, reason: `Entity ${id} is not held locally` })) };
    }
  }
  const result = { updated: [...remote.result.updated, ...here.updated], notUpdated: [...remote.result.notUpdated, ...here.notUpdated], distributed: true as const };
  // 6.3.17: when the sources were all there was and none took anything, their error is the answer.
  if (result.updated.length === 0 && nothingLocal && remote.failures.length > 0) throw errorOf(remote.failures[0]!.failure, remote.failures[0]!.detail);
  return result;
}
