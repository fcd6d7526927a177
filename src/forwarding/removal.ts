import { NgsiError } from '../common/errors.js';
import type { LdContext } from '../jsonld/types.js';
import type { OperationName } from '../model/registration.js';
import type { TypeSelector } from '../query/type-selector.js';
import { errorOf } from './errors.js';
import type { Forwarder } from './forwarder.js';
import { targetQuery, type ProvisionRequest } from './provision.js';
import type { ContextSource } from './types.js';

/** What the sources did with a forwarded deletion. */
export interface ForwardedRemoval {
  /** An exclusive or redirect registration owns the target: it is not processed locally (4.3.6.3). */
  owned: boolean;
  /** Some source took it. */
  done: boolean;
  /** Sources that did not take it (404 excluded: a source without the entity is no failure), as an error each. */
  failures: Array<{ registrationId: string; error: NgsiError }>;
}

/**
 * Delete Attribute over registrations (5.6.5.4): exclusive and redirect registrations owning the attribute get the
 * DELETE and the broker does nothing more; inclusive ones offering deleteAttrs get it as well, beside the local
 * deletion. Undefined when no registration matches.
 */
export async function forwardAttributeRemoval(
  forwarder: Forwarder,
  req: ProvisionRequest,
  id: string,
  attr: string,
  query: URLSearchParams,
): Promise<ForwardedRemoval | undefined> {
  if (req.fwd.local) return undefined;
  const sources = (await forwarder.lookup.matching(req.tenant, { ...targetQuery(req, id), attrs: [attr], via: req.fwd.via })).filter(
    (s) => s.mode !== 'auxiliary' && (!s.attrs || s.attrs.includes(attr)),
  );
  if (sources.length === 0) return undefined;
  return removeAt(forwarder, req, sources, 'deleteAttrs', async (sctx) => ({
    path: `/entities/${encodeURIComponent(id)}/attrs/${encodeURIComponent(sctx.compact(attr))}`,
    query,
  }));
}

/**
 * Delete Entity over registrations (5.6.6.4): every exclusive or redirect registration matching the id (and type
 * selection) gets DELETE /entities/{id}, and so do inclusive ones offering deleteEntity; the caller deletes locally
 * as well, since a proxied registration may own only some attributes of an entity held here.
 */
export async function forwardEntityRemoval(forwarder: Forwarder, req: ProvisionRequest, id: string, types?: TypeSelector): Promise<ForwardedRemoval | undefined> {
  if (req.fwd.local) return undefined;
  const sources = (await forwarder.lookup.matching(req.tenant, { ...targetQuery({ ...req, entityTypes: types ?? req.entityTypes }, id), via: req.fwd.via })).filter(
    (s) => s.mode !== 'auxiliary',
  );
  if (sources.length === 0) return undefined;
  return removeAt(forwarder, req, sources, 'deleteEntity', async () => ({ path: `/entities/${encodeURIComponent(id)}` }));
}

async function removeAt(
  forwarder: Forwarder,
  req: ProvisionRequest,
  sources: ContextSource[],
  op: OperationName,
  target: (sctx: LdContext) => Promise<{ path: string; query?: URLSearchParams }>,
): Promise<ForwardedRemoval> {
  const proxied = sources.filter((s) => s.mode === 'exclusive' || s.mode === 'redirect');
  const removal: ForwardedRemoval = { owned: proxied.length > 0, done: false, failures: [] };
  const asked = sources.filter((s) => s.operations.has(op));
  // 5.6.5.4, 5.6.6.4: an owning registration that does not offer the operation is a Conflict (or a partial success).
  for (const s of proxied.filter((p) => !p.operations.has(op))) {
    const detail = `The registration ${s.registrationId} (${s.mode}) matching this entity does not support ${op} (clause 4.3.6.3)`;
    removal.failures.push({ registrationId: s.registrationId, error: new NgsiError('Conflict', detail) });
  }
  const outcomes = await Promise.all(
    asked.map((source) => forwarder.sendInSourceContext(source, req, async (sctx) => ({ method: 'DELETE' as const, ...(await target(sctx)) }))),
  );
  outcomes.forEach((outcome, i) => {
    if (outcome.ok) removal.done = true;
    else if (outcome.failure !== 'notFound') {
      removal.failures.push({ registrationId: asked[i]!.registrationId, error: errorOf(outcome.failure, outcome.detail) });
    }
  });
  return removal;
}
